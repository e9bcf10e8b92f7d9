"""Stochastic derivatives of a Bernoulli variable (stochastic triples and smoothing).

For a program X(p) with discrete randomness, a stochastic derivative is a triple
(delta, w, Y): for small eps, X(p + eps) = X(p) + delta eps with probability 1 - |w eps|
and jumps to Y with probability |w eps| (Arya, Schauer, Schaefer & Rackauckas,
"Automatic differentiation of programs with discrete randomness", NeurIPS 2022). The
estimate delta + w (g(Y) - g(X)) of d/dp E[g(X)] is unbiased for every g.

For X ~ Bernoulli(p) (Gygax & Zenke 2025, sec. 4, Fig. 3; Arya et al. 2022), per sample:

====================  =====================  =====================
construct             X = 0                  X = 1
====================  =====================  =====================
right                 jump 0->1, w=1/(1-p)   no jump
left                  no jump                jump 1->0, w=1/p
two_sided             1/(2(1-p))             1/(2p)
straight_through      1                      1
====================  =====================  =====================

The *smoothed* versions replace the jump by its conditional expectation given X,
delta~ = E[w (Y - X) | X], and continue with ordinary derivatives: the estimate of
d/dp E[g(X)] is g'(X) delta~. They compose with the chain rule (reverse-mode AD applies)
but are unbiased only when g is linear. ``smoothed_straight_through`` (delta~ = 1) is the
derivative that surrogate-gradient learning uses.

Example
-------
>>> import jax
>>> from analysis.neuron import bernoulli_derivative_samples
>>> d = bernoulli_derivative_samples(jax.random.key(0), 0.3, 100_000, "right")
>>> abs(float(d.mean()) - 1.0) < 0.02
True
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis import _validate

TRIPLE_CONSTRUCTS = ("right", "left", "two_sided", "straight_through")
SMOOTHED_CONSTRUCTS = (
    "smoothed_right",
    "smoothed_left",
    "smoothed_two_sided",
    "smoothed_straight_through",
)
BERNOULLI_CONSTRUCTS = TRIPLE_CONSTRUCTS + SMOOTHED_CONSTRUCTS


def _check_construct(construct: str) -> str:
    if construct not in BERNOULLI_CONSTRUCTS:
        raise ValueError(f"unknown construct {construct!r}; valid names: {', '.join(BERNOULLI_CONSTRUCTS)}")
    return construct.removeprefix("smoothed_")


def bernoulli_jump_weights(x: ArrayLike, p: jax.Array | float, construct: str) -> jax.Array:
    """|w (Y - X)| of the (smoothed) construct per sample: the value for g = identity.

    ``x`` are samples in {0, 1}, ``p`` the success probability (broadcastable).
    """
    base = _check_construct(construct)
    right = jnp.where(x == 0, 1.0 / (1.0 - p), 0.0)
    left = jnp.where(x == 1, 1.0 / p, 0.0)
    if base == "right":
        return right
    if base == "left":
        return left
    if base == "two_sided":
        return 0.5 * right + 0.5 * left
    return (1.0 - p) * right + p * left  # straight-through weighting


def bernoulli_derivative_samples(
    key: jax.Array, p: ArrayLike, n: int, construct: str, g: Callable | None = None
) -> jax.Array:
    """Per-sample stochastic-derivative estimates of d/dp E[g(X)], X ~ Bernoulli(p).

    Parameters
    ----------
    key : PRNG key (the samples X are ``uniform(key, (n,) + shape(p)) < p``).
    p : success probability in (0, 1), scalar or array.
    n : number of samples.
    construct : one of ``BERNOULLI_CONSTRUCTS``.
    g : downstream function applied to X (default identity); for smoothed constructs it
        must be differentiable (``jax.grad`` is taken at the sampled X).

    Returns
    -------
    array of shape ``(n,) + shape(p)``: triples give w (g(Y) - g(X)) (unbiased for any g),
    smoothed constructs give g'(X) delta~ (unbiased only for linear g).
    """
    _validate.probability(p, "p", open_interval=True)
    n = _validate.positive_int(n, "n")
    p = jnp.asarray(p, dtype=jnp.result_type(float))
    x = (jax.random.uniform(key, (n,) + p.shape, dtype=p.dtype) < p).astype(p.dtype)
    weight = bernoulli_jump_weights(x, p, construct)
    g = g if g is not None else (lambda s: s)
    if construct in TRIPLE_CONSTRUCTS:
        # Jump from X to Y = 1 - X; w (g(Y) - g(X)) = |w| (g(1) - g(0)) for every construct.
        one, zero = jnp.ones_like(p), jnp.zeros_like(p)
        return weight * (g(one) - g(zero))
    dg = jnp.vectorize(jax.grad(g))(x)
    return dg * weight


def bernoulli_construct_moments(p: ArrayLike, construct: str) -> tuple[jax.Array, jax.Array]:
    """Closed-form (mean, variance) of the per-sample estimate for g = identity.

    right: (1, p/(1-p)); left: (1, (1-p)/p); two_sided: (1, 1/(4p(1-p)) - 1);
    straight_through: (1, 0); smoothed versions equal their triples for g = identity.
    """
    _validate.probability(p, "p", open_interval=True)
    p = jnp.asarray(p, dtype=jnp.result_type(float))
    base = _check_construct(construct)
    var = {
        "right": p / (1.0 - p),
        "left": (1.0 - p) / p,
        "two_sided": 1.0 / (4.0 * p * (1.0 - p)) - 1.0,
        "straight_through": jnp.zeros_like(p),
    }[base]
    return jnp.ones_like(p), var
