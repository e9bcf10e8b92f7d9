"""Figure 5: surrogate gradients are biased -- sign flips and learning on plateaus.

Top: the paper's w-sweep (x = 1, v1 = 0.05, v2 = 0.1, u1 = 1, u2 = -1, forward beta = 100):
output y (and the smooth nets at beta = beta_SG), the true derivative and the SG for
beta_SG = 15, 30 (zero crossings marked), and the integrated SG with its argmin.
Bottom: (v1, v2) landscapes (w = u1 = 1, u2 = -1, forward beta = 20) of the integrated SG
for beta_SG = 2, 4, 20 (path: along v1 at v2 = -2, then along v2) with the descent arrow
(direction -SG) at the plateau point (1.7, -1.3), and the beta = 20 loss itself.
Gygax & Zenke 2025, Fig. 5. quick: 201 x 201 landscapes; full: 801 x 801.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._style import figure, save

SWEEP_BSG = (15.0, 30.0)
LAND_BSG = (2.0, 4.0, 20.0)
PLATEAU = (1.7, -1.3)


def _crossings(w, g):
    i = np.where(np.sign(g[1:]) * np.sign(g[:-1]) < 0)[0]
    return [float(w[k] - g[k] * (w[k + 1] - w[k]) / (g[k + 1] - g[k])) for k in i]


def _sweep_panels(axes, sweeps, colors):
    w = sweeps[SWEEP_BSG[0]]["w"]
    s0 = sweeps[SWEEP_BSG[0]]
    axes[0].plot(w, s0["loss"], "k", label="y, beta = 100")
    axes[1].plot(w, s0["true_grad"], "k", label="true dy/dw")
    for bs in SWEEP_BSG:
        s = sweeps[bs]
        axes[0].plot(w, s["smooth_loss"], "--", color=colors[bs], label=f"smooth net, beta = {bs:g}")
        axes[1].plot(w, s["sg"], color=colors[bs], label=f"SG, beta_SG = {bs:g}")
        for c in _crossings(w, s["sg"]):
            axes[1].axvline(c, color=colors[bs], lw=0.7, ls=":")
        F = s["integrated_sg"]
        axes[2].plot(w, F - F.min(), color=colors[bs], label=f"int. SG, beta_SG = {bs:g}")
        axes[2].plot(w[np.argmin(F)], 0, "o", color=colors[bs], ms=4)
    for c in _crossings(w, s0["true_grad"]):
        axes[1].axvline(c, color="k", lw=0.7, ls=":")
    axes[2].plot(w, s0["loss"] - s0["loss"].min(), "k", lw=1, label="y - min y (beta = 100)")
    axes[1].axhline(0, color="0.5", lw=0.5)
    axes[1].set_yscale("symlog", linthresh=1e-2)
    titles = ("output vs w", "derivative (symlog); dotted: zero crossings", "integrated SG (shifted)")
    for ax, t in zip(axes, titles, strict=True):
        ax.set(xlabel="w", title=t)
        ax.legend(framealpha=0.6, fontsize=6)


def _landscape(ax, land, bs, fig):
    v = land["v"]
    im = ax.imshow(land["integrated_sg"].T, origin="lower", extent=[v[0], v[-1]] * 2, cmap="magma")
    fig.colorbar(im, ax=ax, shrink=0.8)
    i = np.argmin(np.abs(v - PLATEAU[0]))
    j = np.argmin(np.abs(v - PLATEAU[1]))
    g = land["sg"][i, j]
    d = -g / max(np.linalg.norm(g), 1e-300)
    ax.annotate(
        "",
        xy=(PLATEAU[0] + 0.9 * d[0], PLATEAU[1] + 0.9 * d[1]),
        xytext=PLATEAU,
        arrowprops=dict(arrowstyle="->", color="c", lw=1.5),
    )
    ax.plot(*PLATEAU, "co", ms=3)
    ax.set(
        xlabel="v1",
        ylabel="v2",
        title=f"integrated SG, beta_SG = {bs:g}\n|SG(dot)| = "
        f"{np.linalg.norm(g):.1e}, int. err {land['integration_error']:.0e}",
    )
    ax.title.set_fontsize(7)


def _thin(land):
    """Landscape data for the JSON, every k-th grid point (k = n // 200) to keep files small."""
    k = max(1, len(land["v"]) // 200)
    return {
        "v": land["v"][::k],
        "loss": land["loss"][::k, ::k],
        "integrated_sg": land["integrated_sg"][::k, ::k],
        "sg": land["sg"][::k, ::k],
        "integration_error": land["integration_error"],
    }


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    from analysis.fields import plateau_landscape, sign_flip_sweep

    sweeps = {bs: sign_flip_sweep(bs) for bs in SWEEP_BSG}
    n = 201 if profile == "quick" else 801
    lands = {bs: plateau_landscape(bs, n=n) for bs in LAND_BSG}
    fig, axes = figure(2, 4, size=(12.0, 6.0))
    colors = {15.0: "tab:blue", 30.0: "tab:red"}
    _sweep_panels(axes[0, :3], sweeps, colors)
    ax = axes[0, 3]
    w = sweeps[15.0]["w"]
    zoom = np.abs(w) < 0.03
    ax.plot(w[zoom], sweeps[15.0]["true_grad"][zoom], "k", label="true")
    for bs in SWEEP_BSG:
        ax.plot(w[zoom], sweeps[bs]["sg"][zoom], color=colors[bs], label=f"SG {bs:g}")
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set(xlabel="w", title="derivative near the sign flip")
    ax.legend()
    for ax, bs in zip(axes[1, :3], LAND_BSG, strict=True):
        _landscape(ax, lands[bs], bs, fig)
    v = lands[2.0]["v"]
    im = axes[1, 3].imshow(lands[2.0]["loss"].T, origin="lower", extent=[v[0], v[-1]] * 2, cmap="viridis")
    axes[1, 3].plot(*PLATEAU, "co", ms=3)
    fig.colorbar(im, ax=axes[1, 3], shrink=0.8)
    axes[1, 3].set(xlabel="v1", ylabel="v2", title="loss y, beta = 20")
    nums = {
        str(bs): {
            "sg_zero_crossings": _crossings(s["w"], s["sg"]),
            "true_zero_crossings": _crossings(s["w"], s["true_grad"]),
            "sign_agreement": float(np.mean(np.sign(s["sg"]) == np.sign(s["true_grad"]))),
            "argmin_loss": float(s["w"][np.argmin(s["loss"])]),
            "argmin_smooth": float(s["w"][np.argmin(s["smooth_loss"])]),
            "argmin_integrated_sg": float(s["w"][np.argmin(s["integrated_sg"])]),
            "integrated_sg_error": s["integrated_sg_error"],
        }
        for bs, s in sweeps.items()
    }
    data = {
        "profile": profile,
        "sweeps": {str(k): {kk: vv for kk, vv in s.items() if kk != "theta"} for k, s in sweeps.items()},
        "landscapes": {str(k): _thin(l) for k, l in lands.items()},
        "claim_numbers": nums,
        "landscape_json_every": max(1, n // 200),
    }
    return save(fig, out_dir, "fig5_bias", data, profile=profile)
