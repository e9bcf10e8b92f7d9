"""Independent NumPy reference for the continuous-time LIF network (tests only).

One sample, a plain Python event loop: between events every membrane is sampled on a grid
of 4001 points up to the next input (or t_max) with the closed-form solution, the first grid
interval where some V reaches theta is refined by scipy's brentq, the earliest such crossing
is the next event. It shares no code with analysis.eventprop (no critical-point bracket, no
Newton, no closed-form root); crossings that enter and leave [theta, inf) within one grid
interval are missed (none in the tested networks: their PSPs are 100x wider than a grid step).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq


def v_of(v0, i0, s, tm, ts):
    if tm == ts:
        g = (s / tm) * np.exp(-s / tm)
    else:
        g = ts / (ts - tm) * (np.exp(-s / ts) - np.exp(-s / tm))
    return v0 * np.exp(-s / tm) + i0 * g


def simulate_reference(params, input_times, cfg, t_max, grid=4001):
    """(spike times per spiking layer: list of lists of lists, readout max/final (or None))."""
    hidden = [{k: np.asarray(v, float) for k, v in h.items()} for h in params["hidden"]]
    w_ro = np.asarray(params["readout"]["w"], float)
    lif, out = cfg.lif, cfg.out_lif
    layers = [(h["w"], h.get("v"), lif) for h in hidden]
    if cfg.readout == "lif":
        layers.append((w_ro, None, out))
    sizes = [w.shape[1] for w, _, _ in layers]
    v = [np.zeros(n) for n in sizes]
    i = [np.zeros(n) for n in sizes]
    vo = np.full(cfg.n_out, cfg.readout_u0) if cfg.readout == "integrator" else None
    io = np.zeros(cfg.n_out)
    best = vo.copy() if vo is not None else None
    spikes = [[[] for _ in range(n)] for n in sizes]
    inputs = sorted(
        (float(t), u)
        for u in range(input_times.shape[0])
        for t in input_times[u]
        if math.isfinite(t) and t < t_max
    )
    t, p = 0.0, 0
    while True:
        horizon = (inputs[p][0] if p < len(inputs) else t_max) - t
        s_grid = np.linspace(0.0, horizon, grid)
        first = (horizon, None)
        for l, (_, _, prm) in enumerate(layers):
            for n in range(sizes[l]):
                vv = v_of(v[l][n], i[l][n], s_grid, prm.tau_mem, prm.tau_syn)
                hit = np.nonzero(vv >= prm.theta)[0]
                if hit.size and hit[0] > 0:
                    a, b = s_grid[hit[0] - 1], s_grid[hit[0]]
                    v0, i0 = v[l][n], i[l][n]
                    f = lambda s, v0=v0, i0=i0, prm=prm: v_of(v0, i0, s, prm.tau_mem, prm.tau_syn) - prm.theta
                    s_star = brentq(f, a, b, xtol=1e-15, rtol=1e-15)
                    if s_star < first[0]:
                        first = (s_star, (l, n))
        gap, who = first
        if vo is not None:
            s_grid = np.linspace(0.0, gap, grid)[None, :]
            vv = v_of(vo[:, None], io[:, None], s_grid, out.tau_mem, out.tau_syn)
            best = np.maximum(best, vv.max(axis=1))
        for l, (_, _, prm) in enumerate(layers):
            v[l], i[l] = v_of(v[l], i[l], gap, prm.tau_mem, prm.tau_syn), i[l] * np.exp(-gap / prm.tau_syn)
        if vo is not None:
            vo, io = v_of(vo, io, gap, out.tau_mem, out.tau_syn), io * np.exp(-gap / out.tau_syn)
        t += gap
        if who is None and p >= len(inputs):
            break
        if who is None:
            u = inputs[p][1]
            p += 1
            if layers:
                i[0] = i[0] + layers[0][0][u]
            else:
                io = io + w_ro[u]
            continue
        l, n = who
        spikes[l][n].append(t)
        v[l][n] = 0.0
        if layers[l][1] is not None:
            i[l] = i[l] + layers[l][1][n]
        if l + 1 < len(layers):
            i[l + 1] = i[l + 1] + layers[l + 1][0][n]
        elif vo is not None:
            io = io + w_ro[n]
    return spikes, best, vo
