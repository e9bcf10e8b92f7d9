"""Single neuron: the smoothed probabilistic model (SPM) and its surrogate gradient.

Neuron: input x, weights w, z = w . x - theta, S ~ Bernoulli(f(z)) (stochastic) or
S = Theta(z) (deterministic). Gygax & Zenke 2025, sec. 3.1.

* E[S] = f(z) and grad_w E[S] = f'(z) x, which is exactly the SG with psi = f' for any
  sampled S.
* For a loss L of the output, E[L] = f L(1) + (1 - f) L(0), so
  grad_w E[L] = (L(1) - L(0)) f'(z) x, whereas the SG on a sample S is L'(S) psi(z) x.
  They agree when L is linear in S; otherwise the per-sample difference is
  (L'(S) - (L(1) - L(0))) f'(z) x (:func:`sg_loss_difference`).

All functions take ``w`` and ``x`` of the same shape (n,) and return arrays of shape (n,).

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis import escape_noise
>>> from analysis.neuron._single_neuron import spm_gradient, surrogate_gradient
>>> f = escape_noise("sigmoid", beta=3.0)
>>> w, x = jnp.array([0.5, 1.0]), jnp.array([1.0, 0.4])
>>> bool(jnp.allclose(spm_gradient(w, x, f), surrogate_gradient(jax.random.key(1), w, x, f)))
True
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis import _validate
from analysis.neuron._escape_noise import EscapeNoise
from analysis.neuron._spikes import bernoulli_spike, heaviside_spike
from analysis.neuron._surrogates import Surrogate, matched_surrogate


def membrane_distance(w: ArrayLike, x: ArrayLike, theta: ArrayLike = 1.0) -> jax.Array:
    """z = w . x - theta for ``w`` and ``x`` of equal shape (n,)."""
    _validate.same_shape(w, x, "w", "x")
    return jnp.dot(jnp.asarray(w), jnp.asarray(x)) - theta


def expected_output(w: ArrayLike, x: ArrayLike, noise: EscapeNoise, theta: ArrayLike = 1.0) -> jax.Array:
    """E[S] = f(w . x - theta): the SPM of one escape-noise neuron."""
    return noise.prob(membrane_distance(w, x, theta))


def spm_gradient(w: ArrayLike, x: ArrayLike, noise: EscapeNoise, theta: ArrayLike = 1.0) -> jax.Array:
    """Exact grad_w E[S], by automatic differentiation of f (not of the custom rule)."""
    return jax.grad(expected_output)(jnp.asarray(w, dtype=jnp.result_type(float)), x, noise, theta)


def _spike(key, z, noise, surrogate, stochastic):
    psi = surrogate if surrogate is not None else matched_surrogate(noise)
    if stochastic:
        return bernoulli_spike(key, z, noise, psi)
    return heaviside_spike(z, psi)


def surrogate_gradient(
    key: jax.Array,
    w: ArrayLike,
    x: ArrayLike,
    noise: EscapeNoise,
    surrogate: Surrogate | None = None,
    theta: ArrayLike = 1.0,
    *,
    stochastic: bool = True,
) -> jax.Array:
    """SG of the output spike w.r.t. w: jax.grad through the spike's custom rule.

    ``stochastic=True`` samples S ~ Ber(f(z)) with ``key``; ``False`` uses S = Theta(z)
    (``key`` unused). ``surrogate=None`` means the matched psi = f'.
    """
    out = lambda w_: _spike(key, membrane_distance(w_, x, theta), noise, surrogate, stochastic)
    return jax.grad(out)(jnp.asarray(w, dtype=jnp.result_type(float)))


def expected_loss(
    w: ArrayLike, x: ArrayLike, noise: EscapeNoise, loss: Callable, theta: ArrayLike = 1.0
) -> jax.Array:
    """E[L(S)] = f L(1) + (1 - f) L(0) for a scalar loss L of the spike."""
    p = expected_output(w, x, noise, theta)
    return p * loss(jnp.ones_like(p)) + (1.0 - p) * loss(jnp.zeros_like(p))


def expected_loss_gradient(
    w: ArrayLike, x: ArrayLike, noise: EscapeNoise, loss: Callable, theta: ArrayLike = 1.0
) -> jax.Array:
    """Exact grad_w E[L(S)] by automatic differentiation of :func:`expected_loss`."""
    return jax.grad(expected_loss)(jnp.asarray(w, dtype=jnp.result_type(float)), x, noise, loss, theta)


def surrogate_loss_gradient(
    key: jax.Array,
    w: ArrayLike,
    x: ArrayLike,
    noise: EscapeNoise,
    loss: Callable,
    surrogate: Surrogate | None = None,
    theta: ArrayLike = 1.0,
    *,
    stochastic: bool = True,
) -> jax.Array:
    """SG of L(S) on one sampled S: L'(S) psi(z) x, computed by jax.grad."""
    out = lambda w_: loss(_spike(key, membrane_distance(w_, x, theta), noise, surrogate, stochastic))
    return jax.grad(out)(jnp.asarray(w, dtype=jnp.result_type(float)))


def sg_loss_difference(
    s: ArrayLike, w: ArrayLike, x: ArrayLike, noise: EscapeNoise, loss: Callable, theta: ArrayLike = 1.0
) -> jax.Array:
    """Predicted SG(S = s) - grad_w E[L] = (L'(s) - (L(1) - L(0))) f'(z) x (matched psi).

    Written from the closed form (``noise.deriv`` and ``jax.grad(loss)`` at s), not from the
    gradient code paths, so that it can check them.
    """
    z = membrane_distance(w, x, theta)
    s = jnp.asarray(s, dtype=jnp.result_type(float))
    secant = loss(jnp.ones_like(s)) - loss(jnp.zeros_like(s))
    return (jax.grad(loss)(s) - secant) * noise.deriv(z) * jnp.asarray(x)
