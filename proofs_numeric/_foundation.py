"""Shared helpers of the foundation claims: error measures and sampling of
single neurons away from the kinks of the piecewise escape-noise families.

Private module (leading underscore): not a claim, not discovered by the runner.
"""

from __future__ import annotations

import math

import numpy as np

#: Number of standard errors allowed in Monte-Carlo comparisons. For a normal statistic the
#: two-sided false-failure probability per comparison is 2 (1 - Phi(4.5)) = 6.8e-6.
K_SE = 4.5
FALSE_FAILURE_PER_TEST = math.erfc(K_SE / math.sqrt(2.0))

#: Kinks of f' in x = beta z (where jax.grad of f and the closed-form f' may legitimately
#: differ); the exponential kink -log(p0) is added per neuron.
_KINKS = {"triangle": (-1.0, 0.0, 1.0), "exponential": (), "fast_sigmoid": (0.0,), "laplace": (0.0,)}


def rel_err(a, b) -> float:
    """max_i |a_i - b_i| / |b_i|, absolute where b_i == 0 (so 0 vs 0 counts as exact)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.where(b == 0, 1.0, np.abs(b))
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def random_neurons(
    rng: np.random.Generator,
    family: str,
    beta: float,
    n_neurons: int,
    n_inputs: int,
    p0: float = 0.5,
    x_range: float = 6.0,
    gap: float = 1e-2,
):
    """Random (w, x, theta) with beta z = beta (w.x - theta) in [-x_range, x_range], at
    least ``gap`` away from every kink of ``family`` (so the derivative is unambiguous).

    Returns w and x of shape (n_neurons, n_inputs) and theta of shape (n_neurons,).
    """
    kinks = np.array(_KINKS.get(family, ()) + ((-math.log(p0),) if family == "exponential" else ()))
    bz = rng.uniform(-x_range, x_range, n_neurons)
    if kinks.size:
        near = np.min(np.abs(bz[:, None] - kinks[None, :]), axis=1) < gap
        bz = np.where(near, bz + 3 * gap, bz)
    w = rng.normal(0.0, 1.0, (n_neurons, n_inputs))
    x = rng.normal(0.0, 1.0, (n_neurons, n_inputs))
    theta = np.sum(w * x, axis=1) - bz / beta
    return w, x, theta
