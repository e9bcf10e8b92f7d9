"""Trial-to-trial variability of a trained classifier (Gygax & Zenke 2025, Fig. 7)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis import _validate
from analysis.training import _metrics as metrics
from analysis.training._classifier_network import ClassifierRun, classifier_network, n_classes_of
from analysis.training._trials import repeated_trials, sigmoid_method


@dataclass(frozen=True)
class VariabilityConfig:
    """What :func:`trial_variability` measures: ``n_trials`` (>= 2) repeats of the input, Fano
    factors of counts in sliding ``window``-step windows, rasters of the ``raster_neurons``
    most active neurons of hidden layer ``raster_layer`` (0 = the first)."""

    n_trials: int = 400
    window: int = 10
    raster_layer: int = 1
    raster_neurons: int = 5

    def __post_init__(self):
        if _validate.positive_int(self.n_trials, "n_trials") < 2:
            raise ValueError(f"n_trials must be >= 2 (a Fano factor needs repeats), got {self.n_trials}")
        _validate.positive_int(self.window, "window")
        _validate.positive_int(self.raster_neurons, "raster_neurons")
        if (
            isinstance(self.raster_layer, bool)
            or not isinstance(self.raster_layer, numbers.Integral)
            or self.raster_layer < 0
        ):
            raise ValueError(f"raster_layer must be an int >= 0, got {self.raster_layer!r}")


def trial_variability(
    key: jax.Array,
    params: Any,
    x: ArrayLike,
    run: ClassifierRun,
    method_name: str,
    config: VariabilityConfig = VariabilityConfig(),
) -> dict:
    """Trial-to-trial variability of a trained classifier on one input (Gygax & Zenke 2025,
    Fig. 7): the sample ``x`` [T, n_in] repeated ``config.n_trials`` times (independent
    spikes from ``key`` for a stochastic method). Returns per hidden layer the mean firing
    rate (Hz) and the mean Fano factor of spike counts in sliding ``config.window``-step
    windows (:func:`windowed_fano_factor`), and the rasters [trials, T, k] of the
    ``config.raster_neurons`` most active neurons of hidden layer ``config.raster_layer``
    (with their indices)."""
    x = jnp.asarray(x, jnp.float32)
    if x.ndim != 2:
        raise ValueError(f"x must be one sample [T, n_in], got shape {x.shape}")
    cfg = classifier_network(run, x.shape[1], n_classes_of(params))
    if config.raster_layer >= len(cfg.hidden):
        raise ValueError(f"raster_layer must lie in [0, {len(cfg.hidden)}), got {config.raster_layer}")
    sim = repeated_trials(key, params, x[None], cfg, sigmoid_method(method_name), config.n_trials)
    layers = [s[:, 0] for s in sim.spikes]  # [R, T, N] each
    out: dict = {"rate_hz": [], "fano": []}
    for s in layers:
        out["rate_hz"].append(float(jnp.mean(metrics.firing_rates(s, cfg.lif.dt))))
        out["fano"].append(float(metrics.windowed_fano_factor(s, config.window)))
    chosen = layers[config.raster_layer]
    order = jnp.argsort(-chosen.sum(axis=(0, 1)), stable=True)[: config.raster_neurons]
    out["raster_layer"] = config.raster_layer
    out["raster_neurons"] = [int(i) for i in order]
    out["rasters"] = jnp.asarray(chosen[:, :, order], jnp.uint8)
    return out
