"""Trial-to-trial variability of a classifier (Gygax & Zenke 2025, Fig. 7): firing rates and
Fano factors of one input repeated, per hidden layer, in a chosen forward mode; and the
published protocol (:func:`variability_protocol`: before and after training, and with the
other activation swapped in)."""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from analysis import _validate
from analysis.training import _metrics as metrics
from analysis.training._classifier_network import ClassifierRun, classifier_network, n_classes_of
from analysis.training._trials import repeated_trials, sigmoid_method

#: forward modes a network can be evaluated in: Heaviside spikes or sigmoid escape noise
MODES = ("deterministic", "stochastic")


def forward_mode(method_name: str) -> str:
    """The forward mode of a training method: ``deterministic`` for ``deterministic``,
    ``stochastic`` for the methods that sample spikes (``stochastic``, ``multilayer_spiker``)."""
    sigmoid_method(method_name)  # ValueError naming the valid methods
    return "deterministic" if method_name == "deterministic" else "stochastic"


def other_mode(method_name: str) -> str:
    """The mode that is not the training method's own (the "other activation" swapped in)."""
    return "stochastic" if forward_mode(method_name) == "deterministic" else "deterministic"


@dataclass(frozen=True)
class VariabilityConfig:
    """What :func:`trial_variability` measures: ``n_trials`` (>= 2) repeats of the input, Fano
    factors of counts in sliding ``window``-step windows, rasters of the ``raster_neurons``
    most active neurons of hidden layer ``raster_layer`` (0 = the first); ``mode`` the
    forward pass (:data:`MODES`; None: the training method's own), e.g. ``"stochastic"`` to
    evaluate a deterministically trained network with stochastic spikes."""

    n_trials: int = 400
    window: int = 10
    raster_layer: int = 1
    raster_neurons: int = 5
    mode: str | None = None

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
        if self.mode is not None and self.mode not in MODES:
            raise ValueError(
                f"unknown mode {self.mode!r}; valid: {', '.join(MODES)} (or None: the method's own)"
            )


def trial_variability(
    key: jax.Array,
    params: Any,
    x: ArrayLike,
    run: ClassifierRun,
    method_name: str,
    config: VariabilityConfig = VariabilityConfig(),
) -> dict:
    """Trial-to-trial variability of a classifier on one input (Gygax & Zenke 2025, Fig. 7):
    the sample ``x`` [T, n_in] repeated ``config.n_trials`` times, simulated with the forward
    pass of ``method_name`` or, when given, in ``config.mode`` (:data:`MODES`, whatever the
    training method: ``mode="stochastic"`` evaluates a deterministically trained network with
    sigmoid escape noise, beta 10 hidden; spikes drawn from ``key``).

    Returns a dict: ``mode`` (the forward mode used), per hidden layer ``rate_hz`` (spikes /
    (T dt) / units, averaged over the trials) and ``fano`` (:func:`windowed_fano_factor` with
    ``config.window``: T - window windows, unbiased variance, mean over windows and active
    neurons), and the rasters [trials, T, k] (uint8, a JAX array: drop it before writing
    JSON) of the ``config.raster_neurons`` most active neurons of hidden layer
    ``config.raster_layer`` (their indices in ``raster_neurons``)."""
    x = jnp.asarray(x, jnp.float32)
    if x.ndim != 2:
        raise ValueError(f"x must be one sample [T, n_in], got shape {x.shape}")
    if not isinstance(config, VariabilityConfig):
        raise TypeError(f"config must be a VariabilityConfig, got {type(config).__name__}")
    mode = config.mode
    method = sigmoid_method(method_name if mode is None else mode)
    cfg = classifier_network(run, x.shape[1], n_classes_of(params))
    if config.raster_layer >= len(cfg.hidden):
        raise ValueError(f"raster_layer must lie in [0, {len(cfg.hidden)}), got {config.raster_layer}")
    sim = repeated_trials(key, params, x[None], cfg, method, config.n_trials)
    layers = [s[:, 0] for s in sim.spikes]  # [R, T, N] each
    out: dict = {"mode": forward_mode(method_name) if mode is None else mode, "rate_hz": [], "fano": []}
    for s in layers:
        out["rate_hz"].append(float(jnp.mean(metrics.firing_rates(s, cfg.lif.dt))))
        out["fano"].append(float(metrics.windowed_fano_factor(s, config.window)))
    chosen = layers[config.raster_layer]
    order = jnp.argsort(-chosen.sum(axis=(0, 1)), stable=True)[: config.raster_neurons]
    out["raster_layer"] = config.raster_layer
    out["raster_neurons"] = [int(i) for i in order]
    out["rasters"] = jnp.asarray(chosen[:, :, order], jnp.uint8)
    return out


#: the measurements of :func:`variability_protocol`, in order
PROTOCOL_STAGES = ("before", "after", "other")


def variability_protocol(
    key: jax.Array,
    params: tuple[Any, Any],
    x: ArrayLike,
    run: ClassifierRun,
    method_name: str,
    config: VariabilityConfig = VariabilityConfig(),
) -> dict:
    """The variability measurements of Gygax & Zenke (2025, Fig. 7) for one trained network,
    as their code takes them (fmi-basel/surrogate-gradient-theory,
    Classification/experiments/deep_convSNN.py, ``main``: lines 809-818 before training,
    858-866 after, 871-905 with the other activation swapped into the hidden layers; one
    test sample repeated 400 times, ``prepare_data_randman`` line 81).

    ``params`` = (params_before, params_after): the initialisation (or None) and the trained
    params. Only evaluations with stochastic spikes are taken (repeats of a deterministic
    network are identical: Fano factor 0): ``before`` (params_before in the training mode)
    and ``after`` (params_after in the training mode) for a method that samples spikes;
    ``other`` (params_after evaluated with stochastic spikes) for a deterministic one. The
    stages not taken are None, as is ``before`` when params_before is None. Each stage is a
    :func:`trial_variability` result (``config`` with its ``mode`` set per stage), drawn from
    ``fold_in(key, i)`` for stage i of :data:`PROTOCOL_STAGES`.

    Returns ``{"method", "n_trials", "window", "before", "after", "other"}``;
    :func:`split_rasters` separates the rasters from the JSON-able rest.
    """
    _validate.prng_key(key)
    if not isinstance(params, (tuple, list)) or len(params) != 2:
        raise ValueError("params must be a pair (params_before or None, params_after)")
    params_before, params_after = params
    stochastic = forward_mode(method_name) == "stochastic"
    plan = {
        "before": (params_before, "stochastic") if stochastic and params_before is not None else None,
        "after": (params_after, "stochastic") if stochastic else None,
        "other": None if stochastic else (params_after, "stochastic"),
    }
    out: dict = {"method": method_name, "n_trials": config.n_trials, "window": config.window}
    for i, stage in enumerate(PROTOCOL_STAGES):
        todo = plan[stage]
        if todo is None:
            out[stage] = None
            continue
        p, mode = todo
        k = jax.random.fold_in(key, i)
        out[stage] = trial_variability(k, p, x, run, method_name, dataclasses.replace(config, mode=mode))
    return out


def split_rasters(protocol: dict) -> tuple[dict, dict[str, np.ndarray]]:
    """(the :func:`variability_protocol` result without its rasters, JSON-able; {stage:
    rasters [trials, T, k] as NumPy uint8} of the stages taken)."""
    plain: dict = {}
    rasters: dict[str, np.ndarray] = {}
    for name, value in protocol.items():
        if isinstance(value, dict):
            plain[name] = {k: v for k, v in value.items() if k != "rasters"}
            if "rasters" in value:
                rasters[name] = np.asarray(value["rasters"], np.uint8)
        else:
            plain[name] = value
    return plain, rasters
