"""``sgtheory bench fields``: the whole of Fig. 4's computation, the toolkit vs plain NumPy.

Work (Gygax & Zenke 2025, Fig. 4): the five-weight net's output on a G x G grid (G = 2000)
of the paper's (d1, d2) plane for four forward beta (1, 5, 20, 10000), plus the cumulative
loop integrals around the circle (1500 points) of the SG (beta = 10000, beta_SG = 1, 5,
20) and of the smooth nets' exact gradients. All in float32 (the CLI runs bench without x64).

* toolkit (headline): :func:`analysis.fields.loop_figure_data`. The grid uses the net's
  structure (:mod:`analysis.fields._grid`): the first layer's exp is an outer product of
  two 1-D vectors, the hidden units share one division, and at beta = 10000 tiles on which
  every unit is saturated take the step network's value (exact to eps^2; 77 % of tiles),
  so exponentials run only near the step boundaries. The six loop fields (jax.grad through
  the SG rule) run in one compiled call. Equal to the NumPy side within float32 rounding
  (tests/fields/test_grid.py).
* NumPy (baseline): the same quantities by direct vectorised evaluation:
  analysis.fields._reference.five_weight_output_np on the (G, G, 5) parameter array per
  beta (four scipy expit per point, broadcasting), and the hand-written SG chain rule at
  the loop points with a cumulative trapezoid.
* secondary rows: JAX evaluating the grid directly (vmap of the network per beta, no
  structural savings: what XLA alone gives), and a naive per-point Python loop (2000
  points, extrapolated).

Timings: medians of interleaved rounds in one process (proofs_numeric.bench._timing); the
load average is printed, as the machine may be shared (differences under 10 % are noise).
"""

from __future__ import annotations

import time

import numpy as np

from proofs_numeric.bench._timing import interleaved

GRID_BETAS, BETA_SGS, LOOP_N = (1.0, 5.0, 20.0, 10000.0), (1.0, 5.0, 20.0), 1500


def _numpy_fig4(grid_n, dtype=np.float32):
    from analysis.fields import PAPER_RADIUS, paper_plane
    from analysis.fields._loops import circle
    from analysis.fields._reference import five_weight_output_np, five_weight_sg_np

    plane = paper_plane()
    ab = np.linspace(-2.5, 2.5, grid_n, dtype=dtype)
    c, d1, d2 = (np.asarray(v, dtype) for v in (plane.center, plane.d1, plane.d2))
    th = c + ab[:, None, None] * d1 + ab[None, :, None] * d2
    grids = [five_weight_output_np(th, b, dtype=dtype) for b in GRID_BETAS]
    _, pts, tan = circle(plane, PAPER_RADIUS, LOOP_N)
    loops = []
    for bs in BETA_SGS:
        for b in (10000.0, bs):
            f = np.sum(five_weight_sg_np(pts.astype(dtype), b, bs, dtype=dtype) * tan, axis=-1)
            loops.append(np.cumsum(np.concatenate([f, f[:1]])[1:] + f) * (np.pi / LOOP_N))
    return grids, loops


def _numpy_per_point(n_points=2000):
    """Naive per-point Python/NumPy-scalar loop over n_points grid points (one beta)."""
    import math

    from analysis.fields import paper_plane

    plane = paper_plane()
    c, d1, d2 = (np.asarray(v) for v in (plane.center, plane.d1, plane.d2))
    ab = np.linspace(-2.5, 2.5, n_points)
    s = lambda z: 1.0 / (1.0 + math.exp(-max(min(z, 700.0), -700.0)))
    out = np.empty(n_points)
    for k in range(n_points):
        w, v1, v2, u1, u2 = c + ab[k] * d1 + ab[-k - 1] * d2
        g = s(w)
        out[k] = s(u1 * s(v1 * g) + u2 * s(v2 * g))
    return out


def _jax_fig4(grid_n):
    import jax.numpy as jnp

    from analysis.fields import loop_figure_data

    return loop_figure_data(grid_n, LOOP_N, grid_betas=GRID_BETAS, beta_sgs=BETA_SGS, dtype=jnp.float32)


def _jax_direct_grid(grid_n):
    """The grid by plain vmap of the network (float32), one compiled call per beta."""
    import jax
    import jax.numpy as jnp

    from analysis.fields import FIVE_WEIGHT, paper_plane
    from analysis.fields._toy import network_loss

    plane = paper_plane()
    ab = jnp.linspace(-2.5, 2.5, grid_n, dtype=jnp.float32)
    c, d1, d2 = (jnp.asarray(v, jnp.float32) for v in (plane.center, plane.d1, plane.d2))
    fn = _DIRECT.setdefault(
        "fn",
        jax.jit(
            lambda a, c, d1, d2, beta: jax.vmap(jax.vmap(lambda t: network_loss(FIVE_WEIGHT, t, beta)))(
                c + a[:, None, None] * d1 + a[None, :, None] * d2
            ),
            static_argnums=4,
        ),
    )
    return [np.asarray(fn(ab, c, d1, d2, b)) for b in GRID_BETAS]


_DIRECT: dict = {}


def run(profile: str = "quick") -> dict:
    import os

    grid_n = 2000
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    _jax_fig4(grid_n)
    first_call = time.perf_counter() - t0
    rounds = 3 if profile == "quick" else 7
    res = interleaved(
        {
            "toolkit": lambda: _jax_fig4(grid_n)["grids"][1.0],
            "numpy": lambda: _numpy_fig4(grid_n)[0][0],
            "jax_direct_grid": lambda: _jax_direct_grid(grid_n)[0],
        },
        rounds=rounds,
        warmup=1,
    )
    numpy_s, jax_s = res["numpy"]["median_s"], res["toolkit"]["median_s"]
    direct_s = res["jax_direct_grid"]["median_s"]
    pp = interleaved({"numpy_per_point_2000": _numpy_per_point}, rounds=3, warmup=1)
    naive_est = pp["numpy_per_point_2000"]["median_s"] * len(GRID_BETAS) * grid_n**2 / 2000
    load = (load_before, os.getloadavg())
    out = {
        "grid_n": grid_n,
        "loop_points": LOOP_N,
        "rounds": rounds,
        "jax_median_s": jax_s,
        "jax_first_call_s_incl_compile": first_call,
        "numpy_median_s": numpy_s,
        "speedup": numpy_s / jax_s,
        "jax_direct_grid_median_s": direct_s,
        "speedup_direct_grid_vs_numpy": numpy_s / direct_s,
        "timings": res,
        "naive_per_point_extrapolated_s": naive_est,
        "speedup_vs_naive_per_point": naive_est / jax_s,
        "load_average_1_5_15min": {"before": load[0], "after": load[1]},
        "note": "toolkit: loop_figure_data (structure-using grid, one call for the loops); "
        "numpy: direct vectorised evaluation of the same grid and loops; interleaved rounds",
    }
    print(
        f"fig4 computation: {grid_n}^2 grid x {len(GRID_BETAS)} beta + {2 * len(BETA_SGS)} loops x {LOOP_N}"
    )
    print(f"  toolkit (float32)       {jax_s:8.3f} s   (first call incl. compile {first_call:.2f} s)")
    print(f"  NumPy (vectorised)      {numpy_s:8.3f} s   (direct evaluation, full grid and loops)")
    print(f"  speedup                 {numpy_s / jax_s:8.1f} x   (target >= 10 x, toolkit < 30 s)")
    print(
        f"  (secondary) JAX grid by plain vmap, no structural savings: {direct_s:.3f} s "
        f"({numpy_s / direct_s:.1f} x NumPy, grid only)"
    )
    print(
        f"  (secondary) per-point Python loop, grid only, extrapolated from 2000 points: "
        f"{naive_est:.0f} s, {naive_est / jax_s:.0f} x slower than the toolkit"
    )
    print(
        "  load average (1, 5, 15 min) before {:.1f} {:.1f} {:.1f}, after {:.1f} {:.1f} {:.1f}".format(
            *load[0], *load[1]
        )
    )
    return out
