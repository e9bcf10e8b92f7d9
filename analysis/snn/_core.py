"""The time loop behind :func:`analysis.snn._network.simulate` (private).

State: per hidden layer (I, U), and (I, U) of the readout. One scan step advances every
layer by one bin (equations in :mod:`analysis.snn._lif`). With ``cfg.checkpoint`` the scan is
blocked: an outer scan over blocks of ``checkpoint_block`` steps whose body (an inner
scan) is wrapped in ``jax.checkpoint``, so the backward pass stores only the state at
block boundaries and recomputes each block (memory ~ T/k + k states instead of T).
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

from analysis.snn._lif import integrator_update, lif_update


_STRATEGY = "layerwise"  # or "hoisted" (all layers in one scan, weight gradients outside)
_HOIST_FIRST = True  # first layer drive x W0 as one matmul outside the scan


def _conv(s, w, stride, length, padding):
    b = s.shape[0]
    x = s.reshape(b, length, w.shape[1])
    y = lax.conv_general_dilated(x, w, (stride,), padding, dimension_numbers=("NWC", "WIO", "NWC"))
    return y.reshape(b, -1)


def _ff_current(cfg, l, w, s_in):
    """W S_in for layer l (l = len(hidden) is the dense readout)."""
    if cfg.connectivity == "conv1d" and l < len(cfg.hidden):
        return _conv(s_in, w, cfg.stride[l], cfg.lengths[l], "VALID")
    if cfg.event_driven:
        from analysis.snn._event import event_matmul

        return event_matmul(s_in, w, cfg.max_active)
    return s_in @ w


def _rec_current(cfg, l, v, s):
    if cfg.connectivity == "conv1d":
        return _conv(s, v, 1, cfg.lengths[l + 1], "SAME")
    return s @ v


def _uniforms(keys, l, t, shape, dtype):
    if keys is None:
        return None
    return jax.random.uniform(jax.random.fold_in(keys[l], t), shape, dtype)


def _make_step(params, cfg, method, keys, record, pre0=False):
    hidden_spike, out_spike = method.spike_fn(False), method.spike_fn(True)
    n_hidden = len(cfg.hidden)

    def step(carry, xs):
        x_t, t, probes = xs
        s_prev, new_carry, spikes, mems = x_t, [], [], []
        for l, (layer, (i_syn, u)) in enumerate(zip(params["hidden"], carry[:-1])):
            s = hidden_spike(u - cfg.lif.theta, _uniforms(keys, l, t, u.shape, u.dtype))
            cur = s_prev if (pre0 and l == 0) else _ff_current(cfg, l, layer["w"], s_prev)
            if cfg.recurrent:
                cur = cur + _rec_current(cfg, l, layer["v"], s)
            if probes:
                cur = cur + probes[l]
            new_carry.append(lif_update(cfg.lif, i_syn, u, cur, s))
            spikes.append(s)
            mems.append(u)
            s_prev = s
        i_o, u_o = carry[-1]
        cur = _ff_current(cfg, n_hidden, params["readout"]["w"], s_prev)
        if probes:
            cur = cur + probes[-1]
        if cfg.readout == "lif":
            s_o = out_spike(u_o - cfg.out_lif.theta, _uniforms(keys, n_hidden, t, u_o.shape, u_o.dtype))
            new_carry.append(lif_update(cfg.out_lif, i_o, u_o, cur, s_o))
            out = s_o
        else:
            new_carry.append(integrator_update(cfg.out_lif, i_o, u_o, cur))
            out = u_o
        ys = (tuple(spikes) if record != "output" else (), tuple(mems) if record == "all" else (),
              out, u_o if record == "all" else ())
        return tuple(new_carry), ys

    return step


def _blocked_scan(step, carry, xs, n_steps, block):
    """Scan in blocks of ``block`` steps with a rematerialised block body; pads the tail."""
    n_blocks = math.ceil(n_steps / block)
    pad = n_blocks * block - n_steps
    xs_b = jax.tree_util.tree_map(
        lambda a: jnp.pad(a, ((0, pad),) + ((0, 0),) * (a.ndim - 1)).reshape((n_blocks, block) + a.shape[1:]), xs)

    @jax.checkpoint
    def block_body(c, xb):
        return lax.scan(step, c, xb)

    carry, ys = lax.scan(block_body, carry, xs_b)
    ys = jax.tree_util.tree_map(lambda y: y.reshape((n_blocks * block,) + y.shape[2:])[:n_steps], ys)
    return carry, ys


def _time_loop(params, x_tm, cfg, method, keys, record, probes, pre0=False):
    """Scan over time; x_tm [T, B, n_in] (or, with ``pre0``, the first layer's synaptic
    drive x W0 [T, B, N_1], computed outside as one large matmul); returns the
    time-major ys of the step."""
    n_steps, b = x_tm.shape[:2]
    sizes = cfg.layer_sizes + (cfg.n_out,)
    carry = tuple((jnp.zeros((b, n), x_tm.dtype), jnp.zeros((b, n), x_tm.dtype)) for n in sizes)
    step = _make_step(params, cfg, method, keys, record, pre0)
    xs = (x_tm, jnp.arange(n_steps, dtype=jnp.int32), probes)
    if cfg.checkpoint:
        block = cfg.checkpoint_block or max(1, math.isqrt(n_steps))
        return _blocked_scan(step, carry, xs, n_steps, block)[1]
    return lax.scan(step, carry, xs)[1]


@partial(jax.custom_vjp, nondiff_argnums=(3, 4, 5))
def _hoisted(params, x_tm, key_data, cfg, method, record):
    """Dense networks: the time loop whose weight gradients are formed outside the scan.

    Used without checkpointing (it stores the current cotangents of every bin, which is
    what checkpointing avoids).

    Inside the backward scan only the per-bin current cotangents delta_l[t] = dL/dI_l[t+1]
    are computed (by autodiff of the step, through zero "probe" currents added to every
    layer's drive); then dW_l = sum_t S_{l-1}[t]^T delta_l[t] and dV_l = sum_t S_l[t]^T
    delta_l[t] are single large matmuls over all (batch, time) rows, since W S_{l-1}[t]
    (+ V S_l[t]) enters the recursion only through that current.
    """
    keys = None if key_data is None else jax.random.wrap_key_data(key_data)
    return _time_loop(params, x_tm, cfg, method, keys, record, ())


def _hoisted_fwd(params, x_tm, key_data, cfg, method, record):
    keys = None if key_data is None else jax.random.wrap_key_data(key_data)
    n_steps, b = x_tm.shape[:2]
    sizes = cfg.layer_sizes + (cfg.n_out,)
    probes = tuple(jnp.zeros((n_steps, b, n), x_tm.dtype) for n in sizes)
    inner = "all" if record == "all" else "spikes"
    pre0 = bool(cfg.hidden) and _HOIST_FIRST
    drive = jnp.einsum("tbi,ij->tbj", x_tm, params["hidden"][0]["w"].astype(x_tm.dtype)) if pre0 else x_tm

    def f(pr):
        ys = _time_loop(params, drive, cfg, method, keys, inner, pr, pre0)
        return ys, ys[0]

    ys, vjp_fn, spikes = jax.vjp(f, probes, has_aux=True)
    return ys, (vjp_fn, spikes, x_tm, params)


def _hoisted_bwd(cfg, method, record, res, g):
    vjp_fn, spikes, x_tm, params = res
    (deltas,) = vjp_fn(g)
    pre = (x_tm,) + tuple(spikes)
    outer = lambda a, d, w: jnp.einsum("tbi,tbj->ij", a, d).astype(w.dtype)  # noqa: E731
    hidden = []
    for l, layer in enumerate(params["hidden"]):
        grad = {"w": outer(pre[l], deltas[l], layer["w"])}
        if "v" in layer:
            grad["v"] = outer(spikes[l], deltas[l], layer["v"])
        hidden.append(grad)
    w_o = params["readout"]["w"]
    grads = {"hidden": hidden, "readout": {"w": outer(pre[-1], deltas[-1], w_o)}}
    dx = jnp.einsum("tbj,ij->tbi", deltas[0], params["hidden"][0]["w"] if params["hidden"] else w_o)
    return grads, dx.astype(x_tm.dtype), None


_hoisted.defvjp(_hoisted_fwd, _hoisted_bwd)


def run(params, inputs, cfg, method, key, record):
    """Simulate; returns :class:`analysis.snn._network.SimResult` (see there for shapes)."""
    from analysis.snn._network import SimResult

    dtype = inputs.dtype if jnp.issubdtype(inputs.dtype, jnp.floating) else jnp.float32
    x_tm = jnp.swapaxes(inputs.astype(dtype), 0, 1)
    keys = jax.random.split(key, len(cfg.hidden) + 1) if method.stochastic else None
    if _STRATEGY == "layerwise" and not cfg.checkpoint:
        from analysis.snn._layerwise import layerwise

        ys = layerwise(params, x_tm, cfg, method, keys, record)
    elif cfg.connectivity == "dense" and not (cfg.event_driven or cfg.checkpoint):
        kd = None if keys is None else jax.random.key_data(keys)
        ys = _hoisted(params, x_tm, kd, cfg, method, record)
    else:
        ys = _time_loop(params, x_tm, cfg, method, keys, record, ())
    bt = lambda y: jnp.swapaxes(y, 0, 1)  # noqa: E731
    spikes, mems, out, u_o = ys
    return SimResult(
        spikes=tuple(bt(s) for s in spikes) if record != "output" else (),
        membranes=tuple(bt(m) for m in mems) if record == "all" else None,
        output=bt(out),
        output_membrane=bt(u_o) if record == "all" else None,
    )
