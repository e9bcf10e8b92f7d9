"""Event-driven synaptic input: W^T S from the weight rows of the active spikes.

For binary spikes S [B, N_in] with few ones, the synaptic drive y = S @ W [B, N_out] is
the sum of the rows W[i] of the active inputs i. :func:`event_matmul` finds the active
indices of every sample (cumulative sum + scatter into an index table of ``max_active``
slots, default N_in) and accumulates the gathered rows in a loop whose trip count is the
largest number of active inputs in the batch at this bin (so work scales with activity).
Its custom VJP forms the weight gradient from the same rows,
dW[i] += S[b, i] g[b] for the active (b, i) (a scatter-add), and the input gradient
dS = g @ W^T densely: a surrogate derivative is nonzero for silent neurons too, so dS is
not sparse (XLA drops it when the input needs no gradient, e.g. the network input).
When a sample has more than ``max_active`` active inputs, the dense product is used
instead (same result), so a budget never changes the output.

Values are multiplied in, so non-binary S also give S @ W exactly; the saving needs S
to be sparse. Results equal the dense path up to float summation order.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["event_matmul", "active_indices"]


def active_indices(s, budget: int):
    """Indices of the nonzero entries of each row of ``s`` [B, N], in order.

    Returns (idx [B, budget] int32 padded with N, count [B] int32). Entries beyond
    ``budget`` are dropped (callers check ``count <= budget``).
    """
    b, n = s.shape
    active = s != 0
    pos = jnp.cumsum(active.astype(jnp.int32), axis=1) - 1
    slot = jnp.where(active, pos, budget)
    cols = jnp.broadcast_to(jnp.arange(n, dtype=jnp.int32), (b, n))
    rows = jnp.arange(b)[:, None]
    idx = jnp.full((b, budget), n, jnp.int32).at[rows, slot].set(cols, mode="drop")
    return idx, pos[:, -1] + 1


def _gather_sum(s, w, idx, n_iter):
    vals = jnp.take_along_axis(jnp.pad(s, ((0, 0), (0, 1))), idx, axis=1)  # [B, K]
    w_pad = jnp.pad(w, ((0, 1), (0, 0)))

    def body(k, acc):
        return acc + vals[:, k, None] * jnp.take(w_pad, idx[:, k], axis=0)

    return lax.fori_loop(0, n_iter, body, jnp.zeros((s.shape[0], w.shape[1]), jnp.result_type(s, w)))


def _scatter_grad(s, g, idx, n_iter, n_in):
    vals = jnp.take_along_axis(jnp.pad(s, ((0, 0), (0, 1))), idx, axis=1)

    def body(k, dw):
        return dw.at[idx[:, k]].add(vals[:, k, None] * g, mode="drop")

    return lax.fori_loop(0, n_iter, body, jnp.zeros((n_in, g.shape[1]), g.dtype))


def _budget(s, max_active):
    n = s.shape[1]
    return n if max_active in (0, None) else min(int(max_active), n)


@partial(jax.custom_vjp, nondiff_argnums=(2,))
def event_matmul(s, w, max_active: int = 0):
    """S @ W for sparse S [B, N_in], W [N_in, N_out] (see module docstring).

    ``max_active``: size of the per-sample index table (0 = N_in, never overflows).
    """
    return _forward(s, w, max_active)[0]


def _forward(s, w, max_active):
    k = _budget(s, max_active)
    idx, count = active_indices(s, k)
    n_iter = jnp.max(count)
    overflow = n_iter > k
    y = lax.cond(overflow, lambda: (s @ w).astype(jnp.result_type(s, w)),
                 lambda: _gather_sum(s, w, idx, jnp.minimum(n_iter, k)))
    return y, (s, w, idx, n_iter, overflow)


def _fwd(s, w, max_active):
    return _forward(s, w, max_active)


def _bwd(max_active, res, g):
    s, w, idx, n_iter, overflow = res
    k = idx.shape[1]
    dw = lax.cond(overflow, lambda: (s.T @ g).astype(w.dtype),
                  lambda: _scatter_grad(s, g, idx, jnp.minimum(n_iter, k), w.shape[0]).astype(w.dtype))
    ds = (g @ w.T).astype(s.dtype)
    return ds, dw


event_matmul.defvjp(_fwd, _bwd)
