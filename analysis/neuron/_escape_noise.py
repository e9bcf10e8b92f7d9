"""Escape-noise functions f(z) and their derivatives f'(z).

A stochastic neuron spikes in a time bin with probability f(z), z = U - theta
(Gygax & Zenke 2025, sec. 2.2). f is the cumulative distribution
function (CDF) of the threshold noise eta in the equivalent form S = Theta(z + eta), so
f' is a probability density. Every family is written in a form that is finite (no NaN,
no inf) in float32 and float64 for |beta z| up to 1e6 and beyond, including beta z = +-inf
(z = +-inf or an overflowing product). Since f'(0) is of order beta, beta must be
representable in the dtype of z: a beta above the largest float of that dtype (3.4e38 in
float32) raises a ValueError rather than giving f(0) = NaN; use float64 for such beta.

Families (x = beta z):

=============  ==========================================  ===============================
name           f(z)                                        f'(z)
=============  ==========================================  ===============================
sigmoid        sigma(x)                                    beta sigma(x) sigma(-x)
exponential    min(1, p0 exp(x))  (Pfister et al. 2006)    beta f below the clip, else 0
probit         Phi(x)  (Gaussian threshold noise)          beta phi(x)
fast_sigmoid   1/2 + x / (2 (1 + |x|))                     beta / (2 (1 + |x|)^2)
arctan         1/2 + arctan(x) / pi  (Cauchy noise)        beta / (pi (1 + x^2))
triangle       piecewise quadratic, support |x| < 1        beta max(0, 1 - |x|)
laplace        exp(x)/2 for x<0, 1 - exp(-x)/2 otherwise   beta exp(-|x|) / 2
=============  ==========================================  ===============================

Example
-------
>>> import jax.numpy as jnp
>>> from analysis import escape_noise
>>> f = escape_noise("sigmoid", beta=5.0)
>>> float(f.prob(jnp.array(0.0))), float(f.deriv(jnp.array(0.0)))
(0.5, 1.25)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtr

from analysis import _validate


class _Family(NamedTuple):
    cdf: Callable  # (z, beta, p0) -> f(z)
    pdf: Callable  # (z, beta, p0) -> f'(z)


def _sigmoid_cdf(z, beta, p0):
    return jax.nn.sigmoid(beta * z)


def _sigmoid_pdf(z, beta, p0):
    x = beta * z
    return beta * jax.nn.sigmoid(x) * jax.nn.sigmoid(-x)


def _exp_cdf(z, beta, p0):
    return jnp.exp(jnp.minimum(beta * z + math.log(p0), 0.0))


def _exp_pdf(z, beta, p0):
    x = beta * z + math.log(p0)
    return jnp.where(x < 0, beta * jnp.exp(jnp.minimum(x, 0.0)), jnp.zeros_like(x))


def _probit_cdf(z, beta, p0):
    return ndtr(beta * z)


def _probit_pdf(z, beta, p0):
    x = beta * z
    return beta * jnp.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _fast_sigmoid_cdf(z, beta, p0):
    x = beta * z
    # 1/2 + x / (2 (1 + |x|)) = 1/2 / (1 + |x|) for x < 0 and 1 - that for x >= 0: the
    # lower tail is one division (no 1/2 - 1/2 cancellation: 5e-31 at x = -1e30, also in
    # float32), and x = +-inf gives 0 and 1 instead of inf/inf.
    half_tail = 0.5 / (1.0 + jnp.abs(x))
    return jnp.where(x < 0, half_tail, 1.0 - half_tail)


def _fast_sigmoid_pdf(z, beta, p0):
    a = 1.0 + jnp.abs(beta * z)
    return 0.5 * beta / (a * a)


def _arctan_cdf(z, beta, p0):
    x = beta * z
    # Lower tail: 1/2 + arctan(x)/pi = arctan(-1/x)/pi for x < 0, without the cancellation
    # of 1/2 - 1/2 (float32 at x = -1e6: 3.18e-7, not 3.28e-7). Monotone across x = 0: the
    # lower branch is at most 1/2, the upper at least 1/2.
    lower = jnp.arctan(-1.0 / jnp.where(x < 0, x, -1.0)) / math.pi
    return jnp.where(x < 0, lower, 0.5 + jnp.arctan(x) / math.pi)


def _arctan_pdf(z, beta, p0):
    x = beta * z
    return beta / (math.pi * (1.0 + x * x))


def _triangle_cdf(z, beta, p0):
    x = jnp.clip(beta * z, -1.0, 1.0)
    lower = 0.5 * (1.0 + x) ** 2
    upper = 1.0 - 0.5 * (1.0 - x) ** 2
    return jnp.where(x <= 0, lower, upper)


def _triangle_pdf(z, beta, p0):
    return beta * jnp.maximum(0.0, 1.0 - jnp.abs(beta * z))


def _laplace_cdf(z, beta, p0):
    x = beta * z
    half_tail = 0.5 * jnp.exp(-jnp.abs(x))
    return jnp.where(x < 0, half_tail, 1.0 - half_tail)


def _laplace_pdf(z, beta, p0):
    return 0.5 * beta * jnp.exp(-jnp.abs(beta * z))


_FAMILIES: dict[str, _Family] = {
    "sigmoid": _Family(_sigmoid_cdf, _sigmoid_pdf),
    "exponential": _Family(_exp_cdf, _exp_pdf),
    "probit": _Family(_probit_cdf, _probit_pdf),
    "fast_sigmoid": _Family(_fast_sigmoid_cdf, _fast_sigmoid_pdf),
    "arctan": _Family(_arctan_cdf, _arctan_pdf),
    "triangle": _Family(_triangle_cdf, _triangle_pdf),
    "laplace": _Family(_laplace_cdf, _laplace_pdf),
}

ESCAPE_NOISE_NAMES: tuple[str, ...] = tuple(_FAMILIES)


@partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2))
def _prob(name: str, beta: float, p0: float, z):
    """f(z) with one derivative rule for every family: the closed-form density, the same
    function :meth:`EscapeNoise.deriv` returns. Autodiff through the CDF formulas themselves
    is wrong at kinks and branch points (fast_sigmoid's sign(z) gave d/dz f = 0 at z = 0) and
    loses precision where they are written for the value, not the slope."""
    return _FAMILIES[name].cdf(z, beta, p0)


@_prob.defjvp
def _prob_jvp(name, beta, p0, primals, tangents):
    (z,), (dz,) = primals, tangents
    # pdf is plain JAX, so higher derivatives (jvp of jvp, hessians) differentiate the density.
    return _prob(name, beta, p0, z), _FAMILIES[name].pdf(z, beta, p0) * dz


def as_float_array(z):
    """``z`` as a JAX array of a floating dtype (integers and bools become the default float)."""
    z = jnp.asarray(z)
    return z if jnp.issubdtype(z.dtype, jnp.floating) else z.astype(jnp.result_type(float))


def check_beta_fits(beta: float, dtype, name: str = "beta") -> None:
    """Raise ValueError if ``beta`` overflows ``dtype`` (beta * 0 would be inf * 0 = NaN).

    Static (dtype and beta are Python values), so it also runs under ``jax.jit``.
    """
    big = float(jnp.finfo(dtype).max)
    if beta > big:
        raise ValueError(
            f"{name} = {beta:g} overflows {jnp.dtype(dtype).name} (largest {big:.3g}); "
            f"use float64 (jax.config.update('jax_enable_x64', True)) or a smaller {name}"
        )


@dataclass(frozen=True)
class EscapeNoise:
    """Escape-noise function f (a CDF) with steepness ``beta``.

    Attributes
    ----------
    name : one of ``ESCAPE_NOISE_NAMES``.
    beta : steepness (> 0); f(z) depends on beta * z. For ``exponential`` beta = 1/Delta_u.
    p0 : spike probability at threshold for ``exponential`` (0 < p0 <= 1); unused otherwise.

    Instances are hashable, so they can be static arguments of ``jax.jit`` and
    non-differentiable arguments of custom derivative rules.
    """

    name: str = "sigmoid"
    beta: float = 1.0
    p0: float = 0.5

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"escape noise name must be a str, got {self.name!r}")
        if self.name not in _FAMILIES:
            raise ValueError(
                f"unknown escape noise {self.name!r}; valid names: {', '.join(ESCAPE_NOISE_NAMES)}"
            )
        object.__setattr__(self, "beta", _validate.positive_scalar(self.beta, "beta"))
        p0 = _validate.real(self.p0, "p0")
        if not 0.0 < p0 <= 1.0:
            raise ValueError(f"p0 must lie in (0, 1], got {self.p0!r}")
        object.__setattr__(self, "p0", p0)

    def prob(self, z):
        """Spike probability f(z) = P(S = 1 | z); same shape and dtype as ``z`` (integer z:
        the default float dtype). Raises ValueError if beta overflows that dtype.

        Differentiable (``jax.grad``, ``jvp``, ``vmap``, ``jit``) with the derivative
        :meth:`deriv` (a custom JVP), also at kinks such as z = 0."""
        z = as_float_array(z)
        check_beta_fits(self.beta, z.dtype)
        return _prob(self.name, self.beta, self.p0, z)

    def deriv(self, z):
        """Closed-form derivative f'(z) (a probability density in z); same shape as ``z``."""
        z = as_float_array(z)
        check_beta_fits(self.beta, z.dtype)
        return _FAMILIES[self.name].pdf(z, self.beta, self.p0)

    __call__ = prob


def escape_noise(name: str = "sigmoid", beta: float = 1.0, *, p0: float = 0.5) -> EscapeNoise:
    """Construct an :class:`EscapeNoise` by name; raises ValueError listing valid names."""
    return EscapeNoise(name, beta, p0)
