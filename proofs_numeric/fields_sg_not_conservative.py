"""Claim: surrogate-gradient fields are not conservative (no surrogate loss has them as gradient).

Gygax & Zenke 2025, sec. 5, Fig. 4: in the paper's setup (five-weight net, forward
beta = 10000, circle of radius 1.8 in the (d1, d2) plane) the SG loop integral for
beta_SG in {1, 5, 20} is far above its quadrature error and grows with beta_SG. The JAX
value is checked against an independent reference: the hand-written NumPy chain rule of
analysis.fields._reference on the same circle with twice the points. On random layouts with
>= 2 weight layers the SG Jacobian (beta != beta_SG) is asymmetric.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from proofs_numeric._registry import register, result

NAME = "fields_sg_not_conservative"
SNR_MIN = 100.0  # |loop integral| / quadrature error estimate
ASYM_MIN = 1e-3  # max|J - J^T| / max|J| on random two-layer-or-deeper nets
BETA, BETA_SGS = 10000.0, (1.0, 5.0, 20.0)


def _numpy_loop(plane, radius, n, beta, beta_sg):
    from analysis.fields._loops import circle
    from analysis.fields._reference import five_weight_sg_np

    _, pts, tan = circle(plane, radius, n)
    return float(np.sum(five_weight_sg_np(pts, beta, beta_sg) * tan) * 2 * np.pi / n)


def _random_asymmetry(n_nets):
    import jax

    from analysis import fields
    from analysis.fields._loops import jacobian_asymmetry

    rng, out = np.random.default_rng(7), []
    for i in range(n_nets):
        lay = fields.random_layout(jax.random.key(200 + i), max_layers=3, max_width=3)
        if len(lay.sizes) < 3:
            lay = fields.Layout(lay.sizes[:1] + (2,) + lay.sizes[1:], lay.x, "random")
        g = fields.sg_field(lay, 4.0, 1.0)
        a, s = jacobian_asymmetry(g, rng.normal(size=lay.n_params))
        out.append({"sizes": lay.sizes, "asymmetry": float(a) / float(s)})
    return out


@register(
    NAME,
    "SG fields (beta=10000, beta_SG=1,5,20) have loop integrals far above the "
    "quadrature error that grow with beta_SG; random-net SG Jacobians are asymmetric.",
)
def check(profile: str = "quick"):
    from analysis import fields

    plane, n = fields.paper_plane(), (96_000 if profile == "quick" else 384_000)
    rows = []
    for bs in BETA_SGS:
        res = fields.loop_integral(
            fields.sg_field(fields.FIVE_WEIGHT, BETA, bs), plane, fields.PAPER_RADIUS, n
        )
        ref = _numpy_loop(plane, fields.PAPER_RADIUS, 2 * n, BETA, bs)
        rows.append(
            {
                "beta_sg": bs,
                "loop_integral": res.value,
                "quad_error": res.error,
                "snr": abs(res.value) / max(res.error, 1e-300),
                "numpy_reference_2N": ref,
                "abs_path": res.abs_path,
                "n_points": n,
            }
        )
    mags = [abs(r["loop_integral"]) for r in rows]
    grows = all(b > a for a, b in pairwise(mags))
    agree = all(
        abs(r["loop_integral"] - r["numpy_reference_2N"]) <= 2 * r["quad_error"] + 1e-12 for r in rows
    )
    rand = _random_asymmetry(2 if profile == "quick" else 12)
    min_snr = min(r["snr"] for r in rows)
    passed = min_snr > SNR_MIN and grows and agree and min(r["asymmetry"] for r in rand) > ASYM_MIN
    return result(
        NAME,
        min_snr,
        SNR_MIN,
        None,
        passed,
        loops=rows,
        grows_with_beta_sg=grows,
        agrees_with_numpy_reference=agree,
        random_nets=rand,
        criterion="min |I|/err > 100, |I| increasing in beta_SG, JAX == NumPy within "
        "2*err, random SG Jacobians asymmetric (> 1e-3 relative)",
    )
