"""Claim (Gygax & Zenke 2025, sec. 4 and Figs. 8-9, beyond enumeration): in stochastic LIF
networks too large to enumerate (the analysis.snn networks that are trained: dense, LIF
readout, MSE-to-target-rate loss), the matched surrogate (psi = f', the smoothed stochastic
derivative) aligns with the unbiased reference better than a mismatched one (SuperSpike,
beta_SG = 4 beta) on feedforward networks at small sizes, and no worse, up to a stated
margin, on a recurrent one.

Reference: the mean of the subsampled unbiased coupled-flip program estimator
(coupled_flip_sub; analysis.stochastic._alignment), checked against exact enumeration in
tests/stochastic/test_alignment.py and tests/stochastic/test_program_estimators.py.
Measured: cosine(E[SG], reference) for the stochastic network with matched and mismatched
surrogates, on feedforward networks with 1 and 2 hidden layers and a recurrent one.

Test: the PAIRED difference d = cos_matched - cos_mismatched. Both cosines share the
reference (and the two SG means share the spikes of their samples), so their errors are
correlated and must not be combined as if independent; the standard error of d is the
delete-one-batch jackknife over the 10 batches of the reference samples, batch i of the SG
samples deleted with batch i of the reference (analysis.stochastic.paired_cos_difference),
and t is referred to Student's t with 9 degrees of freedom (10 jackknife groups). The
decision is the pure function :func:`decide` of the measured rows.

* Feedforward networks, superiority: t = d / SE > t_9^-1(1 - 1e-3) = 4.297. If the matched
  surrogate were in truth no better (d <= 0), a network would pass with probability <= 1e-3;
  a false failure (it is better but the test does not show it) has probability about
  P(T_9 < 4.297 - t), reported per network from the measured t.
* The recurrent network, non-inferiority with margin DELTA = 0.05 (fixed 2026-12-06, before
  the runs below): t = (d + DELTA) / SE > t_9^-1(1 - 0.05) = 1.833, i.e. the one-sided test
  rejects H0: d <= -DELTA (matched worse by 0.05 or more) at level 0.05. Why 0.05: to first
  order a step of fixed length along a direction of cosine c with the true gradient lowers
  the loss by c times the steepest descent's decrease, so a cosine lower by 0.05 is 5 % of
  the possible first-order progress per step; near the cosines measured here (0.9-0.95) it
  is an angle larger by 6-8 degrees. Smaller differences we do not call a loss of alignment;
  the feedforward differences the claim is about are larger (0.12 in the tiny network). The
  margin comes from this argument, not from the measured d.
  Budget, fixed with the margin from the SEs measured before (SE of d = 0.017, 0.015 and
  0.012 with 1000, 2000 and 4000 reference samples, n_sg = 128): quick gives the recurrent
  network n_ref = 4000 (full 10000), n_sg = 128, expected SE 0.012. False-failure rate
  if the two surrogates align equally (d = 0): P(T_9 < 1.833 - 0.05 / 0.012) = 0.02; at
  d = 0.018: 0.002. The keys are fixed, so the quick run repeats the 4000-sample
  measurement made before the margin was chosen: d = 0.0183, SE 0.0123, t = (d + 0.05) / SE
  = 5.56 > 1.833 (34 s for this network alone on the loaded 2-core CPU, 2026-12-06).
  Level of the jackknife t at the margin, checked by simulation (tests/claims/
  test_mutants_equivalence.py: 8000 synthetic experiments of 10 Gaussian batch means with
  cosines 0.90 and 0.95, i.e. d exactly -DELTA, and SE(d) about 0.017, of the order of
  the 0.012-0.020 measured here): rejection
  rate 0.053 (nominal 0.05, binomial SE 0.0024); for the superiority test at d = 0, 8.8e-4
  (nominal 1e-3, SE 1.6e-4, 40000 experiments).
  Superiority of the recurrent network is not claimed: d = 0.018 +- 0.012 there, a small
  difference these budgets do not resolve.

Budget: quick uses 2000 reference samples per feedforward network; with 1000, the two-layer
network's t was 5.3 (estimated false-failure probability 0.18 for a fresh key), with 2000 it
is 7.3 (0.007) and the one-layer network's 11.9.

The deterministic network's SGs are reported alongside. The tiny profile (the default
suite's stand-in) is one small feedforward network with the superiority test, the two
stochastic SGs only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from proofs_numeric._registry import register, result

NAME = "alignment_matched_surrogate"
ALPHA = 1e-3
"""One-sided level of the feedforward superiority tests."""
DELTA = 0.05
"""Non-inferiority margin in cosine for the recurrent network (fixed 2026-12-06)."""
ALPHA_NONINFERIORITY = 0.05
"""One-sided level of the recurrent non-inferiority test."""
DOF = 9
"""Degrees of freedom of the jackknife t: 10 jackknife batches - 1."""
MATCHED, MISMATCHED = "stoch_matched", "stoch_mismatched"


def t_crit(alpha: float, dof: int = DOF) -> float:
    """Upper alpha quantile of Student's t with ``dof`` degrees of freedom."""
    from scipy import stats

    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return float(stats.t.isf(alpha, dof))


def _ratio(num: float, se: float) -> float:
    if se > 0:
        return num / se
    return math.copysign(math.inf, num) if num != 0 else math.nan  # exact reference


def decide(
    rows: Sequence[Mapping],
    delta: float = DELTA,
    alpha: float = ALPHA,
    alpha_noninferiority: float = ALPHA_NONINFERIORITY,
    matched: str = MATCHED,
    mismatched: str = MISMATCHED,
) -> dict:
    """The claim's decision from measured rows (of :func:`analysis.stochastic.alignment_point`:
    ``recurrent``, ``cos_<variant>`` and ``loo_cos_<variant>`` for ``matched`` and
    ``mismatched``). Feedforward rows: superiority, d / SE > t_crit(alpha); recurrent rows:
    non-inferiority, (d + delta) / SE > t_crit(alpha_noninferiority); d and SE from
    :func:`analysis.stochastic.paired_cos_difference`. Returns {"passed", "per_row": [{test,
    paired_difference, paired_se, t, threshold, passed, false_failure_estimate}]} (passed:
    every row passes; no rows is an error)."""
    from scipy import stats

    from analysis.stochastic import paired_cos_difference

    if not rows:
        raise ValueError("rows must hold at least one measured network")
    if not delta >= 0:
        raise ValueError(f"delta must be >= 0, got {delta}")
    per_row = []
    for r in rows:
        d, se = paired_cos_difference(r, matched, mismatched)
        recurrent = bool(r["recurrent"])
        margin, level = (delta, alpha_noninferiority) if recurrent else (0.0, alpha)
        threshold = t_crit(level)
        t = _ratio(d + margin, se)
        per_row.append(
            {
                "test": "non-inferiority" if recurrent else "superiority",
                "margin": margin,
                "alpha": level,
                "paired_difference": d,
                "paired_se": se,
                "t": t,
                "threshold": threshold,
                "passed": bool(t > threshold),
                # P(T_9 < threshold - t): how often a fresh key would fail if the measured
                # difference were the truth
                "false_failure_estimate": (
                    float(stats.t.cdf(threshold - t, DOF)) if math.isfinite(t) else None
                ),
            }
        )
    return {"passed": all(p["passed"] for p in per_row), "per_row": per_row}


def _configs(profile: str):
    from analysis.stochastic import AlignmentConfig

    if profile == "tiny":
        return [AlignmentConfig(depth=1, width=6, steps=12, n_ref=3000, n_sg=200, chunk=500)]
    n_ref = 2000 if profile == "quick" else 10000
    n_ref_recurrent = 4000 if profile == "quick" else 10000
    cfgs = [
        AlignmentConfig(depth=1, width=8, steps=20, n_ref=n_ref, n_sg=128),
        AlignmentConfig(depth=2, width=8, steps=20, n_ref=n_ref, n_sg=128, seed=1),
        AlignmentConfig(depth=1, width=8, steps=20, n_ref=n_ref_recurrent, n_sg=128, seed=2, recurrent=True),
    ]
    if profile == "full":
        cfgs += [
            AlignmentConfig(depth=2, width=32, steps=40, n_ref=n_ref, n_sg=512, seed=3),
            AlignmentConfig(depth=3, width=16, steps=40, n_ref=n_ref, n_sg=512, seed=4),
        ]
    return cfgs


@register(
    NAME,
    "Stochastic LIF nets of analysis.snn (small sizes): the matched surrogate aligns with the "
    "unbiased coupled-flip reference better than a mismatched surrogate on feedforward nets, "
    "and not worse by 0.05 in cosine on a recurrent one (paired one-sided tests, jackknife SE).",
    tiny=True,
)
def check(profile: str = "quick"):
    from analysis.stochastic import alignment_point
    from analysis.stochastic._alignment_sweep import METHODS

    methods = (MATCHED, MISMATCHED) if profile == "tiny" else METHODS
    rows = [alignment_point(cfg, methods) for cfg in _configs(profile)]
    decision = decide(rows)
    for r, p in zip(rows, decision["per_row"], strict=True):
        r.update(p)
        r["se_if_independent"] = (r[f"cos_se_{MATCHED}"] ** 2 + r[f"cos_se_{MISMATCHED}"] ** 2) ** 0.5
    ts = [p["t"] for p in decision["per_row"]]
    superiority = [p["t"] for p in decision["per_row"] if p["test"] == "superiority"]
    n_rec = len(rows) - len(superiority)
    return result(
        NAME,
        min(superiority) if superiority else min(ts),
        0.0,
        t_crit(ALPHA),
        decision["passed"],
        rows=rows,
        t_per_network=ts,
        alpha=ALPHA,
        t_crit=t_crit(ALPHA),
        noninferiority_margin=DELTA,
        noninferiority_alpha=ALPHA_NONINFERIORITY,
        noninferiority_t_crit=t_crit(ALPHA_NONINFERIORITY),
        criterion=(
            f"d = cos_matched - cos_mismatched, SE the paired delete-one-batch jackknife over 10 "
            f"reference batches (Student t, {DOF} dof): d / SE > {t_crit(ALPHA):.3f} for each of "
            f"{len(superiority)} feedforward network(s) (superiority, one-sided level {ALPHA:g})"
            + (
                f" and (d + {DELTA}) / SE > {t_crit(ALPHA_NONINFERIORITY):.3f} for the recurrent one "
                f"(non-inferiority, margin {DELTA}, one-sided level {ALPHA_NONINFERIORITY:g})"
                if n_rec
                else ""
            )
        ),
    )
