"""EventProp: the exact gradient by the adjoint method with jumps at spike times.

Wunderlich & Pehle, "Event-based backpropagation can compute exact gradients for spiking
neural networks", Scientific Reports 11:12829 (2021), derived here for this package's model
(reset to 0, current jumps of size W, losses of spike times and of V_o at given times).

Derivation. Let x = (V_j, I_j) be the state of every neuron and lambda(t) = dL/dx(t) the
sensitivity of the loss to a perturbation of the state at time t (parameters and all other
states fixed). Between events x' = A x with V' = (I - V)/tau_mem, I' = -I/tau_syn, so
-lambda' = A^T lambda:

    lambda_V' = lambda_V / tau_mem,   lambda_I' = lambda_I / tau_syn - lambda_V / tau_mem,

solved backwards in closed form (:func:`analysis.eventprop._dynamics.adjoint_back`).
At the k-th spike of neuron n at t_k (V_n(t_k) = theta, V_n' > 0 before it) a perturbation
dx^- of the state just before moves the spike by dt_k = -dV_n^- / V_n'(t_k^-). The state
just after, at a fixed time, changes by the saltation rule dx^+ = J (dx^- + x'^- dt_k) -
x'^+ dt_k with J the jump map (V_n -> 0; I_m += W_nm for every postsynaptic m: the next
layer, and the own layer with recurrent weights). Component by component,

    dV_n^+ = -V_n'(t_k^+) dt_k,              V_n'(t_k^+) = I_n(t_k^+) / tau_mem,
    dx_j^+ = dx_j^- + (x_j'^- - x_j'^+) dt_k  (j != V_n),

where x_j'^- - x_j'^+ = W_nm / tau_syn for j = I_m and -W_nm / tau_mem for j = V_m. Writing
dL = lambda^+ . dx^+ + (dl/dt_k) dt_k gives the jumps of the adjoint

    lambda_j^- = lambda_j^+                     (every j != V_n: lambda_I is continuous),
    lambda_{V_n}^- = -[ sum_m W_nm (lambda_{I_m}^+ / tau_syn - lambda_{V_m}^+ / tau_mem)
                        - lambda_{V_n}^+ V_n'(t_k^+) + dl/dt_k ] / V_n'(t_k^-),

(the sum over m without the V_n term when n has a self-connection), with
V_n'(t_k^-) = (I_n(t_k^-) - theta) / tau_mem. The weights enter only through the jumps,
so dL/dW_nm = sum over the spikes t_k of n of lambda_{I_m}(t_k) (inputs: their spike times,
without a jump of lambda). A loss term l(V_o(t_hat)) at a fixed time t_hat adds dl/dV_o to
lambda_{V_o} there (t_hat = t_max: readout_final; the interior critical point of
readout_max: its time moves but V_o'(t_hat) = 0). When the maximum sits at an event (a kink of
V_o: the jump of I_o changes the sign of V_o'), the term is l(V_o(t_e^-)) with t_e the event
time, so it adds dl/dV_o to lambda_{V_o}(t_e^-) and, if t_e is a spike, dl/dV_o V_o'(t_e^-)
to dl/dt_e. The backward pass is a ``lax.scan`` over the recorded events in reverse order.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from analysis.eventprop import _dynamics as dyn
from analysis.eventprop._simulate import (
    AT_EVENT,
    INTERIOR,
    CTResult,
    check_call,
    layers_of,
    raise_on_overflow,
    result_of,
    run,
    weights_of,
)
from analysis.snn import SNNConfig


def _cotangents(loss, result: CTResult, loss_kwargs):
    """(value, d loss / d spike_times, d loss / d readout_max, d loss / d readout_final)."""

    def f(st, rmax, rfin):
        return loss(result._replace(spike_times=st, readout_max=rmax, readout_final=rfin), **loss_kwargs)

    args = (result.spike_times, result.readout_max, result.readout_final)
    value, grads = jax.value_and_grad(f, argnums=(0, 1, 2))(*args)
    return value, grads


def _backward_sample(params, cfg, t_max, recs, best_t, best_step, best_kind, d_st, d_max, d_fin):
    layers, ro = layers_of(cfg)
    w, rec, w_ro = weights_of(params, cfg)
    dtype = recs["t"].dtype
    offsets = np.cumsum([1] + [L.size for L in layers])
    n_ev = recs["t"].shape[0]
    t_prev_all = jnp.concatenate([jnp.zeros((1,), dtype), recs["t"][:-1]])

    zeros_like = lambda a: None if a is None else jnp.zeros_like(a)
    carry0: dict = {
        "lv": tuple(jnp.zeros((L.size,), dtype) for L in layers),
        "li": tuple(jnp.zeros((L.size,), dtype) for L in layers),
        "gw": tuple(zeros_like(a) for a in w),
        "gr": tuple(zeros_like(a) for a in rec),
    }
    if ro is not None:
        carry0.update(lvo=d_fin, lio=jnp.zeros_like(d_fin), gwo=jnp.zeros_like(w_ro))

    def step(c, e):
        t_e, k, u = recs["t"][e], recs["k"][e], recs["u"][e]
        i_pre, slot = recs["i_pre"][e], recs["slot"][e]
        t_prev = t_prev_all[e]
        lv, li, gw, gr = list(c["lv"]), list(c["li"]), list(c["gw"]), list(c["gr"])
        out = dict(c)
        at_event = jnp.zeros((), dtype)
        if ro is not None:
            here = (best_step == e) & (best_kind == AT_EVENT)
            at_event = jnp.sum(jnp.where(here, d_max * recs["vo_dot"][e], 0.0))
        # input event: dL/dW0[u, :] += lambda_I of the first layer (or the readout)
        hot_in = ((jnp.arange(cfg.n_in) == u) & (k == 0)).astype(dtype)
        if layers:
            gw[0] = gw[0] + hot_in[:, None] * li[0][None, :]
        else:
            out["gwo"] = c["gwo"] + hot_in[:, None] * c["lio"][None, :]
        for l, L in enumerate(layers):
            hot = jnp.arange(L.size) == (k - offsets[l])
            hotf = hot.astype(dtype)
            fires = jnp.any(hot)
            # post-synaptic adjoints (before any change at this event)
            coupling = jnp.zeros((), dtype)
            if l + 1 < len(layers):
                nxt = layers[l + 1]
                wn = hotf @ w[l + 1]
                coupling = coupling + wn @ (li[l + 1] / nxt.tau_syn - lv[l + 1] / nxt.tau_mem)
                gw[l + 1] = gw[l + 1] + hotf[:, None] * li[l + 1][None, :]
            elif ro is not None:
                wn = hotf @ w_ro
                coupling = coupling + wn @ (c["lio"] / ro.tau_syn - c["lvo"] / ro.tau_mem)
                out["gwo"] = c["gwo"] + hotf[:, None] * c["lio"][None, :]
            i_post = i_pre
            lv_n = hotf @ lv[l]
            if rec[l] is not None:
                vn = hotf @ rec[l]
                self_w = vn @ hotf
                coupling = coupling + vn @ (li[l] / L.tau_syn - lv[l] / L.tau_mem) + self_w * lv_n / L.tau_mem
                gr[l] = gr[l] + hotf[:, None] * li[l][None, :]
                i_post = i_pre + self_w
            dl_dt = jnp.sum(jnp.where(hot[:, None] & (jnp.arange(d_st[l].shape[1]) == slot), d_st[l], 0.0))
            dl_dt = dl_dt + at_event
            vdot_post = i_post / L.tau_mem
            vdot_pre = (i_pre - L.theta) / L.tau_mem
            safe = jnp.where(fires, vdot_pre, 1.0)
            new = -(coupling - lv_n * vdot_post + dl_dt) / safe
            lv[l] = jnp.where(hot, new, lv[l])
        # loss terms at this event (V_o(t_e^-)) and inside the gap before it
        gap = t_e - t_prev
        for l, L in enumerate(layers):
            lv[l], li[l] = dyn.adjoint_back(lv[l], li[l], gap, L.tau_mem, L.tau_syn)
        if ro is not None:
            here = (best_step == e) & (best_kind == AT_EVENT)
            lvo = out.get("lvo", c["lvo"]) + jnp.where(here, d_max, 0.0)
            lvo, lio = dyn.adjoint_back(lvo, c["lio"], gap, ro.tau_mem, ro.tau_syn)
            inner = (best_step == e) & (best_kind == INTERIOR)
            s = jnp.where(inner, best_t - t_prev, 0.0)
            jump = jnp.where(inner, d_max, 0.0)
            dv, di = dyn.adjoint_back(jump, jnp.zeros_like(d_max), s, ro.tau_mem, ro.tau_syn)
            out.update(lvo=lvo + dv, lio=lio + di)
        out.update(lv=tuple(lv), li=tuple(li), gw=tuple(gw), gr=tuple(gr))
        return out, None

    final, _ = jax.lax.scan(step, carry0, jnp.arange(n_ev), reverse=True)
    grads: dict = {"hidden": [], "readout": {}}
    n_h = len(cfg.hidden)
    for l in range(n_h):
        g = {"w": final["gw"][l]}
        if cfg.recurrent:
            g["v"] = final["gr"][l]
        grads["hidden"].append(g)
    grads["readout"]["w"] = final["gw"][n_h] if ro is None else final["gwo"]
    return grads


def eventprop_grad(
    params: dict,
    input_times: ArrayLike,
    cfg: SNNConfig,
    loss: Callable[..., jax.Array],
    *,
    t_max: float,
    max_spikes: int,
    **loss_kwargs,
) -> tuple[jax.Array, dict]:
    """(loss value, dL/dparams) by EventProp (module docstring): a forward event simulation,
    then the adjoint system backwards with its jumps at the recorded spike times.

    ``loss(result, **loss_kwargs)`` may depend on ``result.spike_times``, ``readout_max`` and
    ``readout_final``; its dependence on the other fields is not differentiated. Exact where
    spike times move; blind to spikes appearing or disappearing (Wunderlich & Pehle 2021).
    Raises a ValueError on overflow of ``max_spikes``.
    """
    if not callable(loss):
        raise TypeError(f"loss must be callable, got {loss!r}")
    max_spikes = check_call(params, input_times, cfg, t_max, max_spikes)
    carry, recs = run(params, jnp.asarray(input_times), cfg, t_max, max_spikes, record="events")
    result = result_of(carry, cfg, t_max, max_spikes)
    raise_on_overflow(result, cfg, max_spikes)
    value, (d_st, d_max, d_fin) = _cotangents(loss, result, loss_kwargs)
    dtype = recs["t"].dtype
    params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), params)
    grads = _backward(params, cfg, jnp.asarray(t_max, dtype), recs, carry, d_st, d_max, d_fin)
    return value, grads


def _backward(params, cfg, t_max, recs, carry, d_st, d_max, d_fin):
    ro = cfg.readout == "integrator"
    b = recs["t"].shape[0]
    dtype = recs["t"].dtype
    none = jnp.zeros((b, 0), dtype)
    best_t = carry["best_t"] if ro else none
    best_step = carry["best_step"] if ro else none.astype(jnp.int32)
    best_kind = carry["best_kind"] if ro else none.astype(jnp.int32)
    d_max = d_max if ro else none
    d_fin = d_fin if ro else none
    return _bw(params, cfg, t_max, recs, best_t, best_step, best_kind, tuple(d_st), d_max, d_fin)


@partial(jax.jit, static_argnames=("cfg",))
def _bw(params, cfg, t_max, recs, best_t, best_step, best_kind, d_st, d_max, d_fin):
    def one(r, bt, bs, bk, ds, dm, df):
        return _backward_sample(params, cfg, t_max, r, bt, bs, bk, ds, dm, df)

    g = jax.vmap(one)(recs, best_t, best_step, best_kind, d_st, d_max, d_fin)
    return jax.tree_util.tree_map(lambda a: jnp.sum(a, axis=0), g)
