"""The continuous-time event simulator (analysis.eventprop) against closed forms, scipy root
finding and an independent NumPy event loop (tests/eventprop/ep_reference.py); float64."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from analysis.eventprop import _dynamics as dyn
from analysis.eventprop import (
    ct_simulate,
    discretise_inputs,
    first_spike_time,
    voltage_trace,
)
from analysis.snn import LIFParams, SNNConfig, init_params
from tests.eventprop.ep_reference import simulate_reference, v_of

SPECIAL = LIFParams(tau_mem=10e-3, tau_syn=5e-3)
GENERAL = LIFParams(tau_mem=10e-3, tau_syn=3e-3)
EQUAL = LIFParams(tau_mem=5e-3, tau_syn=5e-3)


def _net(cfg, seed, n_k=4, t_in=0.05, batch=2, sigma_u=1.0):
    key = jax.random.key(seed)
    params = init_params(key, cfg, nu=50.0, sigma_u=sigma_u, nu_hidden=200.0, dtype=jnp.float64)
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, t_in, (batch, cfg.n_in, n_k)), axis=-1)
    x[:, 0, -1] = np.inf  # padding
    return params, x


# ---------------------------------------------------------------- single-neuron dynamics


def _grid_states(seed=0, n=400):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 0.99, n), rng.uniform(-1.0, 6.0, n)


@pytest.mark.parametrize("p", [SPECIAL, GENERAL, EQUAL], ids=["special", "general", "equal"])
def test_crossing_time_matches_brentq_on_a_dense_grid(p):
    """Reference: the first grid point (20000 on [0, 10 tau_mem]) with V >= theta, refined by
    brentq; no crossing when the grid never reaches theta."""
    v0, i0 = _grid_states()
    s = np.asarray(dyn.crossing_time(jnp.asarray(v0), jnp.asarray(i0), p.tau_mem, p.tau_syn, p.theta))
    grid = np.linspace(0, 10 * p.tau_mem, 20001)
    n_hits = 0
    for a, b, got in zip(v0, i0, s, strict=True):
        vv = v_of(a, b, grid, p.tau_mem, p.tau_syn)
        hit = np.nonzero(vv >= p.theta)[0]
        if not hit.size:
            assert got == np.inf
            continue
        n_hits += 1
        f = lambda t, a=a, b=b: v_of(a, b, t, p.tau_mem, p.tau_syn) - p.theta
        ref = brentq(f, grid[hit[0] - 1], grid[hit[0]], xtol=1e-16, rtol=1e-15)
        assert got == pytest.approx(ref, rel=1e-12, abs=1e-15)
    assert 50 < n_hits < 400


def test_closed_form_and_newton_agree_for_tau_mem_twice_tau_syn():
    v0, i0 = _grid_states(1)
    p = SPECIAL
    a = dyn.crossing_time(jnp.asarray(v0), jnp.asarray(i0), p.tau_mem, p.tau_syn, p.theta, method="closed")
    b = dyn.crossing_time(jnp.asarray(v0), jnp.asarray(i0), p.tau_mem, p.tau_syn, p.theta, method="newton")
    np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b))
    fin = np.isfinite(a)
    np.testing.assert_allclose(np.asarray(a)[fin], np.asarray(b)[fin], rtol=1e-12)
    with pytest.raises(ValueError, match="tau_mem = 2 tau_syn"):
        dyn.crossing_time(0.0, 2.0, GENERAL.tau_mem, GENERAL.tau_syn, 1.0, method="closed")
    with pytest.raises(ValueError, match="unknown method"):
        dyn.crossing_time(0.0, 2.0, 1.0, 0.5, 1.0, method="secant")


@pytest.mark.parametrize("method", ["closed", "newton"])
def test_crossing_time_derivative_is_the_implicit_function_theorem(method):
    """d s*/d(V0, I0) against central differences (h = 1e-7, relative 1e-6)."""
    p = SPECIAL
    f = jax.jit(lambda v, i: dyn.crossing_time(v, i, p.tau_mem, p.tau_syn, p.theta, method=method))
    grad = jax.jit(jax.vmap(jax.grad(f, argnums=(0, 1))))
    v, i = jnp.array([0.0, 0.3, -0.4, 0.9]), jnp.array([5.0, 3.7, 7.0, 2.0])
    gv, gi = grad(v, i)
    h = 1e-7
    np.testing.assert_allclose(gv, (f(v + h, i) - f(v - h, i)) / (2 * h), rtol=1e-6)
    np.testing.assert_allclose(gi, (f(v, i + h) - f(v, i - h)) / (2 * h), rtol=1e-6)
    # no crossing: value inf, derivative 0 (not NaN)
    assert float(f(0.0, 0.5)) == np.inf
    assert grad(jnp.array([0.0]), jnp.array([0.5])) == (0.0, 0.0)


@pytest.mark.parametrize("p", [SPECIAL, GENERAL, EQUAL], ids=["special", "general", "equal"])
def test_critical_point_is_the_maximum_of_the_free_membrane(p):
    """V'(s_c) = 0 (the closed-form derivative (I - V)/tau_mem vanishes there)."""
    v0, i0 = _grid_states(2)
    s_c, ok = dyn.critical_point(jnp.asarray(v0), jnp.asarray(i0), p.tau_mem, p.tau_syn)
    v, i = dyn.advance(jnp.asarray(v0), jnp.asarray(i0), s_c, p.tau_mem, p.tau_syn)
    sel = np.asarray(ok) & (np.asarray(s_c) > 0)
    assert sel.sum() > 100
    np.testing.assert_allclose(np.asarray(i - v)[sel], 0.0, atol=1e-12)


# ---------------------------------------------------------------- the network


CASES = {
    "ff-special": (SNNConfig(n_in=5, hidden=(6,), n_out=3, lif=SPECIAL), 0),
    "ff2-general": (SNNConfig(n_in=5, hidden=(6, 4), n_out=3, lif=GENERAL), 1),
    "rec-special": (SNNConfig(n_in=5, hidden=(6,), n_out=3, lif=SPECIAL, recurrent=True), 1),
    "rec-equal-lif": (
        SNNConfig(n_in=5, hidden=(5,), n_out=3, lif=EQUAL, recurrent=True, readout="lif"),
        3,
    ),
    "ff-lif-readout-general": (
        SNNConfig(n_in=4, hidden=(6,), n_out=2, lif=GENERAL, readout="lif", readout_lif=SPECIAL),
        3,
    ),
}


@pytest.mark.parametrize(
    "name",
    [
        n
        if n in ("ff-special", "rec-special", "ff-lif-readout-general")
        else pytest.param(n, marks=pytest.mark.slow)
        for n in CASES
    ],
)
def test_spike_times_and_readout_match_the_numpy_event_loop(name):
    cfg, seed = CASES[name]
    params, x = _net(cfg, seed)
    if cfg.readout == "lif":  # a readout that does spike (distinct weights: no ties)
        params["readout"]["w"] = 1.5 + jnp.abs(params["readout"]["w"])
    t_max = 0.06
    res = ct_simulate(params, x, cfg, t_max=t_max, max_spikes=40)
    n_spikes = 0
    for b in range(x.shape[0]):
        spikes, best, final = simulate_reference(params, x[b], cfg, t_max)
        for l, layer in enumerate(spikes):
            for n, ref in enumerate(layer):
                got = np.asarray(res.spike_times[l][b, n])
                assert int(res.counts[l][b, n]) == len(ref)
                np.testing.assert_allclose(got[: len(ref)], ref, rtol=0, atol=1e-12)
                assert np.all(got[len(ref) :] == np.inf)
                n_spikes += len(ref)
        if best is not None:
            np.testing.assert_allclose(np.asarray(res.readout_max[b]), best, rtol=1e-7, atol=1e-9)
            np.testing.assert_allclose(np.asarray(res.readout_final[b]), final, rtol=1e-10, atol=1e-12)
    assert n_spikes >= 10
    assert not np.any(np.asarray(res.overflow))


def test_readout_argmax_is_where_the_trace_attains_the_max():
    """voltage_trace at readout_argmax gives readout_max (1e-12); on a 2001-point grid the
    trace never exceeds it and comes within max|V_o'| x grid step (2e-3)."""
    cfg, seed = CASES["ff-special"]
    params, x = _net(cfg, seed)
    res = ct_simulate(params, x, cfg, t_max=0.06, max_spikes=40)
    am = np.asarray(res.readout_argmax)  # [B, n_out]
    grid = np.linspace(0, 0.06, 2001)
    vt = np.asarray(
        voltage_trace(params, x, cfg, jnp.asarray(np.concatenate([grid, am.ravel()])), max_spikes=40)[-1]
    )
    at = vt[:, grid.size :].reshape(2, 2, 3, 3)  # [B, query sample, query unit, unit]
    for b in range(2):
        np.testing.assert_allclose(np.diag(at[b, b]), np.asarray(res.readout_max[b]), rtol=1e-12, atol=1e-15)
    dense = vt[:, : grid.size]
    assert np.all(dense.max(axis=1) <= np.asarray(res.readout_max) + 1e-12)
    np.testing.assert_allclose(dense.max(axis=1), np.asarray(res.readout_max), atol=2e-3)


def test_voltage_trace_resets_and_stays_below_threshold():
    cfg, seed = CASES["ff-special"]
    params, x = _net(cfg, seed)
    res = ct_simulate(params, x, cfg, t_max=0.06, max_spikes=40)
    t = np.asarray(res.spike_times[0][0, 1])
    t = t[np.isfinite(t)][:3]
    assert t.size == 3
    grid = np.linspace(0, 0.06, 2001)
    q = jnp.asarray(np.concatenate([t, t - 1e-9, grid]))
    v = np.asarray(voltage_trace(params, x, cfg, q, max_spikes=40)[0])
    np.testing.assert_allclose(v[0, :3, 1], 0.0, atol=1e-15)  # reset at the spike
    np.testing.assert_allclose(v[0, 3:6, 1], 1.0, atol=1e-5)  # theta just before it
    assert v[:, 6:].max() <= 1.0 + 1e-12


def test_overflow_raises_outside_jit_and_flags_inside():
    cfg, seed = CASES["ff-special"]
    params, x = _net(cfg, seed)
    with pytest.raises(ValueError, match=r"hidden layer 0 spiked at least \d+ times"):
        ct_simulate(params, x, cfg, t_max=0.06, max_spikes=2)
    jitted = jax.jit(lambda p: ct_simulate(p, x, cfg, t_max=0.06, max_spikes=2).overflow)
    assert np.all(np.asarray(jitted(params)))


def test_bad_inputs_are_refused_naming_the_field():
    cfg, seed = CASES["ff-special"]
    params, x = _net(cfg, seed)
    with pytest.raises(ValueError, match="input_times"):
        ct_simulate(params, x[:, :3], cfg, t_max=0.06, max_spikes=4)
    with pytest.raises(ValueError, match="input_times"):
        ct_simulate(params, -x, cfg, t_max=0.06, max_spikes=4)
    with pytest.raises(ValueError, match="t_max"):
        ct_simulate(params, x, cfg, t_max=-1.0, max_spikes=4)
    with pytest.raises(ValueError, match="max_spikes"):
        ct_simulate(params, x, cfg, t_max=0.06, max_spikes=0)
    with pytest.raises(ValueError, match="params"):
        ct_simulate(params, x, SNNConfig(n_in=5, hidden=(7,), n_out=3), t_max=0.06, max_spikes=4)
    with pytest.raises(ValueError, match="delay"):
        ct_simulate(params, x, SNNConfig(n_in=5, hidden=(6,), n_out=3, delay=1), t_max=0.06, max_spikes=4)
    with pytest.raises(TypeError, match="cfg"):
        ct_simulate(params, x, "cfg", t_max=0.06, max_spikes=4)
    bare = SNNConfig(n_in=5, hidden=(), n_out=3)
    p_bare = init_params(jax.random.key(0), bare, dtype=jnp.float64)
    res = ct_simulate(p_bare, x, bare, t_max=0.06, max_spikes=4)
    with pytest.raises(ValueError, match="no spiking layer"):
        first_spike_time(res)


def test_discretise_inputs_counts_match_a_loop():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 0.012, (2, 3, 6))
    x[0, 1, 2] = np.inf
    dt, n = 1e-3, 10
    got = np.asarray(discretise_inputs(x, dt, n))
    ref = np.zeros((2, n, 3))
    for b in range(2):
        for u in range(3):
            for t in x[b, u]:
                if np.isfinite(t) and int(t // dt) < n:
                    ref[b, int(t // dt), u] += 1
    np.testing.assert_array_equal(got, ref)
    with pytest.raises(ValueError, match="dt"):
        discretise_inputs(x, 0.0, n)
