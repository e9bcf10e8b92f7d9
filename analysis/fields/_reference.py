"""Plain-NumPy reference for the five-weight network: independent second implementation.

Used ONLY as an independent check of :mod:`analysis.fields._toy` (claims, tests) and as the
baseline of ``sgtheory bench fields``. It writes the surrogate-gradient chain rule of the
five-weight network of Gygax & Zenke 2025, sec. 5 out by hand (the library itself never
does: it uses jax.grad through a custom derivative rule):

    g = sigma(beta w x), h_i = sigma(beta v_i g), y = sigma(beta (u1 h1 + u2 h2)),
    psi(z) = b sigma(b z) sigma(-b z), b = beta_SG,
    dy/du_i = psi(z_y) h_i,       dy/dv_i = psi(z_y) u_i psi(v_i g) g,
    dy/dw   = sum_i psi(z_y) u_i psi(v_i g) v_i psi(w x) x.

All functions take ``theta`` of shape (..., 5) ordered (w, v1, v2, u1, u2).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import expit


def _psi(z, b):
    s = expit(b * z)
    return b * s * (1.0 - s)


def five_weight_output_np(
    theta: npt.ArrayLike, beta: float, x: float = 1.0, dtype: npt.DTypeLike = float
) -> np.ndarray:
    """y(theta) of the five-weight net with forward steepness beta (np.inf: Heaviside)."""
    theta = np.asarray(theta, dtype=dtype)
    w, v1, v2, u1, u2 = np.moveaxis(theta, -1, 0)
    act = (lambda z: (z > 0).astype(theta.dtype)) if np.isinf(beta) else (lambda z: expit(beta * z))
    g = act(w * x)
    return act(u1 * act(v1 * g) + u2 * act(v2 * g))


def five_weight_sg_np(
    theta: npt.ArrayLike, beta: float, beta_sg: float, x: float = 1.0, dtype: npt.DTypeLike = float
) -> np.ndarray:
    """Hand-written SG dy/dtheta, shape (..., 5); beta_sg == beta gives the exact gradient."""
    theta = np.asarray(theta, dtype=dtype)
    w, v1, v2, u1, u2 = np.moveaxis(theta, -1, 0)
    act = (lambda z: (z > 0).astype(theta.dtype)) if np.isinf(beta) else (lambda z: expit(beta * z))
    g = act(w * x)
    h1, h2 = act(v1 * g), act(v2 * g)
    zy = u1 * h1 + u2 * h2
    py = _psi(zy, beta_sg)
    p1, p2 = _psi(v1 * g, beta_sg), _psi(v2 * g, beta_sg)
    dg = py * (u1 * p1 * v1 + u2 * p2 * v2)
    dw = dg * _psi(w * x, beta_sg) * x
    return np.stack([dw, py * u1 * p1 * g, py * u2 * p2 * g, py * h1, py * h2], axis=-1)
