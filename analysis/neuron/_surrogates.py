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

A user's own psi: ``surrogate(fn)`` or ``Surrogate.from_callable(fn, name="mine")`` wraps a
callable z -> dS/dz (elementwise, same shape as z, e.g. ``lambda z: 1 / (1 + 10 * abs(z)) ** 2``,
superspike with beta = 10). The wrapper is hashable and compares by the identity of ``fn``,
so it is a static ``jit`` argument like a named surrogate (a new lambda object compiles anew).
Every function that takes a Surrogate (spike rules, :class:`analysis.snn.Method`,
:class:`analysis.stochastic.Network`) also accepts the bare callable and wraps it.

Example
-------
>>> from analysis import surrogate, matched_surrogate, escape_noise
>>> psi = surrogate("superspike", beta=10.0)
>>> float(psi(0.0))
1.0
>>> float(matched_surrogate(escape_noise("sigmoid", 4.0))(0.0))
1.0
>>> float(surrogate(lambda z: 1 / (1 + 10 * abs(z)) ** 2)(0.1))
0.25
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

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


_PROBE = jax.ShapeDtypeStruct((3, 2), jnp.float32)


def _check_output(out: Any, shape: tuple, where: str) -> None:
    got = getattr(out, "shape", None)
    if got != shape:
        raise ValueError(
            f"surrogate fn must return an array of the shape of z (elementwise psi(z)): for z of shape "
            f"{shape} it returned {got if got is not None else type(out).__name__} {where}"
            " (for a constant psi write e.g. jnp.ones_like(z))"
        )
    if not jnp.issubdtype(out.dtype, jnp.floating):
        raise ValueError(f"surrogate fn must return floating values, got dtype {out.dtype} {where}")


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


@dataclass(frozen=True, eq=False)
class Surrogate:
    """Surrogate derivative psi with steepness ``beta`` (hashable; usable as a static arg).

    ``name`` is a registry name or ``"matched:<escape-noise family>"`` (psi = f' exactly).
    ``p0`` is used by the exponential forms only.
    ``fn`` (keyword; see :meth:`from_callable`): a user's psi z -> dS/dz; then ``name`` is a free
    label (not a registry name), beta and p0 must stay 1.0 and 0.5 (fold them into ``fn``),
    and two Surrogates are equal iff they hold the same function object.
    """

    name: str = "superspike"
    beta: float = 1.0
    p0: float = 0.5
    fn: Callable | None = field(default=None, kw_only=True)

    @classmethod
    def from_callable(cls, fn: Callable, name: str = "custom") -> Surrogate:
        """Wrap a user's psi ``fn`` (z -> dS/dz, elementwise, same shape as z; jax-traceable).

        Raises TypeError if ``fn`` is not callable, ValueError if it fails on a float32 array of
        shape (3, 2) or returns another shape or a non-floating dtype (checked abstractly with
        ``jax.eval_shape``, no computation).
        """
        return cls(name, fn=fn)

    def _key(self) -> tuple:
        return (self.name, self.beta, self.p0, None if self.fn is None else id(self.fn))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Surrogate):
            return NotImplemented
        return self._key() == other._key() and self.fn is other.fn

    def __hash__(self) -> int:
        return hash(self._key())

    def __post_init__(self):
        if self.fn is not None:
            self._init_custom()
            return
        object.__setattr__(self, "name", _resolve(self.name))
        object.__setattr__(self, "beta", _validate.positive_scalar(self.beta, "beta"))
        p0 = _validate.real(self.p0, "p0")
        if not 0.0 < p0 <= 1.0:
            raise ValueError(f"p0 must lie in (0, 1], got {self.p0!r}")
        object.__setattr__(self, "p0", p0)

    def _init_custom(self):
        if not callable(self.fn):
            raise TypeError(f"surrogate fn must be callable (z -> psi(z)), got {self.fn!r}")
        if isinstance(self.fn, (Surrogate, EscapeNoise)):
            raise TypeError(
                f"surrogate fn must be a plain callable psi(z), got a {type(self.fn).__name__} "
                "(pass a Surrogate directly; for psi = f' use matched_surrogate(noise))"
            )
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"surrogate name must be a non-empty str, got {self.name!r}")
        taken = self.name in _REGISTRY or self.name in _ALIASES or self.name.startswith("matched:")
        if taken:
            raise ValueError(f"name {self.name!r} of a user surrogate is a registry name; choose another")
        if self.beta != 1.0 or self.p0 != 0.5:
            raise ValueError(
                f"beta and p0 apply to named surrogates; fold them into fn (got beta={self.beta!r}, "
                f"p0={self.p0!r})"
            )
        try:
            out = jax.eval_shape(self.fn, _PROBE)
        except Exception as e:  # the user's function, any failure
            raise ValueError(
                f"surrogate fn {self.name!r} failed on a float32 array of shape {_PROBE.shape}: {e}"
            ) from e
        _check_output(out, _PROBE.shape, f"(surrogate {self.name!r})")

    def __call__(self, z):
        """psi(z), elementwise; same shape and dtype as ``z`` (integer z: the default float).

        Raises ValueError if beta overflows that dtype (see :mod:`analysis.neuron._escape_noise`),
        or if a user's ``fn`` returns another shape or a non-floating dtype.
        """
        z = as_float_array(z)
        if self.fn is not None:
            out = self.fn(z)
            _check_output(out, z.shape, f"(surrogate {self.name!r})")
            return out.astype(z.dtype)
        check_beta_fits(self.beta, z.dtype)
        if self.name.startswith("matched:"):
            return EscapeNoise(self.name.split(":", 1)[1], self.beta, self.p0).deriv(z)
        return _REGISTRY[self.name].fn(z, self.beta, self.p0)

    @property
    def matched_noise(self) -> str | None:
        """Escape-noise family whose density psi is proportional to (None if not a density,
        and None for a user's ``fn``: unknown)."""
        if self.fn is not None:
            return None
        if self.name.startswith("matched:"):
            return self.name.split(":", 1)[1]
        return _REGISTRY[self.name].matched_noise


def surrogate(name: str | Callable = "superspike", beta: float = 1.0, *, p0: float = 0.5) -> Surrogate:
    """Construct a :class:`Surrogate` by name; raises ValueError listing the valid names.

    A callable ``name`` is a user's psi: ``surrogate(fn)`` = ``Surrogate.from_callable(fn)``
    (beta and p0 must then keep their defaults).
    """
    if callable(name) and not isinstance(name, (Surrogate, EscapeNoise, type)):
        return Surrogate("custom", beta, p0, fn=name)
    return Surrogate(name, beta, p0)  # type: ignore[arg-type]  # a str, checked by _resolve


def as_surrogate(value: Any, what: str = "surrogate", allow_none: bool = False) -> Surrogate | None:
    """``value`` as a Surrogate: a Surrogate as is, a callable wrapped (:meth:`Surrogate.from_callable`),
    None if ``allow_none``; TypeError naming ``what`` otherwise."""
    if isinstance(value, Surrogate) or (value is None and allow_none):
        return value
    if callable(value) and not isinstance(value, (EscapeNoise, type)):
        return Surrogate.from_callable(value)
    expected = "a Surrogate" + (" or None" if allow_none else "") + ", or a callable psi(z)"
    hint = " (for psi = f' use matched_surrogate(noise))" if isinstance(value, EscapeNoise) else ""
    raise TypeError(f"{what} must be {expected} (see analysis.surrogate), got {value!r}{hint}")


def matched_surrogate(noise: EscapeNoise) -> Surrogate:
    """The surrogate psi = f' matched to escape noise ``noise`` (Gygax & Zenke 2025, sec. 4)."""
    if not isinstance(noise, EscapeNoise):
        raise TypeError(f"noise must be an EscapeNoise, got {type(noise).__name__}")
    return Surrogate(f"matched:{noise.name}", noise.beta, noise.p0)
