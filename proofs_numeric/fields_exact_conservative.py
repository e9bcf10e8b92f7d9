"""Claim: exact-gradient fields (beta = beta_SG) are conservative.

Gygax & Zenke 2025, sec. 5: the gradient of a smooth network has zero loop integral and a
symmetric Jacobian. Checked on the paper's loop (five-weight net, beta = beta_SG in
{1, 5, 20}) and on random layouts / planes. The field itself is checked against an
independent reference: central finite differences of the plain forward pass (and, for
the five-weight net, the hand-written NumPy chain rule of analysis.fields._reference).
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._registry import register, result

NAME = "fields_exact_conservative"
LOOP_TOL = 1e-8  # |loop integral| / int |g| ds
SYM_TOL = 1e-10  # max|J - J^T| / max(1, max|J|)
FD_TOL = 1e-6  # field vs central differences (relative)


def _case(layout, plane, radius, beta, n_points):
    from analysis import fields
    from analysis.fields._loops import jacobian_asymmetry
    from analysis.fields._numerics import on_grid

    g = fields.exact_field(layout, beta)
    res = fields.loop_integral(g, plane, radius, n_points)
    pts = [np.asarray(plane.center)] + [
        np.asarray(plane.point(radius * np.cos(t), radius * np.sin(t))) for t in (0.3, 2.0, 4.1)
    ]
    sym = max(float(a) / max(1.0, float(s)) for a, s in (jacobian_asymmetry(g, p) for p in pts))
    c = np.asarray(plane.center) + 0.3 * np.asarray(plane.d1)
    eps, e = 1e-5, np.eye(c.size)
    L = np.asarray(on_grid(fields.loss_fn(layout, beta), np.concatenate([c + eps * e, c - eps * e])))
    fd = (L[: c.size] - L[c.size :]) / (2 * eps)
    g_c = np.asarray(on_grid(g, c[None]))[0]
    fd_err = float(np.max(np.abs(g_c - fd)) / max(1e-12, np.max(np.abs(fd))))
    return {
        "beta": beta,
        "sizes": layout.sizes,
        "loop_integral": res.value,
        "quad_error": res.error,
        "abs_path": res.abs_path,
        "relative": abs(res.value) / res.abs_path,
        "jacobian_asymmetry": sym,
        "field_vs_fd": fd_err,
    }


def _random_plane(rng, n, Plane):
    q, _ = np.linalg.qr(rng.normal(size=(n, 2)))
    return Plane(rng.normal(scale=0.5, size=n), q[:, 0], q[:, 1])


@register(
    NAME,
    "Exact gradients (beta = beta_SG) have zero loop integrals (< 1e-8 relative) "
    "and symmetric Jacobians (< 1e-10), paper setup and random networks.",
)
def check(profile: str = "quick"):
    import jax

    from analysis import fields
    from analysis.fields._reference import five_weight_sg_np

    plane = fields.paper_plane()
    cases = [_case(fields.FIVE_WEIGHT, plane, fields.PAPER_RADIUS, b, 1024) for b in (1.0, 5.0, 20.0)]
    rng = np.random.default_rng(5)
    n_random = 2 if profile == "quick" else 12
    for i in range(n_random):
        layout = fields.random_layout(jax.random.key(100 + i))
        if layout.n_params < 2:
            layout = fields.Layout((2, 2, 1), (0.7, -1.1), "random")
        cases.append(
            _case(
                layout,
                _random_plane(rng, layout.n_params, fields.Plane),
                1.0,
                float(rng.uniform(0.5, 5.0)),
                512,
            )
        )
    th = np.array([0.1, 0.5, -0.3, 1.0, -1.0])
    ref_np = float(
        np.max(
            np.abs(
                np.asarray(fields.exact_field(fields.FIVE_WEIGHT, 5.0)(th)) - five_weight_sg_np(th, 5.0, 5.0)
            )
        )
    )
    worst_loop = max(c["relative"] for c in cases)
    worst_sym = max(c["jacobian_asymmetry"] for c in cases)
    worst_fd = max(c["field_vs_fd"] for c in cases)
    passed = worst_loop < LOOP_TOL and worst_sym < SYM_TOL and worst_fd < FD_TOL and ref_np < 1e-12
    return result(
        NAME,
        worst_loop,
        0.0,
        LOOP_TOL,
        passed,
        cases=cases,
        worst_jacobian_asymmetry=worst_sym,
        worst_field_vs_fd=worst_fd,
        five_weight_vs_numpy_reference=ref_np,
        criterion="max relative loop integral < 1e-8, asymmetry < 1e-10, field vs FD < 1e-6",
    )
