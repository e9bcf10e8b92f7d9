"""Exact event-driven simulation of a current-based LIF network in continuous time.

Model (every hidden layer, and a ``lif`` readout; ``analysis.snn``'s discrete network with
reset_scope="leak", delay=0 converges to it as dt -> 0):

    tau_syn dI/dt = -I,   I += W[i, j] at each spike of presynaptic unit i,
    tau_mem dV/dt = -V + I,   spike when V reaches theta from below, then V -> 0 (I kept).

An ``integrator`` readout is the same without threshold (V_o(0) = ``readout_u0``).

The simulation is a ``lax.scan`` over a fixed number of events per sample, n_in K +
max_spikes * (sum of spiking layer sizes) + 1: at each step every neuron's next threshold
crossing is computed from its state (:func:`analysis.eventprop._dynamics.crossing_time`),
the earliest of these and of the next input spike is the event, all states advance to it in
closed form and the event is applied (an input or a spike: reset, and jumps of the
postsynaptic currents). Steps after the last event before t_max advance to t_max and do
nothing (every step costs the same: one crossing time per neuron, closed form or 48 Newton
steps, so the cost grows with ``max_spikes``). A neuron spiking more than ``max_spikes``
times is an overflow: the counts keep the
true number, the flag ``overflow`` is set, and :func:`ct_simulate` raises outside ``jit``.

The readout's maximum over [0, t_max] is attained at t = 0, at an event (before its jump; V
is continuous), or at the critical point of the closed-form V_o between two events: all are
checked exactly. ``jax.grad`` through the scan differentiates the exact event times (the
order of events is fixed locally; the crossing times by the implicit function theorem).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from analysis import _validate
from analysis.eventprop import _dynamics as dyn
from analysis.snn import SNNConfig

# kinds of the readout maximum's location
AT_START, INTERIOR, AT_EVENT = 0, 1, 2


class CTResult(NamedTuple):
    """Output of :func:`ct_simulate` (batch first).

    spike_times : per spiking layer (hidden layers, then a ``lif`` readout) [B, N_l,
        max_spikes], sorted, +inf padded. counts : per layer int [B, N_l], the true numbers
        of spikes (> max_spikes on overflow). readout_max / readout_argmax / readout_final :
        [B, n_out] max over [0, t_max] of the integrator readout V_o, its time, V_o(t_max)
        (None for a ``lif`` readout). overflow : bool [B]. t_max : the simulated horizon.
    """

    spike_times: tuple
    counts: tuple
    readout_max: jax.Array | None
    readout_argmax: jax.Array | None
    readout_final: jax.Array | None
    overflow: jax.Array
    t_max: jax.Array


class _Layer(NamedTuple):
    size: int
    tau_mem: float
    tau_syn: float
    theta: float


def layers_of(cfg: SNNConfig) -> tuple[list[_Layer], _Layer | None]:
    """(spiking layers, integrator readout or None) of ``cfg``."""
    lif, out = cfg.lif, cfg.out_lif
    spiking = [_Layer(n, lif.tau_mem, lif.tau_syn, lif.theta) for n in cfg.hidden]
    ro = _Layer(cfg.n_out, out.tau_mem, out.tau_syn, out.theta)
    if cfg.readout == "lif":
        return spiking + [ro], None
    return spiking, ro


def weights_of(params: dict, cfg: SNNConfig):
    """(feedforward W into each spiking layer, recurrent V or None, W into the integrator or None)."""
    w = [h["w"] for h in params["hidden"]]
    rec = [h.get("v") if cfg.recurrent else None for h in params["hidden"]]
    if cfg.readout == "lif":
        return w + [params["readout"]["w"]], rec + [None], None
    return w, rec, params["readout"]["w"]


def check_config(cfg) -> None:
    if not isinstance(cfg, SNNConfig):
        raise TypeError(f"cfg must be an SNNConfig, got {type(cfg).__name__}")
    if cfg.connectivity != "dense":
        raise ValueError(f"cfg.connectivity must be 'dense' (event simulator), got {cfg.connectivity!r}")
    if cfg.delay != 0:
        raise ValueError(f"cfg.delay must be 0 for the event simulator, got {cfg.delay}")
    if cfg.readout_value != "before":
        raise ValueError("cfg.readout_value must be 'before' for the event simulator")
    for name, p in (("lif", cfg.lif), ("readout_lif", cfg.out_lif)):
        if p.reset_scope != "leak":
            raise ValueError(f"cfg.{name}.reset_scope must be 'leak' (reset to 0), got {p.reset_scope!r}")


def check_call(params, input_times, cfg, t_max, max_spikes):
    check_config(cfg)
    from analysis.snn._network import param_shapes

    expected = param_shapes(cfg)
    got = jax.tree_util.tree_map(lambda a: tuple(a.shape), params) if isinstance(params, dict) else None
    if got != expected:
        raise ValueError(f"params do not match cfg: expected shapes {expected}, got {got}")
    shape = getattr(input_times, "shape", None)
    if shape is None or len(shape) != 3 or shape[1] != cfg.n_in or shape[0] == 0:
        raise ValueError(f"input_times must have shape [batch, n_in={cfg.n_in}, K], got {shape}")
    if _validate.is_concrete(input_times):
        a = np.asarray(input_times)
        if np.isnan(a).any() or (a < 0).any():
            raise ValueError("input_times must be >= 0 (pad with +inf), got NaN or negative entries")
    max_spikes = _validate.positive_int(max_spikes, "max_spikes")
    if _validate.is_concrete(t_max):
        _validate.positive_scalar(t_max, "t_max")
    return max_spikes


def _sorted_inputs(input_times, t_max):
    b, n_in, k = input_times.shape
    flat = input_times.reshape(b, n_in * k)
    flat = jnp.where(flat < t_max, flat, jnp.inf)
    order = jnp.argsort(flat, axis=1)
    units = jnp.repeat(jnp.arange(n_in), k)
    return jnp.take_along_axis(flat, order, axis=1), units[order]


def _sample(params, in_t, in_u, cfg, t_max, max_spikes, record):
    """One sample. Returns (final carry, per-event records)."""
    layers, ro = layers_of(cfg)
    w, rec, w_ro = weights_of(params, cfg)
    dtype = in_t.dtype
    n_events = in_t.shape[0] + max_spikes * sum(L.size for L in layers) + 1
    offsets = np.cumsum([1] + [L.size for L in layers])
    n_p = in_t.shape[0]
    inf = jnp.asarray(jnp.inf, dtype)

    zeros = lambda n: jnp.zeros((n,), dtype)
    carry0 = {
        "t": jnp.zeros((), dtype),
        "p": jnp.zeros((), jnp.int32),
        "v": tuple(zeros(L.size) for L in layers),
        "i": tuple(zeros(L.size) for L in layers),
        "count": tuple(jnp.zeros((L.size,), jnp.int32) for L in layers),
        "times": tuple(jnp.full((L.size, max_spikes), inf) for L in layers),
    }
    if ro is not None:
        u0 = jnp.full((ro.size,), cfg.readout_u0, dtype)
        carry0.update(
            vo=u0,
            io=zeros(ro.size),
            best=u0,
            best_t=zeros(ro.size),
            best_step=jnp.full((ro.size,), -1, jnp.int32),
            best_kind=jnp.full((ro.size,), AT_START, jnp.int32),
        )

    def step(c, e):
        t, p = c["t"], c["p"]
        pi = jnp.minimum(p, n_p - 1)
        t_in = jnp.where(p < n_p, in_t[pi], inf)
        parts = [t_in[None]] + [
            t + dyn.crossing_time(v, i, L.tau_mem, L.tau_syn, L.theta)
            for v, i, L in zip(c["v"], c["i"], layers, strict=True)
        ]
        cand = jnp.concatenate(parts)
        k = jnp.argmin(cand)
        t_next = cand[k]
        real = t_next < t_max
        t_e = jnp.where(real, t_next, t_max)
        k = jnp.where(real, k, -1).astype(jnp.int32)
        gap = t_e - t
        vs, is_ = [], []
        for v, i, L in zip(c["v"], c["i"], layers, strict=True):
            v2, i2 = dyn.advance(v, i, gap, L.tau_mem, L.tau_syn)
            vs.append(v2)
            is_.append(i2)
        out = dict(c)
        rec_e: dict = {"t": t_e, "k": k}
        if ro is not None:
            vo, io = dyn.advance(c["vo"], c["io"], gap, ro.tau_mem, ro.tau_syn)
            s_c, ok = dyn.critical_point(c["vo"], c["io"], ro.tau_mem, ro.tau_syn)
            inner = ok & (s_c > 0) & (s_c < gap)
            v_c, _ = dyn.advance(c["vo"], c["io"], jnp.where(inner, s_c, 0.0), ro.tau_mem, ro.tau_syn)
            v_c = jnp.where(inner, v_c, -inf)
            best, best_t = c["best"], c["best_t"]
            b_step, b_kind = c["best_step"], c["best_kind"]
            up = v_c > best
            best, best_t = jnp.where(up, v_c, best), jnp.where(up, t + s_c, best_t)
            b_step, b_kind = jnp.where(up, e, b_step), jnp.where(up, INTERIOR, b_kind)
            up = vo > best
            best, best_t = jnp.where(up, vo, best), jnp.where(up, t_e, best_t)
            b_step, b_kind = jnp.where(up, e, b_step), jnp.where(up, AT_EVENT, b_kind)
            out.update(best=best, best_t=best_t, best_step=b_step, best_kind=b_kind)
            rec_e["vo_dot"] = (io - vo) / ro.tau_mem
        # apply the event
        is_input = k == 0
        u = in_u[pi]
        i_new = list(is_)
        if layers:
            hot = (jnp.arange(cfg.n_in) == u) & is_input
            i_new[0] = i_new[0] + hot.astype(dtype) @ w[0]
        elif ro is not None:
            pass
        i_pre = jnp.zeros((), dtype)
        slot = jnp.zeros((), jnp.int32)
        counts, times = list(c["count"]), list(c["times"])
        post_ro = jnp.zeros((ro.size,), dtype) if ro is not None else None
        for l, L in enumerate(layers):
            hot = jnp.arange(L.size) == (k - offsets[l])
            hotf = hot.astype(dtype)
            vs[l] = jnp.where(hot, 0.0, vs[l])
            i_pre = i_pre + hotf @ is_[l]
            slot = slot + jnp.sum(jnp.where(hot, counts[l], 0))
            mark = hot[:, None] & (jnp.arange(max_spikes)[None, :] == counts[l][:, None])
            times[l] = jnp.where(mark, t_e, times[l])
            counts[l] = counts[l] + hot.astype(jnp.int32)
            if rec[l] is not None:
                i_new[l] = i_new[l] + hotf @ rec[l]
            if l + 1 < len(layers):
                i_new[l + 1] = i_new[l + 1] + hotf @ w[l + 1]
            elif ro is not None:
                post_ro = post_ro + hotf @ w_ro
        if ro is not None:
            if not layers:
                hot = (jnp.arange(cfg.n_in) == u) & is_input
                post_ro = post_ro + hot.astype(dtype) @ w_ro
            out.update(vo=vo, io=io + post_ro)
        out.update(
            t=t_e,
            p=p + is_input.astype(jnp.int32),
            v=tuple(vs),
            i=tuple(i_new),
            count=tuple(counts),
            times=tuple(times),
        )
        rec_e.update(u=u, i_pre=i_pre, slot=slot)
        if record == "states":
            rec_e.update(v=tuple(vs), i=tuple(i_new))
            if ro is not None:
                rec_e.update(vo=out["vo"], io=out["io"])
        return out, (rec_e if record != "none" else None)

    return jax.lax.scan(step, carry0, jnp.arange(n_events, dtype=jnp.int32))


@partial(jax.jit, static_argnames=("cfg", "max_spikes", "record"))
def run(params, input_times, cfg, t_max, max_spikes, record="none"):
    """Batched simulation: (final carries, records), each with a leading batch axis."""
    dtype = jnp.result_type(*jax.tree_util.tree_leaves(params), input_times.dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.float32
    params = jax.tree_util.tree_map(lambda a: a.astype(dtype), params)
    t_max = jnp.asarray(t_max, dtype)
    in_t, in_u = _sorted_inputs(input_times.astype(dtype), t_max)
    fn = lambda a, b: _sample(params, a, b, cfg, t_max, max_spikes, record)
    return jax.vmap(fn)(in_t, in_u)


def result_of(carry, cfg, t_max, max_spikes) -> CTResult:
    counts = carry["count"]
    overflow = jnp.zeros(counts[0].shape[0] if counts else carry["vo"].shape[0], bool)
    for c in counts:
        overflow = overflow | jnp.any(c > max_spikes, axis=1)
    ro = cfg.readout == "integrator"
    return CTResult(
        spike_times=carry["times"],
        counts=counts,
        readout_max=carry["best"] if ro else None,
        readout_argmax=carry["best_t"] if ro else None,
        readout_final=carry["vo"] if ro else None,
        overflow=overflow,
        t_max=jnp.asarray(t_max),
    )


def raise_on_overflow(result: CTResult, cfg: SNNConfig, max_spikes: int) -> None:
    """ValueError naming the layer and its largest count, when concrete and overflowed."""
    for l, c in enumerate(result.counts):
        if not _validate.is_concrete(c):
            return
        worst = int(np.max(np.asarray(c), initial=0))
        if worst > max_spikes:
            name = "readout" if l == len(cfg.hidden) else f"hidden layer {l}"
            raise ValueError(
                f"max_spikes={max_spikes} overflowed: a neuron of the {name} spiked at least {worst} times "
                "in [0, t_max); raise max_spikes"
            )


def ct_simulate(
    params: dict, input_times: ArrayLike, cfg: SNNConfig, *, t_max: float, max_spikes: int
) -> CTResult:
    """Simulate the continuous-time LIF network of ``cfg`` exactly on [0, t_max].

    params : ``analysis.snn.init_params``'s pytree (dense; recurrent V if ``cfg.recurrent``).
    input_times : [B, n_in, K] input spike times (>= 0; +inf padding; times >= t_max are
    ignored). max_spikes : the most spikes a neuron may emit; more raise a ValueError naming
    the layer and count (outside ``jit``; inside, ``overflow`` is set). Differentiable by
    ``jax.grad`` through the exact spike times. Returns a :class:`CTResult`.
    """
    max_spikes = check_call(params, input_times, cfg, t_max, max_spikes)
    carry, _ = run(params, jnp.asarray(input_times), cfg, t_max, max_spikes)
    result = result_of(carry, cfg, t_max, max_spikes)
    raise_on_overflow(result, cfg, max_spikes)
    return result


def voltage_trace(
    params: dict, input_times: ArrayLike, cfg: SNNConfig, times: ArrayLike, *, max_spikes: int = 32
) -> tuple:
    """Membrane potentials of every layer at ``times`` (1-D, >= 0): a tuple over the hidden
    layers and the readout of [B, len(times), N_l]. At a spike time a neuron shows its reset
    value 0. Raises like :func:`ct_simulate` when a neuron spikes more than ``max_spikes``
    times before max(times)."""
    times = jnp.asarray(times)
    if times.ndim != 1 or times.shape[0] == 0:
        raise ValueError(f"times must be a non-empty 1-D array, got shape {times.shape}")
    t_max = float(np.max(np.asarray(times))) * (1 + 1e-12) + 1e-300
    max_spikes = check_call(params, input_times, cfg, t_max, max_spikes)
    carry, recs = run(params, jnp.asarray(input_times), cfg, t_max, max_spikes, record="states")
    raise_on_overflow(result_of(carry, cfg, t_max, max_spikes), cfg, max_spikes)
    layers, ro = layers_of(cfg)
    ev_t = recs["t"]  # [B, E], nondecreasing
    idx = jax.vmap(lambda a: jnp.searchsorted(a, times, side="right") - 1)(ev_t)  # [B, Q]
    gather = lambda a: jnp.take_along_axis(a, jnp.maximum(idx, 0)[..., None], axis=1)
    t_ev = jnp.where(idx >= 0, jnp.take_along_axis(ev_t, jnp.maximum(idx, 0), axis=1), 0.0)
    gap = (times[None, :] - t_ev)[..., None]
    out = []
    states = [(recs["v"][l], recs["i"][l], L) for l, L in enumerate(layers)]
    if ro is not None:
        states.append((recs["vo"], recs["io"], ro))
    for l, (v, i, L) in enumerate(states):
        v0 = jnp.where(idx[..., None] >= 0, gather(v), 0.0)
        if ro is not None and l == len(layers):
            v0 = jnp.where(idx[..., None] >= 0, v0, cfg.readout_u0)
        i0 = jnp.where(idx[..., None] >= 0, gather(i), 0.0)
        out.append(dyn.advance(v0, i0, gap, L.tau_mem, L.tau_syn)[0])
    return tuple(out)


def discretise_inputs(input_times: ArrayLike, dt: float, n_steps: int) -> jax.Array:
    """Spike counts [B, n_steps, n_in] of the bins [k dt, (k+1) dt) (for ``analysis.snn.simulate``).

    input_times : [B, n_in, K] (+inf padding); spikes at or after n_steps dt are dropped.
    """
    dt = _validate.positive_scalar(dt, "dt")
    n_steps = _validate.positive_int(n_steps, "n_steps")
    x = jnp.asarray(input_times)
    if x.ndim != 3:
        raise ValueError(f"input_times must have shape [batch, n_in, K], got {x.shape}")
    b, n_in, k = x.shape
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32
    bins = jnp.floor(jnp.where(jnp.isfinite(x), x, -1.0) / dt)
    ok = (bins >= 0) & (bins < n_steps)
    bins = jnp.where(ok, bins, 0).astype(jnp.int32)
    bi = jnp.broadcast_to(jnp.arange(b)[:, None, None], x.shape)
    ui = jnp.broadcast_to(jnp.arange(n_in)[None, :, None], x.shape)
    return jnp.zeros((b, n_steps, n_in), dtype).at[bi, bins, ui].add(ok.astype(dtype))
