"""Figure 4: surrogate gradients are not gradients -- closed-loop integrals.

Top: output of the five-weight network on the paper's (d1, d2) plane for forward
beta = 1, 5, 20, 10000, with the circle of radius 1.8 (start at (0, 1.8), clockwise).
Bottom left: cumulative line integral vs angle of the SG (beta = 10000, beta_SG = 1, 5, 20)
beside the integrated exact gradient of the smooth net (beta = beta_SG), which returns to 0.
Bottom right: final loop integrals with their quadrature error. Gygax & Zenke 2025, Fig. 4.
quick: 300 x 300 grid; full: 2000 x 2000 (the paper's resolution). Loops: 1500 points
for the curves; the reported loop integrals use 96000 points (as the claim). Panels are
lettered A-F in the figure; the grids are stored in fig4_loops.npz beside the JSON.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._style import BETA_SG, figure, letters, save

BETA_SGS = (1.0, 5.0, 20.0)
GRID_N = {"quick": 300, "full": 2000}
LOOP_N, FINAL_N, EXACT_N = 1500, 96_000, 2048
GRID_BETAS = (1.0, 5.0, 20.0, 10000.0)


def _numbers(beta_sgs, n):
    from analysis import fields

    plane, rows = fields.paper_plane(), {}
    for bs in beta_sgs:
        r = fields.loop_integral(
            fields.sg_field(fields.FIVE_WEIGHT, 10000.0, bs), plane, fields.PAPER_RADIUS, n
        )
        e = fields.loop_integral(
            fields.exact_field(fields.FIVE_WEIGHT, bs), plane, fields.PAPER_RADIUS, EXACT_N
        )
        rows[bs] = {
            "sg_loop_integral": r.value,
            "sg_quad_error": r.error,
            "n_points": n,
            "exact_loop_integral": e.value,
            "exact_quad_error": e.error,
        }
    return rows


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    from analysis.fields import PAPER_RADIUS, loop_figure_data

    d = loop_figure_data(grid_n=GRID_N[profile], loop_n=LOOP_N, grid_betas=GRID_BETAS, beta_sgs=BETA_SGS)
    nums = _numbers(BETA_SGS, FINAL_N)
    fig, axes = figure(2, 4, size=(10.0, 5.2))
    phi = np.linspace(0, 2 * np.pi, 400)
    for ax, bg in zip(axes[0], GRID_BETAS, strict=True):
        im = ax.imshow(
            d["grids"][bg].T,
            origin="lower",
            extent=[d["a"][0], d["a"][-1]] * 2,
            cmap="viridis",
            vmin=0,
            vmax=1,
        )
        ax.plot(PAPER_RADIUS * np.sin(phi), PAPER_RADIUS * np.cos(phi), "w-", lw=1)
        ax.annotate(
            "", xy=(0.35, 1.77), xytext=(0.0, 1.8), arrowprops=dict(arrowstyle="->", color="w", lw=1.2)
        )
        ax.set(title=f"output y, $\\beta$ = {bg:g}", xlabel="a (along $d_1$)", ylabel="b (along $d_2$)")
    fig.colorbar(im, ax=axes[0, -1], shrink=0.8, label="network output y")
    gs = axes[1, 0].get_gridspec()
    for ax in axes[1, :3]:
        ax.remove()
    ax = fig.add_subplot(gs[1, :3])
    panels = [*axes[0], ax]
    colors = {1.0: "tab:blue", 5.0: "tab:orange", 20.0: "tab:red"}
    for bs in BETA_SGS:
        s, e = d["sg_loops"][bs], d["exact_loops"][bs]
        ax.plot(np.degrees(s.t), s.cumulative, color=colors[bs], label=f"SG, {BETA_SG} = {bs:g}")
        ax.plot(
            np.degrees(e.t),
            e.cumulative,
            "--",
            color=colors[bs],
            lw=1,
            label=f"exact grad., $\\beta$ = {bs:g}",
        )
    ax.axhline(0, color="k", lw=0.5)
    ax.set(
        xlabel="angle $\\varphi$ along the loop (deg, clockwise from (0, r))",
        ylabel="cumulative line integral",
        xlim=(0, 360),
    )
    ax.legend(ncol=2, loc="lower left", frameon=False, fontsize=6.5)
    ax = axes[1, 3]
    vals = [abs(nums[b]["sg_loop_integral"]) for b in BETA_SGS]
    errs = [nums[b]["sg_quad_error"] for b in BETA_SGS]
    ax.bar([f"{b:g}" for b in BETA_SGS], vals, yerr=errs, color=[colors[b] for b in BETA_SGS])
    ax.set(xlabel=BETA_SG, ylabel="|loop integral| ($\\beta$ = 10000)", title=f"final value, N = {FINAL_N}")
    letters([*panels, ax])
    data = {
        "profile": profile,
        "a": d["a"],
        "grid_betas": GRID_BETAS,
        "grids": {str(k): v for k, v in d["grids"].items()},
        "loops": {
            str(bs): {
                "angle": d["sg_loops"][bs].t,
                "sg_cumulative": d["sg_loops"][bs].cumulative,
                "sg_cumulative_error": d["sg_loops"][bs].cumulative_error,
                "exact_cumulative": d["exact_loops"][bs].cumulative,
            }
            for bs in BETA_SGS
        },
        "claim_numbers": {str(k): v for k, v in nums.items()},
    }
    if profile == "full":
        data["grids"] = {str(k): v[::10, ::10] for k, v in d["grids"].items()}
        data["grid_subsampled_every"] = 10
    caption = {
        "grid_n": GRID_N[profile],
        "grid_betas": list(GRID_BETAS),
        "beta_sgs": list(BETA_SGS),
        "forward_beta": 10000.0,
        "radius": PAPER_RADIUS,
        "loop_points_curves": LOOP_N,
        "loop_points_final": FINAL_N,
        "exact_loop_points": EXACT_N,
        "bar_errorbars": "quadrature error estimate of the loop integral (analysis.fields.loop_integral)",
    }
    return save(fig, out_dir, "fig4_loops", data, profile=profile, caption=caption)
