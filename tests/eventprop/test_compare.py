"""analysis.eventprop._compare: the comparison's set-up, loss, measures and its escape-noise
estimator, each against an independent reference (NumPy loops, exact enumeration)."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.eventprop import _compare as C
from analysis.neuron import surrogate
from analysis.snn import Method


def test_setup_rejects_bad_fields_by_name():
    with pytest.raises(ValueError, match="hidden"):
        C.CompareSetup(hidden=0)
    with pytest.raises(ValueError, match="tau_syn"):
        C.CompareSetup(tau_syn=-1.0)
    with pytest.raises(ValueError, match="seed"):
        C.CompareSetup(seed=-1)
    with pytest.raises(ValueError, match="dt=0.0003 must divide t_max"):
        C.CompareSetup().n_steps(0.3e-3)
    with pytest.raises(TypeError, match="CompareSetup"):
        C.compare_gradients(setup="small")


def test_instance_is_fixed_by_the_seed_and_padded_with_inf():
    s = C.CompareSetup(n_in=5, hidden=3, batch=2, rate_hz=60.0, max_inputs=8)
    p1, t1, l1 = s.instance()
    p2, t2, _ = s.instance()
    t1n = np.asarray(t1)
    assert t1n.shape == (2, 5, 8) and np.array_equal(t1n, np.asarray(t2))
    assert np.array_equal(np.asarray(p1["hidden"][0]["w"]), np.asarray(p2["hidden"][0]["w"]))
    finite = np.isfinite(t1n)
    assert np.all((t1n[finite] >= 0) & (t1n[finite] < s.t_max))
    # sorted, the padding at the end of each row
    assert np.all(np.diff(np.where(finite, t1n, 1e9), axis=-1) >= 0)
    assert np.array_equal(np.asarray(l1), [0, 1])
    _, t3, _ = dataclasses.replace(s, seed=1).instance()
    assert not np.array_equal(np.nan_to_num(t1n, posinf=-1), np.nan_to_num(np.asarray(t3), posinf=-1))


def test_config_matches_the_setup():
    s = C.CompareSetup()
    cfg = s.config(0.25e-3)
    assert cfg.hidden == (12,) and cfg.n_out == 3 and cfg.readout == "integrator"
    assert cfg.lif.dt == 0.25e-3 and cfg.lif.tau_mem == 2 * cfg.lif.tau_syn
    assert s.n_steps(0.25e-3) == 200


def _loss_numpy(w_h, w_o, x, labels, lif):
    """The comparison's discrete loss written out: LIF recursion (reset on the leak term),
    integrator readout read before its update, cross-entropy of softmax(max_t U_o)."""
    lm, ls, theta = math.exp(-lif.dt / lif.tau_mem), math.exp(-lif.dt / lif.tau_syn), lif.theta
    B, T, _ = x.shape
    total = 0.0
    for b in range(B):
        i_h, u_h = np.zeros(w_h.shape[1]), np.zeros(w_h.shape[1])
        i_o, u_o = np.zeros(w_o.shape[1]), np.zeros(w_o.shape[1])
        best = np.full(w_o.shape[1], -np.inf)
        for t in range(T):
            s = (u_h > theta).astype(float)
            best = np.maximum(best, u_o)
            i_h, u_h = ls * i_h + x[b, t] @ w_h, lm * u_h * (1 - s) + (1 - lm) * i_h
            i_o, u_o = ls * i_o + s @ w_o, lm * u_o + (1 - lm) * i_o
        z = best - best.max()
        total += -(z[labels[b]] - math.log(np.exp(z).sum()))
    return total / B


def test_discrete_loss_matches_a_numpy_loop():
    s = C.CompareSetup(n_in=6, hidden=4, batch=2, t_max=10e-3, rate_hz=200.0, sigma_u=2.0)
    params, _, labels = s.instance()
    dt = 1e-3
    x = (jax.random.uniform(jax.random.key(3), (2, s.n_steps(dt), 6)) < 0.2).astype(jnp.float64)
    got = float(C.discrete_loss(params, x, labels, s.config(dt), Method("deterministic")))
    want = _loss_numpy(
        np.asarray(params["hidden"][0]["w"]),
        np.asarray(params["readout"]["w"]),
        np.asarray(x),
        np.asarray(labels),
        s.config(dt).lif,
    )
    assert got == pytest.approx(want, rel=1e-12)


def test_measures_against_hand_computed_values():
    g = {"hidden": [{"w": np.array([[3.0, 0.0]])}], "readout": {"w": np.array([[0.0], [4.0]])}}
    ref = {"hidden": [{"w": np.array([[1.0, 0.0]])}], "readout": {"w": np.array([[0.0], [-1.0]])}}
    out = C.compare(g, ref)
    assert out["cos_hidden"] == pytest.approx(1.0)
    assert out["rel_hidden"] == pytest.approx(2.0)
    assert out["cos_readout"] == pytest.approx(-1.0)
    assert out["rel_readout"] == pytest.approx(5.0)
    # all: (3, 0, 0, 4) . (1, 0, 0, -1) = -1, norms 5 and sqrt 2
    assert out["cos_all"] == pytest.approx(-1.0 / (5.0 * math.sqrt(2.0)))
    assert out["norm_all"] == pytest.approx(5.0)
    assert math.isnan(C.cosine(np.zeros(2), np.ones(2)))


def test_jackknife_cosine_se_matches_the_textbook_formula():
    rng = np.random.default_rng(0)
    batches, other = rng.normal(size=(10, 7)) + 1.0, rng.normal(size=7)
    loo = []
    for i in range(10):
        keep = [j for j in range(10) if j != i]
        m = batches[keep].mean(0)[2:]
        loo.append(m @ other[2:] / np.linalg.norm(m) / np.linalg.norm(other[2:]))
    loo = np.array(loo)
    want = math.sqrt(9 / 10 * np.sum((loo - loo.mean()) ** 2))
    assert C.jackknife_cosine_se(batches, other, slice(2, None)) == pytest.approx(want, rel=1e-12)


def test_sg_gradient_grows_as_one_over_dt_on_a_single_neuron_ramp():
    """SG-BPTT's hidden gradient at fixed beta_SG sums psi over the bins of a crossing: halving
    dt doubles it (the mechanism of claim eventprop_sg_dt_limit), on a network whose hidden
    neuron crosses threshold once (one input spike of weight 6 at t = 0: peak potential 1.5)."""
    s = C.CompareSetup(n_in=1, hidden=1, n_out=1, batch=1, t_max=10e-3)
    labels = jnp.array([0])
    s2 = dataclasses.replace(s, n_out=2)
    params2 = {"hidden": [{"w": jnp.array([[6.0]])}], "readout": {"w": jnp.array([[1.0, -0.5]])}}
    norms = []
    for dt in (0.1e-3, 0.05e-3):
        x = jnp.zeros((1, s2.n_steps(dt), 1)).at[0, 0, 0].set(1.0)
        _, g = C.sg_gradient(s2, params2, x, labels, dt, surrogate("superspike", 5.0))
        norms.append(abs(float(g["hidden"][0]["w"][0, 0])))
    ratios = np.array(norms[1:]) / np.array(norms[:-1])
    assert np.all(np.abs(ratios - 2.0) < 0.15), ratios


@pytest.mark.slow
def test_escape_gradient_is_unbiased_against_exact_enumeration():
    """Part (c)'s estimator (coupled-flip, the comparison's loss and inputs) against grad E[L]
    by enumerating all 2^8 spike configurations of a 2-neuron, 4-bin network. z-test per
    coordinate at 4.5 SE (false failure <= 6.8e-6 per coordinate, 6e-5 for the 8); coordinates
    with no variance must be exact. Slow: 13 s (the coupled-flip estimator's compilation)."""
    from analysis.neuron import escape_noise
    from analysis.stochastic import exact_value_and_grad, snn_program

    s = C.CompareSetup(n_in=2, hidden=2, n_out=2, batch=1, t_max=4e-3, rate_hz=500.0, sigma_u=3.0)
    params, _, labels = s.instance()
    dt = 1e-3
    x = jnp.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]])
    beta = 2.0
    est = C.escape_gradient(s, params, x, labels, dt, beta, n_samples=2000, key=jax.random.key(5), n_flips=4)
    noise = escape_noise("sigmoid", beta)
    m = Method("stochastic", hidden_noise=noise, output_noise=noise)
    program = snn_program(s.config(dt), m, C._program_loss, 1, 4)
    _, exact = exact_value_and_grad(program, params, (x, labels))
    want = np.concatenate([np.ravel(exact["hidden"][0]["w"]), np.ravel(exact["readout"]["w"])])
    diff, se = est["mean"] - want, est["se"]
    assert np.all(np.abs(diff) <= np.where(se > 0, 4.5 * se, 1e-12)), (diff, se)
    assert np.count_nonzero(se) >= 4
    assert np.linalg.norm(want) > 0 and est["batches"].shape == (10, want.size)
