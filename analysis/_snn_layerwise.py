"""Layer-by-layer evaluation of :func:`analysis.snn.simulate` (private).

Same equations and the same random numbers as the all-layers time loop of
:mod:`analysis._snn_core`, computed one layer at a time: the feedforward drive
W S_{l-1}[t] of all bins is one large matmul (or conv) over the [T * B] rows, and the
time recursion of each layer is a scan with elementwise work only (plus the recurrent
V S_l[t] when ``cfg.recurrent``). Plain autodiff then produces large matmuls for the
weight and input gradients too. It stores every layer's drive and spikes, so checkpointed
configurations use the all-layers loop instead.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from analysis.lif import integrator_update, lif_update


def _drive(cfg, l, w, s_tm):
    """W S for all bins at once; s_tm [T, B, n] -> [T, B, N_l]."""
    from analysis._snn_core import _ff_current

    t, b = s_tm.shape[:2]
    return _ff_current(cfg, l, w, s_tm.reshape(t * b, -1)).reshape(t, b, -1)


def _layer_scan(drive, lif, spike, key_l, rec, integrator=False):
    """One population over time: returns (spikes [T, B, N] or None, membranes [T, B, N])."""
    n_steps, b, n = drive.shape
    zero = jnp.zeros((b, n), drive.dtype)

    def step(carry, xs):
        i_syn, u = carry
        d_t, t = xs
        if integrator:
            return integrator_update(lif, i_syn, u, d_t), (u, u)
        uni = None if key_l is None else jax.random.uniform(jax.random.fold_in(key_l, t), u.shape, u.dtype)
        s = spike(u - lif.theta, uni)
        cur = d_t if rec is None else d_t + rec(s)
        return lif_update(lif, i_syn, u, cur, s), (s, u)

    _, (s, u) = lax.scan(step, (zero, zero), (drive, jnp.arange(n_steps, dtype=jnp.int32)))
    return (None if integrator else s), u


def layerwise(params, x_tm, cfg, method, keys, record):
    """Time-major ys (spikes, membranes, output, output membrane) like ``_time_loop``."""
    from analysis._snn_core import _rec_current

    hidden_spike, out_spike = method.spike_fn(False), method.spike_fn(True)
    s_prev, spikes, mems = x_tm, [], []
    for l, layer in enumerate(params["hidden"]):
        rec = (lambda s, l=l, v=layer.get("v"): _rec_current(cfg, l, v, s)) if cfg.recurrent else None
        key_l = None if keys is None else keys[l]
        s_prev, u = _layer_scan(_drive(cfg, l, layer["w"], s_prev), cfg.lif, hidden_spike, key_l, rec)
        spikes.append(s_prev)
        mems.append(u)
    n_h = len(cfg.hidden)
    drive = _drive(cfg, n_h, params["readout"]["w"], s_prev)
    if cfg.readout == "lif":
        out, u_o = _layer_scan(drive, cfg.out_lif, out_spike, None if keys is None else keys[n_h], None)
    else:
        _, u_o = _layer_scan(drive, cfg.out_lif, None, None, None, integrator=True)
        out = u_o
    return (tuple(spikes) if record != "output" else (), tuple(mems) if record == "all" else (),
            out, u_o if record == "all" else ())
