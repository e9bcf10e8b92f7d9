"""The SHD loader (analysis.training.tasks._shd) on written HDF5 files, against a naive
binning; missing and malformed files are named."""

import numpy as np
import pytest

from analysis.training.tasks import SHDConfig, load_shd
from tests.helpers import write_shd


def test_shd_loader_on_written_file(tmp_path):
    pytest.importorskip("h5py")
    times = [[0.0005, 0.0011, 0.0019, 0.70, 0.9], [0.004]]
    units = [[3, 3, 699, 5, 6], [10]]
    write_shd(tmp_path / "shd_train.h5", times, units, [7, 19])
    x, y = load_shd(tmp_path, "train", SHDConfig(n_steps=350))
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
    xc, _ = load_shd(tmp_path / "shd_train.h5", cfg=SHDConfig(n_steps=10, binary=False), max_samples=1)
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
    write_shd(tmp_path / "uneven.h5", [[0.1], [0.2]], [[1], [2]], [0])
    with pytest.raises(ValueError, match="inconsistent lengths"):
        load_shd(tmp_path / "uneven.h5")
    write_shd(tmp_path / "shd_test.h5", [[0.1, 0.2]], [[1]], [0])
    with pytest.raises(ValueError, match="spike times but"):
        load_shd(tmp_path, "test")
    with pytest.raises(ValueError, match="split"):
        load_shd(tmp_path, "valid")
