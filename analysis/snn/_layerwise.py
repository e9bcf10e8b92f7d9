"""Layer-by-layer evaluation of :func:`analysis.snn.simulate` (private).

Same equations and the same random numbers as the all-layers time loop of
:mod:`analysis.snn._scan`, computed one layer at a time: the feedforward drive
W S_{l-1}[t] of all bins is one large matmul (or conv) over the [T * B] rows, and the
time recursion of each layer is a scan with elementwise work only (plus the recurrent
V S_l[t] when ``cfg.recurrent``). Plain autodiff then produces large matmuls for the
weight and input gradients too. It stores every layer's drive and spikes, so checkpointed
configurations use the all-layers loop instead.

With ``cfg.delay = 1`` (every connection one step later, :mod:`analysis.snn._network`) the
drive of layer l is the feedforward drive shifted by one bin, d[t] = W S_{l-1}[t-1] (one zero
bin in front, the last dropped), and the recurrent term V S_l[t-1] uses the previous spike,
kept in the scan carry. The integrator readout starts at U_o[0] = ``cfg.readout_u0`` and
reports U_o[t] or U_o[t+1] (``cfg.readout_value``).

The backward pass of a spiking layer without recurrence is written by hand
(:func:`_lif_layer`): it keeps only the spikes S and potentials U of the forward pass and
runs the adjoint recursion of the LIF equations (:mod:`analysis.snn._lif`) backwards in time,

    dL/dd[t] = a_I[t+1]
    a_S[t]   = g_S[t] (- lambda_mem U[t] a_U[t+1] with a differentiable reset)
    a_U[t]   = g_U[t] + a_S[t] dS/dz(U[t] - theta, S[t]) + lambda_mem (1 - S[t]) a_U[t+1]
    a_I[t]   = lambda_syn a_I[t+1] + (1 - lambda_mem) a_U[t+1]

with a = dL/d(state), g the cotangents of the outputs, d the drive and dS/dz the method's
derivative rule (:meth:`analysis.snn.Method.spike_derivative`). With
``reset_scope="update"`` and a detached reset, U[t+1] = (lambda_mem U[t] + (1 - lambda_mem)
I[t]) (1 - S[t]) gives the same recursion with a_I[t] = lambda_syn a_I[t+1] + (1 - lambda_mem)
(1 - S[t]) a_U[t+1]. A differentiable reset of the whole update needs dU[t+1]/dS[t] =
-(lambda_mem U[t] + (1 - lambda_mem) I[t]), which U and S do not determine when S[t] = 1;
that combination is differentiated by autodiff of the layer's scan instead. Autodiff of the
scan stores more per bin (masks, surrogate values, copies of the carry); on a 2-core CPU
the hand-written pass makes a layer's fwd+bwd ~1.4x cheaper (147 -> 104 ms at batch
256, 200 steps, width 512). Tests check it against autodiff of the same recursion and of
an unrolled loop.

Backends (:func:`recursion_backend`): on a CPU with numba installed the recursions of
:func:`_lif_layer` run in the kernels of :mod:`analysis.snn._lif_numba`, one call per layer
and pass on XLA's own buffers (``jax.experimental.buffer_callback``); the forward kernel
applies only to the deterministic method (stochastic spikes draw their uniforms with
``jax.random`` in the ``lax`` loop). The backward kernel takes the elementwise terms (the
method's derivative rule on U - theta, the cotangents) from XLA and runs the linear
recursion in a_U. Elsewhere (a GPU, no numba, float16) and with
``SGTHEORY_RECURSION_BACKEND=xla`` the recursions are ``lax`` loops. Spikes and potentials
agree bit for bit between the two at XLA's default optimisation level, input gradients to
rounding (tests/snn/test_recursion_kernels.py). On 2 CPU cores, batch 64, 100 steps,
width 512, float32: forward 4.5 -> 1.5 ms and backward 7.5-9 -> 4 ms per layer.

Layout: arrays carry time on ``axis`` 0 ([T, B, n], time-major) or 1 ([B, T, n], the
batch-major layout of :func:`analysis.snn.simulate`'s inputs and outputs). Feedforward
networks run batch-major end to end: the recursions index bin t of [B, T, n] arrays in a
``lax.fori_loop`` (:func:`_scan_time`) instead of scanning a transposed copy, so no
[B, T, n] <-> [T, B, n] transposes are made for the input, the output or the output's
cotangent. Each element goes through the same operations in either layout (same spikes
bit for bit). Layers whose backward pass is autodiff of the scan (recurrence, a
differentiable reset of the whole update) run time-major, where autodiff of ``lax.scan``
stores its per-step residuals compactly.
"""

from __future__ import annotations

import os
from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

try:  # JAX >= 0.7; older versions use the lax loop
    from jax.experimental.buffer_callback import buffer_callback
except ImportError:  # pragma: no cover - depends on the installed JAX
    buffer_callback = None  # type: ignore[assignment]  # None marks 'not available'

from analysis.snn._currents import ff_current, rec_current
from analysis.snn._lif import integrator_update, lif_update


def _scan_time(step, init, xs, n_steps, axis, reverse=False):
    """``lax.scan`` over the time ``axis`` (0 or 1) of the arrays in ``xs`` (a pytree, None
    leaves allowed): ``step(carry, xs_t, t) -> (carry, ys_t)`` with t the int32 bin index;
    returns (carry, ys) with ys stacked along ``axis``. With ``axis=1`` a ``fori_loop`` reads
    and writes bin t of [B, T, ...] arrays in place (no transposed copies)."""
    ts = jnp.arange(n_steps, dtype=jnp.int32)
    if axis == 0:
        return lax.scan(lambda c, a: step(c, a[0], a[1]), init, (xs, ts), reverse=reverse)
    at = lambda a, t: lax.dynamic_index_in_dim(a, t, 1, keepdims=False)
    xs0 = jax.tree_util.tree_map(lambda a: at(a, 0), xs)
    ys_shape = jax.eval_shape(step, init, xs0, ts[0])[1]
    # Every bin of the outputs is written. Their initial values come from a data-dependent
    # scalar so that XLA cannot merge them into one shared zero buffer, which it would then
    # copy once per output (a read + write of the whole array instead of one write).
    first = jax.tree_util.tree_leaves(xs)[0].ravel()
    leaves, tree = jax.tree_util.tree_flatten(ys_shape)
    seeds = [first[min(k, first.size - 1)] * 0 for k in range(len(leaves))]
    full = lambda a, y: jnp.broadcast_to(a.astype(y.dtype), (y.shape[0], n_steps, *y.shape[1:]))
    bufs = jax.tree_util.tree_unflatten(tree, [full(a, y) for a, y in zip(seeds, leaves, strict=True)])

    def body(k, state):
        carry, bufs = state
        t = (n_steps - 1 - k if reverse else k).astype(jnp.int32)
        carry, ys_t = step(carry, jax.tree_util.tree_map(lambda a: at(a, t), xs), t)
        put = lambda b, y: lax.dynamic_update_index_in_dim(b, y, t, 1)
        return carry, jax.tree_util.tree_map(put, bufs, ys_t)

    return lax.fori_loop(jnp.int32(0), jnp.int32(n_steps), body, (init, bufs))


def _drive(cfg, l, w, s):
    """W S for all bins at once; s [T, B, n] or [B, T, n] -> [T, B, N_l] or [B, T, N_l]."""

    a, b = s.shape[:2]
    return ff_current(cfg, l, w, s.reshape(a * b, -1)).reshape(a, b, -1)


def _delayed(drive, axis=0):
    """d[t-1] with d[-1] = 0 along the time ``axis``."""
    n = drive.shape[axis]
    first = lax.slice_in_dim(drive, 0, 1, axis=axis)
    return jnp.concatenate([jnp.zeros_like(first), lax.slice_in_dim(drive, 0, n - 1, axis=axis)], axis=axis)


def _integrator_scan(drive, lif, u0, after):
    """Leaky-integrator readout over time from U[0] = u0: U[t] (or U[t+1] if ``after``), [T, B, N]."""
    zero = jnp.zeros(drive.shape[1:], drive.dtype)

    def step(carry, d_t):
        new = integrator_update(lif, carry[0], carry[1], d_t)
        return new, (new[1] if after else carry[1])

    return lax.scan(step, (zero, jnp.full_like(zero, u0)), drive)[1]


def _layer_scan(drive, lif, spike, key_l, rec, delay=0, axis=0):
    """One population over time: returns (spikes, membranes) in the layout of ``drive`` (time
    on ``axis``). ``drive`` already carries the feedforward delay; with ``delay`` the
    recurrent term uses S[t-1]."""
    n_steps = drive.shape[axis]
    b, n = drive.shape[1 - axis], drive.shape[2]
    zero = jnp.zeros((b, n), drive.dtype)
    keep = bool(delay) and rec is not None  # carry S[t-1] for the delayed recurrent term

    def step(carry, d_t, t):
        i_syn, u = carry[:2]
        uni = None if key_l is None else jax.random.uniform(jax.random.fold_in(key_l, t), u.shape, u.dtype)
        s = spike(u - lif.theta, uni)
        cur = d_t if rec is None else d_t + rec(carry[2] if keep else s)
        return lif_update(lif, i_syn, u, cur, s) + ((s,) if keep else ()), (s, u)

    init = (zero, zero, zero) if keep else (zero, zero)
    _, (s, u) = _scan_time(step, init, drive, n_steps, axis)
    return s, u


RECURSION_BACKENDS = ("numba", "xla")
RECURSION_ENV = "SGTHEORY_RECURSION_BACKEND"


@cache
def _kernels():
    """:mod:`analysis.snn._lif_numba`, or None when numba is not importable."""
    try:
        from analysis.snn import _lif_numba
    except ImportError:
        return None
    return _lif_numba


def recursion_backend(dtype=jnp.float32) -> str:
    """Which code runs the time recursion of a LIF layer without recurrence for arrays of
    ``dtype``: ``"numba"`` (the kernels of :mod:`analysis.snn._lif_numba`, called through
    :func:`jax.experimental.buffer_callback.buffer_callback` on XLA's own buffers) when numba
    is installed, JAX has ``buffer_callback``, the default JAX backend is the CPU and
    ``dtype`` is float32 or float64; ``"xla"`` (a ``lax`` loop, e.g. on a GPU) otherwise.

    The environment variable ``SGTHEORY_RECURSION_BACKEND=xla`` forces the ``lax`` loop (it
    is read when a function is traced). Derivatives of a gradient (``jax.grad`` of
    ``jax.grad``, Hessian-vector products) differentiate the ``lax`` versions of the kernels
    (:func:`_jvp_by`), so they work with either backend. A program that holds the kernels
    cannot be serialised by ``jax.export`` (host callbacks are not exportable): trace it
    with ``SGTHEORY_RECURSION_BACKEND=xla`` for that.
    """
    forced = os.environ.get(RECURSION_ENV, "").strip().lower()
    if forced not in ("", "auto", *RECURSION_BACKENDS):
        raise ValueError(f"{RECURSION_ENV} must be one of auto, numba, xla; got {forced!r}")
    if forced == "xla" or buffer_callback is None or _kernels() is None or jax.default_backend() != "cpu":
        return "xla"
    return "numba" if jnp.dtype(dtype) in (jnp.float32, jnp.float64) else "xla"


def _each_lead(fn, ins, outs):
    """``fn(*ins, *outs)`` on the trailing three axes for every index of the leading axes of
    ``outs`` (axes added by ``vmap``; size-1 leading axes of unbatched inputs broadcast)."""
    lead = outs[0].shape[:-3]
    ins = [np.broadcast_to(a, lead + a.shape[-3:]) for a in ins]
    for ix in np.ndindex(*lead):
        fn(*(a[ix] for a in ins), *(o[ix] for o in outs))


def _host_forward(c, time_major, whole, ctx, out, d):
    fwd = lambda d, s, u: _kernels().lif_forward(d, c, time_major, whole, s, u)
    _each_lead(fwd, [np.asarray(d)], [np.asarray(out[0]), np.asarray(out[1])])


def _host_adjoint(c, time_major, from_u, whole, ctx, out, e, m):
    adj = lambda e, m, o: _kernels().lif_adjoint(e, m, c, time_major, from_u, whole, o)
    _each_lead(adj, [np.asarray(e), np.asarray(m)], [np.asarray(out)])


def _jvp_by(xla_fn, numba_fn):
    """``numba_fn`` with the derivative of ``xla_fn``, the same function written with ``lax``:
    buffer callbacks have no JVP, so derivatives of a gradient (Hessian-vector products)
    differentiate the ``lax`` version while the values still come from the kernels."""
    f = jax.custom_jvp(numba_fn)

    @f.defjvp
    def _jvp(primals, tangents):
        return numba_fn(*primals), jax.jvp(xla_fn, primals, tangents)[1]

    return f


def _numba_forward(drive, lif, method, output, axis):
    """(S, U) of a deterministic layer by :func:`analysis.snn._lif_numba.lif_forward`."""
    c = _kernels().constants(lif, drive.dtype)
    host = partial(_host_forward, c, axis == 0, lif.reset_scope == "update")
    spec = jax.ShapeDtypeStruct(drive.shape, drive.dtype)
    kernel = lambda d: buffer_callback(host, (spec, spec), vmap_method="expand_dims")(d)
    scan = lambda d: _layer_scan(d, lif, method.spike_fn(output), None, None, axis=axis)
    return _jvp_by(scan, kernel)(drive)


def _xla_adjoint(e, m, lif, axis, from_u, threshold):
    """:func:`analysis.snn._lif_numba.lif_adjoint` as a ``lax`` loop (for derivatives)."""
    lm, ls = lif.lambda_mem, lif.lambda_syn
    whole = lif.reset_scope == "update"

    def step(carry, xs, t):
        a_i, a_u = carry
        e_t, m_t = xs
        k = jnp.where(m_t - threshold <= 0, lm, 0.0).astype(e_t.dtype) if from_u else m_t
        r = (k != 0).astype(e_t.dtype) if whole else 1
        return (ls * a_i + (1 - lm) * (r * a_u), e_t + k * a_u), a_i

    zero = jnp.zeros((e.shape[1 - axis], e.shape[2]), e.dtype)
    return _scan_time(step, (zero, zero), (e, m), e.shape[axis], axis, reverse=True)[1]


def _numba_adjoint(e, m, lif, axis, from_u, threshold):
    """dL/d(drive) by :func:`analysis.snn._lif_numba.lif_adjoint`; ``threshold`` replaces
    theta in the test U - theta <= 0 that gives k (0.5 when ``m`` holds spikes)."""
    c = _kernels().constants(lif, e.dtype)
    c[3] = threshold
    host = partial(_host_adjoint, c, axis == 0, from_u, lif.reset_scope == "update")
    spec = jax.ShapeDtypeStruct(e.shape, e.dtype)
    kernel = lambda e, m: buffer_callback(host, spec, vmap_method="expand_dims")(e, m)
    lax_version = partial(_xla_adjoint, lif=lif, axis=axis, from_u=from_u, threshold=threshold)
    return _jvp_by(lax_version, kernel)(e, m)


@partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5, 6, 7))
def _lif_layer(drive, key_data, lif, method, output, with_u, axis=0, backend=None):
    """Spikes (and potentials if ``with_u``) of a LIF layer without recurrence, in the
    layout of ``drive`` (time on ``axis``); ``backend`` None = :func:`recursion_backend`."""
    return _lif_layer_fwd(drive, key_data, lif, method, output, with_u, axis, backend)[0]


def _lif_layer_fwd(drive, key_data, lif, method, output, with_u, axis=0, backend=None):
    backend = backend or recursion_backend(drive.dtype)
    if backend == "numba" and key_data is None and method.name == "deterministic":
        s, u = _numba_forward(drive, lif, method, output, axis)
    else:
        key = None if key_data is None else jax.random.wrap_key_data(key_data)
        s, u = _layer_scan(drive, lif, method.spike_fn(output), key, None, axis=axis)
    # deterministic spikes are recomputed from U in the backward pass (one array less to read)
    return ((s, u) if with_u else s), ((u,) if method.name == "deterministic" else (s, u))


def _lif_layer_bwd(lif, method, output, with_u, axis, backend, res, g):
    u = res[-1]
    g_s, g_u = g if with_u else (g, None)
    dsdz = method.spike_derivative(output)
    lm, ls, theta = lif.lambda_mem, lif.lambda_syn, lif.theta
    differentiable = lif.reset == "differentiable"
    whole = lif.reset_scope == "update"  # (detached only: _spiking_layer)
    recompute = len(res) == 1

    if (backend or recursion_backend(u.dtype)) == "numba":
        # the elementwise terms with XLA (any derivative rule), the recursion in one kernel
        z = u - theta
        s = (z > 0).astype(z.dtype) if recompute else res[0]
        psi = dsdz(z, s)
        e = g_s * psi if g_u is None else g_s * psi + g_u
        if differentiable:  # a_S = g_S - lambda_mem U a_U folded into k
            return _numba_adjoint(e, lm * ((1 - s) - u * psi), lif, axis, False, theta), None
        if recompute:
            return _numba_adjoint(e, u, lif, axis, True, theta), None
        return _numba_adjoint(e, s, lif, axis, True, 0.5), None

    def step(carry, xs, t):
        a_i, a_u = carry  # adjoints of I[t+1], U[t+1]
        u_t, gs_t, gu_t, s_t = xs
        z = u_t - theta
        if recompute:
            s_t = (z > 0).astype(z.dtype)  # = Theta(z) of the forward pass, bit for bit
        a_s = gs_t - lm * u_t * a_u if differentiable else gs_t
        a_u_t = a_s * dsdz(z, s_t) + lm * (1 - s_t) * a_u
        if gu_t is not None:
            a_u_t = a_u_t + gu_t
        a_i_t = ls * a_i + (1 - lm) * ((1 - s_t) * a_u if whole else a_u)
        return (a_i_t, a_u_t), a_i

    zero = jnp.zeros((u.shape[1 - axis], u.shape[2]), u.dtype)
    xs = (u, g_s, g_u, None if recompute else res[0])
    _, d_drive = _scan_time(step, (zero, zero), xs, u.shape[axis], axis, reverse=True)
    return d_drive, None


_lif_layer.defvjp(_lif_layer_fwd, _lif_layer_bwd)


def _autodiff_scan(lif, rec) -> bool:
    """Whether a layer's backward pass is autodiff of its scan (not the hand-written one)."""
    return rec is not None or (lif.reset_scope == "update" and lif.reset == "differentiable")


def _spiking_layer(drive, lif, method, output, key_l, rec, with_u, delay=0, axis=0):
    """(spikes, potentials or None): hand-written backward without recurrence (autodiff of
    the scan with recurrence, or a differentiable reset of the whole update)."""
    if _autodiff_scan(lif, rec):
        return _layer_scan(drive, lif, method.spike_fn(output), key_l, rec, delay, axis)
    kd = None if key_l is None else jax.random.key_data(key_l)
    out = _lif_layer(drive, kd, lif, method, output, with_u, axis)
    return out if with_u else (out, None)


def time_axis(cfg) -> int:
    """The layout :func:`layerwise` runs ``cfg`` in: 1 (batch-major) unless a layer's
    backward pass is autodiff of its scan, then 0 (time-major)."""
    if cfg.recurrent:
        return 0
    lifs = (cfg.lif, cfg.out_lif) if cfg.readout == "lif" else (cfg.lif,)
    return 0 if any(_autodiff_scan(lif, None) for lif in lifs) else 1


def layerwise(params, x, cfg, method, keys, record, axis=0):
    """ys (spikes, membranes, output, output membrane) like ``_time_loop``, in the layout of
    ``x`` (time on ``axis``: 0 time-major, 1 batch-major, see :func:`time_axis`)."""

    with_u = record == "all"
    if cfg.delay:
        drive_of = lambda l, w, s: _delayed(_drive(cfg, l, w, s), axis)
    else:
        drive_of = partial(_drive, cfg)
    s_prev, spikes, mems = x, [], []
    for l, layer in enumerate(params["hidden"]):
        rec = partial(rec_current, cfg, l, layer.get("v")) if cfg.recurrent else None
        key_l = None if keys is None else keys[l]
        s_prev, u = _spiking_layer(
            drive_of(l, layer["w"], s_prev), cfg.lif, method, False, key_l, rec, with_u, cfg.delay, axis
        )
        spikes.append(s_prev)
        mems.append(u)
    n_h = len(cfg.hidden)
    drive = drive_of(n_h, params["readout"]["w"], s_prev)
    if cfg.readout == "lif":
        key_o = None if keys is None else keys[n_h]
        out, u_o = _spiking_layer(drive, cfg.out_lif, method, True, key_o, None, with_u, 0, axis)
    else:  # autodiff of a time-major scan (a linear recursion: no residuals per step)
        tm = (lambda a: jnp.swapaxes(a, 0, 1)) if axis else (lambda a: a)
        u_o = tm(_integrator_scan(tm(drive), cfg.out_lif, cfg.readout_u0, cfg.readout_value == "after"))
        out = u_o
    return (
        tuple(spikes) if record != "output" else (),
        tuple(mems) if record == "all" else (),
        out,
        u_o if record == "all" else (),
    )
