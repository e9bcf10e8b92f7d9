"""The time loop behind :func:`analysis.snn.simulate` (private).

State: per hidden layer (I, U), and (I, U) of the readout. One scan step advances every
layer by one bin (equations in :mod:`analysis.snn._lif`):

    S_l[t]   = spike(U_l[t] - theta)
    I_l[t+1] = lambda_syn I_l[t] + W_l S_{l-1}[t - D] (+ V_l S_l[t - D])
    U_l[t+1] = lambda_mem U_l[t] (1 - S_l[t]) + (1 - lambda_mem) I_l[t]   (reset_scope="leak")

with S_{-1} = x the input, D = ``cfg.delay`` and S[-1] = x[-1] = 0; with D = 1 the carry also
holds the previous step's input and spikes. The readout (I_o, U_o) starts at U_o[0] =
``cfg.readout_u0`` and is driven by the last hidden layer in the same way; its output at t is
U_o[t] (``readout_value="before"``) or U_o[t+1] (``"after"``). With ``cfg.checkpoint`` the scan is
blocked: an outer scan over blocks of ``checkpoint_block`` steps whose body (an inner
scan) is wrapped in ``jax.checkpoint``, so the backward pass stores only the state at
block boundaries and recomputes each block (memory ~ T/k + k states instead of T).

With a spike ``source`` (the spike sources of :mod:`analysis.stochastic`), the spike of
hidden layer l at step t is ``source.bernoulli(f"layer{l}", f(z), t, z=z, surrogate=psi)``
with z = U[t] - theta (site ``"readout"`` for a LIF readout), f the method's escape noise and
psi its surrogate (None: matched), p and s of shape [B, N]; the method's own spike rule and
uniforms are not used.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from analysis.snn._currents import ff_current, rec_current
from analysis.snn._lif import integrator_update, lif_update


def _uniforms(keys, l, t, shape, dtype):
    if keys is None:
        return None
    return jax.random.uniform(jax.random.fold_in(keys[l], t), shape, dtype)


def _source_spike(source, site, noise, surrogate, z, t):
    """The source's draw s = source.bernoulli(site, f(z), t, z=z, surrogate=psi) (z = U - theta,
    [B, N]; psi the method's surrogate, None = matched)."""
    return source.bernoulli(site, noise.prob(z), t, z=z, surrogate=surrogate)


def _make_step(params, cfg, method, keys, record, source=None):
    hidden_spike, out_spike = method.spike_fn(False), method.spike_fn(True)
    n_hidden = len(cfg.hidden)
    if source is not None:
        hn, on, psi = method.hidden_noise, method.output_noise, method.surrogate
        hidden_spike = lambda z, u, l, t: _source_spike(source, f"layer{l}", hn, psi, z, t)
        out_spike = lambda z, u, t: _source_spike(source, "readout", on, psi, z, t)
    else:
        h_rule, o_rule = hidden_spike, out_spike
        hidden_spike = lambda z, u, l, t: h_rule(z, u)
        out_spike = lambda z, u, t: o_rule(z, u)

    def step(carry, xs):
        # carry: ((I, U) per hidden layer, (I_o, U_o)[, previous (x, S_0, .., S_{L-1})])
        x_t, t = xs
        states, delayed = (carry[:-1], carry[-1]) if cfg.delay else (carry, None)
        s_prev, new_carry, spikes, mems = x_t, [], [], []
        for l, (layer, (i_syn, u)) in enumerate(zip(params["hidden"], states[:-1], strict=True)):
            s = hidden_spike(u - cfg.lif.theta, _uniforms(keys, l, t, u.shape, u.dtype), l, t)
            cur = ff_current(cfg, l, layer["w"], s_prev if delayed is None else delayed[l])
            if cfg.recurrent:
                cur = cur + rec_current(cfg, l, layer["v"], s if delayed is None else delayed[l + 1])
            new_carry.append(lif_update(cfg.lif, i_syn, u, cur, s))
            spikes.append(s)
            mems.append(u)
            s_prev = s
        i_o, u_o = states[-1]
        s_last = s_prev if delayed is None else delayed[n_hidden]
        cur = ff_current(cfg, n_hidden, params["readout"]["w"], s_last)
        if cfg.readout == "lif":
            s_o = out_spike(u_o - cfg.out_lif.theta, _uniforms(keys, n_hidden, t, u_o.shape, u_o.dtype), t)
            new_carry.append(lif_update(cfg.out_lif, i_o, u_o, cur, s_o))
            out = s_o
        else:
            new_carry.append(integrator_update(cfg.out_lif, i_o, u_o, cur))
            out = new_carry[-1][1] if cfg.readout_value == "after" else u_o
            u_o = out
        if delayed is not None:
            new_carry.append((x_t, *spikes))
        ys = (
            tuple(spikes) if record != "output" else (),
            tuple(mems) if record == "all" else (),
            out,
            u_o if record == "all" else (),
        )
        return tuple(new_carry), ys

    return step


def _blocked_scan(step, carry, xs, n_steps, block):
    """Scan in blocks of ``block`` steps with a rematerialised block body; pads the tail."""
    n_blocks = math.ceil(n_steps / block)
    pad = n_blocks * block - n_steps
    xs_b = jax.tree_util.tree_map(
        lambda a: jnp.pad(a, ((0, pad),) + ((0, 0),) * (a.ndim - 1)).reshape((n_blocks, block) + a.shape[1:]),
        xs,
    )

    @jax.checkpoint
    def block_body(c, xb):
        return lax.scan(step, c, xb)

    carry, ys = lax.scan(block_body, carry, xs_b)
    ys = jax.tree_util.tree_map(lambda y: y.reshape((n_blocks * block,) + y.shape[2:])[:n_steps], ys)
    return carry, ys


def time_loop(params, x_tm, cfg, method, keys, record, source=None):
    """Scan over time with all layers in one step; x_tm [T, B, n_in]; returns the
    time-major outputs (spikes, membranes, readout, readout membrane) of the step.

    With a ``source`` the scan is never blocked (the padded steps of a blocked scan would
    draw again at index 0)."""
    n_steps, b = x_tm.shape[:2]
    zeros = lambda n: jnp.zeros((b, n), x_tm.dtype)
    states = [(zeros(n), zeros(n)) for n in cfg.layer_sizes]
    states.append((zeros(cfg.n_out), jnp.full((b, cfg.n_out), cfg.readout_u0, x_tm.dtype)))
    delayed = [tuple(zeros(n) for n in (cfg.n_in,) + cfg.layer_sizes)] if cfg.delay else []
    carry = tuple(states + delayed)
    step = _make_step(params, cfg, method, keys, record, source)
    xs = (x_tm, jnp.arange(n_steps, dtype=jnp.int32))
    if cfg.checkpoint and source is None:
        block = cfg.checkpoint_block or max(1, math.isqrt(n_steps))
        return _blocked_scan(step, carry, xs, n_steps, block)[1]
    return lax.scan(step, carry, xs)[1]
