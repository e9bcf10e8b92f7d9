"""Input validation shared by the public API.

Checks run only on concrete (non-traced) values, so they cost nothing under ``jit``
and never turn a traced computation into a Python error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


class InputTypeError(TypeError, ValueError):
    """An input of the wrong type (a string where a number belongs, ...). A ``TypeError`` for
    Python callers, and a ``ValueError`` too, so that the command line reports it as a user
    error in one line (:mod:`proofs_numeric.cli` turns ``ValueError`` into one line, and lets
    every other ``TypeError``, a bug, keep its traceback)."""


def is_concrete(x: Any) -> bool:
    """True when ``x`` holds concrete values (not a JAX tracer)."""
    return not isinstance(x, jax.core.Tracer)


def positive_scalar(value: Any, name: str) -> float:
    """Return ``value`` as a float after checking it is finite and > 0 (a number, not a bool or str)."""
    try:
        if isinstance(value, (bool, str, bytes)):
            raise TypeError
        v = float(value)
    except (TypeError, ValueError):
        raise InputTypeError(f"{name} must be a positive number, got {value!r}") from None
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


def finite(x: Any, name: str) -> None:
    """Raise ValueError if concrete ``x`` contains NaN or an infinite value."""
    if is_concrete(x):
        a = np.asarray(x)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or infinite values")


def same_shape(a: Any, b: Any, name_a: str, name_b: str) -> None:
    """Raise ValueError unless ``a`` and ``b`` have identical shapes."""
    sa, sb = np.shape(a), np.shape(b)
    if sa != sb:
        raise ValueError(f"{name_a} has shape {sa} but {name_b} has shape {sb}; they must match")


def _integral(value: Any) -> bool:
    """A whole number: an int (not a bool, numpy bools included) or a finite integral float."""
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


SEED_LIMIT = 2**32


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
        raise InputTypeError(f"{name} must be a JAX PRNG key (jax.random.key(seed)), got {key!r}")


def real_finite(x: Any, name: str) -> None:
    """TypeError unless ``x`` holds real numbers (float, int or bool); ValueError for NaN or
    inf. Only concrete values are inspected (nothing is checked under ``jit``)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and not (
        jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer) or dtype == jnp.bool_
    ):
        raise InputTypeError(f"{name} must be real numbers (float, int or bool), got {dtype}")
    if not is_concrete(x) or dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        return
    a = np.asarray(x)
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite; it contains inf")


def integer(value: Any, name: str, lo: int, hi: int) -> int:
    """Return ``value`` as an int after checking it is an integer (not a bool or float) in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputTypeError(f"{name} must be an integer, got {value!r}")
    if not lo <= int(value) <= hi:
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {value!r}")
    return int(value)


def real(value: Any, name: str) -> float:
    """Return ``value`` as a float after checking it is a finite real number (not a bool or str)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def float_vector(value: Any, name: str, length: int | None = None) -> tuple[float, ...]:
    """A non-empty tuple of finite floats from a sequence or a comma/space separated string.

    ``length``: required number of entries (None: any). Bools and strings inside a sequence
    are refused (a JSON ``true`` is not a number).
    """
    if isinstance(value, str):
        parts = value.replace(",", " ").split()
        try:
            items: list = [float(v) for v in parts]
        except ValueError:
            raise ValueError(f"{name} must be numbers separated by commas or spaces, got {value!r}") from None
    elif isinstance(value, (list, tuple, np.ndarray)) or hasattr(value, "__array__"):
        items = list(np.ravel(np.asarray(value, dtype=object))) if np.ndim(value) else [value]
        if np.ndim(value) > 1:
            raise ValueError(f"{name} must be a flat list of numbers, got shape {np.shape(value)}")
        for v in items:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise InputTypeError(f"{name} must contain numbers only, got {v!r}")
    else:
        raise InputTypeError(f"{name} must be a list of numbers, got {type(value).__name__}")
    vec = tuple(float(v) for v in items)
    if not vec:
        raise ValueError(f"{name} is empty; give {length or 'at least one'} number(s)")
    if not all(math.isfinite(v) for v in vec):
        raise ValueError(f"{name} contains NaN or infinite values: {list(vec)[:6]}")
    if length is not None and len(vec) != length:
        raise ValueError(f"{name} has {len(vec)} entries; it must have {length}")
    return vec


def known_keys(d: Any, valid: tuple[str, ...], where: str) -> dict:
    """Check that ``d`` is a dict whose keys all lie in ``valid``; the error lists the valid keys."""
    if not isinstance(d, dict):
        raise ValueError(f"{where} must be a JSON object (dict), got {type(d).__name__}")
    unknown = sorted(str(k) for k in set(d) - set(valid))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in {where}; valid keys: {', '.join(valid)}")
    return d


#: default limit of the memory guards (GiB); raise it with the ``max_memory_gib`` keyword or
#: the ``--max-memory-gib`` option of the command line.
DEFAULT_MAX_MEMORY_GIB = 4.0


def memory_guard(nbytes: float, what: str, max_memory_gib: float) -> None:
    """Refuse (ValueError) a computation whose estimated memory ``nbytes`` exceeds the limit."""
    limit = positive_scalar(max_memory_gib, "max_memory_gib")
    if nbytes > limit * 2**30:
        raise ValueError(
            f"{what} needs an estimated {nbytes / 2**30:.3g} GiB of memory, above the limit "
            f"max_memory_gib = {limit:g} GiB; reduce the size or raise the limit "
            f"(max_memory_gib=..., or --max-memory-gib on the command line)"
        )


def read_json_file(path, what: str):
    """Parse the JSON file ``path``; every failure is a one-line FileNotFoundError/ValueError
    naming ``what`` and the file (missing, a folder, unreadable, not UTF-8, not JSON)."""
    if not isinstance(path, (str, Path)) or str(path) == "":
        raise InputTypeError(f"{what} must be a file path, got {path!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {path} does not exist")
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder; give a JSON file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except PermissionError:
        raise ValueError(f"{what} {path} is not readable (permission denied)") from None
    except UnicodeDecodeError:
        raise ValueError(f"{what} {path} is not a UTF-8 text file") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} {path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"{what} {path} is nested too deeply to be a spec") from None
