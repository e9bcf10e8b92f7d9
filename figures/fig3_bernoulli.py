"""Figure 3: stochastic derivatives of a Bernoulli variable X ~ Ber(p) vs p.

Gygax & Zenke (2025), Fig. 3 and sec. 4; Arya et al. (NeurIPS
2022). (a) Means of the per-sample estimates of d/dp E[X] = 1 for the right and left
triples, their smoothed versions, the two-sided triple and the straight-through weighting:
Monte-Carlo points with +-1 SE error bars against the closed form (all unbiased).
(b) Their variances: MC points (+-1 SE of the sample variance, from the fourth moment)
against the closed forms p/(1-p), (1-p)/p, 1/(4p(1-p)) - 1 and 0.
(c) A nonlinear downstream g: all four triples (right, left, two-sided, straight-through)
stay unbiased for d/dp E[g(X)] = g(1) - g(0), the four smoothed constructs converge to
tangents (g'(0), g'(1), their p-weighted mix). Panels are lettered A-C in the figure.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from analysis.neuron import bernoulli_construct_moments, bernoulli_derivative_samples, bernoulli_jump_weights
from figures._style import figure, letters, save

SHOWN = ("right", "left", "smoothed_right", "smoothed_left", "two_sided", "straight_through")
COLORS = {
    "right": "C0",
    "left": "C3",
    "smoothed_right": "C0",
    "smoothed_left": "C3",
    "two_sided": "C2",
    "straight_through": "k",
    "smoothed_two_sided": "C2",
    "smoothed_straight_through": "k",
}
SHORT = {
    "right": "right",
    "left": "left",
    "two_sided": "2-sided",
    "straight_through": "ST",
    "smoothed_right": "sm. right",
    "smoothed_left": "sm. left",
    "smoothed_two_sided": "sm. 2-sided",
    "smoothed_straight_through": "sm. ST",
}
OFFSET = {c: 0.004 * (i - 2.5) for i, c in enumerate(SHOWN)}
TRIPLES = ("right", "left", "two_sided", "straight_through")
NONLINEAR_SHOWN = TRIPLES + tuple(f"smoothed_{c}" for c in TRIPLES)


def g(s):
    """Nonlinear downstream function of the spike used in panel (c)."""
    return (s - 0.2) ** 2 + 0.5 * jnp.sin(3.0 * s)


def _mc(key, ps, construct, n, fn=None):
    means, se_means, var, se_var = [], [], [], []
    for i, p in enumerate(ps):
        d = np.asarray(bernoulli_derivative_samples(jax.random.fold_in(key, i), float(p), n, construct, g=fn))
        v0, v1 = (float(bernoulli_jump_weights(x, float(p), construct)) for x in (0.0, 1.0))
        m = (1 - p) * v0 + p * v1
        var_exact = (1 - p) * (v0 - m) ** 2 + p * (v1 - m) ** 2
        mu4 = (1 - p) * (v0 - m) ** 4 + p * (v1 - m) ** 4
        means.append(d.mean()), se_means.append(d.std(ddof=1) / np.sqrt(n))
        var.append(d.var(ddof=1)), se_var.append(np.sqrt(max(mu4 - var_exact**2, 0.0) / n))
    return [np.asarray(a) for a in (means, se_means, var, se_var)]


def _smoothed_mean(p, construct):
    """E[g'(X) delta~(X)] by enumeration over X in {0, 1} (the smoothed estimate's mean)."""
    dg = jax.grad(g)
    return sum(
        w * float(dg(x)) * float(bernoulli_jump_weights(x, p, construct)) for x, w in ((0.0, 1 - p), (1.0, p))
    )


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    n, n_p = (20_000, 13) if profile == "quick" else (400_000, 33)
    ps_mc = np.linspace(0.06, 0.94, n_p)
    ps = np.linspace(0.02, 0.98, 197)
    key = jax.random.key(3)
    fig, (a, b, c) = figure(1, 3, size=(8.0, 3.7))
    data = {"p_line": ps, "p_mc": ps_mc, "n_samples": n, "mc": {}, "closed_form": {}}
    for j, con in enumerate(SHOWN):
        m, sm, v, sv = _mc(jax.random.fold_in(key, j), ps_mc, con, n)
        cm, cv = (np.asarray(x) for x in bernoulli_construct_moments(jnp.asarray(ps), con))
        ls = "--" if con.startswith("smoothed") else "-"
        mk = "s" if con.startswith("smoothed") else "o"
        x = ps_mc + OFFSET[con]
        a.errorbar(
            x,
            m,
            yerr=sm,
            fmt=mk,
            ms=2.5,
            lw=0.7,
            color=COLORS[con],
            mfc="none" if ls == "--" else None,
            label=con.replace("_", " "),
        )
        b.errorbar(
            x, v, yerr=sv, fmt=mk, ms=2.5, lw=0.7, color=COLORS[con], mfc="none" if ls == "--" else None
        )
        b.plot(ps, np.maximum(cv, 1e-4), ls=ls, lw=1, color=COLORS[con])
        data["mc"][con] = {"mean": m, "se_mean": sm, "var": v, "se_var": sv}
        data["closed_form"][con] = {"mean": cm, "var": cv}
    a.axhline(1.0, color="0.4", lw=1, zorder=0, label="closed form $d/dp\\,E[X]=1$")
    a.set(title="mean ($g$ = identity)", xlabel="p", ylabel="mean of estimate", ylim=(0.9, 1.1))
    fig.legend(
        *a.get_legend_handles_labels(), loc="outside lower center", ncol=7, frameon=False, fontsize=6.5
    )
    b.set(
        title="variance (lines: closed form;\nsmoothed = triple for $g$ = id)",
        xlabel="p",
        ylabel="variance",
        yscale="log",
        ylim=(1e-4, 100),
    )
    b.text(0.5, 1.6e-4, "straight-through: 0", ha="center", fontsize=7)
    data["nonlinear"] = _nonlinear_panel(c, jax.random.fold_in(key, 99), ps, ps_mc, n)
    for ax in (a, b, c):
        ax.title.set_fontsize(8)
    letters((a, b, c))
    caption = {
        "n_samples": n,
        "n_p": n_p,
        "p_range": [float(ps_mc[0]), float(ps_mc[-1])],
        "mean_errorbars": f"+-1 SE of the mean over n = {n} samples",
        "variance_errorbars": f"+-1 SE of the sample variance (from the fourth central moment), n = {n}",
        "constructs_a_b": list(SHOWN),
        "constructs_c": list(NONLINEAR_SHOWN),
        "g": "g(s) = (s - 0.2)^2 + 0.5 sin(3 s)",
    }
    return save(fig, out_dir, "fig3_bernoulli", data, profile=profile, seeds=[3], caption=caption)


def _nonlinear_panel(ax, key, ps, ps_mc, n):
    truth = float(g(1.0) - g(0.0))
    out = {"truth": truth}
    ax.axhline(truth, color="0.4", lw=1.2, label="exact")
    for j, con in enumerate(NONLINEAR_SHOWN):
        m, sm, _, _ = _mc(jax.random.fold_in(key, j), ps_mc, con, n, fn=g)
        pred = (
            np.array([_smoothed_mean(p, con) for p in ps])
            if con.startswith("smoothed")
            else np.full_like(ps, truth)
        )
        smoothed = con.startswith("smoothed")
        ax.errorbar(
            ps_mc + 0.006 * (j % 4 - 1.5),
            m,
            yerr=sm,
            fmt="s" if smoothed else "o",
            ms=2.5,
            lw=0.7,
            color=COLORS[con],
            mfc="none" if smoothed else None,
            label=SHORT[con],
        )
        ax.plot(ps, pred, ls="--", lw=0.9, color=COLORS[con])
        out[con] = {"mc_mean": m, "se": sm, "predicted": pred}
    ax.set(
        title="nonlinear $g$: all 4 triples unbiased;\nsmoothed biased (dashed: predicted)",
        xlabel="p",
        ylabel="mean of estimate of $d/dp\\,E[g(X)]$",
        ylim=(0.0, 1.85),
    )
    ax.legend(frameon=False, fontsize=5.5, loc="upper right", ncol=3, handlelength=1.2, columnspacing=0.6)
    return out
