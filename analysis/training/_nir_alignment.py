"""Alignment of the surrogate gradient of an imported network (a NIR graph, e.g. exported by
Norse) with the unbiased gradient of its stochastic version.

:func:`nir_alignment` reads the graph (:func:`analysis.snn.from_nir`), gives the hidden layers
sigmoid escape noise of steepness ``beta`` (paper: 10; a spiking readout keeps beta 100) and
measures, on inputs ``x`` [B, T, n_in] (and labels ``y``), the cosine and sign agreement with
the unbiased coupled-flip reference of grad E[L] of the stochastic network (Arya et al.,
NeurIPS 2022; Gygax & Zenke 2025, secs. 4-6) of

* ``trained``       -- the surrogate gradient of the deterministic network (Theta forward,
  psi = f', the SG a network is trained with),
* ``stoch_matched`` -- E[SG] of the stochastic network with the matched surrogate psi = f',

exactly as :func:`analysis.training.run_alignment` does for one epoch of a run
(:func:`analysis.stochastic.snn_alignment`, key ``jax.random.key(seed)``). Loss L: with
labels, the max-over-time cross-entropy of the readout; without, the mean of the readout
output over batch, time and units.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from analysis.neuron import EscapeNoise
from analysis.snn import Method, SimResult, SNNConfig, from_nir
from analysis.training._alignment import RunAlignmentConfig, _alignment_row
from analysis.training._losses import max_over_time_cross_entropy


@dataclass(frozen=True)
class MaxOverTimeCE:
    """L = max-over-time cross-entropy of the readout with labels ``inputs[1]``."""

    def __call__(self, result: SimResult, inputs: Any) -> jax.Array:
        return max_over_time_cross_entropy(result.output, inputs[1])


@dataclass(frozen=True)
class ReadoutMean:
    """L = mean of the readout output over batch, time and units (no labels)."""

    def __call__(self, result: SimResult, inputs: Any) -> jax.Array:
        return jnp.mean(result.output)


def _inputs(x: Any, y: Any, n_in: int) -> tuple:
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != n_in or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x must have shape [B, T, {n_in}] (n_in of the network), got {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
        raise ValueError("x must be finite numbers")
    if y is None:
        return (jnp.asarray(x, jnp.result_type(float)),)
    y = np.asarray(y)
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be integer labels of shape ({x.shape[0]},), got {y.dtype} {y.shape}")
    return jnp.asarray(x, jnp.result_type(float)), jnp.asarray(y, jnp.int32)


def nir_alignment(
    network: Any,
    x: Any,
    y: Any = None,
    config: RunAlignmentConfig | None = None,
    *,
    beta: float = 10.0,
    source: str = "nir",
) -> dict:
    """Alignment row of the imported network's SG and the matched stochastic SG with the
    unbiased reference (module docstring).

    ``network``: a NIR file path or ``nir.NIRGraph``, read by :func:`analysis.snn.from_nir`
    with ``source`` (``"norse"`` for a ``norse.torch.to_nir`` export) and the graph's dt, or
    an ``(SNNConfig, params)`` pair (e.g. ``from_nir(path, dt, discretisation=...)`` to
    override them). ``x``: inputs [B, T, n_in]; ``y``: None or integer labels [B] in
    [0, n_out). ``config``: n_ref, n_flips, n_sg, chunk, seed of a
    :class:`RunAlignmentConfig` (None: its defaults; ``batch``: the first ``batch`` samples;
    ``shd_path`` refused). ``beta`` > 0: hidden sigmoid escape noise. Computes in the
    default float. Returns {"cfg", "loss" ("max_over_time_ce" or "readout_mean"), "beta",
    "batch", "variants", "row"} with ``row`` the :func:`analysis.stochastic.snn_alignment` row.
    """
    config = RunAlignmentConfig() if config is None else config
    if not isinstance(config, RunAlignmentConfig):
        raise TypeError(f"config must be a RunAlignmentConfig, got {type(config).__name__}")
    if config.shd_path is not None:
        raise ValueError("shd_path is used by shd runs only, not by nir_alignment")
    if not isinstance(beta, (int, float)) or not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
    if isinstance(network, (str, os.PathLike)) and not os.path.isfile(network):
        raise FileNotFoundError(f"NIR file {os.fspath(network)} does not exist")
    if isinstance(network, tuple):
        if len(network) != 2 or not isinstance(network[0], SNNConfig):
            raise TypeError("network must be a NIR path, a nir.NIRGraph or an (SNNConfig, params) pair")
        if source != "nir":
            raise ValueError("source applies to a NIR path or graph, not to an (SNNConfig, params) pair")
        cfg, params = network
    else:
        cfg, params = from_nir(network, source=source)
    inputs = _inputs(x, y, cfg.n_in)
    if config.batch is not None:
        inputs = tuple(a[: config.batch] for a in inputs)
    if len(inputs) == 2 and not 0 <= int(jnp.min(inputs[1])) <= int(jnp.max(inputs[1])) < cfg.n_out:
        raise ValueError(f"y must be labels in [0, {cfg.n_out}) (the readout's units)")
    dtype = jnp.result_type(float)
    params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), params)
    loss = MaxOverTimeCE() if len(inputs) == 2 else ReadoutMean()
    noise = EscapeNoise("sigmoid", float(beta))
    # "trained": the deterministic network's SG; the reference and the matched stochastic SG
    # take its escape noise (as run_alignment's rows do)
    trained = Method("deterministic", hidden_noise=noise)
    variants: dict[str, Method | None] = {"trained": trained, "stoch_matched": None}
    row = _alignment_row(cfg, params, inputs if len(inputs) == 2 else inputs[0], loss, variants, config)
    return {
        "cfg": cfg,
        "loss": "max_over_time_ce" if len(inputs) == 2 else "readout_mean",
        "beta": float(beta),
        "batch": int(inputs[0].shape[0]),
        "variants": list(variants),
        "row": row,
    }
