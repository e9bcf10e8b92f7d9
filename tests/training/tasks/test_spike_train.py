"""Spike-train tasks (analysis.training.tasks._spike_train): dithering vs a naive loop, image
rasters, Poisson inputs."""

import jax
import numpy as np
import pytest

from analysis.training.tasks import SpikeTrainConfig, make_spike_train_task
from analysis.training.tasks._spike_train import default_image_path, dither, image_raster, poisson_inputs


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
    task = make_spike_train_task(jax.random.key(0), SpikeTrainConfig(n_inputs=7, n_neurons=5, n_steps=6))
    assert task.inputs.shape == (1, 6, 7) and task.target.shape == (1, 6, 5)
