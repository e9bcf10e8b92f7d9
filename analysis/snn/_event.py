"""Event-driven synaptic input: W^T S from the weight rows of the active spikes.

For binary spikes S [B, N_in] with few ones, the synaptic drive y = S @ W [B, N_out] is
the sum of the rows W[i] of the active inputs i. Its custom VJP forms the weight gradient
from the same entries, dW[i] = sum over active b of S[b, i] g[b] (dW = S^T g), and the
input gradient dS = g @ W^T densely: a surrogate derivative is nonzero for silent neurons
too, so dS is not sparse (XLA drops it when the input needs no gradient, e.g. the network
input).

Two backends compute the two sparse products; :func:`event_backend` reports which one
:func:`event_matmul` uses, and its ``backend`` argument forces one.

* ``"numba"`` (chosen automatically when numba is importable (a dependency of the
  package), JAX has ``buffer_callback``, the default JAX backend is the CPU,
  S and W are 2-D and their result dtype is float32 or float64): the products run in the
  parallel numba kernels of
  :mod:`analysis.snn._event_numba`, called through
  :func:`jax.experimental.buffer_callback.buffer_callback`, which hands the kernels XLA's
  own buffers (no copies in or out; :func:`jax.pure_callback` copies operands and result,
  and at R = 51200 rows those copies cost more than the kernels). The kernels scan S for
  its nonzero entries (one pass, in the forward and again in the backward: a residual
  index list would need a static size, i.e. room for all R N_in entries, which costs more
  than the scan) and add weight rows (forward) or gradient rows (backward) for the active
  entries only. ``max_active`` is ignored (no index table). At R = 51200, N = 512 the
  forward costs 0.14x (1 % density) to 0.25x (5 %) of the dense float32 matmul on 2 cores.
* ``"xla"`` (otherwise, e.g. on a GPU): pure XLA. The active indices of every sample are
  found by a cumulative sum + scatter into an index table of ``max_active`` slots
  (default N_in), and the gathered rows are accumulated in a loop whose trip count is the
  largest number of active inputs in the batch (so work scales with activity); the weight
  gradient is a scatter-add over the same table. When a sample has more than
  ``max_active`` active inputs, the dense product is used instead (same result), so a
  budget never changes the output.

Values are multiplied in, so non-binary S also give S @ W exactly; the saving needs S
to be sparse. Results equal the dense path up to float summation order.

Where the time goes (the network of ``sgtheory bench snn``, 3 x 512 LIF, batch 64, 100
steps, 5 % input, 3-4 % hidden spikes; process CPU time of one jitted fwd+bwd on 2 shared
cores): dense 434-443 ms, of which the three drives S @ W and three weight gradients
S^T g are ~57 %; event (numba) 260-277 ms, of which the six sparse products take 60-80 ms.
The rest is the same in both paths: the two dense input gradients g W^T (~70 ms), the LIF
recursions (~60-90 ms) and copies. With the products replaced by a zero-cost stand-in the
fwd+bwd takes ~190 ms, so no gather or scatter can make this network more than 2.1-2.4x
(wall clock and CPU time, several runs) faster than dense here; the bench prints this
bound next to the measured speedups.
"""

from __future__ import annotations

from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

try:  # JAX >= 0.7; older versions use the XLA backend
    from jax.experimental.buffer_callback import buffer_callback
except ImportError:  # pragma: no cover - depends on the installed JAX
    buffer_callback = None  # type: ignore[assignment]  # None marks 'not available'

_BACKENDS = ("numba", "xla")


@cache
def _numba_kernels():
    """The :mod:`analysis.snn._event_numba` module, or None when numba is not importable."""
    try:
        from analysis.snn import _event_numba
    except ImportError:
        return None
    return _event_numba


def event_backend(s: jax.Array | None = None, w: jax.Array | None = None) -> str:
    """The backend :func:`event_matmul` uses: ``"numba"`` or ``"xla"`` (module docstring).

    Without arguments, the choice for 2-D float32/float64 operands; with ``s`` and ``w``
    (arrays or shape/dtype structs), the choice for these operands.
    """
    if buffer_callback is None or _numba_kernels() is None or jax.default_backend() != "cpu":
        return "xla"
    if s is None or w is None:
        return "numba"
    dtype = jnp.result_type(s, w)
    if len(s.shape) != 2 or len(w.shape) != 2 or dtype not in (jnp.float32, jnp.float64):
        return "xla"
    return "numba"


def active_indices(s: jax.Array, budget: int) -> tuple[jax.Array, jax.Array]:
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


def _host_batched(kernel, shared_b, a, b):
    """``kernel`` on the trailing two axes of ``a`` and ``b``, leading axes broadcast.

    Under ``vmap`` the callback sees a leading batch axis (size 1 where an operand is not
    batched). With ``shared_b`` (the kernel acts on the rows of ``a`` independently) an
    unbatched ``b`` takes one call on the stacked rows of ``a``; otherwise one call per
    batch element.
    """
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    if a.ndim == 2:
        return kernel(a, b)
    lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, lead + a.shape[-2:])
    if shared_b and all(d == 1 for d in b.shape[:-2]):
        y = kernel(np.ascontiguousarray(a.reshape(-1, a.shape[-1])), b.reshape(b.shape[-2:]))
        return y.reshape(lead + a.shape[-2:-1] + y.shape[-1:])
    b = np.broadcast_to(b, lead + b.shape[-2:])
    out = [kernel(np.ascontiguousarray(a[ix]), np.ascontiguousarray(b[ix])) for ix in np.ndindex(*lead)]
    return np.stack(out).reshape(lead + out[0].shape)


def _host_into(kernel, shared_b, ctx, out, a, b):
    """buffer_callback body: the kernel writes into XLA's output buffer (no copies of
    2-D operands; batched operands under ``vmap`` go through :func:`_host_batched`)."""
    a, b, o = np.asarray(a), np.asarray(b), np.asarray(out)
    if a.ndim == 2 and b.ndim == 2 and a.flags.c_contiguous and b.flags.c_contiguous and o.flags.writeable:
        kernel(a, b, o)
    else:
        o[...] = _host_batched(kernel, shared_b, a, b)


def _callback(kernel, shared_b, shape, dtype, a, b):
    return buffer_callback(
        partial(_host_into, kernel, shared_b), jax.ShapeDtypeStruct(shape, dtype), vmap_method="expand_dims"
    )(a, b)


def _numba_matmul(s, w):
    """S @ W by the numba forward kernel (operands cast to their result dtype)."""
    dt = jnp.result_type(s, w)
    return _callback(
        _numba_kernels().sparse_rows_matmul, True, (s.shape[0], w.shape[1]), dt, s.astype(dt), w.astype(dt)
    )


def _numba_tmatmul(s, g):
    """S^T @ g by the numba weight-gradient kernel."""
    return _callback(
        _numba_kernels().sparse_rows_tmatmul, False, (s.shape[1], g.shape[1]), g.dtype, s.astype(g.dtype), g
    )


def _resolve(backend, s, w):
    if backend is None:
        return event_backend(s, w)
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS} or None, got {backend!r}")
    if backend == "numba" and event_backend(s, w) != "numba":
        raise ValueError(
            "the numba backend needs numba, the CPU backend, 2-D operands and a float32/float64 result"
        )
    return backend


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def event_matmul(s: jax.Array, w: jax.Array, max_active: int = 0, backend: str | None = None) -> jax.Array:
    """S @ W for sparse S [B, N_in], W [N_in, N_out] (see module docstring).

    ``max_active``: size of the per-sample index table of the XLA backend (0 = N_in, never
    overflows). ``backend``: ``"numba"``, ``"xla"`` or None (automatic, :func:`event_backend`).
    """
    return _fwd(s, w, max_active, backend)[0]


def _forward(s, w, max_active):
    k = _budget(s, max_active)
    idx, count = active_indices(s, k)
    n_iter = jnp.max(count)
    overflow = n_iter > k
    y = lax.cond(
        overflow,
        lambda: (s @ w).astype(jnp.result_type(s, w)),
        lambda: _gather_sum(s, w, idx, jnp.minimum(n_iter, k)),
    )
    return y, (s, w, idx, n_iter, overflow)


def _fwd(s, w, max_active, backend):
    if _resolve(backend, s, w) == "numba":
        return _numba_matmul(s, w), (s, w, None, None, None)
    return _forward(s, w, max_active)


def _bwd(max_active, backend, res, g):
    s, w, idx, n_iter, overflow = res
    if idx is None:
        dw = _numba_tmatmul(s, g).astype(w.dtype)
    else:
        k = idx.shape[1]
        dw = lax.cond(
            overflow,
            lambda: (s.T @ g).astype(w.dtype),
            lambda: _scatter_grad(s, g, idx, jnp.minimum(n_iter, k), w.shape[0]).astype(w.dtype),
        )
    ds = (g @ w.T).astype(s.dtype)
    return ds, dw


event_matmul.defvjp(_fwd, _bwd)
