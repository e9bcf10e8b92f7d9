"""Claim: SG descent converges to a point that is not a minimum of the loss.

Sign-flip setup of Gygax & Zenke 2025, sec. 5 (x = 1, v1 = 0.05, v2 = 0.1, u1 = 1, u2 = -1,
forward beta = 100): descent on w alone with the SG (beta_SG = 30) from several starts
converges to the SG's zero crossing w*, where the true gradient is far from zero and the
loss is far above its minimum over the sweep. References: w* against the zero crossing of
the SG sweep (independent interpolation), the true gradient at w* from central differences
of the NumPy forward pass. beta_SG = 15 has no zero in the sweep: SG descent drifts out to
the right plateau; reported.
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._registry import register, result

NAME = "fields_sg_descent_bias"
BETA, LR, STEPS, STARTS = 100.0, 1e-3, 20000, (-0.15, 0.0, 0.15)


def _descent(beta_sg):
    from analysis import fields

    g = fields.sg_field(fields.FIVE_WEIGHT, BETA, beta_sg)
    mask = np.eye(5)[0]
    ends = [
        np.asarray(fields.descend(g, fields.sign_flip_thetas(np.array([w0]))[0], LR, STEPS, mask))
        for w0 in STARTS
    ]
    return g, ends


@register(
    NAME,
    "SG descent in w (sign-flip setup, beta=100, beta_SG=30) converges to a point "
    "that is not a loss minimum; where is reported.",
)
def check(profile: str = "quick"):
    from analysis.fields import five_weight_output_np
    from proofs_numeric.fields_sign_flip import _crossings, sweep

    s = sweep(30.0)
    cross = _crossings(s["w"], s["sg"])
    g, ends = _descent(30.0)
    w_end = np.array([e[0] for e in ends])
    h, e0 = 1e-6, np.eye(5)[0]
    true_at = [
        float((five_weight_output_np(e + h * e0, BETA) - five_weight_output_np(e - h * e0, BETA)) / (2 * h))
        for e in ends
    ]
    loss_end = [float(five_weight_output_np(e, BETA)) for e in ends]
    loss_min, w_min = float(s["loss"].min()), float(s["w"][np.argmin(s["loss"])])
    _, ends15 = _descent(15.0)
    passed = (
        len(cross) == 1
        and np.all(np.abs(w_end - cross[0]) < 1e-6)
        and min(abs(t) for t in true_at) > 1.0
        and min(loss_end) > 100 * loss_min
    )
    return result(
        NAME,
        float(w_end.mean()),
        cross[0] if cross else None,
        1e-6,
        passed,
        starts=STARTS,
        lr=LR,
        steps=STEPS,
        converged_w=w_end,
        sg_at_end=[float(g(e)[0]) for e in ends],
        true_gradient_at_end_fd=true_at,
        loss_at_end=loss_end,
        loss_min_on_sweep=loss_min,
        argmin_loss_on_sweep=w_min,
        beta_sg_15_end_w=[float(e[0]) for e in ends15],
        beta_sg_15_end_loss=[float(five_weight_output_np(e, BETA)) for e in ends15],
        criterion="descent ends within 1e-6 of the SG zero crossing, where |true gradient| > 1 "
        "and loss > 100 x the sweep's minimum loss",
    )
