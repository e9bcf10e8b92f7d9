"""Claim: SGs enable learning where the true gradient vanishes.

Setup (Gygax & Zenke 2025, sec. 5, Fig. 5): five-weight net with w = 1, u1 = 1, u2 = -1,
parameters (v1, v2), forward beta = 20. On the saturated plateau at (1.7, -1.3) the true
(v1, v2)-gradient is below 1e-12 (also by the independent NumPy chain rule), so gradient
descent does not move; SG descent with beta_SG = 2 (same learning rate and step count)
leaves the plateau and lowers the beta = 20 loss. beta_SG = 4 and 20 are reported too
(beta_SG = 20 = beta is the true gradient).
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._registry import register, result

NAME = "fields_sg_enable_learning"
START, BETA, LR, STEPS = (1.7, -1.3), 20.0, 1.0, 1000
TRUE_GRAD_MAX = 1e-12


@register(
    NAME,
    "On the plateau (v1,v2)=(1.7,-1.3), beta=20, the true gradient is < 1e-12 while "
    "beta_SG=2 SG descent lowers the loss (true-gradient descent does not).",
)
def check(profile: str = "quick"):
    import jax

    from analysis import fields
    from analysis.fields._reference import five_weight_sg_np
    from analysis.fields._toy import network_loss, plateau_thetas

    th0 = plateau_thetas(*START)
    mask = np.array([0.0, 1.0, 1.0, 0.0, 0.0])
    loss = jax.jit(lambda t: network_loss(fields.FIVE_WEIGHT, t, BETA))
    true_g = np.asarray(fields.exact_field(fields.FIVE_WEIGHT, BETA)(th0))[1:3]
    ref_g = five_weight_sg_np(np.asarray(th0), BETA, BETA)[1:3]
    l0 = float(loss(th0))
    runs = {}
    for bs in (2.0, 4.0, 20.0):
        g = fields.sg_field(fields.FIVE_WEIGHT, BETA, bs)
        end = fields.descend(g, th0, LR, STEPS, mask)
        runs[bs] = {
            "sg_at_start": np.asarray(g(th0))[1:3],
            "end_v": np.asarray(end)[1:3],
            "end_loss": float(loss(end)),
            "loss_drop": l0 - float(loss(end)),
        }
    end_true = fields.descend(fields.exact_field(fields.FIVE_WEIGHT, BETA), th0, LR, STEPS, mask)
    true_drop = l0 - float(loss(end_true))
    tg = float(np.max(np.abs(true_g)))
    passed = (
        tg < TRUE_GRAD_MAX
        and float(np.max(np.abs(ref_g))) < TRUE_GRAD_MAX
        and runs[2.0]["loss_drop"] > 0.5
        and abs(true_drop) < 1e-9
    )
    return result(
        NAME,
        tg,
        TRUE_GRAD_MAX,
        None,
        passed,
        start=START,
        start_loss=l0,
        true_gradient_v=true_g,
        true_gradient_numpy_reference=ref_g,
        true_descent_loss_drop=true_drop,
        sg_runs=runs,
        lr=LR,
        steps=STEPS,
        criterion="max|true (v1,v2)-gradient| < 1e-12 (JAX and NumPy); beta_SG=2 SG descent "
        "lowers the loss by > 0.5; true-gradient descent changes it by < 1e-9",
    )
