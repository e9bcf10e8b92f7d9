"""Input validation shared by the public API.

Checks run only on concrete (non-traced) values, so they cost nothing under ``jit``
and never turn a traced computation into a Python error.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np


def is_concrete(x: Any) -> bool:
    """True when ``x`` holds concrete values (not a JAX tracer)."""
    return not isinstance(x, jax.core.Tracer)


def positive_scalar(value: Any, name: str) -> float:
    """Return ``value`` as a float after checking it is finite and > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def probability(p: Any, name: str = "p", *, open_interval: bool = False) -> None:
    """Raise ValueError if concrete ``p`` has entries outside [0, 1] (or (0, 1)) or NaN."""
    if not is_concrete(p):
        return
    a = np.asarray(p)
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN; probabilities must lie in [0, 1]")
    lo_bad = a <= 0 if open_interval else a < 0
    hi_bad = a >= 1 if open_interval else a > 1
    if lo_bad.any() or hi_bad.any():
        rng = "(0, 1)" if open_interval else "[0, 1]"
        bad = a[lo_bad | hi_bad].ravel()[:3]
        raise ValueError(f"{name} must lie in {rng}; got values such as {bad.tolist()}")


def no_nan(x: Any, name: str) -> None:
    """Raise ValueError if concrete ``x`` contains NaN."""
    if is_concrete(x) and np.isnan(np.asarray(x)).any():
        raise ValueError(f"{name} contains NaN")


def same_shape(a: Any, b: Any, name_a: str, name_b: str) -> None:
    """Raise ValueError unless ``a`` and ``b`` have identical shapes."""
    sa, sb = np.shape(a), np.shape(b)
    if sa != sb:
        raise ValueError(f"{name_a} has shape {sa} but {name_b} has shape {sb}; they must match")


def positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int after checking it is >= 1."""
    if isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
