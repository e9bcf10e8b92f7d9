"""The paper's network experiments as functions: spike-train matching and classification.

Gygax & Zenke (2025, Figs. 6-7): a network is trained with deterministic
SG, stochastic SG (sigmoid escape noise, beta 10 hidden / 100 output, matched surrogate)
or MultilayerSpiker (Gardner et al. 2015), using :mod:`analysis.snn._network` for the network,
:mod:`analysis.training._fit` for the loop and :mod:`analysis.training._metrics` for the measurements.
Every evaluation runs in BOTH modes (``det_*`` and ``stoch_*`` metrics), so a stochastically
trained network is also tested deterministically and vice versa.

Example
-------
>>> from analysis.training._experiments import SpikeTrainRun, train_spike_train
>>> run = SpikeTrainRun(n_inputs=20, n_hidden=20, n_neurons=20, n_steps=30, epochs=2)
>>> res = train_spike_train("stochastic", run, progress=False)
>>> sorted(k for k in res.history[-1] if k.startswith("stoch_"))[:2]
['stoch_hidden_fano', 'stoch_hidden_rate_hz']
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import asdict, dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis import _validate
from analysis.neuron import escape_noise, surrogate
from analysis.snn import METHOD_NAMES, LIFParams, Method, SNNConfig, init_params, simulate
from analysis.snn._network import param_shapes
from analysis.training import _metrics as metrics
from analysis.training._fit import (
    TrainConfig,
    TrainResult,
    accuracy_max_over_time,
    check_resumable,
    check_run_folder,
    check_save_every,
    fit,
    max_over_time_cross_entropy,
    population_upper_bound_regularizer,
    upper_bound_regularizer,
)
from analysis.training.tasks import make_spike_train_task

if TYPE_CHECKING:
    from analysis.snn import SimResult
    from analysis.training.tasks import RandmanConfig


def sigmoid_method(name: str, hidden_beta: float = 10.0, output_beta: float = 100.0) -> Method:
    """Method by name with sigmoid escape noise (and matched surrogates) of the given betas."""
    if name not in METHOD_NAMES:
        raise ValueError(f"unknown method {name!r}; valid names: {', '.join(METHOD_NAMES)}")
    return Method(
        name,
        hidden_noise=escape_noise("sigmoid", hidden_beta),
        output_noise=escape_noise("sigmoid", output_beta),
    )


@dataclass(frozen=True)
class SpikeTrainRun:
    """Spike-train matching run (paper sizes by default: 200 -> 200 -> 200, 190 steps).

    One epoch = one full-batch step on ``train_trials`` stochastic trials of the frozen
    input; ``eval_trials`` repeated trials give distances, rates and Fano factors.
    hidden_beta / output_beta: steepness of the sigmoid escape noise (stochastic) and of the
    matched surrogate (both methods); the paper's values are 10 / 100.
    """

    n_inputs: int = 200
    n_hidden: int = 200
    n_neurons: int = 200
    n_steps: int = 190
    rate_hz: float = 50.0
    image: str | None = None
    epochs: int = 200
    learning_rate: float = 2e-3
    optimizer: str = "adam"
    tau_vr: float = 10.0
    train_trials: int = 1
    eval_trials: int = 10
    hidden_beta: float = 10.0
    output_beta: float = 100.0
    seed: int = 0


def spike_train_network(run: SpikeTrainRun) -> SNNConfig:
    """200-200-200 LIF network with a spiking output layer, tau_mem 10 ms, tau_syn 5 ms."""
    lif = LIFParams(tau_mem=10e-3, tau_syn=5e-3)
    return SNNConfig(n_in=run.n_inputs, hidden=(run.n_hidden,), n_out=run.n_neurons, readout="lif", lif=lif)


def repeated_trials(
    params: dict, x: ArrayLike, cfg: SNNConfig, method: Method, key: jax.Array, n_trials: int
) -> SimResult:
    """Simulate input ``x`` [B, T, n_in] in ``n_trials`` trials: SimResult with a leading
    trial axis [R, B, T, N] (independent keys; identical trials for deterministic)."""
    keys = jax.random.split(key, n_trials)
    return jax.vmap(lambda k: simulate(params, x, cfg, method, key=k))(keys)


@partial(jax.jit, static_argnums=(3, 4, 5, 6))
def _spike_train_eval(params, inputs, target, cfg, tau_vr, n_trials, betas, key):
    out = {}
    for mode in ("deterministic", "stochastic"):
        sim = repeated_trials(params, inputs, cfg, sigmoid_method(mode, *betas), key, n_trials)
        tag = "det" if mode == "deterministic" else "stoch"
        target_r = jnp.broadcast_to(target, sim.output.shape)
        out[f"{tag}_van_rossum"] = jnp.mean(metrics.van_rossum_distance(sim.output, target_r, tau_vr))
        out[f"{tag}_l2"] = jnp.mean(metrics.l2_spike_distance(sim.output, target_r))
        out[f"{tag}_output_rate_hz"] = jnp.mean(metrics.firing_rates(sim.output))
        out[f"{tag}_hidden_rate_hz"] = jnp.mean(metrics.firing_rates(sim.spikes[0]))
        out[f"{tag}_output_fano"] = metrics.mean_fano_factor(sim.output)
        out[f"{tag}_hidden_fano"] = metrics.mean_fano_factor(sim.spikes[0])
    return out


@functools.lru_cache(maxsize=16)
def _spike_train_loss(cfg, method, tau_vr, n_trials):
    """Loss closure cached by its static settings, so repeated runs reuse compiled steps."""

    def loss_fn(params, key, x, y):
        sim = repeated_trials(params, x, cfg, method, key, n_trials)
        target = jnp.broadcast_to(y, sim.output.shape)
        return jnp.mean(metrics.van_rossum_loss(sim.output, target, tau_vr)), {}

    return loss_fn


def train_spike_train(
    method_name: str,
    run: SpikeTrainRun = SpikeTrainRun(),
    *,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    return_setup: bool = False,
    save_every: int | None = None,
) -> Any:
    """Train on the dithered-image target; loss = mean squared van Rossum distance.

    Returns the :class:`~analysis.training.TrainResult` (history rows: loss, det_/stoch_
    van_rossum, l2, output/hidden rates in Hz, output/hidden Fano factors); with
    ``return_setup`` also (task, cfg, initial params).
    """
    method = sigmoid_method(method_name, run.hidden_beta, run.output_beta)
    tcfg = TrainConfig(
        epochs=run.epochs,
        batch_size=1,
        optimizer=run.optimizer,
        learning_rate=run.learning_rate,
        seed=run.seed,
    )
    info = {"task": "spike-train", "method": method_name, **asdict(run)}
    check_save_every(save_every, out_dir)
    _check_folder(out_dir, resume, force, tcfg, info, save_every)
    k_task, k_init = jax.random.split(jax.random.key(run.seed))
    task = make_spike_train_task(k_task, run.image, run.n_inputs, run.n_neurons, run.n_steps, run.rate_hz)
    cfg = spike_train_network(run)
    params0 = init_params(k_init, cfg, nu=run.rate_hz)

    loss_fn = _spike_train_loss(cfg, method, run.tau_vr, run.train_trials)
    betas = (run.hidden_beta, run.output_beta)
    evaluate = lambda p, k: _spike_train_eval(
        p, task.inputs, task.target, cfg, run.tau_vr, run.eval_trials, betas, k
    )
    res = fit(
        loss_fn,
        params0,
        (task.inputs, task.target),
        tcfg,
        evaluate=evaluate,
        out_dir=out_dir,
        resume=resume,
        force=force,
        progress=progress,
        run_info=info,
        save_every=save_every,
    )
    return (res, (task, cfg, params0)) if return_setup else res


def _check_folder(out_dir, resume, force, tcfg, info, save_every=None) -> None:
    """Run folder and checkpoint checked before the task is built (fit checks them again)."""
    if out_dir is not None or resume:
        check_run_folder(out_dir, resume=resume, force=force, save_every=save_every)
    if resume:
        check_resumable(out_dir, tcfg, info)


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
    surrogate : backward pass of *deterministic* training: ``matched`` (sigma'_beta of the
    escape noise, beta 10) or ``superspike`` (fast sigmoid, beta 10; the paper's default);
    stochastic training always uses the matched surrogate.
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
    seed: int = 0

    def __post_init__(self):
        if self.reg_kind not in REG_KINDS:
            raise ValueError(f"unknown reg_kind {self.reg_kind!r}; valid: {', '.join(REG_KINDS)}")
        if self.surrogate not in SURROGATE_CHOICES:
            raise ValueError(f"unknown surrogate {self.surrogate!r}; valid: {', '.join(SURROGATE_CHOICES)}")
        for name in ("sigma_u", "nu_in", "tau_mem", "tau_syn", "dt"):
            _validate.positive_scalar(getattr(self, name), name)
        if self.sigma_u_stochastic is not None:
            _validate.positive_scalar(self.sigma_u_stochastic, "sigma_u_stochastic")

    def sigma_u_for(self, method_name: str) -> float:
        """Target membrane SD of the init for a training method."""
        if method_name != "deterministic" and self.sigma_u_stochastic is not None:
            return self.sigma_u_stochastic
        return self.sigma_u


def classifier_network(run: ClassifierRun, n_in: int, n_classes: int) -> SNNConfig:
    """The network of a :class:`ClassifierRun`: its LIF layers and an integrator readout."""
    lif = LIFParams(tau_mem=run.tau_mem, tau_syn=run.tau_syn, dt=run.dt)
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
    )


def classifier_method(method_name: str, run: ClassifierRun) -> Method:
    """The training method of a run: sigmoid escape noise beta 10 / 100; a deterministic run
    with ``surrogate="superspike"`` uses SuperSpike (fast sigmoid) beta 10 backward."""
    m = sigmoid_method(method_name)
    if method_name == "deterministic" and run.surrogate == "superspike":
        m = dataclasses.replace(m, surrogate=surrogate("superspike", 10.0))
    return m


@partial(jax.jit, static_argnums=(3, 5))
def _accuracies(params, x, y, cfg, key, prefix):
    out = {}
    for mode, tag in (("deterministic", "det"), ("stochastic", "stoch")):
        sim = simulate(params, x, cfg, sigmoid_method(mode), key=key)
        out[f"{tag}_{prefix}_acc"] = accuracy_max_over_time(sim.output, y)
        out[f"{tag}_{prefix}_loss"] = max_over_time_cross_entropy(sim.output, y)
        out[f"{tag}_{prefix}_hidden_rate_hz"] = jnp.mean(metrics.firing_rates(sim.spikes[-1]))
    return out


def _chunked_accuracies(params, x, y, cfg, key, chunk: int, prefix: str = "valid") -> dict:
    """:func:`_accuracies` over chunks of at most ``chunk`` samples, weighted by size."""
    total: dict = {}
    for i in range(0, len(y), chunk):
        part = _accuracies(
            params,
            x[i : i + chunk].astype(jnp.float32),
            y[i : i + chunk],
            cfg,
            jax.random.fold_in(key, i),
            prefix,
        )
        for k, v in part.items():
            total[k] = total.get(k, 0.0) + v * len(y[i : i + chunk]) / len(y)
    return total


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
def _classifier_loss(cfg, method, reg_bound, reg_strength, reg_kind="neuron"):
    """Max-over-time CE + upper-bound regulariser; cached like :func:`_spike_train_loss`."""

    def loss_fn(params, key, x, y):
        sim = simulate(params, x.astype(jnp.float32), cfg, method, key=key)
        ce, reg = classification_terms(sim, y, reg_bound, reg_strength, reg_kind)
        acc = accuracy_max_over_time(sim.output, y)
        return ce + reg, {"cross_entropy": ce, "regularizer": reg, "train_acc": acc}

    return loss_fn


def train_classifier(
    method_name: str,
    train: tuple[ArrayLike, ArrayLike],
    valid: tuple[ArrayLike, ArrayLike],
    run: ClassifierRun = ClassifierRun(),
    *,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    task_name: str = "classification",
    n_classes: int | None = None,
    eval_chunk: int = 512,
    save_every: int | None = None,
) -> TrainResult:
    """Train on ``train`` = (x [B, T, n_in] float32, labels [B]); evaluate on ``valid`` in
    both modes each epoch (``det_valid_acc``, ``stoch_valid_acc``, hidden rates).
    ``train_acc`` is the accuracy on the training minibatches during the epoch, in the
    training mode (the usual running training accuracy). Inputs may be uint8 (SHD: saves
    memory); batches are cast to float32. Validation runs in chunks of ``eval_chunk``.
    ``save_every``: see :func:`fit`."""
    method = classifier_method(method_name, run)
    x_tr, y_tr = jnp.asarray(train[0]), jnp.asarray(train[1], jnp.int32)  # uint8 inputs stay
    x_va, y_va = jnp.asarray(valid[0]), jnp.asarray(valid[1], jnp.int32)  # uint8 (memory)
    if x_tr.ndim != 3 or x_va.shape[1:] != x_tr.shape[1:] or len(y_tr) != len(x_tr):
        raise ValueError(
            f"train/valid inputs must be [B, T, N] with matching T, N and labels; "
            f"got {x_tr.shape}, {y_tr.shape}, {x_va.shape}"
        )
    if len(y_tr) == 0 or len(y_va) == 0:
        raise ValueError(f"train and valid need at least one sample each, got {len(y_tr)} and {len(y_va)}")
    tcfg = TrainConfig(
        epochs=run.epochs,
        batch_size=run.batch_size,
        optimizer=run.optimizer,
        learning_rate=run.learning_rate,
        seed=run.seed,
    )
    info = {
        "task": task_name,
        "method": method_name,
        "n_train": len(y_tr),
        "n_valid": len(y_va),
        **asdict(run),
    }
    check_save_every(save_every, out_dir)
    _check_folder(out_dir, resume, force, tcfg, info, save_every)
    n_classes = n_classes or int(max(int(y_tr.max()), int(y_va.max())) + 1)
    cfg = classifier_network(run, x_tr.shape[2], n_classes)
    params0 = init_params(
        jax.random.key(run.seed),
        cfg,
        nu=run.nu_in,
        sigma_u=run.sigma_u_for(method_name),
        recurrent_fraction=run.recurrent_fraction,
    )

    loss_fn = _classifier_loss(cfg, method, run.reg_bound, run.reg_strength, run.reg_kind)
    evaluate = lambda params, key: _chunked_accuracies(params, x_va, y_va, cfg, key, eval_chunk)

    return fit(
        loss_fn,
        params0,
        (x_tr, y_tr),
        tcfg,
        evaluate=evaluate,
        out_dir=out_dir,
        resume=resume,
        force=force,
        progress=progress,
        run_info=info,
        save_every=save_every,
    )


def evaluate_classifier(
    params: Any,
    data: tuple[ArrayLike, ArrayLike],
    run: ClassifierRun,
    n_classes: int,
    *,
    prefix: str = "test",
    seed: int = 0,
    chunk: int = 512,
) -> dict:
    """Accuracy, max-over-time cross-entropy and hidden rate of a trained classifier on
    ``data`` = (x [B, T, n_in], labels [B]) in BOTH modes: ``det_{prefix}_acc`` with the
    deterministic network, ``stoch_{prefix}_acc`` with the stochastic one (spikes from
    ``key(seed)``), whatever mode the network was trained in (Gygax & Zenke 2025, Fig. 7:
    test accuracy with the training activation and with the other one swapped in)."""
    x, y = jnp.asarray(data[0]), jnp.asarray(data[1], jnp.int32)
    if x.ndim != 3 or len(y) != len(x) or len(y) == 0:
        raise ValueError(f"data must be (x [B, T, N], labels [B]) with B >= 1, got {x.shape}, {y.shape}")
    cfg = classifier_network(run, x.shape[2], n_classes)
    out = _chunked_accuracies(params, x, y, cfg, jax.random.key(seed), chunk, prefix)
    return {k: float(v) for k, v in out.items()}


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


def training_step_memory(
    run: ClassifierRun,
    method_name: str,
    n_in: int,
    n_steps: int,
    n_classes: int,
    batch: int | None = None,
    *,
    checkpoint: bool = False,
    input_dtype: Any = jnp.float32,
) -> dict:
    """Memory of one training step (gradient of the loss) as XLA's buffer assignment for
    this backend reports it, without running it: {"temp_gib", "argument_gib"} for a batch
    of ``batch`` (default ``run.batch_size``) inputs [batch, n_steps, n_in]. ``checkpoint``:
    the rematerialising all-layers simulator (``SNNConfig.checkpoint``)."""
    batch = run.batch_size if batch is None else _validate.positive_int(batch, "batch")
    cfg = dataclasses.replace(classifier_network(run, n_in, n_classes), checkpoint=checkpoint)
    loss = _classifier_loss(
        cfg, classifier_method(method_name, run), run.reg_bound, run.reg_strength, run.reg_kind
    )
    shapes = param_shapes(cfg)
    params = jax.tree_util.tree_map(
        lambda s: jax.ShapeDtypeStruct(s, jnp.float32), shapes, is_leaf=lambda v: isinstance(v, tuple)
    )
    x = jax.ShapeDtypeStruct((batch, n_steps, n_in), input_dtype)
    y = jax.ShapeDtypeStruct((batch,), jnp.int32)
    step = jax.jit(jax.grad(lambda p, k, x, y: loss(p, k, x, y)[0]))
    ma = step.lower(params, jax.random.key(0), x, y).compile().memory_analysis()
    if ma is None:  # pragma: no cover - backends without a memory analysis
        return {"temp_gib": float("nan"), "argument_gib": float("nan")}
    return {
        "temp_gib": ma.temp_size_in_bytes / 2**30,
        "argument_gib": ma.argument_size_in_bytes / 2**30,
    }


def spike_train_preset(profile: str = "quick", **overrides) -> SpikeTrainRun:
    """``quick``: 50 -> 50 -> 50 neurons, 50 steps, 150 epochs (seconds on a CPU), output
    beta 10 (with beta 100 the small network barely learns in 150 epochs: van Rossum distance
    45 -> 31 instead of 45 -> 11); ``full``: the paper's 200 -> 200 -> 200 network, 190
    steps, betas 10 / 100."""
    presets = {
        "quick": dict(
            n_inputs=50,
            n_hidden=50,
            n_neurons=50,
            n_steps=50,
            epochs=150,
            optimizer="smorms3",
            learning_rate=1e-2,
            output_beta=10.0,
        ),
        "full": dict(epochs=1000, optimizer="smorms3", learning_rate=3e-3),
    }
    return SpikeTrainRun(**{**_preset(presets, profile), **overrides})


#: the paper's classification training (Gygax & Zenke 2025; their published configuration):
#: SMORMS3, lr 0.01, batch 400, 200 epochs, tau_mem 20 ms, tau_syn 10 ms, dt 2 ms, population
#: upper-bound regulariser 0.1 relu(c - 7)^2 per hidden layer, fluctuation-driven init with
#: 90 % feedforward share and target sigma_U 1 (deterministic) / 1.3 (stochastic), SuperSpike
#: surrogate beta 10 for the deterministic network
PAPER_TRAINING = dict(
    epochs=200,
    batch_size=400,
    learning_rate=0.01,
    optimizer="smorms3",
    reg_kind="population",
    reg_bound=7.0,
    reg_strength=0.1,
    sigma_u=1.0,
    sigma_u_stochastic=1.3,
    recurrent_fraction=0.1,
    tau_mem=20e-3,
    tau_syn=10e-3,
    dt=2e-3,
    surrogate="superspike",
)


def randman_preset(profile: str = "quick", **overrides: Any) -> tuple[RandmanConfig, ClassifierRun]:
    """(RandmanConfig, ClassifierRun), ``n_samples`` per class before the 0.8 / 0.1 / 0.1
    split: ``quick`` 10 classes x 200 samples, 20 units, 50 steps of 2 ms (spikes in the
    first 25), manifold dimension 1, alpha 1, LIF layers of 64 and 32, 30 epochs (test
    accuracy ~0.9, clearly below 1 and above chance: a setting that can tell methods
    apart); ``full`` 10 classes x 500 samples, 50 units, 100 steps, manifold
    dimension 3 (dimension 1 at this size is solved in ~5 epochs), 128 hidden, 60 epochs;
    ``paper`` the published experiment: 15 classes x 1000 samples, 20 units, manifold
    dimension 1, alpha 0.5, one spike per unit in the first 50 of 100 bins of 2 ms (split
    0.8 / 0.1 / 0.1), three conv1d LIF layers of 32 / 64 / 128 filters, kernels 11 / 5 / 5,
    stride 1, no recurrence (32 x 10, 64 x 6, 128 x 2 neurons), input rate 5 Hz, and
    :data:`PAPER_TRAINING`."""
    from analysis.training.tasks import RandmanConfig

    data = {
        "quick": RandmanConfig(n_classes=10, n_units=20, n_steps=50, dim=1, alpha=1.0, n_samples=200),
        "full": RandmanConfig(n_classes=10, n_units=50, n_steps=100, dim=3, n_samples=500),
        "paper": RandmanConfig(
            n_classes=15, n_units=20, n_steps=100, dim=1, alpha=0.5, n_spikes=1, n_samples=1000, step_frac=0.5
        ),
    }
    runs = {
        "quick": dict(hidden=(64, 32), epochs=30, batch_size=32, learning_rate=5e-3, nu_in=10.0, dt=2e-3),
        "full": dict(hidden=(128,), epochs=60, batch_size=64, learning_rate=2e-3),
        "paper": dict(
            PAPER_TRAINING,
            hidden=(32, 64, 128),
            connectivity="conv1d",
            kernel_size=(11, 5, 5),
            stride=1,
            recurrent=False,
            nu_in=5.0,
        ),
    }
    _preset(runs, profile)
    return data[profile], ClassifierRun(**{**runs[profile], **overrides})


def shd_preset(profile: str = "quick", **overrides: Any) -> tuple[int, int, ClassifierRun]:
    """(max train samples, max test samples, ClassifierRun) for SHD: ``quick`` uses 512 /
    256 samples and 5 epochs; ``full`` all samples, a recurrent 128-unit layer, 40 epochs;
    ``paper`` the published experiment: 700 channels, 0.7 s in 2 ms bins, three conv1d LIF
    layers (16 filters kernel 21 stride 10, 32 kernel 7 stride 3, 64 kernel 7 stride 3;
    16 x 68, 32 x 21, 64 x 5 neurons), each with a recurrent stride-1 conv of kernel 5,
    input rate 15.8 Hz, and :data:`PAPER_TRAINING` (a GPU run)."""
    presets = {
        "quick": (512, 256, dict(hidden=(64,), epochs=5, batch_size=64, nu_in=5.0)),
        "full": (None, None, dict(hidden=(128,), recurrent=True, epochs=40, batch_size=128, nu_in=5.0)),
        "paper": (
            None,
            None,
            dict(
                PAPER_TRAINING,
                hidden=(16, 32, 64),
                connectivity="conv1d",
                kernel_size=(21, 7, 7),
                stride=(10, 3, 3),
                recurrent=True,
                recurrent_kernel_size=5,
                nu_in=15.8,
            ),
        ),
    }
    n_tr, n_te, run = _preset(presets, profile)
    return n_tr, n_te, ClassifierRun(**{**run, **overrides})


def _preset(presets: dict, profile: str):
    if profile not in presets:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(presets)}")
    return presets[profile]
