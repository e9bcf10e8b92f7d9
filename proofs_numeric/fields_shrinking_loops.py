"""Claim: shrinking loops: loop integral / enclosed area -> planar curl at the centre.

For a smooth field, (1 / (pi r^2)) * (counterclockwise loop integral over the circle of
radius r) = planar curl at the centre + O(r^2) (the linear term of the curl averages out
over the disk). The fitted log-log slope of the error is the convergence order (expected
2). Reference: the curl at the centre from jax.jacfwd (d2^T J d1 - d1^T J d2); the loop
integrals use field values only. Gygax & Zenke 2025, sec. 5.
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._registry import register, result

NAME = "fields_shrinking_loops"
ORDER, ORDER_TOL = 2.0, 0.15


@register(
    NAME,
    "Loop integral / area converges to the plane-projected curl at the centre with "
    "fitted order 2 as the loop shrinks.",
)
def check(profile: str = "quick"):
    from analysis import fields
    from analysis.fields._loops import curl_norm
    from analysis.fields._numerics import fit_order

    center = np.array([0.3, 0.4, -0.2, 0.8, -0.6])
    plane = fields.paper_plane(center)
    g = fields.sg_field(fields.FIVE_WEIGHT, 5.0, 2.0)
    radii = 0.4 * 0.5 ** np.arange(6 if profile == "quick" else 9)
    ratio, ratio_err = fields.shrinking_loops(g, plane, radii, n_points=64)
    curl0 = float(fields.plane_curl(g, plane))
    err = np.abs(ratio - curl0)
    order = fit_order(radii, err)
    limit_rel = float(err[-1] / abs(curl0))
    quad_ok = bool(np.all(ratio_err < 1e-3 * err))
    passed = abs(order - ORDER) < ORDER_TOL and limit_rel < 1e-3 and quad_ok
    return result(
        NAME,
        order,
        ORDER,
        ORDER_TOL,
        passed,
        radii=radii,
        loop_over_area=ratio,
        quad_error_over_area=ratio_err,
        curl_at_centre=curl0,
        curl_norm_at_centre=float(curl_norm(g, center)),
        relative_gap_smallest_loop=limit_rel,
        criterion="|fitted order - 2| < 0.15, smallest loop within 1e-3 relative of the "
        "curl, quadrature error < 1e-3 of the gap",
    )
