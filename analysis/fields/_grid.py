"""The five-weight network's output on a grid of a plane, computed with its structure (Fig. 4).

The grid is theta(a_i, b_j) = c + a_i d1 + b_j d2, so every weight is P_k[i] + Q_k[j] with
P = c + a d1 (n_a, 5) and Q = b d2 (n_b, 5): nothing of size n_a x n_b is stored but the
output. The network (Gygax & Zenke 2025, sec. 5) is g = s(w), h_i = s(v_i g),
y = s(u1 h1 + u2 h2) with s(z) = sigma(beta z) = 1 / (1 + exp(-beta z)). Three savings
over evaluating that formula point by point, each exact up to float rounding:

* separable first layer: exp(-beta w_ij) = exp(-beta P_w[i]) exp(-beta Q_w[j]), so g takes
  n_a + n_b exponentials instead of n_a n_b (used when |beta P_w|, |beta Q_w| <= 40 in
  float32, 350 in float64: the product then neither overflows nor underflows);
* one division for both hidden units: with e_i = exp(-beta v_i g) clamped to
  exp(40) (float32; exp(300) in float64), h1 = (1 + e2) r and h2 = (1 + e1) r with
  r = 1 / ((1 + e1)(1 + e2)); the clamp changes h by at most exp(-40) = 4e-18;
* saturated tiles (large beta, e.g. the paper's 10000): the grid is cut into T x T tiles.
  Each weight is affine on a tile, so its range there is the range over the tile's four
  corners. A tile on which every unit's |beta z| exceeds :func:`saturation_threshold`
  (about 53 for beta = 10000 in float32) has, exactly up to exp(-53) x (beta |theta|)^2
  < eps^2, the step network's output g = [w > 0], h_i = [v_i > 0] (g = 1) or 1/2 (g = 0),
  y = [zy > 0]; only the other tiles (near the boundaries of the step regions; 23 % of
  the paper's 2000 x 2000 grid at beta = 10000 with T = 32) are evaluated with exponentials.
  In XLA: the step network everywhere (comparisons only), then the exact tiles written
  over it; one compilation per (betas, grid shape, exact-tile count rounded up to 64).

All betas run in one compiled call, on CPU with 512-bit vectors preferred (:func:`_grids`).

:func:`five_weight_grids` is tested against the NumPy reference
:func:`analysis.fields._reference.five_weight_output_np` (tests/fields/test_grid.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from analysis import _validate

#: tile side of the saturated-tile path
TILE = 32
#: the tile path is used for a beta when at least this fraction of tiles is saturated
TILE_MIN_SATURATED = 0.5
_K_BUCKET = 64  # number of exact tiles is padded to a multiple of this (fewer compilations)


def _limits(dtype) -> tuple[float, float]:
    """(bound on |beta P|, |beta Q| for the separable first layer, clamp of the hidden exps)."""
    return (40.0, 40.0) if jnp.dtype(dtype) == jnp.float32 else (350.0, 300.0)


def saturation_threshold(beta: float, scale: float, dtype: DTypeLike) -> float:
    """|beta z| above which a unit counts as saturated on a tile.

    T = 2 log(1/eps) + 2 log(1 + beta scale) + 1, with eps the dtype's machine epsilon and
    ``scale`` a bound on |theta| over the grid: the neglected tails exp(-T), amplified by
    at most (beta scale)^2 through the two later layers, stay below eps^2.
    """
    eps = float(jnp.finfo(dtype).eps)
    return 2.0 * math.log(1.0 / eps) + 2.0 * math.log1p(beta * scale) + 1.0


def _sig(x):
    return 1.0 / (1.0 + jnp.exp(-x))


def _dense(P, Q, beta, separable, clamp):
    """Output (n_a, n_b) from P (5, n_a), Q (5, n_b): exponentials everywhere."""
    if separable:
        g = 1.0 / (1.0 + jnp.exp(-beta * P[0])[:, None] * jnp.exp(-beta * Q[0])[None, :])
    else:
        g = _sig(beta * (P[0][:, None] + Q[0][None, :]))
    v1, v2, u1, u2 = (P[k][:, None] + Q[k][None, :] for k in range(1, 5))
    bg = beta * g
    q1 = 1.0 + jnp.exp(jnp.minimum(-bg * v1, clamp))
    q2 = 1.0 + jnp.exp(jnp.minimum(-bg * v2, clamp))
    zy = (u1 * q2 + u2 * q1) / (q1 * q2)
    return _sig(beta * zy)


def _step(P, Q):
    """The step network's output (valid on saturated points)."""
    w, v1, v2, u1, u2 = (P[k][:, None] + Q[k][None, :] for k in range(5))
    g = w > 0
    half = jnp.asarray(0.5, P.dtype)
    h1 = jnp.where(g, (v1 > 0).astype(P.dtype), half)
    h2 = jnp.where(g, (v2 > 0).astype(P.dtype), half)
    return (u1 * h1 + u2 * h2 > 0).astype(P.dtype)


def _tiled(P, Q, origins, beta, tile, clamp):
    """Step output everywhere, then the exact tiles (origins (K, 2)) written over it."""
    y = _step(P, Q)
    idx = jnp.arange(tile)
    Pt = P[:, origins[:, 0][:, None] + idx]  # (5, K, T)
    Qt = Q[:, origins[:, 1][:, None] + idx]
    yt = jax.vmap(lambda p, q: _dense(p, q, beta, False, clamp), in_axes=(1, 1))(Pt, Qt)

    def put(k, y):
        return lax.dynamic_update_slice(y, yt[k], (origins[k, 0], origins[k, 1]))

    return lax.fori_loop(0, origins.shape[0], put, y)


def _grids_fn(P, Q, origins, betas, separable, tile, clamp):
    """One (n_a, n_b) array per beta: the tile path where origins[k] is an array, else dense.

    Separate outputs, not one stacked array: no copy into a stack, and (with glibc's default
    malloc) each 16 MB output stays below the 32 MiB mmap threshold, so freed memory is
    reused (measured, 2000 x 2000 float32: a stacked output took 25 % longer with the
    malloc tuning of ``sgtheory bench``, 40 % without)."""
    return tuple(
        _dense(P, Q, beta, sep, clamp) if o is None else _tiled(P, Q, o, beta, tile, clamp)
        for o, beta, sep in zip(origins, betas, separable, strict=True)
    )


_COMPILED: dict = {}


def _grids(P, Q, origins, betas, separable, tile, clamp):
    """:func:`_grids_fn` compiled; on CPU with 512-bit vectors preferred (XLA's
    ``xla_cpu_prefer_vector_width``, this computation only; a hint that CPUs without
    AVX-512 ignore): identical results, 38 % less time on the 2-core AVX-512 test machine."""
    backend = jax.default_backend()
    if backend not in _COMPILED:
        opts = {"xla_cpu_prefer_vector_width": 512} if backend == "cpu" else None
        _COMPILED[backend] = jax.jit(_grids_fn, static_argnums=(3, 4, 5, 6), compiler_options=opts)
    return _COMPILED[backend](P, Q, origins, betas, separable, tile, clamp)


def _origins(n: int, tile: int) -> np.ndarray:
    """Tile starts along one axis; the last tile is moved back to end at n (overlap is harmless)."""
    s = np.arange(0, n, tile)
    return np.minimum(s, n - tile)


def _sat(lo, hi, beta, thr):
    """Per tile: +1 where beta z > thr on the whole tile, -1 where < -thr, 0 otherwise."""
    return np.where(beta * lo > thr, 1, np.where(beta * hi < -thr, -1, 0))


def exact_tiles(P: np.ndarray, Q: np.ndarray, beta: float, tile: int, thr: float) -> np.ndarray:
    """Origins (K, 2) of the tiles that are not saturated at ``beta`` (see module doc).

    P (n_a, 5), Q (n_b, 5) in float64; each weight's range on a tile is taken over the
    tile's corners (the weight is affine in (a, b))."""
    oa, ob = _origins(len(P), tile), _origins(len(Q), tile)
    Pc = np.stack([P[oa], P[oa + tile - 1]])  # (2, ta, 5): the two corner rows of each tile
    Qc = np.stack([Q[ob], Q[ob + tile - 1]])
    corners = Pc[:, None, :, None, :] + Qc[None, :, None, :, :]  # (2, 2, ta, tb, 5)
    lo, hi = corners.min(axis=(0, 1)), corners.max(axis=(0, 1))
    sg = _sat(lo[..., 0], hi[..., 0], beta, thr)
    sv = [_sat(lo[..., k], hi[..., k], beta, thr) for k in (1, 2)]
    # zy = u1 h1 + u2 h2 with constant h on the tile is affine: range over the corners
    h1 = np.where(sg > 0, (sv[0] > 0) * 1.0, 0.5)
    h2 = np.where(sg > 0, (sv[1] > 0) * 1.0, 0.5)
    zy = corners[..., 3] * h1 + corners[..., 4] * h2
    sy = _sat(zy.min(axis=(0, 1)), zy.max(axis=(0, 1)), beta, thr)
    ok = (sg != 0) & ((sg < 0) | ((sv[0] != 0) & (sv[1] != 0))) & (sy != 0)
    ia, ib = np.nonzero(~ok)
    return np.stack([oa[ia], ob[ib]], axis=1).astype(np.int32)


def _tile_origins(P64, Q64, beta, tile, thr) -> np.ndarray | None:
    """Origins of the exact tiles, padded to a multiple of _K_BUCKET with repeats of one tile
    (rewriting it is harmless; fewer compilations); None where the tile path does not pay."""
    if min(len(P64), len(Q64)) < 2 * tile:
        return None
    if beta * (np.abs(P64[:, 0]).max() + np.abs(Q64[:, 0]).max()) <= thr:  # g saturates nowhere
        return None
    o = exact_tiles(P64, Q64, beta, tile, thr)
    if len(o) > (1.0 - TILE_MIN_SATURATED) * len(_origins(len(P64), tile)) * len(_origins(len(Q64), tile)):
        return None
    o = np.zeros((1, 2), np.int32) if len(o) == 0 else o
    return np.concatenate([o, np.repeat(o[:1], -len(o) % _K_BUCKET, axis=0)])


def five_weight_grids(
    center: ArrayLike | Sequence[float],
    d1: ArrayLike | Sequence[float],
    d2: ArrayLike | Sequence[float],
    a: ArrayLike,
    b: ArrayLike,
    betas: Sequence[float],
    dtype: DTypeLike | None = None,
    *,
    tile: int = TILE,
) -> list[np.ndarray]:
    """Output y of the five-weight net at theta = center + a_i d1 + b_j d2 for each beta.

    ``center``, ``d1``, ``d2``: (5,) ordered (w, v1, v2, u1, u2); ``a`` (n_a,), ``b``
    (n_b,); ``betas``: finite forward steepnesses > 0. Returns one NumPy (n_a, n_b) array
    per beta, in ``dtype`` (default: JAX's default float). See the module doc for the method.
    """
    dtype = jnp.dtype(dtype or jnp.result_type(float))
    if dtype not in (jnp.float32, jnp.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    vecs = [
        np.asarray(_validate.float_vector(v, n, 5)) for v, n in ((center, "center"), (d1, "d1"), (d2, "d2"))
    ]
    ab = []
    for v, name in ((a, "a"), (b, "b")):
        x = np.asarray(v, dtype=np.float64)
        if x.ndim != 1 or x.size == 0 or not np.isfinite(x).all():
            raise ValueError(f"{name} must be a non-empty 1-D array of finite numbers, got shape {x.shape}")
        ab.append(x)
    bs = tuple(_validate.positive_scalar(x, "grid beta") for x in betas)
    tile = _validate.positive_int(tile, "tile")
    P64 = vecs[0] + ab[0][:, None] * vecs[1]
    Q64 = ab[1][:, None] * vecs[2]
    # the same float rounding as the reference: fl(c + fl(a d1)) and fl(b d2)
    a_, b_ = ab[0].astype(dtype), ab[1].astype(dtype)
    c, e1, e2 = (v.astype(dtype) for v in vecs)
    P = np.ascontiguousarray((c + a_[:, None] * e1).T)  # NumPy into jit: no extra dispatch
    Q = np.ascontiguousarray((b_[:, None] * e2).T)
    sep_lim, clamp = _limits(dtype)
    scale = float(np.abs(P64).max() + np.abs(Q64).max())
    thr = [saturation_threshold(beta, scale, dtype) for beta in bs]
    origins = tuple(_tile_origins(P64, Q64, beta, tile, t) for beta, t in zip(bs, thr, strict=True))
    sep = tuple(
        bool(beta * np.abs(P64[:, 0]).max() <= sep_lim and beta * np.abs(Q64[:, 0]).max() <= sep_lim)
        for beta in bs
    )
    return [np.asarray(y) for y in _grids(P, Q, origins, bs, sep, tile, clamp)]
