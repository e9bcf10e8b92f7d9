"""Claim (Gygax & Zenke 2025, sec. 4, beyond enumeration): in stochastic LIF networks too
large to enumerate (the analysis.snn networks that are trained: dense, LIF readout,
MSE-to-target-rate loss), the
matched surrogate (psi = f', the smoothed stochastic derivative) aligns with the unbiased
reference better than a mismatched one (SuperSpike, beta_SG = 4 beta) on feedforward
networks at small sizes, and no worse on a recurrent one.

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
and t = d / SE_d is referred to Student's t with 9 degrees of freedom (10 jackknife groups).

* Feedforward networks, superiority: t > t_crit = t_9^-1(1 - alpha), alpha = 1e-3 one-sided.
  If the matched surrogate were in truth no better (d <= 0), a network would pass with
  probability <= 1e-3 (up to the jackknife's t approximation). A false failure (it is better
  but the test does not show it) has probability about P(T_9 < t_crit - t), reported per
  network from the measured t.
* The recurrent network, non-inferiority without margin: t > -t_crit, i.e. the test of
  H0: d >= 0 at the same one-sided level does not find the matched surrogate worse (false-
  failure rate <= 1e-3 when it is at least as good). Its superiority is not claimed: measured
  after this test was designed, d = 0.035 +- 0.017 (t = 2.0) with 1000 reference samples,
  0.018 +- 0.015 (t = 1.2) with 2000 (quick) and 0.018 +- 0.012 with 4000 -- a small
  difference that these budgets do not resolve, reported in the details.

Budget: quick uses 2000 reference samples per network; with 1000, the two-layer network's
t was 5.3 (estimated false-failure probability 0.18 for a fresh key), with 2000 it is 7.3
(0.007) and the one-layer network's 11.9.

The deterministic network's SGs are reported alongside. The tiny profile (the default
suite's stand-in) is one small feedforward network with the superiority test, the two
stochastic SGs only.
"""

from __future__ import annotations

from proofs_numeric._registry import register, result

NAME = "alignment_matched_surrogate"
ALPHA = 1e-3


def _configs(profile: str):
    from analysis.stochastic import AlignmentConfig

    if profile == "tiny":
        return [AlignmentConfig(depth=1, width=6, steps=12, n_ref=3000, n_sg=200, chunk=500)]
    n_ref = 2000 if profile == "quick" else 10000
    cfgs = [
        AlignmentConfig(depth=1, width=8, steps=20, n_ref=n_ref, n_sg=128),
        AlignmentConfig(depth=2, width=8, steps=20, n_ref=n_ref, n_sg=128, seed=1),
        AlignmentConfig(depth=1, width=8, steps=20, n_ref=n_ref, n_sg=128, seed=2, recurrent=True),
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
    "and no worse on a recurrent one (paired one-sided tests, jackknife SE).",
    tiny=True,
)
def check(profile: str = "quick"):
    from scipy import stats

    from analysis.stochastic import alignment_point, paired_cos_difference
    from analysis.stochastic._alignment_sweep import METHODS

    rows, ts = [], []
    dof = 9  # 10 jackknife batches
    t_crit = float(stats.t.isf(ALPHA, dof))
    methods = ("stoch_matched", "stoch_mismatched") if profile == "tiny" else METHODS
    ok = True
    for cfg in _configs(profile):
        r = alignment_point(cfg, methods)
        d, se = paired_cos_difference(r, "stoch_matched", "stoch_mismatched")
        t = d / se if se > 0 else float("nan")
        test = "non-inferiority" if cfg.recurrent else "superiority"
        ok &= t > (-t_crit if cfg.recurrent else t_crit)
        r.update(
            test=test,
            paired_difference=d,
            paired_se=se,
            t=t,
            false_failure_estimate=float(stats.t.cdf(t_crit - t, dof)) if not cfg.recurrent else None,
            se_if_independent=(r["cos_se_stoch_matched"] ** 2 + r["cos_se_stoch_mismatched"] ** 2) ** 0.5,
        )
        ts.append(t)
        rows.append(r)
    superiority = [t for t, r in zip(ts, rows, strict=True) if not r["recurrent"]]
    return result(
        NAME,
        min(superiority),
        0.0,
        t_crit,
        ok,
        rows=rows,
        t_per_network=ts,
        alpha=ALPHA,
        t_crit=t_crit,
        criterion=(
            f"t = (cos_matched - cos_mismatched) / SE, SE the paired delete-one-batch jackknife over "
            f"10 reference batches (Student t, {dof} dof): t > {t_crit:.3f} for each of "
            f"{len(superiority)} feedforward network(s) (superiority, one-sided level {ALPHA:g}) "
            + (
                f"and t > {-t_crit:.3f} for the recurrent one (not worse)"
                if len(rows) > len(superiority)
                else ""
            )
        ),
    )
