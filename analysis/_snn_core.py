"""The time loop behind :func:`analysis.snn.simulate` (private).

State: per hidden layer (I, U), and (I, U) of the readout. One scan step advances every
layer by one bin (equations in :mod:`analysis.lif`). With ``cfg.checkpoint`` the scan is
blocked: an outer scan over blocks of ``checkpoint_block`` steps whose body (an inner
scan) is wrapped in ``jax.checkpoint``, so the backward pass stores only the state at
block boundaries and recomputes each block (memory ~ T/k + k states instead of T).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from analysis.lif import integrator_update, lif_update


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
        from analysis.event import event_matmul

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


def _make_step(params, cfg, method, keys, record):
    hidden_spike, out_spike = method.spike_fn(False), method.spike_fn(True)
    n_hidden = len(cfg.hidden)

    def step(carry, xs):
        x_t, t = xs
        s_prev, new_carry, spikes, mems = x_t, [], [], []
        for l, (layer, (i_syn, u)) in enumerate(zip(params["hidden"], carry[:-1])):
            s = hidden_spike(u - cfg.lif.theta, _uniforms(keys, l, t, u.shape, u.dtype))
            cur = _ff_current(cfg, l, layer["w"], s_prev)
            if cfg.recurrent:
                cur = cur + _rec_current(cfg, l, layer["v"], s)
            new_carry.append(lif_update(cfg.lif, i_syn, u, cur, s))
            spikes.append(s)
            mems.append(u)
            s_prev = s
        i_o, u_o = carry[-1]
        cur = _ff_current(cfg, n_hidden, params["readout"]["w"], s_prev)
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
    x, t = xs
    x = jnp.pad(x, ((0, pad),) + ((0, 0),) * (x.ndim - 1))
    t = jnp.arange(n_blocks * block, dtype=t.dtype)
    xs_b = (x.reshape((n_blocks, block) + x.shape[1:]), t.reshape(n_blocks, block))

    @jax.checkpoint
    def block_body(c, xb):
        return lax.scan(step, c, xb)

    carry, ys = lax.scan(block_body, carry, xs_b)
    ys = jax.tree_util.tree_map(lambda y: y.reshape((n_blocks * block,) + y.shape[2:])[:n_steps], ys)
    return carry, ys


def run(params, inputs, cfg, method, key, record):
    """Simulate; returns :class:`analysis.snn.SimResult` (see there for shapes)."""
    from analysis.snn import SimResult

    b, n_steps, _ = inputs.shape
    dtype = inputs.dtype if jnp.issubdtype(inputs.dtype, jnp.floating) else jnp.float32
    inputs = inputs.astype(dtype)
    keys = jax.random.split(key, len(cfg.hidden) + 1) if method.stochastic else None
    sizes = cfg.layer_sizes + (cfg.n_out,)
    carry = tuple((jnp.zeros((b, n), dtype), jnp.zeros((b, n), dtype)) for n in sizes)
    step = _make_step(params, cfg, method, keys, record)
    xs = (jnp.swapaxes(inputs, 0, 1), jnp.arange(n_steps, dtype=jnp.int32))
    if cfg.checkpoint:
        block = cfg.checkpoint_block or max(1, math.isqrt(n_steps))
        _, ys = _blocked_scan(step, carry, xs, n_steps, block)
    else:
        _, ys = lax.scan(step, carry, xs)
    bt = lambda y: jnp.swapaxes(y, 0, 1)  # noqa: E731
    spikes, mems, out, u_o = ys
    return SimResult(
        spikes=tuple(bt(s) for s in spikes),
        membranes=tuple(bt(m) for m in mems) if record == "all" else None,
        output=bt(out),
        output_membrane=bt(u_o) if record == "all" else None,
    )
