"""The equivalence / non-inferiority / superiority criteria of alignment_matched_surrogate and
snn_randman_accuracy: their statistics against independent references (scipy's Welch test,
a simulation with known truth), and mutations (the thing each claim rules out, fed in) that
the same decision function rejects. That the real tiny data pass is asserted by
tests/claims/test_claims.py (the claims' stand-ins run the same decision functions); the
real-data mutants here run with --runslow."""

import math

import numpy as np
import pytest
from scipy import stats

from proofs_numeric import alignment_matched_surrogate as align
from proofs_numeric import snn_randman_accuracy as randman

B = 10  # jackknife batches


# ------------------------------------------------------------------ synthetic alignment data
def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _cos(a, b):
    return np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def _synthetic(n_sims, c_a, c_b, *, seed, snr_ref=20.0, snr_sg=5.0, rho=0.5, p=40):
    """Batch means of a reference and two SG estimates for ``n_sims`` independent
    experiments: true reference r (unit, p coordinates), SG means g_a, g_b with cos(g_a, r) =
    c_a and cos(g_b, r) = c_b exactly; 10 Gaussian batch means each (the mean of a batch of
    hundreds of samples is close to Gaussian), noise such that the overall mean has
    signal-to-noise ||mean|| / ||SE|| = snr_ref (reference; 22 in the tiny network) and
    snr_sg (SGs), the two SGs' noise correlated rho (shared spikes). Returns (ref, ga, gb),
    each [n_sims, 10, p]."""
    rng = np.random.default_rng(seed)
    r = _unit(rng.normal(size=p))
    u = rng.normal(size=(2, p))
    u = _unit(u - (u @ r)[:, None] * r)
    g_a = c_a * r + math.sqrt(1 - c_a**2) * u[0]
    g_b = c_b * r + math.sqrt(1 - c_b**2) * u[1]
    s_r, s_g = math.sqrt(B / p) / snr_ref, math.sqrt(B / p) / snr_sg  # per-batch-mean SDs
    ref = r + s_r * rng.normal(size=(n_sims, B, p))
    z1, z2 = rng.normal(size=(2, n_sims, B, p))
    ga = g_a + s_g * z1
    gb = g_b + s_g * (rho * z1 + math.sqrt(1 - rho**2) * z2)
    return ref, ga, gb


def _paired_t(ref, ga, gb, margin):
    """Vectorised (d + margin) / SE with the paired delete-one-batch jackknife (the claim's
    statistic, checked against the library's below)."""
    loo = lambda x: (x.sum(1, keepdims=True) - x) / (B - 1)
    d = _cos(ga.mean(1), ref.mean(1)) - _cos(gb.mean(1), ref.mean(1))
    dl = _cos(loo(ga), loo(ref)) - _cos(loo(gb), loo(ref))
    se = np.sqrt((B - 1) / B * np.sum((dl - dl.mean(1, keepdims=True)) ** 2, 1))
    return (d + margin) / se


def _row(ref, ga, gb, recurrent):
    """A measured row as alignment_point writes it, from one experiment's batch means."""
    loo = lambda x: (x.sum(0) - x) / (B - 1)
    return {
        "recurrent": recurrent,
        "cos_stoch_matched": float(_cos(ga.mean(0), ref.mean(0))),
        "cos_stoch_mismatched": float(_cos(gb.mean(0), ref.mean(0))),
        "loo_cos_stoch_matched": _cos(loo(ga), loo(ref)).tolist(),
        "loo_cos_stoch_mismatched": _cos(loo(gb), loo(ref)).tolist(),
    }


def test_vectorised_statistic_is_the_claims():
    ref, ga, gb = _synthetic(3, 0.9, 0.95, seed=1)
    t = _paired_t(ref, ga, gb, align.DELTA)
    for i in range(3):
        row = _row(ref[i], ga[i], gb[i], recurrent=True)
        assert align.decide([row])["per_row"][0]["t"] == pytest.approx(t[i], rel=1e-12)


def _binomial_band(rate, alpha, n):
    """|rate - alpha| <= 3 binomial SEs: fails by chance with probability 0.0027 if the
    test's level is exactly alpha."""
    return abs(rate - alpha) <= 3 * math.sqrt(alpha * (1 - alpha) / n)


def test_noninferiority_level_at_the_margin_is_nominal():
    """Truth exactly at the margin (matched cosine 0.90, mismatched 0.95: d = -0.05 = -DELTA):
    the jackknife t test rejects H0 (declares non-inferiority) at rate ALPHA_NONINFERIORITY =
    0.05 within 3 binomial SEs (n = 8000: SE 0.0024; measured 0.053).
    The noise gives SE(d) about 0.017, as in the recurrent network."""
    n = 8000
    t = _paired_t(*_synthetic(n, 0.90, 0.95, seed=2), align.DELTA)
    rate = float(np.mean(t > align.t_crit(align.ALPHA_NONINFERIORITY)))
    assert _binomial_band(rate, align.ALPHA_NONINFERIORITY, n), rate


def test_superiority_level_at_zero_difference_is_nominal():
    """Truth d = 0 (both cosines 0.9): the superiority test's rejection rate is ALPHA = 1e-3
    within 3 binomial SEs (n = 40000: SE 1.6e-4; measured 8.8e-4)."""
    n = 40000
    t = _paired_t(*_synthetic(n, 0.9, 0.9, seed=3, p=10), 0.0)
    rate = float(np.mean(t > align.t_crit(align.ALPHA)))
    assert _binomial_band(rate, align.ALPHA, n), rate


def test_alignment_decision_on_synthetic_truths():
    """One experiment each (fixed seeds; SG signal-to-noise 10, SE(d) about 0.009): matched
    better by 0.12 (feedforward, superiority: t = 15.9 > 4.30) passes; equal on a recurrent
    network passes non-inferiority (t = 6.1 > 1.83; over 4000 fresh seeds it failed at rate
    0.002); the mutants fail (matched worse by 0.1 on the recurrent network: t = -5.1; over
    4000 fresh seeds it never passed)."""
    good_ff = _row(*(a[0] for a in _synthetic(1, 0.95, 0.83, seed=4, snr_sg=10.0)), recurrent=False)
    equal_rec = _row(*(a[0] for a in _synthetic(1, 0.92, 0.92, seed=5, snr_sg=10.0)), recurrent=True)
    assert align.decide([good_ff, equal_rec])["passed"]
    # mutant: matched worse than mismatched by 0.1 (twice the margin) on the recurrent net
    worse_rec = _row(*(a[0] for a in _synthetic(1, 0.85, 0.95, seed=6, snr_sg=10.0)), recurrent=True)
    out = align.decide([good_ff, worse_rec])
    assert not out["passed"] and out["per_row"][0]["passed"] and not out["per_row"][1]["passed"]
    # mutant: a feedforward net where the two surrogates align equally (no superiority)
    equal_ff = dict(equal_rec, recurrent=False)
    assert not align.decide([equal_ff])["passed"]
    # mutant: the mismatched SG passed off as matched (labels swapped)
    assert not align.decide([_swap(good_ff)])["passed"]


def _swap(row):
    out = dict(row)
    for k in ("cos_", "loo_cos_"):
        a, b = k + "stoch_matched", k + "stoch_mismatched"
        out[a], out[b] = row[b], row[a]
    return out


def test_alignment_decision_rejects_bad_input():
    with pytest.raises(ValueError, match="rows"):
        align.decide([])
    with pytest.raises(ValueError, match="delta"):
        align.decide([{"recurrent": True}], delta=-0.1)


@pytest.mark.slow
def test_real_tiny_alignment_passes_and_fails_with_the_surrogates_swapped():
    """The tiny network measured for real; the mismatched surrogate's SGs passed off as the
    matched ones (the claim's theory wrong) fail the same criterion."""
    r = align.check("tiny")
    assert r.passed, r.details
    (row,) = r.details["rows"]
    assert not align.decide([_swap(row)])["passed"]
    assert not align.decide([dict(row, recurrent=True, **_swap_cos(row, 0.1))])["passed"]


def _swap_cos(row, worse):
    """The matched cosines made ``worse`` lower than the mismatched ones (replicates too)."""
    mis = np.asarray(row["loo_cos_stoch_mismatched"])
    return {
        "cos_stoch_matched": row["cos_stoch_mismatched"] - worse,
        "loo_cos_stoch_matched": (mis - worse).tolist(),
    }


# ------------------------------------------------------------------ randman TOST
def test_tost_statistics_match_scipy_welch():
    """Hand-made accuracies: the two one-sided Welch tests equal scipy's ttest_ind
    (equal_var=False) on the shifted samples."""
    det = [0.93, 0.91, 0.95, 0.90, 0.94, 0.92]
    sto = [0.90, 0.93, 0.87, 0.91, 0.89, 0.92, 0.88]
    m = randman.MARGIN
    d = randman.decide(det, sto, 5)
    lower = stats.ttest_ind(np.add(det, m), sto, equal_var=False, alternative="greater")
    upper = stats.ttest_ind(np.subtract(det, m), sto, equal_var=False, alternative="less")
    assert d["t_lower"] == pytest.approx(lower.statistic, rel=1e-12)
    assert d["t_upper"] == pytest.approx(-upper.statistic, rel=1e-12)
    assert d["p_tost"] == pytest.approx(max(lower.pvalue, upper.pvalue), rel=1e-9)
    assert d["dof"] == pytest.approx(lower.df, rel=1e-12)
    assert d["equivalent"] == (max(lower.pvalue, upper.pvalue) < randman.ALPHA)
    assert d["ci"][0] > -m and d["ci"][1] < m and d["passed"]


def _tost_vectorised(det, sto, margin=randman.MARGIN, alpha=randman.ALPHA):
    """TOST (Welch) for each row of det [n, k] and sto [n, k] (checked against decide below)."""
    k_d, k_s = det.shape[1], sto.shape[1]
    v_d, v_s = det.var(1, ddof=1) / k_d, sto.var(1, ddof=1) / k_s
    se = np.sqrt(v_d + v_s)
    dof = (v_d + v_s) ** 2 / (v_d**2 / (k_d - 1) + v_s**2 / (k_s - 1))
    gap = det.mean(1) - sto.mean(1)
    tc = stats.t.isf(alpha, dof)
    return ((gap + margin) / se > tc) & ((margin - gap) / se > tc)


def test_tost_level_at_the_margin_and_power_formula():
    """Simulated seeds (normal, SDs 0.024 and 0.019 as measured in the tiny profile, 8 seeds
    each; n = 20000 experiments): with the true gap exactly at the margin the TOST passes at
    rate <= 0.05 + 3 binomial SEs (measured 0.049); at gap 0 its pass rate is the power
    tost_power predicts (0.987) within 3 binomial SEs + 0.01 (the formula treats the SE as
    known; measured 0.994)."""
    rng = np.random.default_rng(7)
    n, k, sd = 20000, 8, (0.024, 0.019)

    def experiments(gap):
        return 0.8 + gap + sd[0] * rng.normal(size=(n, k)), 0.8 + sd[1] * rng.normal(size=(n, k))

    det, sto = experiments(randman.MARGIN)
    passed = _tost_vectorised(det, sto)
    for i in range(40):  # the vectorised test is the claim's decision
        assert passed[i] == randman.decide(det[i], sto[i], 5)["equivalent"]
    assert passed.mean() <= randman.ALPHA + 3 * math.sqrt(0.05 * 0.95 / n)
    se = math.sqrt((sd[0] ** 2 + sd[1] ** 2) / k)
    v = (sd[0] ** 2 / k, sd[1] ** 2 / k)
    dof = sum(v) ** 2 / sum(x**2 / (k - 1) for x in v)
    power = randman.tost_power(0.0, se, dof)
    rate = _tost_vectorised(*experiments(0.0)).mean()
    assert abs(rate - power) <= 3 * math.sqrt(power * (1 - power) / n) + 0.01, (rate, power)


def test_randman_mutants_fail():
    """Per-seed accuracies like the tiny profile's (8 seeds): the real-like case passes; a
    broken stochastic network (chance, 0.2), one 0.1 worse (twice the margin), too few seeds
    to resolve the margin, and a deterministic network at the ceiling all fail."""
    rng = np.random.default_rng(11)
    det = np.clip(0.944 + 0.024 * rng.normal(size=8), 0, 1)
    sto = np.clip(0.925 + 0.019 * rng.normal(size=8), 0, 1)
    assert randman.decide(det, sto, 5)["passed"]
    chance = randman.decide(det, 0.2 + 0.02 * rng.normal(size=8), 5)
    assert not chance["passed"] and not chance["in_range"] and not chance["equivalent"]
    worse = randman.decide(det, sto - 0.1, 5)
    assert not worse["passed"] and worse["in_range"] and not worse["equivalent"]
    few = randman.decide(det[:2], sto[:2] - 0.03, 5)  # 2 seeds: the CI is far wider than 0.05
    assert not few["passed"] and few["power_at_zero_gap"] < 0.2
    ceiling = randman.decide(np.full(8, 0.99) - 0.001 * np.arange(8), np.full(8, 0.985), 5)
    assert ceiling["equivalent"] and not ceiling["passed"]


def test_randman_decision_rejects_bad_input():
    with pytest.raises(ValueError, match="acc_det"):
        randman.decide([0.9], [0.9, 0.8], 5)
    with pytest.raises(ValueError, match="acc_stoch"):
        randman.decide([0.9, 0.8], [0.9, 1.2], 5)
    with pytest.raises(ValueError, match="n_classes"):
        randman.decide([0.9, 0.8], [0.9, 0.8], 1)
    with pytest.raises(ValueError, match="alpha"):
        randman.decide([0.9, 0.8], [0.9, 0.8], 5, alpha=0.6)
    with pytest.raises(ValueError, match="margin"):
        randman.decide([0.9, 0.8], [0.9, 0.8], 5, margin=0.0)


@pytest.mark.slow
def test_real_tiny_randman_passes_and_fails_with_a_broken_stochastic_network():
    r = randman.check("tiny")
    assert r.passed, r.details
    acc = r.details["test_acc_per_seed"]
    det, sto = acc["deterministic"], acc["stochastic"]
    assert not randman.decide(det, [0.2 + 0.01 * i for i in range(len(sto))], 5)["passed"]
    assert not randman.decide(det, np.subtract(sto, 0.1), 5)["passed"]
