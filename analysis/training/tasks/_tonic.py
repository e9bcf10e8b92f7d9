"""Event data sets in the format of the ``tonic`` library (Lenz et al. 2021, Zenodo
10.5281/zenodo.5079802) as dense spike rasters, binned as :func:`load_shd` bins SHD.

A tonic data set yields ``(events, label)`` pairs; ``events`` is a NumPy structured array
with the fields ``x`` (channel), ``t`` (time in microseconds) and ``p`` (polarity) for
audio-like sensors (tonic's SHD and SSC: ``sensor_size = (700, 1, 1)``). Polarity is
ignored (every event is a spike of channel ``x``). Camera events (a ``y`` field) are
refused: flatten them into channels yourself (e.g. ``x + width * y``) and drop ``y``.

Example
-------
>>> import numpy as np
>>> ev = np.zeros(3, dtype=[("t", np.int64), ("x", np.int64), ("p", np.int64)])
>>> ev["t"], ev["x"] = [0, 1500, 2000], [0, 1, 1]   # microseconds, channels
>>> x, y = from_tonic([(ev, 4)], dt=1e-3, n_steps=3, n_channels=2)
>>> x.shape, x.dtype, y
((1, 3, 2), dtype('uint8'), array([4], dtype=int32))
>>> x[0].tolist()   # bins floor(t / 1 ms): t = 0 -> bin 0, 1.5 ms and 2 ms -> bins 1 and 2
[[1, 0], [0, 1], [0, 1]]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis import _validate

#: microseconds per second: tonic's event times are integer (or float) microseconds
US_PER_S = 1_000_000


def _samples(dataset: Any) -> Iterable[tuple[Any, Any]]:
    """(events, label) of every sample: by index where the data set has a length (tonic's
    data sets), else by iteration (a list, a generator)."""
    if hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__"):
        return (dataset[i] for i in range(len(dataset)))
    if not isinstance(dataset, Iterable):
        raise TypeError(f"dataset must yield (events, label) pairs, got {type(dataset).__name__}")
    return iter(dataset)


def _check_events(events: Any, i: int) -> np.ndarray:
    names = getattr(getattr(events, "dtype", None), "names", None)
    if not isinstance(events, np.ndarray) or names is None:
        what = f"{type(events).__name__} {getattr(events, 'dtype', '')}".strip()
        raise ValueError(
            f"sample {i}: events must be a NumPy structured array with fields x, t (and p) "
            f"as tonic yields them (no transform to frames), got {what}"
        )
    if "y" in names:
        raise ValueError(
            f"sample {i}: events have a 'y' field (a 2-d sensor); from_tonic takes 1-d "
            "(audio-like) sensors only: flatten x, y into one channel field x first"
        )
    missing = [f for f in ("x", "t") if f not in names]
    if missing:
        raise ValueError(f"sample {i}: events lack the field(s) {missing}; fields are {list(names)}")
    if events.ndim != 1:
        raise ValueError(f"sample {i}: events must be 1-d, got shape {events.shape}")
    for f in ("x", "t"):
        kind = events.dtype[f].kind
        if kind not in "iuf":
            raise ValueError(f"sample {i}: field {f!r} must be numeric, got {events.dtype[f]}")
    if events.dtype["x"].kind == "f" and not np.array_equal(events["x"], np.floor(events["x"])):
        raise ValueError(f"sample {i}: channel indices x must be whole numbers")
    if not np.isfinite(events["t"]).all():
        raise ValueError(f"sample {i}: event times t must be finite")
    return events


def _bins(t: np.ndarray, dt: float) -> np.ndarray:
    """floor(t / dt) for t in microseconds and dt in seconds: in integers when both are whole
    microseconds (exact, so that an event at k dt falls in bin k), else in float64."""
    dt_us = dt * US_PER_S
    whole = round(dt_us)
    if t.dtype.kind in "iu" and whole >= 1 and math.isclose(dt_us, whole, rel_tol=1e-12):
        return np.floor_divide(t.astype(np.int64), whole)
    return np.floor(t.astype(np.float64) / dt_us).astype(np.int64)


def from_tonic(
    dataset: Any,
    dt: float,
    n_steps: int,
    *,
    n_channels: int | None = None,
    dtype: npt.DTypeLike = np.uint8,
) -> tuple[np.ndarray, np.ndarray]:
    """(x [N, n_steps, C] ``dtype``, labels [N] int32) of a tonic data set, or of any
    sequence of ``(events, label)`` pairs in tonic's format (see the module docstring).

    Binning as :func:`load_shd`: binary (several events of a channel in a bin are one spike),
    bin ``floor(t / dt)`` with ``t`` in microseconds and ``dt`` in seconds, bins from t = 0;
    events before 0 or at or after ``n_steps * dt`` are dropped, shorter samples are
    zero-padded. ``n_channels`` (C): default the data set's ``sensor_size[0]`` if it has one,
    else the largest channel index + 1 over all samples. Labels must be integers >= 0.
    Everything is checked (ValueError naming the sample) before the raster is filled.
    """
    _validate.positive_scalar(dt, "dt")
    _validate.positive_int(n_steps, "n_steps")
    if n_channels is None and getattr(dataset, "sensor_size", None) is not None:
        n_channels = int(dataset.sensor_size[0])
    if n_channels is not None:
        _validate.positive_int(n_channels, "n_channels")
    try:
        out_dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy dtype, got {dtype!r}") from None
    events_list, labels = [], []
    for i, sample in enumerate(_samples(dataset)):
        if not isinstance(sample, (tuple, list)) or len(sample) != 2:
            raise ValueError(f"sample {i}: expected an (events, label) pair, got {type(sample).__name__}")
        events, label = _check_events(sample[0], i), sample[1]
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or label < 0:
            raise ValueError(f"sample {i}: label must be an integer >= 0, got {label!r}")
        events_list.append(events)
        labels.append(int(label))
    if not events_list:
        raise ValueError("dataset has no samples")
    top = max((int(e["x"].max()) for e in events_list if e.size), default=-1)
    low = min((int(e["x"].min()) for e in events_list if e.size), default=0)
    n_ch = top + 1 if n_channels is None else n_channels
    if low < 0 or top >= n_ch:
        raise ValueError(f"channel indices x must lie in [0, {n_ch}) (n_channels), got [{low}, {top}]")
    if n_ch == 0:
        raise ValueError("no sample has events: pass n_channels")
    x = np.zeros((len(events_list), n_steps, n_ch), dtype=out_dtype)
    for i, events in enumerate(events_list):
        k = _bins(events["t"], dt)
        keep = (k >= 0) & (k < n_steps)
        x[i, k[keep], events["x"][keep].astype(np.int64)] = 1
    return x, np.asarray(labels, dtype=np.int32)
