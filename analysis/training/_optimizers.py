"""Optimisers by name: Adam, SGD (optax) and SMORMS3.

:func:`smorms3` -- SMORMS3 (Funk 2015, "RMSprop loses to SMORMS3 - Beware the Epsilon!"),
the optimiser used by Gygax & Zenke (2025) for the spike-train task, as an optax
GradientTransformation. Per parameter, with memory m (init 1), g, g2 (init 0):
r = 1/(m+1); g <- (1-r) g + r grad; g2 <- (1-r) g2 + r grad^2; x = g^2 / (g2 + eps);
update = -grad min(lr, x) / (sqrt(g2) + eps); m <- 1 + m (1 - x).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from analysis import _validate


class SMORMS3State(NamedTuple):
    mem: optax.Updates
    g: optax.Updates
    g2: optax.Updates


def smorms3(learning_rate: float = 1e-3, eps: float = 1e-16) -> optax.GradientTransformation:
    """SMORMS3 (Funk 2015) as an optax transformation; updates are to be *added* to params."""
    lr = _validate.positive_scalar(learning_rate, "learning_rate")

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return SMORMS3State(jax.tree.map(jnp.ones_like, params), zeros, zeros)

    def update(grads, state, params=None):
        r = jax.tree.map(lambda m: 1.0 / (m + 1.0), state.mem)
        g = jax.tree.map(lambda r_, g_, d: (1 - r_) * g_ + r_ * d, r, state.g, grads)
        g2 = jax.tree.map(lambda r_, g_, d: (1 - r_) * g_ + r_ * d * d, r, state.g2, grads)
        x = jax.tree.map(lambda a, b: a * a / (b + eps), g, g2)
        upd = jax.tree.map(lambda d, x_, b: -d * jnp.minimum(lr, x_) / (jnp.sqrt(b) + eps), grads, x, g2)
        mem = jax.tree.map(lambda m, x_: 1.0 + m * (1.0 - x_), state.mem, x)
        return upd, SMORMS3State(mem, g, g2)

    return optax.GradientTransformation(init, update)


_OPTIMIZERS: dict[str, Callable[[float], optax.GradientTransformation]] = {
    "adam": lambda lr: optax.adam(lr),
    "smorms3": lambda lr: smorms3(lr),
    "sgd": lambda lr: optax.sgd(lr),
}
OPTIMIZER_NAMES = tuple(_OPTIMIZERS)


def optimizer(name: str = "adam", learning_rate: float = 1e-3) -> optax.GradientTransformation:
    """Optimiser by name (one of :data:`OPTIMIZER_NAMES`)."""
    if name not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(OPTIMIZER_NAMES)}")
    return _OPTIMIZERS[name](_validate.positive_scalar(learning_rate, "learning_rate"))
