"""Loader for the Spiking Heidelberg Digits (SHD) data set, from local HDF5 files only.

SHD (Cramer, Stradmann, Schemmel & Zenke 2020, IEEE TNNLS) holds spoken digits converted
to spikes of 700 cochlear channels; 20 classes (0-9 in English and German). Each file
(``shd_train.h5``, ``shd_test.h5``) stores ragged arrays ``spikes/times`` (seconds, one
float array per sample), ``spikes/units`` (channel indices 0..699) and ``labels``.

The loader bins spike times into ``dt`` bins (2 ms as in Gygax & Zenke 2025), keeps the
first ``n_steps`` bins (default 350 = 0.7 s; the authors' code: int(0.7 / 0.002) = 349),
zero-pads shorter samples, and returns a dense float32 raster; more than one spike of a
channel in one bin counts as 1 (``binary=True``) or as the count. Nothing is downloaded: get the files from https://zenkelab.org/datasets
(gunzip them) and pass their path. h5py is needed (``pip install "sgtheory[shd]"``).

Example (needs the files)::

    x, y = load_shd("data/shd/shd_test.h5", max_samples=64)   # x: [64, 350, 700]
    x, y = load_shd("data/shd", "train", SHDConfig(dtype=np.uint8))  # 2 GB instead of 8
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from analysis import _validate

N_CHANNELS = 700
N_CLASSES = 20
_WHERE = (
    "Download shd_train.h5.gz / shd_test.h5.gz from https://zenkelab.org/datasets, "
    "gunzip them and put them in that folder (or pass the file path)."
)


def shd_file(path: str | os.PathLike, split: str = "train") -> Path:
    """Resolve ``path`` (an .h5 file, or a folder holding shd_<split>.h5) to an existing file."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    p = Path(path)
    if p.is_dir():
        p = p / f"shd_{split}.h5"
    if not p.is_file():
        raise FileNotFoundError(f"SHD file {str(p)!r} not found. {_WHERE}")
    return p


def _open(path: Path):
    try:
        import h5py
    except ImportError:
        raise ImportError('loading SHD needs h5py: pip install "sgtheory[shd]"', name="h5py") from None
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"{str(path)!r} is not a readable HDF5 file ({exc})") from None


def _check_layout(fh, path) -> None:
    missing = [k for k in ("spikes/times", "spikes/units", "labels") if k not in fh]
    if missing:
        raise ValueError(
            f"{str(path)!r} lacks the SHD datasets {missing}; expected spikes/times, spikes/units and labels"
        )
    n = (len(fh["spikes/times"]), len(fh["spikes/units"]), len(fh["labels"]))
    if len(set(n)) != 1:
        raise ValueError(
            f"{str(path)!r}: spikes/times, spikes/units and labels have inconsistent lengths {n}"
        )


def _bin_sample(times, units, n_steps, dt, out, binary):
    times, units = np.asarray(times), np.asarray(units, dtype=np.int64)
    if times.shape != units.shape:
        raise ValueError(f"sample has {times.shape} spike times but {units.shape} units")
    if units.size and (units.min() < 0 or units.max() >= out.shape[1]):
        raise ValueError(f"unit indices must lie in [0, {out.shape[1]}), got [{units.min()}, {units.max()}]")
    if not np.isfinite(times).all():
        raise ValueError("spike times must be finite; the file holds NaN or inf spike times")
    t = np.floor(times / dt).astype(np.int64)
    keep = (t >= 0) & (t < n_steps)
    np.add.at(out, (t[keep], units[keep]), 1.0)
    if binary:
        np.minimum(out, 1.0, out=out)


@dataclass(frozen=True)
class SHDConfig:
    """How SHD spikes become a raster: ``n_steps`` bins of ``dt`` seconds (default 350 of
    2 ms = 0.7 s), ``n_channels`` channels, ``binary`` (more than one spike of a channel in a
    bin counts as 1; else the count), array ``dtype`` (``np.uint8`` needs ``binary``)."""

    n_steps: int = 350
    dt: float = 2e-3
    binary: bool = True
    n_channels: int = N_CHANNELS
    dtype: npt.DTypeLike = np.float32

    def __post_init__(self):
        _validate.positive_int(self.n_steps, "n_steps")
        _validate.positive_scalar(self.dt, "dt")
        _validate.positive_int(self.n_channels, "n_channels")
        if not isinstance(self.binary, bool):
            raise TypeError(f"binary must be True or False, got {self.binary!r}")
        try:
            np.dtype(self.dtype)
        except TypeError:
            raise TypeError(f"dtype must be a NumPy dtype, got {self.dtype!r}") from None


def load_shd(
    path: str | os.PathLike,
    split: str = "train",
    cfg: SHDConfig = SHDConfig(),
    *,
    max_samples: int | None = None,
    indices: npt.ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load SHD as (inputs [B, cfg.n_steps, cfg.n_channels] ``cfg.dtype``, labels [B] int32).

    ``path``: an SHD .h5 file or a folder with ``shd_<split>.h5``. ``max_samples`` keeps
    the first samples only; ``indices`` loads those rows, in that order (a random subset:
    ``indices=rng.permutation(shd_size(path))[:n]``; excludes ``max_samples``). The full
    training set is 8156 x 350 x 700 bins: 8 GB as float32, 2 GB as ``dtype=np.uint8``
    (binary only).
    """
    if not isinstance(cfg, SHDConfig):
        raise TypeError(f"cfg must be an SHDConfig, got {type(cfg).__name__}")
    file = shd_file(path, split)
    with _open(file) as fh:
        _check_layout(fh, file)
        rows = _rows(len(fh["labels"]), max_samples, indices)
        x = np.zeros((len(rows), cfg.n_steps, cfg.n_channels), dtype=cfg.dtype)
        buf = np.zeros((cfg.n_steps, cfg.n_channels), dtype=np.float32)
        for j, i in enumerate(rows):
            buf[:] = 0.0
            _bin_sample(fh["spikes/times"][i], fh["spikes/units"][i], cfg.n_steps, cfg.dt, buf, cfg.binary)
            x[j] = buf
        labels = np.asarray(fh["labels"][:], dtype=np.int32)
    return x, labels[rows]


def _rows(n: int, max_samples: int | None, indices: npt.ArrayLike | None) -> np.ndarray:
    """The rows of a file of ``n`` samples that :func:`load_shd` reads."""
    if indices is None:
        m = n if max_samples is None else min(n, _validate.positive_int(max_samples, "max_samples"))
        return np.arange(m)
    if max_samples is not None:
        raise ValueError("pass max_samples or indices, not both")
    rows = np.asarray(indices)
    if rows.ndim != 1 or not (np.issubdtype(rows.dtype, np.integer) or rows.size == 0):
        raise ValueError(f"indices must be a 1-d array of row numbers, got shape {rows.shape} {rows.dtype}")
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise ValueError(
            f"indices must lie in [0, {n}) (the file has {n} samples), got [{rows.min()}, {rows.max()}]"
        )
    return rows.astype(np.int64)


def shd_size(path: str | os.PathLike, split: str = "train") -> int:
    """Number of samples of an SHD file (``path`` as for :func:`load_shd`)."""
    file = shd_file(path, split)
    with _open(file) as fh:
        _check_layout(fh, file)
        return len(fh["labels"])
