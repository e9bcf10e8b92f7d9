"""Single neuron: the smoothed probabilistic model (SPM) and its surrogate gradient.

Neuron: input x, weights w, z = w . x - theta, S ~ Bernoulli(f(z)) (stochastic) or
S = Theta(z) (deterministic). Gygax & Zenke 2025, sec. 3.1.

* E[S] = f(z) and grad_w E[S] = f'(z) x, which is exactly the SG with psi = f' for any
  sampled S.
* For a loss L of the output, E[L] = f L(1) + (1 - f) L(0), so
  grad_w E[L] = (L(1) - L(0)) f'(z) x, whereas the SG on a sample S is L'(S) psi(z) x.
  They agree when L is linear in S; otherwise the per-sample difference is
  (L'(S) - (L(1) - L(0))) f'(z) x (:func:`sg_loss_difference`).

Public: :func:`spm_gradient` (exact, of E[S] or E[L(S)]) and :func:`surrogate_gradient`
(the SG of S or L(S) on one sample, stochastic or deterministic neuron). All functions take
``w`` and ``x`` of the same shape (n,) and return arrays of shape (n,).

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis.neuron import escape_noise, spm_gradient, surrogate_gradient
>>> f = escape_noise("sigmoid", beta=3.0)
>>> w, x = jnp.array([0.5, 1.0]), jnp.array([1.0, 0.4])
>>> bool(jnp.allclose(spm_gradient(w, x, f), surrogate_gradient(jax.random.key(1), w, x, f)))
True
>>> bool(jnp.allclose(spm_gradient(w, x, f), surrogate_gradient(None, w, x, f)))  # S = Theta(z)
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


def spm_gradient(
    w: ArrayLike, x: ArrayLike, noise: EscapeNoise, theta: ArrayLike = 1.0, *, loss: Callable | None = None
) -> jax.Array:
    """Exact grad_w E[L(S)] of the SPM, by automatic differentiation of f (not of a spike rule).

    ``loss=None`` means L(S) = S: grad_w E[S] = f'(z) x. Otherwise ``loss`` is a scalar
    function of the spike and E[L] = f L(1) + (1 - f) L(0), so the result is
    (L(1) - L(0)) f'(z) x.
    """
    w = jnp.asarray(w, dtype=jnp.result_type(float))
    if loss is None:
        return jax.grad(expected_output)(w, x, noise, theta)
    return jax.grad(expected_loss)(w, x, noise, loss, theta)


def _spike(key, z, noise, surrogate):
    """S ~ Ber(f(z)) drawn with ``key``, or S = Theta(z) when ``key`` is None; derivative psi."""
    psi = surrogate if surrogate is not None else matched_surrogate(noise)
    if key is None:
        return heaviside_spike(z, psi)
    return bernoulli_spike(key, z, noise, psi)


def surrogate_gradient(
    key: jax.Array | None,
    w: ArrayLike,
    x: ArrayLike,
    noise: EscapeNoise,
    theta: ArrayLike = 1.0,
    *,
    loss: Callable | None = None,
    surrogate: Surrogate | None = None,
) -> jax.Array:
    """SG of L(S) w.r.t. w on one spike S: L'(S) psi(z) x, computed by jax.grad through the
    spike's custom derivative rule.

    ``key``: a PRNG key samples S ~ Ber(f(z)) (the stochastic neuron); None uses the
    deterministic neuron S = Theta(z). ``loss=None`` means L(S) = S; ``surrogate=None``
    means the matched psi = f'.
    """

    def out(w_):
        s = _spike(key, membrane_distance(w_, x, theta), noise, surrogate)
        return s if loss is None else loss(s)

    return jax.grad(out)(jnp.asarray(w, dtype=jnp.result_type(float)))


def expected_loss(
    w: ArrayLike, x: ArrayLike, noise: EscapeNoise, loss: Callable, theta: ArrayLike = 1.0
) -> jax.Array:
    """E[L(S)] = f L(1) + (1 - f) L(0) for a scalar loss L of the spike."""
    p = expected_output(w, x, noise, theta)
    return p * loss(jnp.ones_like(p)) + (1.0 - p) * loss(jnp.zeros_like(p))


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
