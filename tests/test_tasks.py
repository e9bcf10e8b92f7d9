"""Tasks: dithering vs a naive loop, image rasters, Poisson inputs, randman, SHD loader."""

import jax
import numpy as np
import pytest

from analysis.training.tasks import (
    RandmanConfig,
    default_image_path,
    dither,
    image_raster,
    load_shd,
    make_randman,
    make_spike_train_task,
    poisson_inputs,
    train_valid_split,
)


def _naive_floyd_steinberg(gray, threshold=0.5):
    """Textbook raster-order Floyd-Steinberg, one pixel at a time (independent reference)."""
    v = np.array(gray, dtype=float)
    h, w = v.shape
    out = np.zeros((h, w), dtype=bool)
    for i in range(h):
        for j in range(w):
            out[i, j] = v[i, j] > threshold
            e = v[i, j] - out[i, j]
            if j + 1 < w:
                v[i, j + 1] += e * 7 / 16
            if i + 1 < h:
                if j > 0:
                    v[i + 1, j - 1] += e * 3 / 16
                v[i + 1, j] += e * 5 / 16
                if j + 1 < w:
                    v[i + 1, j + 1] += e * 1 / 16
    return out


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 3), (13, 17), (31, 24)])
def test_dither_matches_naive_loop(shape):
    g = np.random.default_rng(sum(shape)).random(shape)
    np.testing.assert_array_equal(dither(g), _naive_floyd_steinberg(g))


def test_dither_preserves_mean_grey_level():
    g = np.full((40, 40), 0.3)
    assert abs(dither(g).mean() - 0.3) < 0.02


def test_image_raster_default_and_custom_file(tmp_path):
    assert default_image_path().is_file()
    r = image_raster(n_neurons=20, n_steps=15)
    assert r.shape == (15, 20) and r.dtype == np.float32 and set(np.unique(r)) <= {0.0, 1.0}
    from PIL import Image

    img = np.zeros((8, 10), dtype=np.uint8)
    img[:, 5:] = 255  # right half white -> spikes (light) late in time
    Image.fromarray(img).save(tmp_path / "half.png")
    r = image_raster(tmp_path / "half.png", n_neurons=8, n_steps=10)
    np.testing.assert_array_equal(r[:5], 0.0)
    np.testing.assert_array_equal(r[5:], 1.0)
    np.testing.assert_array_equal(image_raster(tmp_path / "half.png", 8, 10, spike_on="dark"), 1 - r)


def test_unreadable_image_and_bad_arguments(tmp_path):
    bad = tmp_path / "not_an_image.png"
    bad.write_text("hello")
    with pytest.raises(ValueError, match="cannot be read as an image"):
        image_raster(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        image_raster(tmp_path / "missing.jpg")
    with pytest.raises(ValueError, match="spike_on"):
        image_raster(spike_on="grey")
    with pytest.raises(ValueError, match="n_steps"):
        image_raster(n_steps=0)
    with pytest.raises(ValueError, match="rate_hz"):
        poisson_inputs(jax.random.key(0), 10, 3, rate_hz=2000.0)


def test_poisson_inputs_rate_within_standard_errors():
    # 200 x 2000 bins at p = 0.05: SE of the mean = sqrt(p(1-p)/4e5) ~ 3.4e-4; k = 5
    # gives a false-failure rate < 1e-6.
    x = np.asarray(poisson_inputs(jax.random.key(3), 2000, 200, rate_hz=50.0))
    se = np.sqrt(0.05 * 0.95 / x.size)
    assert abs(x.mean() - 0.05) < 5 * se
    task = make_spike_train_task(jax.random.key(0), n_inputs=7, n_neurons=5, n_steps=6)
    assert task.inputs.shape == (1, 6, 7) and task.target.shape == (1, 6, 5)


def test_randman_shapes_one_spike_per_unit_and_determinism():
    cfg = RandmanConfig(n_classes=4, n_units=12, n_steps=30, dim=2, n_samples=6)
    x, y = make_randman(jax.random.key(1), cfg)
    x2, y2 = make_randman(jax.random.key(1), cfg)
    assert x.shape == (24, 30, 12) and y.shape == (24,)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(x2))
    np.testing.assert_array_equal(np.bincount(np.asarray(y)), [6] * 4)
    np.testing.assert_array_equal(np.asarray(x.sum(axis=1)), 1.0)  # one spike per unit
    assert np.asarray(x)[:, 15:].sum() == 0  # step_frac = 0.5 keeps spikes in the first half
    x3, _ = make_randman(jax.random.key(2), cfg)
    assert not np.array_equal(np.asarray(x), np.asarray(x3))


def test_randman_smoothness_and_class_structure():
    """Nearby coordinates give nearby spike times (smooth manifold), and a class is a
    1-D curve: spike times of class 0 are a function of one coordinate."""
    from analysis.training.tasks._randman import _coefficients, manifold_values

    cfg = RandmanConfig(n_classes=2, n_units=5, dim=1, alpha=2.0)
    coef = _coefficients(jax.random.key(0), cfg)
    xs = np.linspace(0, 1, 2001, dtype=np.float32)[None, :, None].repeat(2, axis=0)
    g = np.asarray(manifold_values(coef, xs, cfg.alpha))
    slope = np.abs(np.diff(g, axis=1)).max() / (xs[0, 1, 0] - xs[0, 0, 0])
    # |g'| <= sum_k 2 pi k * k^-alpha (a, b < 1): a hard bound from the series definition
    bound = sum(2 * np.pi * k ** (1 - cfg.alpha) for k in range(1, cfg.n_basis + 1))
    assert 0 < slope <= bound
    (xt, yt), (xv, yv) = train_valid_split(jax.random.key(0), cfg)
    assert xt.shape[1:] == xv.shape[1:] and len(yv) == 2 * (cfg.n_samples // 4)


def test_randman_bad_config():
    with pytest.raises(ValueError, match="n_units"):
        RandmanConfig(n_units=0)
    with pytest.raises(ValueError, match="step_frac"):
        RandmanConfig(step_frac=1.5)


def _write_shd(path, times, units, labels):
    import h5py

    with h5py.File(path, "w") as fh:
        vl_f = h5py.vlen_dtype(np.float32)
        vl_u = h5py.vlen_dtype(np.uint16)
        t = fh.create_dataset("spikes/times", (len(times),), dtype=vl_f)
        u = fh.create_dataset("spikes/units", (len(units),), dtype=vl_u)
        for i, (ti, ui) in enumerate(zip(times, units, strict=True)):
            t[i], u[i] = np.asarray(ti, np.float32), np.asarray(ui, np.uint16)
        fh.create_dataset("labels", data=np.asarray(labels, np.uint8))


def test_shd_loader_on_written_file(tmp_path):
    pytest.importorskip("h5py")
    times = [[0.0005, 0.0011, 0.0019, 0.70, 0.9], [0.004]]
    units = [[3, 3, 699, 5, 6], [10]]
    _write_shd(tmp_path / "shd_train.h5", times, units, [7, 19])
    x, y = load_shd(tmp_path, "train", n_steps=350)
    assert x.shape == (2, 350, 700) and x.dtype == np.float32
    np.testing.assert_array_equal(y, [7, 19])
    # naive reference binning: bin = floor(t / 2 ms), kept if < 350, binary
    ref = np.zeros_like(x)
    for b, (ts, us) in enumerate(zip(times, units, strict=True)):
        for t, u in zip(ts, us, strict=True):
            k = int(np.floor(np.float32(t) / 2e-3))
            if k < 350:
                ref[b, k, u] = 1.0
    np.testing.assert_array_equal(x, ref)
    xc, _ = load_shd(tmp_path / "shd_train.h5", n_steps=10, binary=False, max_samples=1)
    assert xc.shape == (1, 10, 700) and xc[0, 0, 3] == 2.0


def test_shd_missing_and_malformed_files(tmp_path):
    pytest.importorskip("h5py")
    with pytest.raises(FileNotFoundError, match="zenkelab.org/datasets"):
        load_shd(tmp_path, "test")
    (tmp_path / "junk.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5"):
        load_shd(tmp_path / "junk.h5")
    import h5py

    with h5py.File(tmp_path / "partial.h5", "w") as fh:
        fh.create_dataset("labels", data=np.zeros(3))
    with pytest.raises(ValueError, match="lacks the SHD datasets"):
        load_shd(tmp_path / "partial.h5")
    _write_shd(tmp_path / "uneven.h5", [[0.1], [0.2]], [[1], [2]], [0])
    with pytest.raises(ValueError, match="inconsistent lengths"):
        load_shd(tmp_path / "uneven.h5")
    _write_shd(tmp_path / "shd_test.h5", [[0.1, 0.2]], [[1]], [0])
    with pytest.raises(ValueError, match="spike times but"):
        load_shd(tmp_path, "test")
    with pytest.raises(ValueError, match="split"):
        load_shd(tmp_path, "valid")
