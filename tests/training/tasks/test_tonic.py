"""The tonic adapter (analysis.training.tasks.from_tonic) on synthetic events in tonic's
format, against a naive binning loop and against load_shd on the same spikes; bad samples
are named. tonic itself is not needed (one test checks its dtype convention if installed)."""

import numpy as np
import pytest

from analysis.training.tasks import SHDConfig, from_tonic, load_shd
from tests.helpers import write_shd

#: the dtype of tonic's SHD / SSC events (tonic.datasets.SHD.dtype): times in microseconds
AUDIO = np.dtype([("t", np.int64), ("x", np.int64), ("p", np.int64)])


def _events(t, x, dtype=AUDIO):
    ev = np.zeros(len(t), dtype=dtype)
    ev["t"], ev["x"] = t, x
    return ev


def _naive(samples, dt_us, n_steps, n_channels):
    """Bin k = t // dt_us (integer microseconds), kept for 0 <= k < n_steps, binary."""
    out = np.zeros((len(samples), n_steps, n_channels), np.uint8)
    for b, (ev, _) in enumerate(samples):
        for t, c in zip(ev["t"].tolist(), ev["x"].tolist(), strict=True):
            k = t // dt_us
            if 0 <= k < n_steps:
                out[b, k, c] = 1
    return out


def test_from_tonic_bins_as_a_naive_loop():
    rng = np.random.default_rng(0)
    samples = [(_events(rng.integers(-3000, 60_000, 40), rng.integers(0, 9, 40)), k) for k in (3, 0, 5)]
    # edges: t = k dt falls in bin k; t = n_steps dt is dropped; two events in one bin are one spike
    samples.append((_events([0, 999, 1000, 1000, 1001, 49_999, 50_000], [8, 1, 1, 1, 2, 4, 4]), 1))
    x, y = from_tonic(samples, 1e-3, 50)
    assert x.shape == (4, 50, 9) and x.dtype == np.uint8 and y.dtype == np.int32
    np.testing.assert_array_equal(x, _naive(samples, 1000, 50, 9))
    np.testing.assert_array_equal(y, [3, 0, 5, 1])
    assert x[3, 0, [1, 8]].tolist() == [1, 1] and x[3, 1, 1] == 1 and x[3, 49, 4] == 1 and x.sum() > 0
    # float times (microseconds) take the float path: same bins away from rounding
    floats = [
        (_events(ev["t"] + 0.5, ev["x"], [("t", float), ("x", int), ("p", int)]), k) for ev, k in samples
    ]
    xf, _ = from_tonic(floats, 1e-3, 50, dtype=np.float32)
    assert xf.dtype == np.float32  # floor((t + 0.5) / 1000) = t // 1000 for integer t
    np.testing.assert_array_equal(xf, _naive(samples, 1000, 50, 9))


def test_from_tonic_equals_load_shd_on_the_same_spikes(tmp_path):
    """SHD stores seconds (float32), tonic integer microseconds (tonic's SHD reads t * 1e6):
    times a few microseconds or more from a 2 ms bin edge give the same raster."""
    pytest.importorskip("h5py")
    rng = np.random.default_rng(1)
    t_us, units, labels = [], [], [3, 17, 0]
    for n in (30, 1, 60):
        bins = rng.integers(0, 380, n)  # some beyond the 350 bins kept
        t_us.append(np.where(np.arange(n) == 0, 0, bins * 2000 + rng.integers(20, 1980, n)))
        units.append(rng.integers(0, 700, n))
    write_shd(tmp_path / "shd_train.h5", [t / 1e6 for t in t_us], units, labels)
    x_shd, y_shd = load_shd(tmp_path, "train", SHDConfig(dt=2e-3, n_steps=350, dtype=np.uint8))
    x, y = from_tonic(
        [(_events(t, u), k) for t, u, k in zip(t_us, units, labels, strict=True)], 2e-3, 350, n_channels=700
    )
    assert x.shape == x_shd.shape == (3, 350, 700) and x.dtype == x_shd.dtype
    np.testing.assert_array_equal(x, x_shd)
    np.testing.assert_array_equal(y, y_shd)
    assert x[:, 0].sum() >= 3 and 0 < x.sum() < 91  # the t = 0 spikes are kept; late ones dropped


def test_from_tonic_reads_a_dataset_by_index_with_its_sensor_size():
    class Dataset:  # tonic's data sets: len, indexing, sensor_size (channels, 1, 1)
        sensor_size = (6, 1, 1)

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return _events([1000 * i], [i]), i

    x, y = from_tonic(Dataset(), 1e-3, 3)
    assert x.shape == (2, 3, 6) and x[0, 0, 0] == 1 and x[1, 1, 1] == 1 and x.sum() == 2
    np.testing.assert_array_equal(y, [0, 1])
    gen = ((_events([500], [2]), 0) for _ in range(2))  # an iterable without a length
    assert from_tonic(gen, 1e-3, 2)[0].shape == (2, 2, 3)


@pytest.mark.slow  # importing tonic takes ~8 s on 2 loaded cores
def test_from_tonic_follows_tonics_dtype_convention():
    tonic = pytest.importorskip("tonic", reason="tonic is optional (extra 'tonic')")
    from tonic.io import make_structured_array

    dtype = tonic.datasets.SHD.dtype
    assert set(dtype.names) == {"t", "x", "p"} and tonic.datasets.SHD.sensor_size == (700, 1, 1)
    ev = make_structured_array(np.array([0.0, 0.0021]) * 1e6, [5, 6], 0, dtype=dtype)  # tonic's SHD reader
    x, _ = from_tonic([(ev, 2)], 1e-3, 4, n_channels=700)
    assert x[0, 0, 5] == 1 and x[0, 2, 6] == 1 and x.sum() == 2


def test_from_tonic_refuses_bad_samples():
    ok = _events([0], [0])
    camera = np.zeros(1, dtype=[("x", int), ("y", int), ("t", int), ("p", int)])
    cases = [
        ([(camera, 0)], "'y' field \\(a 2-d sensor\\)"),
        ([(np.zeros((3, 4)), 0)], "sample 0: events must be a NumPy structured array"),
        (
            [(ok, 0), (np.zeros(1, dtype=[("t", int), ("p", int)]), 0)],
            "sample 1: events lack the field\\(s\\) \\['x'\\]",
        ),
        ([(ok, -1)], "sample 0: label must be an integer >= 0"),
        ([(ok, 1.0)], "label must be an integer"),
        ([(ok,)], "expected an \\(events, label\\) pair"),
        ([(_events([0], [7]), 0)], "channel indices x must lie in \\[0, 4\\)"),
        ([(_events([0], [-1]), 0)], "must lie in"),
        ([], "no samples"),
    ]
    for samples, msg in cases:
        with pytest.raises(ValueError, match=msg):
            from_tonic(
                samples, 1e-3, 5, n_channels=None if msg == "must lie in" or msg == "no samples" else 4
            )
    with pytest.raises(ValueError, match="no sample has events: pass n_channels"):
        from_tonic([(_events([], []), 0)], 1e-3, 5)
    with pytest.raises(ValueError, match="dt"):
        from_tonic([(ok, 0)], 0.0, 5)
    with pytest.raises(ValueError, match="n_steps"):
        from_tonic([(ok, 0)], 1e-3, 0)
    with pytest.raises(ValueError, match="finite"):
        from_tonic([(_events([np.nan], [0], [("t", float), ("x", int)]), 0)], 1e-3, 5)
