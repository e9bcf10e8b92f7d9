"""Surrogate derivatives psi(z) and the registry that names them.

In surrogate-gradient (SG) learning the forward pass keeps the spike nonlinearity and
the backward pass replaces its derivative by psi (Neftci, Mostafa & Zenke 2019;
Gygax & Zenke 2025, sec. 2.1). Most surrogates in use are, up to a constant factor c,
the density f' of an escape-noise function f (``matched_noise``): psi = c f'. The factor
is derived symbolically in :mod:`analysis.neuron.symbolic`.

==================  ===================================  ==============  =============
name                psi(z), x = beta z                   matched noise   c (psi = c f')
==================  ===================================  ==============  =============
superspike          1 / (1 + |x|)^2  (Zenke & Ganguli)   fast_sigmoid    2 / beta
sigmoid_prime       beta sigma(x) sigma(-x)              sigmoid         1
scaled_sigmoid      sigma(x) sigma(-x)                   sigmoid         1 / beta
arctan              1 / (1 + x^2)                        arctan          pi / beta
triangle            max(0, 1 - |x|)                      triangle        1 / beta
gaussian            exp(-x^2 / 2)                        probit          sqrt(2 pi)/beta
exponential         beta min(1, p0 e^x) 1[p0 e^x < 1]    exponential     1
laplace             exp(-|x|)                            laplace         2 / beta
straight_through    1                                    (none)          --
==================  ===================================  ==============  =============

``matched_surrogate(noise)`` returns psi = f' exactly (name ``"matched:<family>"``).

Example
-------
>>> from analysis import surrogate, matched_surrogate, escape_noise
>>> psi = surrogate("superspike", beta=10.0)
>>> float(psi(0.0))
1.0
>>> float(matched_surrogate(escape_noise("sigmoid", 4.0))(0.0))
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from analysis import _validate
from analysis.neuron._escape_noise import ESCAPE_NOISE_NAMES, EscapeNoise, as_float_array, check_beta_fits


class _Entry(NamedTuple):
    fn: Callable  # (z, beta, p0) -> psi(z)
    matched_noise: str | None


def _superspike(z, beta, p0):
    a = 1.0 + jnp.abs(beta * z)
    return 1.0 / (a * a)


def _sigmoid_prime(z, beta, p0):
    x = beta * z
    return beta * jax.nn.sigmoid(x) * jax.nn.sigmoid(-x)


def _scaled_sigmoid(z, beta, p0):
    x = beta * z
    return jax.nn.sigmoid(x) * jax.nn.sigmoid(-x)


def _arctan(z, beta, p0):
    x = beta * z
    return 1.0 / (1.0 + x * x)


def _triangle(z, beta, p0):
    return jnp.maximum(0.0, 1.0 - jnp.abs(beta * z))


def _gaussian(z, beta, p0):
    x = beta * z
    return jnp.exp(-0.5 * x * x)


def _exponential(z, beta, p0):
    x = beta * z + math.log(p0)
    return jnp.where(x < 0, beta * jnp.exp(jnp.minimum(x, 0.0)), jnp.zeros_like(x))


def _laplace(z, beta, p0):
    return jnp.exp(-jnp.abs(beta * z))


def _straight_through(z, beta, p0):
    return jnp.ones_like(z)


_REGISTRY: dict[str, _Entry] = {
    "superspike": _Entry(_superspike, "fast_sigmoid"),
    "sigmoid_prime": _Entry(_sigmoid_prime, "sigmoid"),
    "scaled_sigmoid": _Entry(_scaled_sigmoid, "sigmoid"),
    "arctan": _Entry(_arctan, "arctan"),
    "triangle": _Entry(_triangle, "triangle"),
    "gaussian": _Entry(_gaussian, "probit"),
    "exponential": _Entry(_exponential, "exponential"),
    "laplace": _Entry(_laplace, "laplace"),
    "straight_through": _Entry(_straight_through, None),
}
_ALIASES = {"fast_sigmoid": "superspike", "ste": "straight_through"}

SURROGATE_NAMES: tuple[str, ...] = tuple(_REGISTRY) + tuple(f"matched:{n}" for n in ESCAPE_NOISE_NAMES)
#: surrogate name -> escape-noise family whose density it is proportional to (None: no density)
MATCHED_NOISE: dict[str, str | None] = {k: v.matched_noise for k, v in _REGISTRY.items()}


def _resolve(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"surrogate name must be a str, got {name!r}")
    name = _ALIASES.get(name, name)
    if name in _REGISTRY:
        return name
    if name.startswith("matched:") and name.split(":", 1)[1] in ESCAPE_NOISE_NAMES:
        return name
    raise ValueError(
        f"unknown surrogate {name!r}; valid names: {', '.join(SURROGATE_NAMES)} "
        f"(aliases: {', '.join(_ALIASES)})"
    )


@dataclass(frozen=True)
class Surrogate:
    """Surrogate derivative psi with steepness ``beta`` (hashable; usable as a static arg).

    ``name`` is a registry name or ``"matched:<escape-noise family>"`` (psi = f' exactly).
    ``p0`` is used by the exponential forms only.
    """

    name: str = "superspike"
    beta: float = 1.0
    p0: float = 0.5

    def __post_init__(self):
        object.__setattr__(self, "name", _resolve(self.name))
        object.__setattr__(self, "beta", _validate.positive_scalar(self.beta, "beta"))
        p0 = _validate.real(self.p0, "p0")
        if not 0.0 < p0 <= 1.0:
            raise ValueError(f"p0 must lie in (0, 1], got {self.p0!r}")
        object.__setattr__(self, "p0", p0)

    def __call__(self, z):
        """psi(z), elementwise; same shape and dtype as ``z`` (integer z: the default float).

        Raises ValueError if beta overflows that dtype (see :mod:`analysis.neuron._escape_noise`).
        """
        z = as_float_array(z)
        check_beta_fits(self.beta, z.dtype)
        if self.name.startswith("matched:"):
            return EscapeNoise(self.name.split(":", 1)[1], self.beta, self.p0).deriv(z)
        return _REGISTRY[self.name].fn(z, self.beta, self.p0)

    @property
    def matched_noise(self) -> str | None:
        """Escape-noise family whose density psi is proportional to (None if not a density)."""
        if self.name.startswith("matched:"):
            return self.name.split(":", 1)[1]
        return _REGISTRY[self.name].matched_noise


def surrogate(name: str = "superspike", beta: float = 1.0, *, p0: float = 0.5) -> Surrogate:
    """Construct a :class:`Surrogate` by name; raises ValueError listing the valid names."""
    return Surrogate(name, beta, p0)


def matched_surrogate(noise: EscapeNoise) -> Surrogate:
    """The surrogate psi = f' matched to escape noise ``noise`` (Gygax & Zenke 2025, sec. 4)."""
    if not isinstance(noise, EscapeNoise):
        raise TypeError(f"noise must be an EscapeNoise, got {type(noise).__name__}")
    return Surrogate(f"matched:{noise.name}", noise.beta, noise.p0)
