"""Figure 8 (alignment at scale): cosine similarity of surrogate gradients with the unbiased
coupled-flip stochastic-AD reference in LIF networks too large to enumerate (the analysis.snn
networks that are trained: dense hidden layers, LIF readout), against depth (hidden layers),
width, time steps and escape-noise steepness beta (analysis.stochastic._alignment; Gygax & Zenke 2025,
sec. 4; Arya et al. 2022). Stochastic network: matched psi = f' vs SuperSpike; deterministic
network with the same two surrogates. Grey: cosine between the two halves of the reference samples
(a measure of the reference's own noise). Error bars: +-2 jackknife SE (ten reference
batches). Panels are lettered A-D.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from figures._style import figure, letters, save

NAME = "fig8_alignment"
XLABELS = {
    "depth": "depth (hidden layers)",
    "width": "width (neurons per layer)",
    "steps": "time steps (1 ms each)",
    "beta": "escape-noise steepness $\\beta$",
}
_STYLE = {
    "stoch_matched": ("C0", "-", "stochastic, matched $\\psi=f'$"),
    "stoch_mismatched": ("C1", "-", "stochastic, SuperSpike"),
    "det_matched": ("C0", "--", "deterministic, $\\psi=f'$ shape"),
    "det_mismatched": ("C1", "--", "deterministic, SuperSpike"),
}


def _grid(profile):
    from analysis.stochastic._alignment_sweep import PROFILES

    if profile == "full":
        return PROFILES["full"]["base"], PROFILES["full"]["axes"]
    base = dataclasses.replace(PROFILES["quick"]["base"], width=8, steps=20, n_ref=1000, n_sg=128)
    return base, {"depth": (1, 2, 3, 4), "width": (4, 16, 32), "steps": (10, 40), "beta": (2.0, 10.0)}


def _reference_text(base, rows) -> str:
    """The reference's estimator and size for the title (sizes of the rows when adaptive)."""
    what = {"coupled_flip_sub": "coupled-flip", "disarm": "DisARM"}.get(base.estimator, "DisARM (wavefront)")
    flips = f", M={base.n_flips}" if base.estimator == "coupled_flip_sub" else ""
    if base.ref_ceiling is None:
        return f"{base.n_ref} {what} samples{flips}"
    ns = [r["n_ref"] for r in rows]
    return f"{min(ns)}-{max(ns)} {what} samples{flips} for split-half ceiling {base.ref_ceiling:g}"


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    from analysis.stochastic import alignment_sweep

    base, axes = _grid(profile)
    return plot(alignment_sweep(profile, base=base, axes=axes), base, axes, out_dir, profile=profile)


def plot(rows: list[dict], base, axes: dict, out_dir: Path, *, profile: str | None = None) -> list[Path]:
    """Draw rows of :func:`analysis.stochastic.alignment_sweep` (base network ``base``, one
    axis of ``axes`` varied at a time); ``sgtheory align --figure DIR`` uses it."""
    from analysis.stochastic._alignment_sweep import METHODS

    fig, axs = figure(1, 4, size=(11.0, 3.5), sharey=True)
    for ax, axis in zip(axs, ("depth", "width", "steps", "beta"), strict=True):
        others = [a for a in ("depth", "width", "steps", "beta") if a != axis]
        sel = sorted(
            (r for r in rows if all(r[o] == getattr(base, o) for o in others)), key=lambda r: r[axis]
        )
        xs = [r[axis] for r in sel]
        for m in METHODS:
            c, ls, label = _STYLE[m]
            ax.errorbar(
                xs,
                [r[f"cos_{m}"] for r in sel],
                yerr=[2 * r[f"cos_se_{m}"] for r in sel],
                color=c,
                ls=ls,
                marker="o",
                ms=3,
                capsize=2,
                label=label,
            )
        ax.plot(xs, [r["ceiling"] for r in sel], color="0.6", lw=1, label="reference split-half cosine")
        ax.set_xlabel(XLABELS[axis])
        if axis in ("width", "steps"):
            ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [f"{v:g}" for v in xs])
        ax.minorticks_off()
    axs[0].set_ylabel("cosine with unbiased reference")
    fig.legend(
        *axs[0].get_legend_handles_labels(), loc="outside lower center", ncol=5, frameon=False, fontsize=7
    )
    letters(axs)
    fig.suptitle(
        f"SG alignment in LIF networks (base: {base.depth} hidden layers of {base.width}, "
        f"{base.steps} steps, $\\beta$ = {base.beta:g}; reference: {_reference_text(base, rows)})",
        fontsize=8,
    )
    data = {"base": dataclasses.asdict(base), "axes": axes, "rows": rows}
    caption = {
        "base_depth": base.depth,
        "base_width": base.width,
        "base_steps": base.steps,
        "base_beta": base.beta,
        "axes": {k: list(v) for k, v in axes.items()},
        "n_ref": base.n_ref if base.ref_ceiling is None else [r["n_ref"] for r in rows],
        "reference": base.estimator,
        "ref_ceiling_target": base.ref_ceiling,
        "n_flips": base.n_flips,
        "n_sg": base.n_sg,
        "beta_mismatch": base.beta_mismatch,
        "errorbars": "+-2 jackknife SE over 10 batches of the reference samples",
        "ceiling": "cosine between the means of two independent halves of the reference samples",
    }
    return save(fig, out_dir, NAME, data, profile=profile, seeds=[base.seed, base.seed + 1], caption=caption)
