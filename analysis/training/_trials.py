"""Trials of the paper's networks: the methods with sigmoid escape noise and repeated trials
of one input (Gygax & Zenke 2025, Figs. 6-7: sigmoid escape noise of steepness beta 10 for
hidden and 100 for output neurons, matched surrogates)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
from jax.typing import ArrayLike

from analysis.neuron import escape_noise
from analysis.snn import METHOD_NAMES, Method, SNNConfig, simulate

if TYPE_CHECKING:
    from analysis.snn import SimResult


def sigmoid_method(name: str, hidden_beta: float = 10.0, output_beta: float = 100.0) -> Method:
    """Method by name with sigmoid escape noise (and matched surrogates) of the given betas."""
    if name not in METHOD_NAMES:
        raise ValueError(f"unknown method {name!r}; valid names: {', '.join(METHOD_NAMES)}")
    return Method(
        name,
        hidden_noise=escape_noise("sigmoid", hidden_beta),
        output_noise=escape_noise("sigmoid", output_beta),
    )


def repeated_trials(
    key: jax.Array, params: dict, x: ArrayLike, cfg: SNNConfig, method: Method, n_trials: int
) -> SimResult:
    """Simulate input ``x`` [B, T, n_in] in ``n_trials`` trials: SimResult with a leading
    trial axis [R, B, T, N] (independent keys split from ``key``; identical trials for
    deterministic)."""
    keys = jax.random.split(key, n_trials)
    return jax.vmap(lambda k: simulate(params, x, cfg, method, key=k))(keys)
