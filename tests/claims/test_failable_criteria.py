"""The criteria of claims that must be able to fail: their helpers against
hand-worked cases, and mutations (the thing the claim rules out, fed in) that the same
criterion rejects."""

import numpy as np
import pytest

from proofs_numeric import fields_sg_descent_bias as descent_bias
from proofs_numeric import fields_sign_flip as sign_flip


def test_argmin_uncertainty_is_the_radius_of_the_near_minimal_set():
    i = np.arange(101.0)
    F = 0.5 * (i - 40.0) ** 2  # F <= min + 2 eps  <=>  |i - 40| <= 2 sqrt(eps)
    assert sign_flip.argmin_uncertainty_steps(F, 0.0) == 0
    assert sign_flip.argmin_uncertainty_steps(F, 0.24) == 0
    assert sign_flip.argmin_uncertainty_steps(F, 0.25) == 1
    assert sign_flip.argmin_uncertainty_steps(F, 4.0) == 4


@pytest.fixture(scope="module")
def sweep30():
    return sign_flip.sweep(30.0)


def test_sign_flip_rejects_the_true_gradient_in_place_of_the_sg(sweep30):
    """Mutation: the true gradient's own zero and integral are within k steps of themselves."""
    from analysis.fields import cumulative_integral
    from analysis.fields._numerics import zero_crossings

    s = dict(sweep30)
    s["sg"] = s["true_grad"]
    s["integrated_sg"], _, s["integrated_sg_error"] = cumulative_integral(s["w"], s["true_grad"])
    true_cross = zero_crossings(s["w"], s["true_grad"])
    sep = sign_flip._separations(s, zero_crossings(s["w"], s["sg"]), true_cross)
    assert sep["crossing_separation_steps"] <= sep["k_steps"]
    assert sep["argmin_separation_steps"] <= sep["k_steps"]


def test_sign_flip_records_that_the_sg_has_no_zero_at_beta_sg_15():
    r = sign_flip.check("quick")
    assert r.passed, r.details
    assert r.details["sg_zero_crossing_absent_for"] == [15.0]
    row15 = r.details["sweeps"][0]
    assert row15["crossing_separation_is_lower_bound"] and row15["sg_zero_crossings"] == []


def test_descent_on_the_true_gradient_stops_within_the_tolerance(sweep30):
    """Mutation: descent on the exact gradient ends within the claim's k grid steps of w_min,
    which the claim's criterion would reject. The loss is flat near its minimum (exponential
    sigmoid tail), so exact descent at the claim's learning rate needs 5x its steps."""
    from analysis import fields
    from analysis.fields._numerics import zero_crossings
    from analysis.fields._toy import sign_flip_thetas

    g = fields.exact_field(fields.FIVE_WEIGHT, descent_bias.BETA)
    theta0 = sign_flip_thetas(np.array([0.0]))[0]
    end = np.asarray(fields.descend(g, theta0, descent_bias.LR, 5 * descent_bias.STEPS, np.eye(5)[0]))
    w = sweep30["w"]
    w_min = zero_crossings(w, sweep30["true_grad"])[0]
    assert abs(end[0] - w_min) <= descent_bias.K_STEPS * (w[1] - w[0])


def test_predicted_z_is_the_exact_bias_over_the_standard_error():
    """Synthetic layers: the first layer's coordinate 1 carries a bias of 3 SE; z_obs follows
    the samples, z_pred the stated bias, z_crit Holm's smallest rejectable z among 4."""
    from scipy import stats

    from proofs_numeric.sg_bias_feedforward import predicted_z

    rng = np.random.default_rng(0)
    n = 10_000
    g = (np.zeros(2), np.zeros(2))
    bias = (np.array([0.0, 0.03]), np.array([0.5, 0.0]))  # the last layer's is not counted
    samples = tuple(b + rng.normal(size=(n, 2)) for b in bias)
    z = predicted_z(samples, g, bias, 1e-3)
    se = samples[0][:, 1].std(ddof=1) / np.sqrt(n)
    assert z["coordinate"] == "[0][1]"
    assert z["z_pred"] == pytest.approx(0.03 / se)
    assert z["z_obs"] == pytest.approx(abs(samples[0][:, 1].mean()) / se)
    assert abs(z["z_obs"] - z["z_pred"]) < 4
    assert z["z_crit"] == pytest.approx(stats.norm.isf(1e-3 / 8))
    # a stated bias the samples do not carry is caught by |z_obs - z_pred| <= 4
    wrong = (np.array([0.0, 0.3]), np.array([0.5, 0.0]))
    z_wrong = predicted_z(samples, g, wrong, 1e-3)
    assert abs(z_wrong["z_obs"] - z_wrong["z_pred"]) > 4


def test_estimators_unbiased_power_and_positive_control():
    """An unbiased synthetic estimator: the detectable bias is atol + (z_crit + 1.28) SE over
    |grad|, and the control (a known offset) is rejected; so is it for an estimator of zero
    variance (tested at atol)."""
    from scipy import stats

    from proofs_numeric.estimators_unbiased import ATOL, Z_POWER, power_and_control

    rng = np.random.default_rng(1)
    exact = (np.array([0.5, -0.2]), np.array([[0.1]]))
    n, level = 4000, 1e-4
    samples = tuple(e + rng.normal(0.0, 1.0, (n,) + e.shape) for e in exact)
    out = power_and_control(samples, exact, level)
    z_crit = stats.norm.isf(level / (2 * 3))
    se = np.concatenate([s.reshape(n, -1) for s in samples], 1).std(0, ddof=1) / np.sqrt(n)
    norm = np.sqrt(0.5**2 + 0.2**2 + 0.1**2)
    assert out["z_crit"] == pytest.approx(z_crit)
    assert out["detectable_bias_rel_min"] == pytest.approx((ATOL + (z_crit + Z_POWER) * se.min()) / norm)
    assert out["control_rejected"]
    exact_copies = tuple(np.broadcast_to(e, (n,) + e.shape) for e in exact)
    assert power_and_control(exact_copies, exact, level)["control_rejected"]


# ---------------------------------------------------------------- sg_bias_lif_layers


@pytest.fixture(scope="module")
def lif_differentiable():
    """The claim's differentiable-reset network (5 steps, K = 15) and its library measurement."""
    from proofs_numeric import sg_bias_lif_layers as lif

    net, params, x = lif.feedforward_net("differentiable", 5)
    measured, _ = lif.measure(net, params, x)
    return net, params, x, measured


def test_sg_bias_lif_layers_prediction_matches_and_wrong_theories_fail(lif_differentiable):
    """The NumPy prediction agrees with the library's measurement to rounding; predictions
    from a wrong backward rule (the reset's derivative dropped; a surrogate of steepness 6
    instead of the matched 4) miss it by far more than the criterion's 1e-6."""
    from proofs_numeric import sg_bias_lif_layers as lif

    net, params, x, measured = lif_differentiable
    right = lif.agreement(measured, lif.predict_feedforward(net, params, x))
    assert right["agrees"] and right["max_gap"] < 1e-10
    no_reset = lif.agreement(measured, lif.predict_feedforward(net, params, x, reset="detached"))
    steeper = lif.agreement(measured, lif.predict_feedforward(net, params, x, surrogate_beta=6.0))
    assert not no_reset["agrees"] and no_reset["max_gap"] > 1e-2
    assert not steeper["agrees"] and steeper["max_gap"] > 1e-2


def test_sg_bias_lif_layers_numpy_gradient_is_the_difference_quotient():
    """The reference's exact gradient (score identity, hand-written backward pass) equals
    central differences of its enumerated E[L] (h = 1e-5: error ~ h^2 ~ 1e-10), on a
    recurrent 3-step network (K = 9) with the differentiable reset."""
    from proofs_numeric import sg_bias_lif_layers as lif

    rng = np.random.default_rng(7)
    ws = [rng.normal(size=(2, 2)), rng.normal(size=(2, 1)) + 0.5]
    vs = [rng.normal(size=(2, 2)), None]
    x = (rng.random((3, 2)) < 0.6).astype(float)
    cfg = ((0.3, 0.6, 0.5), "differentiable", [lif.noise_np("probit", 1.5), lif.noise_np("sigmoid", 3.0)])
    _, grad, p_sum = lif.lif_enumeration_np(ws, vs, x, *cfg, lif.recurrent_loss_np)
    assert p_sum == pytest.approx(1.0, abs=1e-13)
    params, h = [*ws, vs[0]], 1e-5
    for i, p in enumerate(params):
        for idx in np.ndindex(p.shape):
            vals = []
            for sign in (1.0, -1.0):
                q = [a.copy() for a in params]
                q[i][idx] += sign * h
                loss = lif.recurrent_loss_np
                vals.append(lif.expected_loss_np(q[:2], [q[2], None], x, cfg[0], cfg[2], loss))
            assert grad[i][idx] == pytest.approx((vals[0] - vals[1]) / (2 * h), abs=1e-8)


# ---------------------------------------------------------------- sg_bias_table


def test_sg_bias_table_criterion_fails_when_the_matched_sg_is_unbiased(monkeypatch):
    """Mutant code: an E[SG] that returns the exact gradient (an unbiased 'SG') passes (b) but
    fails (a), through the same table and verdict; the real table passes both."""
    import analysis.stochastic._bias as bias
    from proofs_numeric import sg_bias_table as claim

    size = {"n_nets": 1, "depths": (1, 2), "betas": (2.0,), "families": ("sigmoid_prime",)}
    real = claim.verdict(bias.sg_bias_table(**size))
    assert real["passed"], real
    exact = lambda net, p, x, surrogates: [bias.exact_value_and_grad(net, p, x)[1] for _ in surrogates]
    monkeypatch.setattr(bias, "exact_sg_mean", exact)
    mutant = claim.verdict(bias.sg_bias_table(**size))
    assert mutant["depth1_exact"] and not mutant["deep_biased"] and not mutant["passed"]
    assert abs(mutant["matched_cosine"][2] - 1.0) < 1e-12


def test_sg_bias_table_criterion_fails_on_a_biased_single_layer():
    """Mutant theory: a depth-1 matched cosine below 1 (a biased single layer) fails (b)."""
    from proofs_numeric.sg_bias_table import verdict

    rows = [
        {"depth": 1, "matched": True, "cosine": 1.0 - 1e-6},
        {"depth": 2, "matched": True, "cosine": 0.97},
    ]
    assert not verdict(rows)["passed"] and verdict(rows)["deep_biased"]
    rows[0]["cosine"] = 1.0
    assert verdict(rows)["passed"]


# ---------------------------------------------------------------- sg_equals_linearised_stochad


def test_sg_equals_linearised_fails_for_a_surrogate_that_is_not_f_prime():
    """Mutant theory ('any surrogate gives the linearised stochastic derivative'): the SG with
    psi = sigmoid' of steepness 6 (the noise has 3) against the matched linearised estimator
    misses the claim's bound by orders of magnitude; the matched SG meets it."""
    import dataclasses

    from analysis import surrogate
    from proofs_numeric import sg_equals_linearised_stochad as claim

    net = claim._networks("quick")[0][0]  # the feedforward depth-3 network (compiles fastest)
    right = claim.sample_gap(net, net, 0, 8)
    wrong = claim.sample_gap(dataclasses.replace(net, surrogate=surrogate("sigmoid_prime", 6.0)), net, 0, 8)
    tol = claim.REL_TOL * max(1.0, right["max_abs_sg"])
    assert right["max_abs_sg"] > 0 and right["max_abs_diff"] <= tol
    assert wrong["max_abs_diff"] > 1e6 * tol


# ---------------------------------------------------------------- fields_exact_conservative


def test_fields_exact_conservative_gradient_theorem_rejects_a_field_that_is_not_the_gradient():
    """On the paper's loop at beta = 5: the exact field meets the arc criterion (rounding);
    an SG field (beta_SG = 10, not a gradient of L) and the exact field against a potential
    of the wrong steepness (beta 5.5) both miss ARC_TOL by orders of magnitude."""
    from analysis import fields
    from proofs_numeric import fields_exact_conservative as claim

    plane, r, lay = fields.paper_plane(), fields.PAPER_RADIUS, fields.FIVE_WEIGHT
    exact = claim.arc_gap(fields.exact_field(lay, 5.0), lay, plane, r, 5.0)
    sg = claim.arc_gap(fields.sg_field(lay, 5.0, 10.0), lay, plane, r, 5.0)
    wrong_l = claim.arc_gap(fields.exact_field(lay, 5.0), lay, plane, r, 5.0, potential_beta=5.5)
    assert exact["arc_gap"] < 1e-13 <= claim.ARC_TOL
    assert sg["arc_gap"] > 1e-2 and wrong_l["arc_gap"] > 1e-3


def test_estimators_unbiased_rejects_disarm_with_one_antithetic_group():
    """A real biased estimator through the claim's own test: DisARM with all draws of a sample
    in one group (tiny network; readout bias -135 % / -874 % of the exact entries) is rejected
    at the claim's per-test level with 3000 samples, while DisARM with the right grouping on
    the same uniforms is not (it fails by chance with probability <= 2e-4)."""
    import jax

    from analysis.stochastic import estimate, exact_value_and_grad
    from proofs_numeric import estimators_unbiased as claim

    net = claim._family("tiny")[0]
    params, x = claim.moderate_instance(net, 10)
    exact = exact_value_and_grad(net, params, x)[1]
    level = claim.ALPHA / 5
    wrong = claim._test_row(
        "tiny",
        "disarm_one_group",
        claim.one_group_disarm(net, params, x, 3000, jax.random.key(0)),
        exact,
        level,
    )
    draw = jax.jit(lambda p: estimate("disarm", net, p, x, 3000, key=jax.random.key(0)))
    right = claim._test_row("tiny", "disarm", draw(params), exact, level)
    assert not wrong["passed"] and right["passed"]
    assert wrong["disagreeing"]  # names the coordinates: the readout weights
    assert right["n"] == wrong["n"] == 3000


def test_estimators_unbiased_sample_size_gives_the_stated_power():
    """n = 1.5 ((z_crit + 1.2816) r / 0.05)^2 rounded up to 1000s, at least 2000: with the SE of
    that n the detectable bias (z_crit + 1.2816) r / sqrt(n) is below 5 % with a margin."""
    from scipy import stats

    from proofs_numeric.estimators_unbiased import REL_BIAS, Z_POWER, sample_size

    level, m = 1e-3 / 25, 12
    z = stats.norm.isf(level / (2 * m))
    for r in (0.3, 1.0, 6.6):
        n = sample_size(r, level, m)
        assert n % 1000 == 0 and n >= 1.5 * ((z + Z_POWER) * r / REL_BIAS) ** 2 > n - 1000
        assert (z + Z_POWER) * r / np.sqrt(n) <= REL_BIAS / np.sqrt(1.5)
    assert sample_size(0.0, level, m) == 2000
