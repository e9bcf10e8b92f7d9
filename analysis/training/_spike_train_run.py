"""Spike-train matching as the paper runs it (Gygax & Zenke 2025, Fig. 6): a 200-200-200 LIF
network trained with deterministic SG, stochastic SG or MultilayerSpiker to reproduce a
dithered-image raster; loss: the mean squared van Rossum distance. Every evaluation runs in
BOTH modes (``det_*`` and ``stoch_*`` metrics).

Example
-------
>>> from analysis.training import SpikeTrainRun, train_spike_train
>>> run = SpikeTrainRun(n_inputs=20, n_hidden=20, n_neurons=20, n_steps=30, epochs=2)
>>> res = train_spike_train("stochastic", run, progress=False)
>>> sorted(k for k in res.history[-1] if k.startswith("stoch_"))[:2]
['stoch_hidden_fano', 'stoch_hidden_rate_hz']
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from analysis.snn import LIFParams, SNNConfig, init_params
from analysis.training import _metrics as metrics
from analysis.training._fit import fit
from analysis.training._run_folder import check_folder_before_build, with_run_info
from analysis.training._train_config import RunFolder, TrainConfig
from analysis.training._trials import repeated_trials, sigmoid_method
from analysis.training.tasks import SpikeTrainConfig, SpikeTrainTask, make_spike_train_task


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

    def task_config(self) -> SpikeTrainConfig:
        """The task of this run: its sizes, input rate and target image."""
        return SpikeTrainConfig(self.image, self.n_inputs, self.n_neurons, self.n_steps, self.rate_hz)

    def train_config(self) -> TrainConfig:
        """The loop's settings: one full-batch step per epoch."""
        return TrainConfig(self.epochs, 1, self.optimizer, self.learning_rate, self.seed)


def spike_train_network(run: SpikeTrainRun) -> SNNConfig:
    """200-200-200 LIF network with a spiking output layer, tau_mem 10 ms, tau_syn 5 ms."""
    lif = LIFParams(tau_mem=10e-3, tau_syn=5e-3)
    return SNNConfig(n_in=run.n_inputs, hidden=(run.n_hidden,), n_out=run.n_neurons, readout="lif", lif=lif)


@partial(jax.jit, static_argnums=(3, 4, 5, 6))
def _spike_train_eval(params, inputs, target, cfg, tau_vr, n_trials, betas, key):
    out = {}
    for mode in ("deterministic", "stochastic"):
        sim = repeated_trials(key, params, inputs, cfg, sigmoid_method(mode, *betas), n_trials)
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
        sim = repeated_trials(key, params, x, cfg, method, n_trials)
        target = jnp.broadcast_to(y, sim.output.shape)
        return jnp.mean(metrics.van_rossum_loss(sim.output, target, tau_vr)), {}

    return loss_fn


def spike_train_setup(run: SpikeTrainRun) -> tuple[SpikeTrainTask, SNNConfig, dict]:
    """(task, network, initial params) of a run, all drawn from ``key(run.seed)``."""
    k_task, k_init = jax.random.split(jax.random.key(run.seed))
    task = make_spike_train_task(k_task, run.task_config())
    cfg = spike_train_network(run)
    return task, cfg, init_params(k_init, cfg, nu=run.rate_hz)


def train_spike_train(
    method_name: str,
    run: SpikeTrainRun = SpikeTrainRun(),
    folder: RunFolder | None = None,
    *,
    progress: bool | Callable[[dict], Any] = True,
    return_setup: bool = False,
) -> Any:
    """Train on the dithered-image target; loss = mean squared van Rossum distance.

    ``folder``: where the run is kept (:class:`RunFolder`; None: nothing is written; read back
    with :func:`load_run`). ``progress``: a bar (True), nothing (False) or ``progress(row)``
    per epoch (:func:`fit`).
    Returns the :class:`~analysis.training.TrainResult` (history rows: loss, det_/stoch_
    van_rossum, l2, output/hidden rates in Hz, output/hidden Fano factors); with
    ``return_setup`` also (task, cfg, initial params).
    """
    method = sigmoid_method(method_name, run.hidden_beta, run.output_beta)
    tcfg = run.train_config()
    folder = with_run_info(folder, {"task": "spike-train", "method": method_name, **asdict(run)})
    check_folder_before_build(folder, tcfg)
    task, cfg, params0 = spike_train_setup(run)
    loss_fn = _spike_train_loss(cfg, method, run.tau_vr, run.train_trials)
    betas = (run.hidden_beta, run.output_beta)
    evaluate = lambda p, k: _spike_train_eval(
        p, task.inputs, task.target, cfg, run.tau_vr, run.eval_trials, betas, k
    )
    data = (task.inputs, task.target)
    res = fit(loss_fn, params0, data, tcfg, evaluate=evaluate, folder=folder, progress=progress)
    return (res, (task, cfg, params0)) if return_setup else res
