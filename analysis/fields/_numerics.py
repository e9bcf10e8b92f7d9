"""Numerical tools shared by :mod:`analysis.fields._loops` and its users.

* :func:`compiled` -- a bounded cache of jit-compiled helpers per field. A field given as
  ``functools.partial(func, *static_args, **numbers)`` (as
  :func:`analysis.fields.sg_field` returns) is compiled once per
  (func, static_args); the numbers (beta, beta_SG) become traced arguments.
* :func:`cumulative_integral` -- cumulative trapezoid with a Richardson error estimate.
* :func:`fit_order` -- least-squares log-log slope (convergence order).
* :func:`descend` -- plain descent along any field (lax.scan).
* :func:`on_grid` -- batched vmap evaluation on large point sets.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeGuard

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from analysis import _validate

_CACHE: dict = {}


def _traced_partial(field: Callable) -> TypeGuard[partial]:
    if not (isinstance(field, partial) and field.keywords):
        return False
    if not all(isinstance(v, (int, float)) for v in field.keywords.values()):
        return False
    try:
        hash((field.func, field.args))
    except TypeError:
        return False
    return True


def compiled(kind: str, field: Callable, make: Callable) -> Callable:
    """jit-compiled ``make(field)``, cached per (kind, field) (bounded cache).

    A ``functools.partial(func, *static_args, **numbers)`` (e.g. from
    :func:`analysis.fields.sg_field`) is compiled once per (func, static_args): the
    numeric keywords become traced arguments, so changing beta does not recompile.

    Why a cache: the field tools take a plain callable and must vmap / jacfwd it, so the
    caller cannot jit the composite. Measured (2-core CPU): five loop integrals of the
    five-weight SG field at 4096 points for five beta_SG values take 0.012 s with this
    cache and 0.60 s when every call compiles afresh (50x).
    """
    if len(_CACHE) > 256:
        _CACHE.clear()
    if not _traced_partial(field):
        key: tuple = (kind, field)
        if key not in _CACHE:
            _CACHE[key] = jax.jit(make(field))
        return _CACHE[key]
    names = tuple(sorted(field.keywords))
    key = (kind, field.func, field.args, names)
    if key not in _CACHE:
        func, args = field.func, field.args
        _CACHE[key] = jax.jit(lambda kw, *xs: make(lambda t: func(*args, t, **kw))(*xs))
    kw = {k: field.keywords[k] for k in names}
    return partial(_CACHE[key], kw)


def fit_order(h: ArrayLike, err: ArrayLike) -> float:
    """Least-squares slope p of log(err) = p log(h) + c (the convergence order)."""
    h, err = np.asarray(h, float), np.asarray(err, float)
    if h.shape != err.shape or h.size < 2 or np.any(h <= 0) or np.any(err <= 0):
        raise ValueError("h and err must be equal-length positive arrays with >= 2 entries")
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


def zero_crossings(x: ArrayLike, g: ArrayLike) -> list[float]:
    """Where the sampled function ``g(x)`` changes sign: one point per strict sign change
    between neighbouring samples, found by linear interpolation between them (zeros that
    fall on a sample, or touch zero without crossing it, are not counted)."""
    x, g = np.asarray(x, np.float64), np.asarray(g, np.float64)
    i = np.flatnonzero(np.sign(g[1:]) * np.sign(g[:-1]) < 0)
    return [float(x[k] - g[k] * (x[k + 1] - x[k]) / (g[k + 1] - g[k])) for k in i]


def cumulative_integral(x: ArrayLike, f: ArrayLike) -> tuple[np.ndarray, np.ndarray, float]:
    """Cumulative trapezoid F(x_k) = int_{x_0}^{x_k} f on a uniform grid, with Richardson check.

    ``x``: shape (M,), M odd >= 5; ``f``: shape (..., M) (integrated along the last axis).
    Returns (F, F_richardson, error), F and F_richardson of f's shape: F_richardson =
    F_h + (F_h - F_2h)/3 at even nodes (linearly interpolated to odd ones); error =
    max |F_h - F_2h| / 3, the O(h^2) estimate of F's error.
    """
    x, f = np.asarray(x, float), np.asarray(f, float)
    if x.ndim != 1 or f.shape[-1:] != x.shape or x.size < 5 or x.size % 2 == 0:
        raise ValueError(f"x must be 1-D of odd length >= 5 matching f's last axis; got {x.shape}, {f.shape}")
    h = np.diff(x)
    if np.any(h <= 0) or np.ptp(h) > 1e-9 * abs(h[0]) + 1e-15:
        raise ValueError("x must be strictly increasing and uniformly spaced")
    zero = np.zeros(f.shape[:-1] + (1,))
    F = np.concatenate([zero, np.cumsum(0.5 * h * (f[..., 1:] + f[..., :-1]), axis=-1)], axis=-1)
    F2 = np.concatenate(
        [zero, np.cumsum((x[2::2] - x[:-2:2]) * 0.5 * (f[..., 2::2] + f[..., :-2:2]), axis=-1)], axis=-1
    )
    diff = F[..., ::2] - F2
    rich_even = F[..., ::2] + diff / 3.0
    rich = np.empty_like(F)
    rich[..., ::2] = rich_even
    rich[..., 1::2] = 0.5 * (rich_even[..., 1:] + rich_even[..., :-1])
    return F, rich, float(np.max(np.abs(diff)) / 3.0)


def descend(
    field: Callable, theta0: jax.Array, lr: float, n_steps: int, mask: ArrayLike | None = None
) -> jax.Array:
    """Plain descent theta <- theta - lr * mask * g(theta), ``n_steps`` times (lax.scan).

    ``mask`` (n,) selects the coordinates that move (default all). Returns the final theta.
    """
    lr = _validate.positive_scalar(lr, "lr")
    n_steps = _validate.positive_int(n_steps, "n_steps")
    theta0 = jnp.asarray(theta0, dtype=jnp.result_type(theta0, float))
    m = jnp.ones_like(theta0) if mask is None else jnp.asarray(mask, theta0.dtype)

    run = compiled(f"descend{n_steps}", field, partial(_descend_fn, n_steps=n_steps))
    return run(theta0, jnp.asarray(lr, theta0.dtype), m)


def _descend_fn(f, n_steps):
    def run(t0, lr, m):
        return jax.lax.scan(lambda t, _: (t - lr * m * f(t), None), t0, None, length=n_steps)[0]

    return run


def _mapped(f):
    return lambda x: jax.lax.map(jax.vmap(f), x)


def on_grid(fn: Callable, thetas: jax.Array, batch: int = 1 << 18) -> jax.Array:
    """Evaluate ``fn`` (theta (n,) -> array) on ``thetas`` (..., n); vmapped in batches.

    Batches of ``batch`` points (lax.map) bound the memory for large contour grids.
    """
    thetas = jnp.asarray(thetas)
    flat = thetas.reshape(-1, thetas.shape[-1])
    m = flat.shape[0]
    batch = max(1, min(_validate.positive_int(batch, "batch"), m))
    nb = -(-m // batch)
    pad = jnp.concatenate([flat, jnp.broadcast_to(flat[:1], (nb * batch - m, flat.shape[1]))])
    out = compiled("on_grid", fn, _mapped)(pad.reshape(nb, batch, -1))
    out = out.reshape((nb * batch,) + out.shape[2:])[:m]
    return out.reshape(thetas.shape[:-1] + out.shape[1:])
