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
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from analysis.fields import _loops as fields
from analysis.fields import _toy as tn
from analysis.fields._numerics import cumulative_integral, on_grid

_SG_BETA = 10000.0  # forward beta of the paper's near-deterministic net (Fig. 4)


@partial(jax.jit, static_argnums=(0, 3))
def _grid_output(layout, plane_arrays, ab, beta):
    c, d1, d2 = plane_arrays
    a, b = ab
    th = c + a[:, None, None] * d1 + b[None, :, None] * d2
    return jax.vmap(jax.vmap(lambda t: tn.network_loss(layout, t, beta)))(th)


def output_on_plane(
    layout: tn.Layout,
    plane: fields.Plane,
    a: ArrayLike,
    b: ArrayLike,
    beta: float,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Loss L(theta(a_i, b_j)) on the grid a (n_a,) x b (n_b,); shape (n_a, n_b)."""
    dtype = dtype or jnp.result_type(float)
    arrs = tuple(jnp.asarray(v, dtype) for v in (plane.center, plane.d1, plane.d2))
    return _grid_output(layout, arrs, (jnp.asarray(a, dtype), jnp.asarray(b, dtype)), float(beta))


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
    [-extent, extent]^2 in the paper's plane; ``sg_loops[beta_SG]``: the loop integral
    (``loop_n`` points, radius :data:`PAPER_RADIUS`) of the SG field of the paper's
    near-deterministic net (forward beta = 10000); ``exact_loops[beta_SG]``: that of the
    exact gradient of the smooth net with beta = beta_SG.
    """
    plane = tn.paper_plane()
    ab = np.linspace(-extent, extent, grid_n)
    out: dict = {"a": ab, "b": ab, "grids": {}, "sg_loops": {}, "exact_loops": {}}
    for bg in grid_betas:
        out["grids"][bg] = np.asarray(output_on_plane(tn.FIVE_WEIGHT, plane, ab, ab, bg, dtype))
    for bs in beta_sgs:
        out["sg_loops"][bs] = fields.loop_integral(
            tn.sg_field(tn.FIVE_WEIGHT, _SG_BETA, bs), plane, tn.PAPER_RADIUS, loop_n
        )
        out["exact_loops"][bs] = fields.loop_integral(
            tn.exact_field(tn.FIVE_WEIGHT, bs), plane, tn.PAPER_RADIUS, loop_n
        )
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
