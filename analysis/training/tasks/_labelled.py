"""A user's own labelled spike data from one file, checked array by array (the data of
``sgtheory train classify --data FILE``).

The file is an ``.npz`` (:func:`numpy.savez`) or an HDF5 file (top-level datasets; reading
it needs h5py: ``pip install "sgtheory[shd]"``) with the arrays

* ``x`` [N, T, C]: the inputs, N samples of T time bins of C channels (spikes 0 / 1, or
  counts, or any finite real values), N >= 2;
* ``y`` [N]: integer labels >= 0 (the classes are 0 .. the largest label);
* optionally ``x_test`` [M, T, C] and ``y_test`` [M] (both or neither): a held-out test set.

Other arrays in the file are ignored. Boolean inputs and integer inputs within [0, 255] are
kept as uint8 (a quarter of float32's memory; batches are cast to float32), all others
become float32.

Example
-------
>>> import os, tempfile
>>> import numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "toy.npz")
>>> np.savez(path, x=np.zeros((4, 10, 3), bool), y=np.array([0, 1, 0, 2]))
>>> d = load_labelled(path)
>>> d.x.shape, d.x.dtype, d.y.tolist(), d.x_test is None, d.n_classes
((4, 10, 3), dtype('uint8'), [0, 1, 0, 2], True, 3)
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK"
_NAMES = ("x", "y", "x_test", "y_test")


class LabelledData(NamedTuple):
    """The arrays of a labelled data file (:func:`load_labelled`): ``x`` [N, T, C] (uint8 or
    float32), ``y`` [N] int32, ``x_test`` / ``y_test`` (None when the file has none)."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None

    @property
    def n_classes(self) -> int:
        """The largest label of ``y`` and ``y_test`` + 1."""
        top = int(self.y.max()) if self.y_test is None else max(int(self.y.max()), int(self.y_test.max()))
        return top + 1


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as raw:  # our own handle: closed also when numpy fails
        try:
            fh = np.load(raw, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"data file {str(path)!r} is not a readable .npz file ({exc})") from None
        return _npz_arrays(fh, path)


def _npz_arrays(fh, path: Path) -> dict[str, np.ndarray]:
    if not isinstance(fh, np.lib.npyio.NpzFile):
        raise ValueError(f"data file {str(path)!r} holds one array, not an .npz archive of arrays")
    with fh:
        arrays = {}
        for name in _NAMES:
            if name in fh.files:
                try:
                    arrays[name] = fh[name]
                except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # pickles refused
                    raise ValueError(
                        f"data file {str(path)!r}: array {name!r} cannot be read ({exc})"
                    ) from None
        if "x" not in arrays or "y" not in arrays:
            raise ValueError(f"data file {str(path)!r} needs arrays 'x' and 'y'; it holds {sorted(fh.files)}")
    return arrays


def _read_hdf5(path: Path) -> dict[str, np.ndarray]:
    try:
        import h5py
    except ImportError:
        raise ImportError(
            'reading an HDF5 data file needs h5py: pip install "sgtheory[shd]"', name="h5py"
        ) from None
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"data file {str(path)!r} is not a readable HDF5 file ({exc})") from None
    with fh:
        arrays = {}
        for name in _NAMES:
            if name in fh:
                if not isinstance(fh[name], h5py.Dataset):
                    raise ValueError(f"data file {str(path)!r}: {name!r} is a group, not a dataset")
                arrays[name] = np.asarray(fh[name][()])
        if "x" not in arrays or "y" not in arrays:
            raise ValueError(f"data file {str(path)!r} needs datasets 'x' and 'y'; it holds {sorted(fh)}")
    return arrays


def _inputs(x: np.ndarray, file: str, name: str) -> np.ndarray:
    where = f"data file {file!r}: array {name!r}"
    if x.ndim != 3 or 0 in x.shape[1:]:
        raise ValueError(
            f"{where} must be [samples, time bins, channels] with bins, channels >= 1; got shape {x.shape}"
        )
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{where} must be boolean, integer or real, got dtype {x.dtype}")
    if x.dtype.kind == "b" or (x.dtype.kind in "iu" and (x.size == 0 or (x.min() >= 0 and x.max() <= 255))):
        return x.astype(np.uint8)
    with np.errstate(over="ignore"):  # beyond float32: inf, refused below
        out = x.astype(np.float32)
    if not np.isfinite(out).all():
        raise ValueError(f"{where} holds values that are not finite in float32 (NaN, inf or beyond 3.4e38)")
    return out


def _labels(y: np.ndarray, n: int, file: str, name: str) -> np.ndarray:
    where = f"data file {file!r}: array {name!r}"
    if y.ndim != 1:
        raise ValueError(f"{where} must be 1-d (one label per sample), got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{where} must hold integers, got dtype {y.dtype}")
    if len(y) != n:
        raise ValueError(f"{where} has {len(y)} labels for {n} samples")
    if len(y) and (y.min() < 0 or y.max() > np.iinfo(np.int32).max):
        raise ValueError(f"{where}: labels must lie in [0, 2**31), got [{y.min()}, {y.max()}]")
    return y.astype(np.int32)


def load_labelled(path: str | os.PathLike) -> LabelledData:
    """Read and check the labelled data file ``path`` (format: module docstring). Every
    problem is a ValueError naming the file and the array (FileNotFoundError for a missing
    file; ImportError for an HDF5 file without h5py)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"data file {str(p)!r} does not exist or is not a file")
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head.startswith(_ZIP_MAGIC):
        arrays = _read_npz(p)
    elif head == _HDF5_MAGIC:
        arrays = _read_hdf5(p)
    else:
        raise ValueError(f"data file {str(p)!r} is neither an .npz nor an HDF5 file")
    file = str(p)
    x = _inputs(arrays["x"], file, "x")
    if len(x) < 2:
        raise ValueError(
            f"data file {file!r}: array 'x' needs at least 2 samples (training and validation), got {len(x)}"
        )
    y = _labels(arrays["y"], len(x), file, "y")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise ValueError(f"data file {file!r}: give both 'x_test' and 'y_test' or neither")
    if "x_test" not in arrays:
        return LabelledData(x, y, None, None)
    x_test = _inputs(arrays["x_test"], file, "x_test")
    if x_test.shape[1:] != x.shape[1:] or len(x_test) == 0:
        raise ValueError(
            f"data file {file!r}: array 'x_test' must be [M >= 1, {x.shape[1]}, {x.shape[2]}] like 'x', "
            f"got shape {x_test.shape}"
        )
    return LabelledData(x, y, x_test, _labels(arrays["y_test"], len(x_test), file, "y_test"))
