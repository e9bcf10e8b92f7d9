"""Spike nonlinearities with custom derivative rules.

* :func:`heaviside_spike` -- deterministic spike S = Theta(z) whose derivative rule is a
  surrogate psi(z): surrogate-gradient learning (Neftci et al. 2019).
* :func:`bernoulli_spike` -- stochastic spike S ~ Bernoulli(f(z)), sampled as
  S = 1[xi < f(z)] from uniforms xi drawn with an explicit ``key``. Its derivative rule is
  the *smoothed stochastic derivative* with the straight-through weighting of
  Arya et al. (NeurIPS 2022): dS/dp = 1, hence dS/dz = f'(z) (Gygax & Zenke 2025, sec. 4).
  Passing a different ``surrogate`` gives a stochastic network trained with a
  mismatched surrogate.

Both are ``jax.custom_jvp`` functions: they work under ``jit``, ``vmap``, ``grad``
(reverse mode is derived from the linear JVP rule) and ``lax.scan``, elementwise on arrays
of any shape. Backpropagating through them IS surrogate-gradient BPTT.

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis import heaviside_spike, bernoulli_spike, surrogate, escape_noise
>>> psi = surrogate("superspike", beta=10.0)
>>> float(jax.grad(lambda z: heaviside_spike(z, psi))(0.0))
1.0
>>> f = escape_noise("sigmoid", beta=4.0)
>>> float(jax.grad(lambda z: bernoulli_spike(jax.random.key(0), z, f))(0.0))
1.0
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from analysis import _validate
from analysis.neuron._escape_noise import EscapeNoise
from analysis.neuron._surrogates import Surrogate, as_surrogate, matched_surrogate


def _as_float(z: ArrayLike) -> jax.Array:
    z = jnp.asarray(z)
    if not jnp.issubdtype(z.dtype, jnp.floating):
        z = z.astype(jnp.result_type(float))
    return z


def _step(z):
    return (z > 0).astype(z.dtype)


def _sample(z, u, noise):
    return (u < noise.prob(z)).astype(z.dtype)


# The JVP rules return the plain forward value (not the custom function again), so that
# higher derivatives of the spike's VALUE are its true derivative (0 almost everywhere);
# only the first-order tangent uses psi. The Jacobian of an SG field then differentiates
# the forward spikes exactly, as the curl analysis of Gygax & Zenke (2025, sec. 5) needs.
@partial(jax.custom_jvp, nondiff_argnums=(1,))
def _heaviside(z, psi):
    return _step(z)


@_heaviside.defjvp
def _heaviside_jvp(psi, primals, tangents):
    (z,), (dz,) = primals, tangents
    return _step(z), psi(z) * dz


def heaviside_spike(z: ArrayLike, surrogate: Surrogate | Callable) -> jax.Array:
    """Deterministic spike Theta(z) (1 iff z > 0) with derivative rule psi(z).

    Parameters
    ----------
    z : array of any shape (distance to threshold, U - theta).
    surrogate : a :class:`~analysis.neuron.Surrogate` used in the backward pass, or a
        callable psi (z -> dS/dz, wrapped by :meth:`Surrogate.from_callable`).

    Returns an array of the shape and floating dtype of ``z`` with entries in {0, 1}.
    """
    psi = as_surrogate(surrogate)
    return _heaviside(_as_float(z), psi)


@partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _bernoulli(z, u, noise, psi):
    return _sample(z, u, noise)


@_bernoulli.defjvp
def _bernoulli_jvp(noise, psi, primals, tangents):
    (z, u), (dz, _) = primals, tangents
    return _sample(z, u, noise), psi(z) * dz


def _check_spec(noise, surrogate):
    if not isinstance(noise, EscapeNoise):
        raise TypeError(f"noise must be an EscapeNoise (see analysis.neuron._escape_noise), got {noise!r}")
    if surrogate is None:
        return matched_surrogate(noise)
    return as_surrogate(surrogate)


def bernoulli_spike_from_uniform(
    z: ArrayLike, u: ArrayLike, noise: EscapeNoise, surrogate: Surrogate | Callable | None = None
) -> jax.Array:
    """Stochastic spike S = 1[u < f(z)] from given uniforms ``u`` (coupled sampling).

    Sharing ``u`` between runs couples them (common random numbers), which the
    stochastic-AD estimators rely on. The derivative rule is dS/dz = psi(z), with psi = f'
    (the smoothed straight-through stochastic derivative) when ``surrogate`` is None (a
    Surrogate, or a callable psi wrapped by :meth:`Surrogate.from_callable`).
    ``u`` must have the shape of ``z``; it receives no derivative.
    """
    psi = _check_spec(noise, surrogate)
    z = _as_float(z)
    u = jnp.asarray(u, dtype=z.dtype)
    _validate.same_shape(z, u, "z", "u")
    return _bernoulli(z, u, noise, psi)


def spike_uniforms(key: jax.Array, shape: tuple[int, ...], dtype: DTypeLike | None = None) -> jax.Array:
    """The uniforms xi ~ U[0, 1) that :func:`bernoulli_spike` draws from ``key``."""
    return jax.random.uniform(key, shape, dtype=dtype or jnp.result_type(float))


def bernoulli_spike(
    key: jax.Array, z: jax.Array, noise: EscapeNoise, surrogate: Surrogate | Callable | None = None
) -> jax.Array:
    """Stochastic spike S ~ Bernoulli(f(z)) elementwise, driven by ``key``.

    Parameters
    ----------
    key : a JAX PRNG key; the same key gives the same spikes.
    z : array of any shape (U - theta).
    noise : escape-noise function f.
    surrogate : derivative used in the backward pass; None (default) uses the matched
        psi = f', the smoothed stochastic derivative of the spike.

    Returns {0, 1} spikes with the shape and floating dtype of ``z``; E[S] = f(z).
    """
    z = _as_float(z)
    return bernoulli_spike_from_uniform(z, spike_uniforms(key, z.shape, z.dtype), noise, surrogate)
