"""EventProp (analysis.eventprop.eventprop_grad) against jax.grad through the exact spike
times (ct_loss) and central finite differences of the simulator's loss, float64; and the blind
spot: a loss that jumps where a spike appears, with a bounded gradient on both sides."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analysis.eventprop import (
    ct_loss,
    ct_simulate,
    eventprop_grad,
    first_spike_time,
    max_voltage_cross_entropy,
    ttfs_cross_entropy,
)
from analysis.eventprop._simulate import run
from analysis.snn import LIFParams, SNNConfig, init_params

SPECIAL = LIFParams(tau_mem=10e-3, tau_syn=5e-3)
GENERAL = LIFParams(tau_mem=10e-3, tau_syn=3e-3)
EQUAL = LIFParams(tau_mem=5e-3, tau_syn=5e-3)
T_MAX, MAX_SPIKES, H = 0.06, 40, 1e-5
LABELS = jnp.array([0, 2])


def _mixed(result):
    """Spike times of a hidden layer and the readout's final value and maximum."""
    t = result.spike_times[0]
    return (
        jnp.sum(jnp.where(jnp.isfinite(t), t, 0.0))
        + jnp.sum(result.readout_final**2)
        + jnp.sum(result.readout_max)
    )


ARCHS = {
    "rec-special-maxce": (
        SNNConfig(n_in=5, hidden=(6,), n_out=3, lif=SPECIAL, recurrent=True),
        max_voltage_cross_entropy,
    ),
    "ff-special-maxce": (SNNConfig(n_in=5, hidden=(6,), n_out=3, lif=SPECIAL), max_voltage_cross_entropy),
    "rec-general-maxce": (
        SNNConfig(n_in=5, hidden=(6,), n_out=3, lif=GENERAL, recurrent=True),
        max_voltage_cross_entropy,
    ),
    "ff2-special-mixed": (SNNConfig(n_in=5, hidden=(5, 4), n_out=3, lif=SPECIAL), _mixed),
    "ff-lif-ttfs": (
        SNNConfig(n_in=5, hidden=(6,), n_out=3, lif=SPECIAL, readout="lif"),
        ttfs_cross_entropy,
    ),
    "rec-equal-lif-first": (
        SNNConfig(n_in=5, hidden=(5,), n_out=3, lif=EQUAL, recurrent=True, readout="lif"),
        first_spike_time,
    ),
}
DEFAULT = "rec-special-maxce"  # in the default suite; the others are slow (about 10 s of compiling each)
KWARGS = {max_voltage_cross_entropy: {"labels": LABELS}, ttfs_cross_entropy: {"labels": LABELS, "tau": 5e-3}}


def _draw(cfg, seed):
    params = init_params(jax.random.key(seed), cfg, nu=50.0, nu_hidden=200.0, dtype=jnp.float64)
    if cfg.readout == "lif":  # an output layer that spikes
        params["readout"]["w"] = 0.5 + jnp.abs(params["readout"]["w"]) * 2
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 0.05, (2, cfg.n_in, 4)), axis=-1)
    return params, x


def _events(params, x, cfg):
    """The order of events (which input or neuron, per sample) and where each readout's
    maximum sits (kind, event step): the smooth piece of the loss that params lie on."""
    try:
        ct_simulate(params, x, cfg, t_max=T_MAX, max_spikes=MAX_SPIKES)
    except ValueError as err:  # overflow of MAX_SPIKES: reject the draw
        assert "overflowed" in str(err)
        assume(False)
    carry, recs = run(params, jnp.asarray(x), cfg, T_MAX, MAX_SPIKES, record="events")
    out = [np.asarray(recs["k"])] + [np.asarray(c) for c in carry["count"]]
    if cfg.readout == "integrator":
        out += [np.asarray(carry["best_kind"]), np.asarray(carry["best_step"])]
    return out


def _check(name, seed):
    cfg, loss = ARCHS[name]
    kw = KWARGS.get(loss, {})
    params, x = _draw(cfg, seed)
    events = _events(params, x, cfg)
    assume(int(events[-1 if cfg.readout == "lif" else -3].sum()) > 0)
    value, g_ep = eventprop_grad(params, x, cfg, loss, t_max=T_MAX, max_spikes=MAX_SPIKES, **kw)
    f = lambda p: ct_loss(p, x, cfg, loss, t_max=T_MAX, max_spikes=MAX_SPIKES, **kw)
    g_ad = jax.grad(f)(params)
    assert float(value) == pytest.approx(float(f(params)), rel=1e-14, abs=1e-300)
    # 1. EventProp == gradient through the exact spike times
    scale = max(float(jnp.max(jnp.abs(a))) for a in jax.tree_util.tree_leaves(g_ad))
    assume(scale > 0)
    for a, b in zip(jax.tree_util.tree_leaves(g_ad), jax.tree_util.tree_leaves(g_ep), strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=0, atol=1e-10 * scale)
    # 2. == central differences along a random unit direction (fourth-order stencil), where no
    #    event appears, disappears or changes places within the stencil, and no readout maximum
    #    moves to another local maximum (the loss is smooth there; at a swap of an input and a
    #    crossing of the same neuron, or of two maxima, it has a kink)
    rng = np.random.default_rng(seed + 1)
    leaves, tree = jax.tree_util.tree_flatten(params)
    d = [rng.normal(size=a.shape) for a in leaves]
    norm = np.sqrt(sum(np.sum(v**2) for v in d))
    d = [v / norm for v in d]
    shift = lambda eps: jax.tree_util.tree_unflatten(
        tree, [a + eps * v for a, v in zip(leaves, d, strict=True)]
    )
    for eps in (-2 * H, -H, H, 2 * H):
        same = _events(shift(eps), x, cfg)
        assume(all(np.array_equal(a, b) for a, b in zip(same, events, strict=True)))
    fd = (8 * (f(shift(H)) - f(shift(-H))) - (f(shift(2 * H)) - f(shift(-2 * H)))) / (12 * H)
    dd = sum(float(jnp.sum(g * v)) for g, v in zip(jax.tree_util.tree_leaves(g_ep), d, strict=True))
    assume(abs(dd) > 1e-3 * scale)  # a direction the gradient does not (nearly) annihilate
    assert abs(float(fd) - dd) <= 1e-6 * abs(dd), (float(fd), dd)
    return abs(float(fd) - dd) / abs(dd)


_settings = settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(
    "name",
    ["rec-special-maxce"]
    + [pytest.param(n, marks=pytest.mark.slow) for n in ARCHS if n != "rec-special-maxce"],
)
@_settings
@given(seed=st.integers(0, 2**20))
def test_eventprop_matches_autodiff_and_finite_differences(name, seed):
    _check(name, seed)


# ---------------------------------------------------------------- the blind spot

BLIND_CFG = SNNConfig(n_in=2, hidden=(), n_out=1, lif=SPECIAL, readout="lif")
BLIND_X = np.array([[[0.005], [0.010]]])  # excitatory input at 5 ms, inhibitory at 10 ms


def _blind(alpha):
    return {"hidden": [], "readout": {"w": jnp.array([[alpha], [-4.0]], jnp.float64)}}


def _blind_loss_grad(alpha):
    value, g = eventprop_grad(_blind(alpha), BLIND_X, BLIND_CFG, first_spike_time, t_max=0.02, max_spikes=2)
    return float(value), float(g["readout"]["w"][0, 0])


def test_blind_spot_loss_jumps_where_a_spike_appears_gradient_stays_bounded():
    """The readout potential peaks at the inhibitory input (10 ms, a kink); it reaches theta
    there at alpha* = theta / g(5 ms) = 1 / (e^{-1/2} - e^{-1}) (tau_mem = 2 tau_syn = 10 ms).
    Below alpha* the unit is silent (loss t_max = 20 ms, gradient 0); above it, it fires just
    before 10 ms: the loss jumps by about -10 ms while EventProp's gradient is bounded on both
    sides (finite one-sided limits) and so never predicts the jump."""
    count = lambda a: int(
        ct_simulate(_blind(a), BLIND_X, BLIND_CFG, t_max=0.02, max_spikes=2).counts[-1][0, 0]
    )
    lo, hi = 3.0, 6.0
    assert count(lo) == 0 and count(hi) == 1
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if count(mid) == 0 else (lo, mid)
    alpha_star = 1.0 / (np.exp(-0.5) - np.exp(-1.0))
    assert hi == pytest.approx(alpha_star, rel=1e-13)
    deltas = (1e-6, 1e-9, 1e-12)
    left = [_blind_loss_grad(alpha_star * (1 - d)) for d in deltas]
    right = [_blind_loss_grad(alpha_star * (1 + d)) for d in deltas]
    jump = right[-1][0] - left[-1][0]
    assert jump == pytest.approx(0.010 - 0.020, abs=1e-8)  # t_first: 20 ms -> 10 ms
    # left: silent, loss t_max, gradient 0 -- it does not see the spike about to appear
    assert all(v == 0.02 and g == 0.0 for v, g in left)
    # right: finite gradient dt/dalpha = -g(s)/V'(t-) with a finite limit at alpha*
    s = 5e-3
    g_s = np.exp(-0.5) - np.exp(-1.0)  # the PSP kernel g(5 ms)
    vdot = (alpha_star * np.exp(-s / 5e-3) - 1.0) / 10e-3
    expect = -g_s / vdot
    for _, g in right:
        assert g == pytest.approx(expect, rel=1e-4)
    # the gradient's prediction of the change across [alpha*(1-d), alpha*(1+d)] vanishes
    bound = max(abs(g) for _, g in left + right)
    assert 2 * 1e-12 * alpha_star * bound < 1e-9 * abs(jump)
