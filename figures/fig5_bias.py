"""Figure 5: surrogate gradients are biased -- sign flips and learning on plateaus.

Top: the paper's w-sweep (x = 1, v1 = 0.05, v2 = 0.1, u1 = 1, u2 = -1, forward beta = 100):
output y (and the smooth nets at beta = beta_SG), the true derivative and the SG for
beta_SG = 15, 30 (zero crossings marked), and the integrated SG with its argmin.
Bottom: (v1, v2) landscapes (w = u1 = 1, u2 = -1, forward beta = 20) of the integrated SG
for beta_SG = 2, 4, 20 (path: along v1 at v2 = -2, then along v2) with the descent arrow
(direction -SG, unit length; |SG| written beside it) at the plateau point (1.7, -1.3), an
open circle where |SG| < 1e-12 (vanishing gradient), and the beta = 20 loss itself.
Gygax & Zenke 2025, Fig. 5. quick: 201 x 201 landscapes; full: 801 x 801. Panels are
lettered A-H in the figure; the arrays are stored in fig5_bias.npz beside the JSON.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._style import BETA_SG, figure, letters, save

SWEEP_BSG = (15.0, 30.0)
LAND_BSG = (2.0, 4.0, 20.0)
PLATEAU = (1.7, -1.3)
SWEEP_BETA, LAND_BETA = 100.0, 20.0
LAND_N = {"quick": 201, "full": 801}
SWEEP_N = 10001
VANISHING = 1e-12
"""|SG| below which the landscapes mark the gradient as vanishing instead of drawing an arrow."""


def _sweep_panels(axes, sweeps, colors):
    from analysis.fields._numerics import zero_crossings

    w = sweeps[SWEEP_BSG[0]]["w"]
    s0 = sweeps[SWEEP_BSG[0]]
    axes[0].plot(w, s0["loss"], "k", label=f"y, $\\beta$ = {SWEEP_BETA:g}")
    axes[1].plot(w, s0["true_grad"], "k", label="true dy/dw")
    for bs in SWEEP_BSG:
        s = sweeps[bs]
        axes[0].plot(w, s["smooth_loss"], "--", color=colors[bs], label=f"smooth net, $\\beta$ = {bs:g}")
        axes[1].plot(w, s["sg"], color=colors[bs], label=f"SG, {BETA_SG} = {bs:g}")
        for c in zero_crossings(w, s["sg"]):
            axes[1].axvline(c, color=colors[bs], lw=0.7, ls=":")
        F = s["integrated_sg"]
        axes[2].plot(w, F - F.min(), color=colors[bs], label=f"integrated SG, {BETA_SG} = {bs:g}")
        axes[2].plot(w[np.argmin(F)], 0, "o", color=colors[bs], ms=4)
    for c in zero_crossings(w, s0["true_grad"]):
        axes[1].axvline(c, color="k", lw=0.7, ls=":")
    axes[1].plot([], [], color="0.3", lw=0.7, ls=":", label="zero crossing")
    axes[2].plot(w, s0["loss"] - s0["loss"].min(), "k", lw=1, label=f"y - min y ($\\beta$ = {SWEEP_BETA:g})")
    axes[2].plot([], [], "o", color="0.3", ms=4, label="minimum")
    axes[1].axhline(0, color="0.5", lw=0.5)
    axes[1].set_yscale("symlog", linthresh=1e-2)
    labels = (
        ("output vs w", "output y"),
        ("derivative vs w", "dy/dw or SG (symlog)"),
        ("integrated SG vs w", "value - minimum"),
    )
    axes[1].set_ylim(bottom=-300)  # room for the legend below the curves
    axes[2].set_ylim(top=1.05)  # room for the legend above the curves
    for ax, (t, yl), loc in zip(axes, labels, ("upper right", "lower right", "upper right"), strict=True):
        ax.set(xlabel="weight w", ylabel=yl, title=t)
        ax.legend(fontsize=5.5, loc=loc, frameon=False)


def _landscape(ax, land, bs, fig):
    """Integrated SG over (v1, v2) with the descent direction -SG at the plateau point: a
    unit arrow (direction only) with |SG| written beside it, or, where |SG| < VANISHING, an
    open circle marked as a vanishing gradient. Returns |SG| at the point."""
    v = land["v"]
    im = ax.imshow(land["integrated_sg"].T, origin="lower", extent=[v[0], v[-1]] * 2, cmap="magma")
    fig.colorbar(im, ax=ax, shrink=0.75, label="integrated SG")
    i = np.argmin(np.abs(v - PLATEAU[0]))
    j = np.argmin(np.abs(v - PLATEAU[1]))
    g = land["sg"][i, j]
    norm = float(np.linalg.norm(g))
    if norm >= VANISHING:
        d = -g / norm
        ax.annotate(
            "",
            xy=(PLATEAU[0] + 0.9 * d[0], PLATEAU[1] + 0.9 * d[1]),
            xytext=PLATEAU,
            arrowprops=dict(arrowstyle="->", color="c", lw=1.5),
        )
        ax.plot(*PLATEAU, "co", ms=3)
        text = f"|SG| = {norm:.1e}"
    else:
        ax.plot(*PLATEAU, "o", ms=6, mfc="none", mec="c", mew=1.5)
        text = f"|SG| = {norm:.0e}\nvanishes"
    ax.text(
        PLATEAU[0] - 0.2,
        PLATEAU[1],
        text,
        color="c",
        fontsize=7,
        ha="right",
        va="center",
        bbox=dict(boxstyle="round,pad=0.2", fc="k", alpha=0.6, ec="none"),
    )
    ax.set(xlabel="$v_1$", ylabel="$v_2$", title=f"integrated SG, {BETA_SG} = {bs:g}")
    return norm


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
    from analysis.fields._numerics import zero_crossings

    sweeps = {bs: sign_flip_sweep(bs, beta=SWEEP_BETA, n=SWEEP_N) for bs in SWEEP_BSG}
    n = LAND_N[profile]
    lands = {bs: plateau_landscape(bs, beta=LAND_BETA, n=n) for bs in LAND_BSG}
    fig, axes = figure(2, 4, size=(12.0, 6.0))
    colors = {15.0: "tab:blue", 30.0: "tab:red"}
    _sweep_panels(axes[0, :3], sweeps, colors)
    ax = axes[0, 3]
    w = sweeps[15.0]["w"]
    zoom = np.abs(w) < 0.03
    ax.plot(w[zoom], sweeps[15.0]["true_grad"][zoom], "k", label="true dy/dw")
    for bs in SWEEP_BSG:
        ax.plot(w[zoom], sweeps[bs]["sg"][zoom], color=colors[bs], label=f"SG, {BETA_SG} = {bs:g}")
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set(xlabel="weight w", ylabel="dy/dw or SG (linear)", title="zoom: near the sign flip")
    ax.set_xticks([-0.02, 0.0, 0.02])
    ax.legend(fontsize=6, loc="upper left", frameon=False)
    sg_norm = {bs: _landscape(ax, lands[bs], bs, fig) for ax, bs in zip(axes[1, :3], LAND_BSG, strict=True)}
    v = lands[2.0]["v"]
    im = axes[1, 3].imshow(lands[2.0]["loss"].T, origin="lower", extent=[v[0], v[-1]] * 2, cmap="viridis")
    axes[1, 3].plot(*PLATEAU, "co", ms=3)
    fig.colorbar(im, ax=axes[1, 3], shrink=0.75, label="loss y")
    axes[1, 3].set(xlabel="$v_1$", ylabel="$v_2$", title=f"loss y, $\\beta$ = {LAND_BETA:g}")
    letters(axes.ravel())
    nums = {
        str(bs): {
            "sg_zero_crossings": zero_crossings(s["w"], s["sg"]),
            "true_zero_crossings": zero_crossings(s["w"], s["true_grad"]),
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
    caption = {
        "sweep_forward_beta": SWEEP_BETA,
        "sweep_beta_sgs": list(SWEEP_BSG),
        "sweep_points": int(w.size),
        "sweep_setup": "x = 1, v1 = 0.05, v2 = 0.1, u1 = 1, u2 = -1",
        "landscape_forward_beta": LAND_BETA,
        "landscape_beta_sgs": list(LAND_BSG),
        "landscape_n": n,
        "landscape_setup": "w = u1 = 1, u2 = -1",
        "integration_path": "along v1 at v2 = -2, then along v2",
        "plateau_point": list(PLATEAU),
        "sg_norm_at_plateau": {str(bs): v for bs, v in sg_norm.items()},
        "landscape_integration_error": {str(bs): lands[bs]["integration_error"] for bs in LAND_BSG},
        "vanishing_threshold": VANISHING,
        "arrows": "direction of -SG at the plateau point, unit length; |SG| written beside it",
    }
    return save(fig, out_dir, "fig5_bias", data, profile=profile, caption=caption)
