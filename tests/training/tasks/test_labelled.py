"""The labelled data file reader (analysis.training.tasks._labelled.load_labelled): .npz and HDF5
files read back exactly, every bad array named with its file."""

import numpy as np
import pytest

from analysis.training.tasks._labelled import load_labelled


def _good(n=5, t=4, c=3):
    rng = np.random.default_rng(0)
    return {"x": rng.random((n, t, c)) < 0.3, "y": np.arange(n) % 3}


def test_reads_npz_and_hdf5_files(tmp_path):
    arrays = _good() | {"x_test": np.ones((2, 4, 3)), "y_test": np.array([4, 0])}
    np.savez(tmp_path / "d.npz", **arrays)
    d = load_labelled(tmp_path / "d.npz")
    assert d.x.dtype == np.uint8 and d.y.dtype == np.int32 and d.x_test.dtype == np.float32
    np.testing.assert_array_equal(d.x, arrays["x"])
    np.testing.assert_array_equal(d.y, arrays["y"])
    np.testing.assert_array_equal(d.x_test, arrays["x_test"])
    assert d.y_test.tolist() == [4, 0] and d.n_classes == 5
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "d.h5", "w") as fh:
        fh["x"], fh["y"] = np.full((3, 2, 2), 300, np.int16), np.array([1, 0, 1], np.uint8)
        fh["other"] = np.zeros(1)  # ignored
    d = load_labelled(tmp_path / "d.h5")
    assert d.x.dtype == np.float32 and d.x[0, 0, 0] == 300.0  # counts beyond uint8 stay exact
    assert d.y.tolist() == [1, 0, 1] and d.x_test is None and d.n_classes == 2


def _write(path, arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"y": None}, "needs arrays 'x' and 'y'; it holds \\['x'\\]"),
        ({"x": np.zeros((5, 4))}, "array 'x' must be \\[samples, time bins, channels\\]"),
        ({"x": np.zeros((5, 0, 3))}, "array 'x' must be"),
        ({"x": np.zeros((5, 4, 3), complex)}, "array 'x' must be boolean, integer or real"),
        ({"x": np.full((5, 4, 3), np.nan)}, "array 'x' holds values that are not finite"),
        ({"x": np.full((5, 4, 3), 1e39)}, "not finite in float32"),
        ({"x": np.zeros((1, 4, 3)), "y": np.zeros(1, int)}, "array 'x' needs at least 2 samples"),
        ({"y": np.zeros(5)}, "array 'y' must hold integers, got dtype float64"),
        ({"y": np.zeros((5, 1), int)}, "array 'y' must be 1-d"),
        ({"y": np.zeros(4, int)}, "array 'y' has 4 labels for 5 samples"),
        ({"y": np.array([0, 1, -1, 0, 0])}, "array 'y': labels must lie in \\[0, 2\\*\\*31\\)"),
        ({"x_test": np.zeros((2, 4, 3))}, "give both 'x_test' and 'y_test' or neither"),
        (
            {"x_test": np.zeros((2, 4, 2)), "y_test": np.zeros(2, int)},
            "array 'x_test' must be \\[M >= 1, 4, 3\\]",
        ),
        ({"x_test": np.zeros((2, 4, 3)), "y_test": np.zeros(3, int)}, "array 'y_test' has 3 labels for 2"),
        ({"y": np.array([0, 1, 2, 0, None], dtype=object)}, "array 'y' cannot be read"),
    ],
)
def test_bad_arrays_are_named_with_the_file(tmp_path, change, message):
    arrays = {k: v for k, v in (_good() | change).items() if v is not None}
    path = _write(tmp_path / "d.npz", arrays)
    with pytest.raises(ValueError, match=message) as err:
        load_labelled(path)
    assert str(path) in str(err.value)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_labelled(tmp_path / "none.npz")
    (tmp_path / "a.txt").write_text("x,y\n")
    with pytest.raises(ValueError, match="neither an .npz nor an HDF5 file"):
        load_labelled(tmp_path / "a.txt")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match="neither an .npz nor an HDF5"):
        load_labelled(tmp_path / "one.npy")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(ValueError, match="not a readable .npz file"):
        load_labelled(tmp_path / "bad.npz")
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "g.h5", "w") as fh:
        fh.create_group("x")
        fh["y"] = np.zeros(2, int)
    with pytest.raises(ValueError, match="'x' is a group, not a dataset"):
        load_labelled(tmp_path / "g.h5")
    with h5py.File(tmp_path / "m.h5", "w") as fh:
        fh["x"] = np.zeros((2, 1, 1))
    with pytest.raises(ValueError, match="needs datasets 'x' and 'y'; it holds \\['x'\\]"):
        load_labelled(tmp_path / "m.h5")
