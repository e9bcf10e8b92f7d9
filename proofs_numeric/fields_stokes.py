"""Claim: Stokes' theorem for SG fields: loop integral = surface integral of the curl.

For a smooth SG field (finite beta != beta_SG) the line integral around a circle equals
the disk integral of the planar curl dg_b/da - dg_a/db = -2 d1^T A d2 (A the
antisymmetric part of jax.jacfwd of the field), signed by the orientation
(Gygax & Zenke 2025, sec. 5). The two sides are independent computations: the loop uses
field values only (periodic trapezoid), the surface uses Jacobians (Gauss-Legendre x
trapezoid in polar coordinates). Agreement must hold to the combined quadrature error.
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._registry import register, result

NAME = "fields_stokes"


def _case(layout, plane, radius, beta, beta_sg, orientation, n_loop, n_r, n_phi):
    from analysis import fields

    g = fields.sg_field(layout, beta, beta_sg)
    loop = fields.loop_integral(g, plane, radius, n_loop, orientation)
    surf, surf_err = fields.surface_integral(g, plane, radius, n_r, n_phi, orientation)
    tol = 10.0 * (loop.error + surf_err) + 1e-12
    return {
        "sizes": layout.sizes,
        "beta": beta,
        "beta_sg": beta_sg,
        "orientation": orientation,
        "loop_integral": loop.value,
        "loop_error": loop.error,
        "surface_integral": surf,
        "surface_error": surf_err,
        "difference": abs(loop.value - surf),
        "tolerance": tol,
    }


@register(
    NAME,
    "For smooth SG fields the loop integral equals the surface integral of the "
    "plane-projected curl (Stokes) to quadrature accuracy, in both orientations.",
)
def check(profile: str = "quick"):

    from analysis import fields

    plane = fields.paper_plane()
    cases = [
        _case(fields.FIVE_WEIGHT, plane, fields.PAPER_RADIUS, 3.0, 1.0, "clockwise", 256, 24, 96),
        _case(fields.FIVE_WEIGHT, plane, 1.0, 2.0, 5.0, "counterclockwise", 256, 24, 96),
    ]
    lay = fields.Layout((2, 3, 2), (0.8, -0.6), "random_2_3_2")
    rng = np.random.default_rng(11)
    for _ in range(1 if profile == "quick" else 4):
        q, _r = np.linalg.qr(rng.normal(size=(lay.n_params, 2)))
        p = fields.Plane(rng.normal(scale=0.5, size=lay.n_params), q[:, 0], q[:, 1])
        cases.append(_case(lay, p, 0.8, 3.0, 1.5, "clockwise", 256, 24, 96))
    worst = max(c["difference"] / c["tolerance"] for c in cases)
    nontrivial = min(abs(c["surface_integral"]) for c in cases) > 1e-6
    return result(
        NAME,
        max(c["difference"] for c in cases),
        0.0,
        max(c["tolerance"] for c in cases),
        worst <= 1.0 and nontrivial,
        cases=cases,
        criterion="|loop - surface| <= 10 (loop_err + surface_err) + 1e-12 per case; "
        "every surface integral nonzero (> 1e-6)",
    )
