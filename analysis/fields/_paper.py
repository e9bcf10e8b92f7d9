"""The paper's closed-loop, sign-flip and plateau computations (Gygax & Zenke 2025, sec. 5).

Shared by the claims (proofs_numeric/fields_*), figures 4 and 5 and ``sgtheory bench
fields``; everything here composes :mod:`analysis.fields._toy` and :mod:`analysis.fields._loops`.

* :func:`loop_figure_data` -- Fig. 4: the five-weight net's output on a grid of the
  (d1, d2) plane for several forward beta, and the cumulative line integral of the SG
  (beta = 10000, beta_SG in {1, 5, 20}) and of the exact gradient of the smooth net
  (beta = beta_SG) around the paper's circle.
* :func:`sign_flip_sweep` -- Fig. 5 left: loss, true gradient, SG and integrated SG on the
  w-sweep (beta = 100).
* :func:`plateau_landscape` -- Fig. 5 right: loss and integrated SG on the (v1, v2) plane.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.typing import DTypeLike

from analysis import _validate
from analysis.fields import _loops as fields
from analysis.fields import _toy as tn
from analysis.fields._grid import five_weight_grids
from analysis.fields._numerics import cumulative_integral, on_grid

_SG_BETA = 10000.0  # forward beta of the paper's near-deterministic net (Fig. 4)


@jax.jit
def _five_weight_sg_on_points(pts, betas, beta_sgs):
    """SG fields (K, N, 5) of the five-weight net at pts (N, 5) for K (beta, beta_SG) pairs."""
    field = lambda t, b, bs: tn._sg_grad(tn.FIVE_WEIGHT, t, beta=b, beta_sg=bs)
    return jax.vmap(lambda b, bs: jax.vmap(lambda t: field(t, b, bs))(pts))(betas, beta_sgs)


def loop_figure_data(
    grid_n: int = 2000,
    loop_n: int = 1500,
    *,
    grid_betas: Sequence[float] = (1.0, 5.0, 20.0, 10000.0),
    beta_sgs: Sequence[float] = (1.0, 5.0, 20.0),
    extent: float = 2.5,
    dtype: DTypeLike | None = None,
) -> dict:
    """Fig. 4 data: output grids per beta, and cumulative SG / exact loop integrals per beta_SG.

    ``grids[beta]``: the five-weight net's output on a ``grid_n`` x ``grid_n`` grid of
    [-extent, extent]^2 in the paper's plane (``dtype``, default JAX's float), indexed
    [a, b]; ``sg_loops[beta_SG]``: the loop integral (:class:`LoopIntegral`, ``loop_n``
    points, radius :data:`PAPER_RADIUS`) of the SG field of the paper's near-deterministic
    net (forward beta = 10000); ``exact_loops[beta_SG]``: that of the exact gradient of the
    smooth net with beta = beta_SG.

    Method: finite-beta grids come from :func:`analysis.fields._grid.five_weight_grids`
    (separable first layer, shared division, saturated tiles skipped; equal to the NumPy
    reference to 1e-6 in float32, tests/fields/test_grid.py; grid betas must be finite).
    All 2 x len(beta_sgs) loop fields are evaluated in one compiled call; each loop equals
    :func:`analysis.fields.loop_integral` of that field.
    """
    n = _validate.positive_int(grid_n, "grid_n")
    ext = _validate.positive_scalar(extent, "extent")
    pairs = [tn._check_betas(_SG_BETA, bs) for bs in beta_sgs] + [tn._check_betas(bs, bs) for bs in beta_sgs]
    plane = tn.paper_plane()
    ab = np.linspace(-ext, ext, n)
    grids = five_weight_grids(plane.center, plane.d1, plane.d2, ab, ab, grid_betas, dtype)
    out: dict = {"a": ab, "b": ab, "grids": dict(zip(grid_betas, grids, strict=True))}
    out.update(sg_loops={}, exact_loops={})
    if pairs:
        phi, pts, tan = fields.circle(plane, tn.PAPER_RADIUS, loop_n)
        bsg = np.array(pairs)
        g = np.asarray(_five_weight_sg_on_points(pts, bsg[:, 0], bsg[:, 1]))
        m = len(beta_sgs)
        for k, bs in enumerate(beta_sgs):
            out["sg_loops"][bs] = fields.circle_result(phi, g[k], tan, tn.PAPER_RADIUS)
            out["exact_loops"][bs] = fields.circle_result(phi, g[m + k], tan, tn.PAPER_RADIUS)
    return out


def sign_flip_sweep(beta_sg: float, beta: float = 100.0, n: int = 10001) -> dict:
    """Sweep w in [-0.2, 0.2] (n points): loss (beta), smooth loss (beta_SG), true grad, SG, integral."""
    w = np.linspace(-0.2, 0.2, n)
    th = tn.sign_flip_thetas(w)
    loss = lambda b: np.asarray(on_grid(tn.loss_fn(tn.FIVE_WEIGHT, b), th))
    true_g = np.asarray(on_grid(tn.exact_field(tn.FIVE_WEIGHT, beta), th))[:, 0]
    sg = np.asarray(on_grid(tn.sg_field(tn.FIVE_WEIGHT, beta, beta_sg), th))[:, 0]
    F, F_rich, F_err = cumulative_integral(w, sg)
    return {
        "w": w,
        "theta": np.asarray(th),
        "loss": loss(beta),
        "smooth_loss": loss(beta_sg),
        "true_grad": true_g,
        "sg": sg,
        "integrated_sg": F,
        "integrated_sg_richardson": F_rich,
        "integrated_sg_error": F_err,
    }


def plateau_landscape(beta_sg: float, beta: float = 20.0, n: int = 401, extent: float = 2.0) -> dict:
    """(v1, v2) in [-extent, extent]^2 (n x n, w = u1 = 1, u2 = -1): loss and integrated SG.

    The SG is not a gradient, so its "integral" depends on the path: here it runs from the
    corner (-extent, -extent) along v1 at v2 = -extent, then along v2 (cumulative
    trapezoid). Returns loss (n, n), integrated SG (n, n) indexed [v1, v2], the SG field
    (n, n, 2) and the integration error estimate (Richardson, both legs).
    """
    v = np.linspace(-extent, extent, n)
    V1, V2 = np.meshgrid(v, v, indexing="ij")
    th = tn.plateau_thetas(V1, V2)
    loss = np.asarray(on_grid(tn.loss_fn(tn.FIVE_WEIGHT, beta), th))
    g = np.asarray(on_grid(tn.sg_field(tn.FIVE_WEIGHT, beta, beta_sg), th))[..., 1:3]
    leg1, _, e1 = cumulative_integral(v, g[:, 0, 0])
    leg2, _, e2 = cumulative_integral(v, g[:, :, 1])
    integ, err = leg1[:, None] + leg2, e1 + e2
    return {"v": v, "loss": loss, "integrated_sg": integ, "sg": g, "integration_error": err}
