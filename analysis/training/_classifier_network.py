"""The classifier of the paper's classification experiments (Gygax & Zenke 2025, Fig. 7):
its settings (:class:`ClassifierRun`), network, training method and training loss
(max-over-time cross-entropy + upper-bound activity regulariser)."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp

from analysis import _validate
from analysis.neuron import escape_noise, surrogate
from analysis.snn import LIFParams, Method, SNNConfig, simulate
from analysis.training._losses import (
    accuracy_max_over_time,
    max_over_time_cross_entropy,
    population_upper_bound_regularizer,
    upper_bound_regularizer,
)
from analysis.training._train_config import TrainConfig
from analysis.training._trials import sigmoid_method

if TYPE_CHECKING:
    from analysis.snn import SimResult


REG_KINDS = ("neuron", "population")
SURROGATE_CHOICES = ("matched", "superspike")


@dataclass(frozen=True)
class ClassifierRun:
    """Classification run: LIF hidden layers (dense or conv1d, optionally recurrent), a
    leaky-integrator readout, max-over-time cross-entropy.

    hidden : units (dense) or filters (conv1d) per layer; kernel_size, stride,
    recurrent_kernel_size : conv1d geometry (see :class:`analysis.snn.SNNConfig`).
    tau_mem, tau_syn, dt : LIF time constants and bin (seconds; the paper: 20 ms, 10 ms, 2 ms).
    reg_kind : ``neuron`` (per neuron, counts averaged over the batch) or ``population``
    (per sample, counts averaged over the layer: the paper's 0.1 mean_b relu(c_b - 7)^2);
    reg_bound, reg_strength : its bound and weight, applied to every hidden layer.
    nu_in, sigma_u, sigma_u_stochastic, recurrent_fraction : fluctuation-driven init
    (input rate in Hz, target membrane SD for deterministic / stochastic training (None =
    sigma_u), share of the membrane variance from recurrent weights).
    surrogate, surrogate_beta : backward pass of every training method: ``matched`` (the
    derivative of the hidden escape noise) or ``superspike`` (1 / (beta |z| + 1)^2, Zenke &
    Ganguli 2018; the authors' default for both networks); the hidden layers of
    ``multilayer_spiker`` keep their sampled derivative.
    escape_noise : (family, beta, p0) of the hidden layers' escape noise of the stochastic
    methods (:func:`analysis.neuron.escape_noise`; paper: sigmoid beta 10, MultilayerSpiker
    exponential p0 exp(z / 0.133) with p0 2/3). Evaluation in the other mode always uses
    sigmoid beta 10.
    readout_tau_mem, readout_tau_syn : the readout's time constants (None: tau_mem / tau_syn;
    the authors: the sample duration and 10 ms). readout_scale, readout_value, readout_u0,
    reset_scope, delay : see :class:`analysis.snn.SNNConfig`, :class:`analysis.snn.LIFParams`
    and :func:`analysis.snn.init_params` (defaults: this toolkit's network; the paper
    profile: the authors' network, :data:`analysis.training._presets.PAPER`).
    """

    hidden: tuple = (128,)
    recurrent: bool = False
    connectivity: str = "dense"
    kernel_size: tuple | int = 5
    stride: tuple | int = 1
    recurrent_kernel_size: tuple | int | None = None
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 2e-3
    optimizer: str = "adam"
    reg_kind: str = "neuron"
    reg_bound: float = 10.0
    reg_strength: float = 1e-3
    nu_in: float = 10.0
    sigma_u: float = 1.0
    sigma_u_stochastic: float | None = None
    recurrent_fraction: float = 0.1
    tau_mem: float = 20e-3
    tau_syn: float = 10e-3
    dt: float = 1e-3
    surrogate: str = "matched"
    surrogate_beta: float = 10.0
    escape_noise: tuple = ("sigmoid", 10.0, 0.5)
    readout_tau_mem: float | None = None
    readout_tau_syn: float | None = None
    readout_scale: str = "fluctuation"
    readout_value: str = "before"
    readout_u0: float = 0.0
    reset_scope: str = "leak"
    delay: int = 0
    seed: int = 0

    def __post_init__(self):
        if self.reg_kind not in REG_KINDS:
            raise ValueError(f"unknown reg_kind {self.reg_kind!r}; valid: {', '.join(REG_KINDS)}")
        if self.surrogate not in SURROGATE_CHOICES:
            raise ValueError(f"unknown surrogate {self.surrogate!r}; valid: {', '.join(SURROGATE_CHOICES)}")
        for name in ("sigma_u", "nu_in", "tau_mem", "tau_syn", "dt", "surrogate_beta"):
            _validate.positive_scalar(getattr(self, name), name)
        for name in ("readout_tau_mem", "readout_tau_syn"):
            if getattr(self, name) is not None:
                _validate.positive_scalar(getattr(self, name), name)
        if not isinstance(self.escape_noise, (tuple, list)) or len(self.escape_noise) != 3:
            raise ValueError(f"escape_noise must be (family, beta, p0), got {self.escape_noise!r}")
        object.__setattr__(self, "escape_noise", tuple(self.escape_noise))
        escape_noise(self.escape_noise[0], self.escape_noise[1], p0=self.escape_noise[2])  # checks them
        if (
            isinstance(self.readout_u0, bool)
            or not isinstance(self.readout_u0, (int, float))
            or not math.isfinite(self.readout_u0)
        ):
            raise ValueError(f"readout_u0 must be a finite number, got {self.readout_u0!r}")
        for name, valid in (
            ("readout_scale", ("fluctuation", "fan_in")),
            ("readout_value", ("before", "after")),
            ("reset_scope", ("leak", "update")),
            ("delay", (0, 1)),
        ):
            if isinstance(getattr(self, name), bool) or getattr(self, name) not in valid:
                raise ValueError(
                    f"unknown {name} {getattr(self, name)!r}; valid: {', '.join(map(str, valid))}"
                )
        if self.sigma_u_stochastic is not None:
            _validate.positive_scalar(self.sigma_u_stochastic, "sigma_u_stochastic")

    def train_config(self) -> TrainConfig:
        """The loop's settings of this run."""
        return TrainConfig(self.epochs, self.batch_size, self.optimizer, self.learning_rate, self.seed)

    def sigma_u_for(self, method_name: str) -> float:
        """Target membrane SD of the init for a training method."""
        if method_name != "deterministic" and self.sigma_u_stochastic is not None:
            return self.sigma_u_stochastic
        return self.sigma_u


def classifier_network(run: ClassifierRun, n_in: int, n_classes: int) -> SNNConfig:
    """The network of a :class:`ClassifierRun`: its LIF layers and an integrator readout."""
    lif = LIFParams(tau_mem=run.tau_mem, tau_syn=run.tau_syn, dt=run.dt, reset_scope=run.reset_scope)
    readout = LIFParams(
        tau_mem=run.tau_mem if run.readout_tau_mem is None else run.readout_tau_mem,
        tau_syn=run.tau_syn if run.readout_tau_syn is None else run.readout_tau_syn,
        dt=run.dt,
    )
    return SNNConfig(
        n_in=n_in,
        hidden=tuple(run.hidden),
        n_out=n_classes,
        connectivity=run.connectivity,
        kernel_size=run.kernel_size,
        stride=run.stride,
        recurrent=run.recurrent,
        recurrent_kernel_size=run.recurrent_kernel_size,
        readout="integrator",
        lif=lif,
        readout_lif=readout,
        readout_value=run.readout_value,
        readout_u0=run.readout_u0,
        delay=run.delay,
    )


def n_classes_of(params: Any) -> int:
    """The number of classes of a classifier's params: the width of its readout weights."""
    try:
        return int(params["readout"]["w"].shape[-1])
    except (TypeError, KeyError, AttributeError, IndexError):
        raise ValueError(
            "params must be a classifier's params ({'hidden': [...], 'readout': {'w': [N, n_classes]}}), "
            f"got {type(params).__name__}"
        ) from None


def classifier_method(method_name: str, run: ClassifierRun) -> Method:
    """The training method of a run: the hidden escape noise ``run.escape_noise`` (output
    sigmoid beta 100, unused by the integrator readout); ``surrogate="superspike"``: the
    SuperSpike derivative of steepness ``run.surrogate_beta`` in the backward pass of every
    method (matched: the escape noise's derivative)."""
    family, beta, p0 = run.escape_noise
    m = dataclasses.replace(sigmoid_method(method_name), hidden_noise=escape_noise(family, beta, p0=p0))
    if run.surrogate == "superspike":
        m = dataclasses.replace(m, surrogate=surrogate("superspike", run.surrogate_beta))
    return m


def classification_terms(
    sim: SimResult, labels: jax.Array, reg_bound: float, reg_strength: float, reg_kind: str = "neuron"
) -> tuple[jax.Array, Any]:
    """(max-over-time cross-entropy, upper-bound regulariser summed over the hidden layers) of
    a simulation: the classification training loss is their sum (``reg_kind``: see
    :class:`ClassifierRun`)."""
    reg_fn = population_upper_bound_regularizer if reg_kind == "population" else upper_bound_regularizer
    ce = max_over_time_cross_entropy(sim.output, labels)
    return ce, sum(reg_fn(s, reg_bound, reg_strength) for s in sim.spikes)


@functools.lru_cache(maxsize=16)
def classifier_loss(cfg, method, reg_bound, reg_strength, reg_kind="neuron"):
    """Max-over-time CE + upper-bound regulariser; cached per settings, so that repeated runs
    reuse the compiled steps."""

    def loss_fn(params, key, x, y):
        sim = simulate(params, x.astype(jnp.float32), cfg, method, key=key)
        ce, reg = classification_terms(sim, y, reg_bound, reg_strength, reg_kind)
        acc = accuracy_max_over_time(sim.output, y)
        return ce + reg, {"cross_entropy": ce, "regularizer": reg, "train_acc": acc}

    return loss_fn
