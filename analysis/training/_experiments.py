"""The paper's network experiments as functions: spike-train matching and classification.

Gygax & Zenke (2025, sec. 6; THEORY.md sec. 6): a network is trained with deterministic
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

import functools
import os
from dataclasses import asdict, dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis.neuron import escape_noise
from analysis.snn import METHOD_NAMES, LIFParams, Method, SNNConfig, init_params, simulate
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
    return jax.vmap(lambda k: simulate(params, x, cfg, method, k))(keys)


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
    _check_folder(out_dir, resume, force, tcfg, info)
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


def _check_folder(out_dir, resume, force, tcfg, info) -> None:
    """Run folder and checkpoint checked before the task is built (fit checks them again)."""
    if out_dir is not None or resume:
        check_run_folder(out_dir, resume=resume, force=force)
    if resume:
        check_resumable(out_dir, tcfg, info)


@dataclass(frozen=True)
class ClassifierRun:
    """Classification run: dense LIF hidden layers, leaky-integrator readout, max over time.

    tau_mem 20 ms, tau_syn 10 ms as in the paper's classification experiments; the
    regulariser penalises hidden neurons above ``reg_bound`` spikes per sample.
    """

    hidden: tuple = (128,)
    recurrent: bool = False
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 2e-3
    optimizer: str = "adam"
    reg_bound: float = 10.0
    reg_strength: float = 1e-3
    nu_in: float = 10.0
    seed: int = 0


def classifier_network(run: ClassifierRun, n_in: int, n_classes: int) -> SNNConfig:
    lif = LIFParams(tau_mem=20e-3, tau_syn=10e-3)
    return SNNConfig(
        n_in=n_in,
        hidden=tuple(run.hidden),
        n_out=n_classes,
        recurrent=run.recurrent,
        readout="integrator",
        lif=lif,
    )


@partial(jax.jit, static_argnums=(3, 5))
def _accuracies(params, x, y, cfg, key, prefix):
    out = {}
    for mode, tag in (("deterministic", "det"), ("stochastic", "stoch")):
        sim = simulate(params, x, cfg, sigmoid_method(mode), key)
        out[f"{tag}_{prefix}_acc"] = accuracy_max_over_time(sim.output, y)
        out[f"{tag}_{prefix}_hidden_rate_hz"] = jnp.mean(metrics.firing_rates(sim.spikes[-1]))
    return out


def _chunked_accuracies(params, x, y, cfg, key, chunk: int) -> dict:
    """:func:`_accuracies` over chunks of at most ``chunk`` samples, weighted by size."""
    total: dict = {}
    for i in range(0, len(y), chunk):
        part = _accuracies(
            params,
            x[i : i + chunk].astype(jnp.float32),
            y[i : i + chunk],
            cfg,
            jax.random.fold_in(key, i),
            "valid",
        )
        for k, v in part.items():
            total[k] = total.get(k, 0.0) + v * len(y[i : i + chunk]) / len(y)
    return total


@functools.lru_cache(maxsize=16)
def _classifier_loss(cfg, method, reg_bound, reg_strength):
    """Max-over-time CE + upper-bound regulariser; cached like :func:`_spike_train_loss`."""

    def loss_fn(params, key, x, y):
        sim = simulate(params, x.astype(jnp.float32), cfg, method, key)
        ce = max_over_time_cross_entropy(sim.output, y)
        reg = sum(upper_bound_regularizer(s, reg_bound, reg_strength) for s in sim.spikes)
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
    method = sigmoid_method(method_name)
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
    _check_folder(out_dir, resume, force, tcfg, info)
    n_classes = n_classes or int(max(int(y_tr.max()), int(y_va.max())) + 1)
    cfg = classifier_network(run, x_tr.shape[2], n_classes)
    params0 = init_params(jax.random.key(run.seed), cfg, nu=run.nu_in)

    loss_fn = _classifier_loss(cfg, method, run.reg_bound, run.reg_strength)
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


def randman_preset(profile: str = "quick", **overrides: Any) -> tuple[RandmanConfig, ClassifierRun]:
    """(RandmanConfig, ClassifierRun): ``quick`` 4 classes x 100 samples, 30 units, 40 steps,
    48 hidden, 40 epochs; ``full`` 10 classes x 500 samples, 50 units, 100 steps, manifold
    dimension 3 (dimension 1 at this size is solved in ~5 epochs), 128 hidden, 60 epochs."""
    from analysis.training.tasks import RandmanConfig

    data = {
        "quick": RandmanConfig(n_classes=4, n_units=30, n_steps=40, n_samples=100),
        "full": RandmanConfig(n_classes=10, n_units=50, n_steps=100, dim=3, n_samples=500),
    }
    runs = {
        "quick": dict(hidden=(48,), epochs=40, batch_size=32, learning_rate=5e-3),
        "full": dict(hidden=(128,), epochs=60, batch_size=64, learning_rate=2e-3),
    }
    _preset(runs, profile)
    return data[profile], ClassifierRun(**{**runs[profile], **overrides})


def shd_preset(profile: str = "quick", **overrides: Any) -> tuple[int, int, ClassifierRun]:
    """(max train samples, max test samples, ClassifierRun) for SHD: ``quick`` uses 512 /
    256 samples and 5 epochs; ``full`` all samples, a recurrent 128-unit layer, 40 epochs."""
    presets = {
        "quick": (512, 256, dict(hidden=(64,), epochs=5, batch_size=64, nu_in=5.0)),
        "full": (None, None, dict(hidden=(128,), recurrent=True, epochs=40, batch_size=128, nu_in=5.0)),
    }
    n_tr, n_te, run = _preset(presets, profile)
    return n_tr, n_te, ClassifierRun(**{**run, **overrides})


def _preset(presets: dict, profile: str):
    if profile not in presets:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(presets)}")
    return presets[profile]
