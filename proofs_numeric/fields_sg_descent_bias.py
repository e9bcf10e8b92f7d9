"""Claim: SG descent converges to a point that is not a minimum of the loss.

Sign-flip setup of Gygax & Zenke 2025, sec. 5 (x = 1, v1 = 0.05, v2 = 0.1, u1 = 1, u2 = -1,
forward beta = 100): descent on w alone with the SG (beta_SG = 30) from several starts.

Headline: the distance from where SG descent stops, w_stop, to the true minimum w_min (the
true gradient's zero crossing on the w-sweep of :mod:`proofs_numeric.fields_sign_flip`, grid
step dw = 4e-5), which must exceed k = 2 grid steps: w_min is bracketed within one grid step
by the sign change of the true gradient, and descent is stopped to well within one step (it
is asserted to end within 1e-6 of the SG's zero crossing, dw / 40). A second, independent
test of "not a minimum": the true gradient at w_stop (central differences of the NumPy
forward pass) must exceed the largest value it could take within k grid steps of a true
stationary point, k dw max|dg/dw|, with the Lipschitz constant max|dg/dw| of the true
gradient g along the sweep from its grid differences. beta_SG = 15 has no SG zero in the
sweep: SG descent drifts out to the right plateau; reported.
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._registry import register, result

NAME = "fields_sg_descent_bias"
BETA, LR, STEPS, STARTS = 100.0, 1e-3, 20000, (-0.15, 0.0, 0.15)
K_STEPS = 2  # one grid step for the bracket of w_min, one for where descent stopped
STOP_TOL = 1e-6  # descent must end this close to the SG's zero crossing (dw / 40)


def _descent(beta_sg):
    from analysis import fields
    from analysis.fields._toy import sign_flip_thetas

    g = fields.sg_field(fields.FIVE_WEIGHT, BETA, beta_sg)
    mask = np.eye(5)[0]
    ends = [
        np.asarray(fields.descend(g, sign_flip_thetas(np.array([w0]))[0], LR, STEPS, mask)) for w0 in STARTS
    ]
    return g, ends


def _true_gradient_fd(theta):
    from analysis.fields._reference import five_weight_output_np

    h, e0 = 1e-6, np.eye(5)[0]
    return float(
        (five_weight_output_np(theta + h * e0, BETA) - five_weight_output_np(theta - h * e0, BETA)) / (2 * h)
    )


@register(
    NAME,
    "SG descent in w (sign-flip setup, beta=100, beta_SG=30) stops more than k grid steps "
    "from the loss minimum, where the true gradient is far from zero.",
)
def check(profile: str = "quick"):
    from analysis.fields._numerics import zero_crossings
    from analysis.fields._reference import five_weight_output_np
    from proofs_numeric.fields_sign_flip import sweep

    s = sweep(30.0)
    w, dw = s["w"], float(s["w"][1] - s["w"][0])
    cross, true_cross = zero_crossings(w, s["sg"]), zero_crossings(w, s["true_grad"])
    g, ends = _descent(30.0)
    w_end = np.array([e[0] for e in ends])
    true_at = [_true_gradient_fd(e) for e in ends]
    lipschitz = float(np.max(np.abs(np.diff(s["true_grad"]))) / dw)
    grad_bound = K_STEPS * dw * lipschitz
    loss_end = [float(five_weight_output_np(e, BETA)) for e in ends]
    loss_min, w_argmin = float(s["loss"].min()), float(w[np.argmin(s["loss"])])
    stopped = len(cross) == 1 and bool(np.all(np.abs(w_end - cross[0]) < STOP_TOL))
    w_min = true_cross[0] if len(true_cross) == 1 else None
    distance = float(np.min(np.abs(w_end - w_min))) if w_min is not None else None
    tol = K_STEPS * dw
    min_true = min(abs(t) for t in true_at)
    passed = stopped and distance is not None and distance > tol and min_true > grad_bound
    _, ends15 = _descent(15.0)
    return result(
        NAME,
        distance,
        w_min,
        tol,
        passed,
        starts=STARTS,
        lr=LR,
        steps=STEPS,
        converged_w=w_end,
        distance_in_grid_steps=distance / dw if distance is not None else None,
        grid_step=dw,
        sg_zero_crossing=cross,
        sg_at_end=[float(g(e)[0]) for e in ends],
        true_gradient_at_end_fd=true_at,
        true_gradient_bound=grad_bound,
        true_gradient_lipschitz_on_sweep=lipschitz,
        loss_at_end=loss_end,
        loss_min_on_sweep=loss_min,
        argmin_loss_on_sweep=w_argmin,
        beta_sg_15_end_w=[float(e[0]) for e in ends15],
        beta_sg_15_end_loss=[float(five_weight_output_np(e, BETA)) for e in ends15],
        criterion=(
            f"min over {len(STARTS)} starts |w_stop - w_min| > {K_STEPS} grid steps "
            f"({tol:.1e}), w_min the true gradient's zero; |true gradient at w_stop| > "
            f"{K_STEPS} dw max|dg/dw| = {grad_bound:.3g} (its largest value within {K_STEPS} "
            f"steps of a stationary point); descent ends within {STOP_TOL:g} of the SG's zero"
        ),
    )
