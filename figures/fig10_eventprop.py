"""Figure 10 (beyond the paper): three gradients of one spiking network. EventProp (the exact
gradient of the continuous-time network; Wunderlich & Pehle 2021) against SG-BPTT of the
network discretised at bin dt (SuperSpike surrogate of steepness beta_SG) and against the
gradient of the expected loss of the escape-noise network (sigmoid noise of steepness beta at
dt = 1 ms; unbiased coupled-flip estimator, Arya et al. 2022; Gygax & Zenke 2025, sec. 4)
(:mod:`analysis.eventprop._compare`; network: 20 Poisson inputs -> 12 LIF -> 3 leaky
integrators, tau_mem 10 ms = 2 tau_syn, 50 ms, batch 4, loss cross-entropy of the max-over-time
readout; two instances, seeds 1 and 2, as the claims).

(A) cosine of the hidden-weight gradients, SG vs EventProp, against dt, one line per beta_SG;
(B) ||g_hidden,SG|| / ||g_hidden,EP|| against dt, with a 1/dt guide; (C) relative difference
of the readout-weight gradients (no spike derivative) and of the loss against dt; (D) cosine of
grad E[L] of the escape-noise network with EventProp, and of the SG at the same dt (matched
psi = f', SuperSpike beta_SG = beta) with grad E[L], against beta (hidden weights). Error bars in
(D): +-2 jackknife SE over 10 batches of the estimator's samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._style import BETA_SG, figure, letters, save

NAME = "fig10_eventprop"


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    from analysis.eventprop._compare import COMPARE_PROFILES, CompareSetup, compare_gradients

    g = COMPARE_PROFILES[profile]
    runs = [
        compare_gradients(
            CompareSetup(seed=s),
            dts=g["dts"],
            beta_sgs=g["beta_sgs"],
            betas=g["betas"],
            dt_noise=g["dt_noise"],
            n_samples=g["n_samples"],
        )
        for s in g["seeds"]
    ]
    return plot(runs, out_dir, profile=profile)


def _series(run, beta_sg, field):
    rows = sorted((r for r in run["sg"] if r["beta_sg"] == beta_sg), key=lambda r: r["dt"])
    return np.array([r["dt"] for r in rows]) * 1e3, np.array([r[field] for r in rows])


def plot(runs: list[dict], out_dir: Path, *, profile: str | None = None) -> list[Path]:
    """Draw the outputs of :func:`analysis.eventprop._compare.compare_gradients` (one per seed)."""
    fig, axs = figure(1, 4, size=(12.0, 3.3))
    beta_sgs = sorted({r["beta_sg"] for r in runs[0]["sg"]})
    colors = {b: f"C{i}" for i, b in enumerate(beta_sgs)}
    markers = ("o", "s", "^", "v")
    for k, run in enumerate(runs):
        m, seed = markers[k % len(markers)], run["setup"]["seed"]
        for b in beta_sgs:
            dt, cos = _series(run, b, "cos_hidden")
            label = f"{BETA_SG} = {b:g}" if k == 0 else None
            axs[0].plot(dt, cos, color=colors[b], marker=m, ms=3, lw=1, label=label)
            dt, norm = _series(run, b, "norm_hidden")
            axs[1].plot(dt, norm / run["eventprop"]["norm_hidden"], color=colors[b], marker=m, ms=3, lw=1)
        dt, rel = _series(run, beta_sgs[0], "rel_readout")
        axs[2].plot(dt, rel, color="k", marker=m, ms=3, lw=1, label="readout gradient" if k == 0 else None)
        dt, loss = _series(run, beta_sgs[0], "loss")
        rel_loss = np.abs(loss - run["eventprop"]["loss"]) / abs(run["eventprop"]["loss"])
        axs[2].plot(
            dt, rel_loss, color="0.5", marker=m, ms=3, lw=1, ls="--", label="loss" if k == 0 else None
        )
        esc = sorted(run["escape"], key=lambda r: r["beta"])
        if esc:
            beta = np.array([r["beta"] for r in esc])
            for field, color, label in (
                ("cos", "C3", "grad E[L] vs EventProp"),
                ("sg_cos", "C0", "SG ($\\psi=f'$) vs grad E[L]"),
                ("ss_cos", "C1", f"SG (SuperSpike, {BETA_SG} = $\\beta$) vs grad E[L]"),
            ):
                axs[3].errorbar(
                    beta * (1 + 0.03 * k),
                    [r[f"{field}_hidden"] for r in esc],
                    yerr=[2 * r[f"{field}_se_hidden"] for r in esc],
                    color=color,
                    marker=m,
                    ms=3,
                    lw=1,
                    capsize=2,
                    label=label if k == 0 else None,
                )
        axs[0].plot([], [], "k" + m, ms=3, ls="none", label=f"seed {seed}")
    dts = np.array(sorted({r["dt"] for r in runs[0]["sg"]})) * 1e3
    axs[1].plot(dts, dts[-1] / dts, color="0.6", lw=1, ls=":", label="$\\propto 1/dt$")
    for ax in axs[:3]:
        ax.set_xscale("log")
        ax.set_xticks(dts, [f"{d:g}" for d in dts])
        ax.minorticks_off()
        ax.set_xlabel("bin dt (ms)")
    axs[1].set_yscale("log")
    axs[2].set_yscale("log")
    axs[3].set_xscale("log")
    betas = sorted({r["beta"] for run in runs for r in run["escape"]})
    if betas:
        axs[3].set_xticks(betas, [f"{b:g}" for b in betas])
    axs[3].minorticks_off()
    axs[3].set_xlabel("escape-noise steepness $\\beta$ (dt = 1 ms)")
    axs[0].set_ylabel("cosine, hidden weights (SG vs EventProp)")
    axs[1].set_ylabel("$\\|g_{SG}\\| / \\|g_{EP}\\|$, hidden weights")
    axs[2].set_ylabel("relative difference to EventProp")
    axs[3].set_ylabel("cosine, hidden weights")
    axs[0].axhline(1.0, color="0.8", lw=0.8)
    axs[3].axhline(0.0, color="0.8", lw=0.8)
    for ax in axs:
        ax.legend(frameon=False, fontsize=6, loc="best", ncol=2 if ax is axs[0] else 1)
    letters(axs)
    s = runs[0]["setup"]
    seeds = ", ".join(str(r["setup"]["seed"]) for r in runs)
    fig.suptitle(
        f"EventProp vs SG-BPTT vs escape noise ({s['n_in']} inputs -> {s['hidden']} LIF -> {s['n_out']} LI, "
        f"{s['t_max'] * 1e3:g} ms, batch {s['batch']}; seeds {seeds})",
        fontsize=8,
    )
    n_samples = runs[0]["escape"][0]["n_samples"] if runs[0]["escape"] else 0
    caption = {
        "seeds": [r["setup"]["seed"] for r in runs],
        "dts_ms": [float(d) for d in dts],
        "beta_sgs": beta_sgs,
        "n_samples": n_samples,
        "d_errorbars": "+-2 jackknife SE over 10 batches of the escape-noise estimator's samples",
    }
    data = {"runs": runs, "n_samples": n_samples, "seeds": caption["seeds"]}
    return save(fig, out_dir, NAME, data, profile=profile, seeds=caption["seeds"], caption=caption)
