"""Argument checks of the snn and training families (on top of :mod:`analysis._validate`):
integers that reject NaN, inf, floats with a fraction and bools with one clear message,
PRNG keys, seeds, and arrays of real numbers."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

SEED_LIMIT = 2**32


def _integral(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer()


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1 (an integral float is accepted); else ValueError naming ``name``."""
    if not _integral(value) or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def seed(value: Any, name: str = "seed") -> int:
    """A seed: an integer in [0, 2**32) (larger seeds would collide in 32-bit PRNG keys)."""
    if not _integral(value) or not 0 <= int(value) < SEED_LIMIT:
        raise ValueError(f"{name} must be an integer in [0, 2**32), got {value!r}")
    return int(value)


def prng_key(key: Any, name: str = "key") -> None:
    """TypeError unless ``key`` is a JAX PRNG key (typed, or a raw uint32 key of shape [..., 2])."""
    dtype = getattr(key, "dtype", None)
    ok = dtype is not None and (
        jnp.issubdtype(dtype, jax.dtypes.prng_key)
        or (dtype == jnp.uint32 and tuple(getattr(key, "shape", ()))[-1:] == (2,))
    )
    if not ok:
        raise TypeError(f"{name} must be a JAX PRNG key (jax.random.key(seed)), got {key!r}")


def real_finite(x: Any, name: str) -> None:
    """TypeError unless ``x`` holds real numbers (float, int or bool); ValueError for NaN or
    inf. Only concrete values are inspected (nothing is checked under ``jit``)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and not (
        jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer) or dtype == jnp.bool_
    ):
        raise TypeError(f"{name} must be real numbers (float, int or bool), got {dtype}")
    if isinstance(x, jax.core.Tracer) or dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        return
    a = np.asarray(x)
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite; it contains inf")
