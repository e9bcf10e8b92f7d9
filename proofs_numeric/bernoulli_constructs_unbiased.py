"""Claim: the Bernoulli stochastic-derivative constructs (right/left triples, two-sided,
straight-through weighting and their smoothed versions) are unbiased for d/dp E[X] = 1,
and their sample variances match the closed forms.

Arya et al. (NeurIPS 2022); Gygax & Zenke 2025, sec. 4 and Fig. 3.
References: the exact expectation by enumeration over X in {0, 1} (using the per-sample
values at X = 0 and X = 1) must equal 1; Monte-Carlo means (fixed keys) must lie within
K_SE standard errors of 1, SE = sqrt(var/n); sample variances within K_SE standard errors
of the closed-form variance, with SE of the sample variance sqrt((mu4 - var^2)/n) from the
exact fourth central moment mu4 of the two-point distribution. With K_SE = 4.5 the
false-failure probability is 6.8e-6 per comparison, < 1e-3 over all comparisons (Bonferroni).
Straight-through has zero variance: its samples must equal 1 to 1e-12.
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._foundation import FALSE_FAILURE_PER_TEST, K_SE
from proofs_numeric._registry import register, result

NAME = "bernoulli_constructs_unbiased"
P_GRID = (0.05, 0.2, 0.5, 0.8, 0.95)


def _two_point(p, construct):
    """Values (v0, v1) of the estimate at X = 0 and X = 1 (library), exact mean, var, mu4."""
    from analysis.neuron import bernoulli_jump_weights

    v0 = float(bernoulli_jump_weights(0.0, p, construct))
    v1 = float(bernoulli_jump_weights(1.0, p, construct))
    mean = (1 - p) * v0 + p * v1
    var = (1 - p) * (v0 - mean) ** 2 + p * (v1 - mean) ** 2
    mu4 = (1 - p) * (v0 - mean) ** 4 + p * (v1 - mean) ** 4
    return mean, var, mu4


def _one(key, p, construct, n):
    from analysis.neuron import bernoulli_construct_moments, bernoulli_derivative_samples

    d = np.asarray(bernoulli_derivative_samples(key, p, n, construct), dtype=np.float64)
    m_cf, v_cf = (float(a) for a in bernoulli_construct_moments(p, construct))
    exact_mean, exact_var, mu4 = _two_point(p, construct)
    mean, var = float(d.mean()), float(d.var(ddof=1))
    if v_cf == 0.0:  # deterministic estimate: every sample must be 1 (in units of 1e-12)
        z_mean = z_var = float(np.max(np.abs(d - 1.0))) / 1e-12 * K_SE
    else:
        se_mean = np.sqrt(v_cf / n)
        se_var = np.sqrt((mu4 - v_cf**2) / n + 2 * v_cf**2 / (n * (n - 1)))
        z_mean, z_var = abs(mean - m_cf) / se_mean, abs(var - v_cf) / se_var
    ok = (
        abs(exact_mean - 1.0) < 1e-12
        and abs(exact_var - v_cf) <= 1e-12 * max(1.0, v_cf)
        and m_cf == 1.0
        and z_mean <= K_SE
        and z_var <= K_SE
    )
    return dict(
        p=p,
        construct=construct,
        mean=mean,
        var=var,
        closed_var=v_cf,
        z_mean=float(z_mean),
        z_var=float(z_var),
        ok=bool(ok),
    )


@register(
    NAME,
    "All Bernoulli stochastic-derivative constructs are unbiased for d/dp E[X] (exact "
    "enumeration and Monte Carlo within 4.5 SE) and their variances match the closed forms.",
)
def check(profile: str = "quick"):
    import jax

    from analysis.neuron import BERNOULLI_CONSTRUCTS

    n = 200_000 if profile == "quick" else 4_000_000
    key = jax.random.key(31415)
    rows = []
    for i, p in enumerate(P_GRID):
        for j, c in enumerate(BERNOULLI_CONSTRUCTS):
            rows.append(_one(jax.random.fold_in(key, 100 * i + j), p, c, n))
    worst = max(max(r["z_mean"], r["z_var"]) for r in rows)
    return result(
        NAME,
        worst,
        0.0,
        K_SE,
        all(r["ok"] for r in rows),
        criterion="max over (p, construct) of |MC - closed form| / SE for mean and variance <= K_SE; "
        "exact enumeration mean == 1",
        n_samples=n,
        p_grid=P_GRID,
        k_se=K_SE,
        false_failure_per_test=FALSE_FAILURE_PER_TEST,
        n_tests=2 * len(rows),
        rows=rows,
    )
