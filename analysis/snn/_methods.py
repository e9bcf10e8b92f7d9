"""Training methods of spiking networks: which spike function each layer uses.

Registry (``METHOD_NAMES``), following Gygax & Zenke 2025 (sec. 5):

* ``deterministic`` -- S = Theta(U - theta), backward pass through a surrogate psi
  (surrogate-gradient BPTT; Neftci, Mostafa & Zenke 2019).
* ``stochastic`` -- S ~ Bernoulli(f(U - theta)) with escape noise f (paper: sigmoid,
  beta = 10 hidden, beta = 100 output), backward pass through psi (matched psi = f' by
  default: the smoothed stochastic derivative, Arya et al. 2022).
* ``multilayer_spiker`` -- Gardner, Sporea & Gruening 2015: stochastic forward pass; the
  hidden layers' derivative dS/dz is the *sampled spike train* scaled by beta,
  psi_h := beta_h S (their hidden factor rho'/rho = 1/Delta_u with the firing density rho
  replaced by the spike train). Gradient reaches earlier layers only through bins in which
  the hidden neuron spiked. The output layer uses its matched surrogate as in ``stochastic``.

``surrogate=None`` means "matched": psi = f' of the layer's escape noise (hidden_noise for
hidden layers, output_noise for a spiking output layer), also for ``deterministic``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis.neuron import (
    EscapeNoise,
    Surrogate,
    bernoulli_spike_from_uniform,
    heaviside_spike,
    matched_surrogate,
)
from analysis.neuron._surrogates import as_surrogate

METHOD_NAMES = ("deterministic", "stochastic", "multilayer_spiker")


def _draw(z, u, noise):
    return (u < noise.prob(z)).astype(z.dtype)


@partial(jax.custom_jvp, nondiff_argnums=(2,))
def _sampled(z, u, noise):
    return _draw(z, u, noise)


@_sampled.defjvp
def _sampled_jvp(noise, primals, tangents):
    # Plain forward value (as in analysis.neuron._spikes): higher derivatives of S are exact (0 a.e.).
    (z, u), (dz, _) = primals, tangents
    s = _draw(z, u, noise)
    return s, noise.beta * s * dz


def sampled_derivative_spike(z: jax.Array, u: ArrayLike, noise: EscapeNoise) -> jax.Array:
    """S = 1[u < f(z)] with derivative rule dS/dz = beta S (MultilayerSpiker hidden units)."""
    return _sampled(z, jnp.asarray(u, z.dtype), noise)


@dataclass(frozen=True)
class Method:
    """A training method by name, with the escape noise of hidden and output layers.

    name : one of ``METHOD_NAMES``.
    hidden_noise, output_noise : :class:`EscapeNoise` (paper: sigmoid beta 10 / beta 100).
    surrogate : :class:`Surrogate` used for every layer's backward pass; None = matched; a
        callable psi (z -> dS/dz) is wrapped by :meth:`Surrogate.from_callable`.
    Hashable, so it can be a static argument of ``jit``.
    """

    name: str = "deterministic"
    hidden_noise: EscapeNoise = EscapeNoise("sigmoid", 10.0)
    output_noise: EscapeNoise = EscapeNoise("sigmoid", 100.0)
    surrogate: Surrogate | None = None

    def __post_init__(self):
        if self.name not in METHOD_NAMES:
            raise ValueError(f"unknown method {self.name!r}; valid names: {', '.join(METHOD_NAMES)}")
        for attr in ("hidden_noise", "output_noise"):
            if not isinstance(getattr(self, attr), EscapeNoise):
                raise TypeError(f"{attr} must be an EscapeNoise, got {getattr(self, attr)!r}")
        object.__setattr__(self, "surrogate", as_surrogate(self.surrogate, "surrogate", allow_none=True))

    @property
    def stochastic(self) -> bool:
        """True when the forward pass samples spikes (needs a PRNG key)."""
        return self.name != "deterministic"

    def spike_fn(self, output: bool) -> Callable:
        """Spike function (z, u) -> S for a hidden (output=False) or output layer.

        ``u`` are uniforms of the shape of ``z`` (ignored by ``deterministic``).
        """
        noise = self.output_noise if output else self.hidden_noise
        psi = self.surrogate or matched_surrogate(noise)
        if self.name == "deterministic":
            return lambda z, u: heaviside_spike(z, psi)
        if self.name == "multilayer_spiker" and not output:
            return lambda z, u: sampled_derivative_spike(z, u, noise)
        return lambda z, u: bernoulli_spike_from_uniform(z, u, noise, psi)

    def spike_derivative(self, output: bool) -> Callable:
        """(z, s) -> dS/dz, the derivative rule of :meth:`spike_fn` given its spikes s.

        psi(z) for ``deterministic`` and ``stochastic`` (the JVP rules of
        :mod:`analysis.neuron._spikes`), beta_h s for the hidden layers of ``multilayer_spiker``.
        Used by backward passes written by hand (:mod:`analysis.snn._layerwise`), which
        store spikes and potentials instead of the uniforms.
        """
        noise = self.output_noise if output else self.hidden_noise
        if self.name == "multilayer_spiker" and not output:
            return lambda z, s: noise.beta * s
        psi = self.surrogate or matched_surrogate(noise)
        return lambda z, s: psi(z)


def method(name: str = "deterministic", **kwargs) -> Method:
    """Construct a :class:`Method` by name; raises ValueError listing the valid names."""
    return Method(name, **kwargs)
