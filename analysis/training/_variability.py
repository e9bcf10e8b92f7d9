"""Trial-to-trial variability of a trained classifier (Gygax & Zenke 2025, Fig. 7)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis import _validate
from analysis.training import _metrics as metrics
from analysis.training._classifier_network import ClassifierRun, classifier_network
from analysis.training._trials import repeated_trials, sigmoid_method


def trial_variability(
    params: Any,
    x: ArrayLike,
    run: ClassifierRun,
    n_classes: int,
    method_name: str,
    key: jax.Array,
    *,
    n_trials: int = 400,
    window: int = 10,
    raster_layer: int = 1,
    raster_neurons: int = 5,
) -> dict:
    """Trial-to-trial variability of a trained classifier on one input (Gygax & Zenke 2025,
    Fig. 7): the sample ``x`` [T, n_in] repeated ``n_trials`` times (independent spikes for
    a stochastic method). Returns per hidden layer the mean firing rate (Hz) and the mean
    Fano factor of spike counts in sliding ``window``-step windows
    (:func:`windowed_fano_factor`), and the rasters [trials, T, k] of the ``raster_neurons``
    most active neurons of hidden layer ``raster_layer`` (with their indices)."""
    x = jnp.asarray(x, jnp.float32)
    if x.ndim != 2:
        raise ValueError(f"x must be one sample [T, n_in], got shape {x.shape}")
    n_trials = _validate.positive_int(n_trials, "n_trials")
    if n_trials < 2:
        raise ValueError("n_trials must be >= 2 (a Fano factor needs repeats)")
    cfg = classifier_network(run, x.shape[1], n_classes)
    if not 0 <= raster_layer < len(cfg.hidden):
        raise ValueError(f"raster_layer must lie in [0, {len(cfg.hidden)}), got {raster_layer}")
    sim = repeated_trials(params, x[None], cfg, sigmoid_method(method_name), key, n_trials)
    layers = [s[:, 0] for s in sim.spikes]  # [R, T, N] each
    out: dict = {"rate_hz": [], "fano": []}
    for s in layers:
        out["rate_hz"].append(float(jnp.mean(metrics.firing_rates(s, cfg.lif.dt))))
        out["fano"].append(float(metrics.windowed_fano_factor(s, window)))
    chosen = layers[raster_layer]
    order = jnp.argsort(-chosen.sum(axis=(0, 1)), stable=True)[:raster_neurons]
    out["raster_layer"] = raster_layer
    out["raster_neurons"] = [int(i) for i in order]
    out["rasters"] = jnp.asarray(chosen[:, :, order], jnp.uint8)
    return out
