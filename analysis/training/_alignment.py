"""Alignment along a training run: how well the surrogate gradient that trains a network
points along the unbiased gradient of its stochastic version, epoch by epoch.

A run trained with ``save_every=K`` (``sgtheory train ... --save-every K``) keeps its params
at epoch 0, every K-th and the last epoch (``<run>/checkpoints/epoch_XXXX.npz``). For each of
them, :func:`run_alignment` rebuilds the run's network and data from the run's own record
(task, method, sizes, seed) and measures, on a fixed batch of the run's training data and the
run's training loss, the cosine and sign agreement with the unbiased coupled-flip reference
of grad E[L] of the *stochastic* network (same escape noise; Arya et al., NeurIPS 2022) of

* ``trained``       -- the SG of the method the run was trained with (``deterministic``:
  Theta forward, psi = f'; ``stochastic``: E[SG] of the stochastic network, identical in
  distribution to ``stoch_matched``; ``multilayer_spiker``: its sampled-derivative rule),
* ``stoch_matched`` -- E[SG] of the stochastic network with the matched surrogate psi = f'
  (the smoothed stochastic derivative),

with jackknife standard errors of the cosines (:func:`analysis.stochastic.snn_alignment`;
Gygax & Zenke 2025, secs. 4-6).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate
from analysis.snn import Method, SimResult, init_params
from analysis.stochastic import AlignmentBudget, snn_alignment
from analysis.training import _metrics as metrics
from analysis.training._checkpoints import (
    EPOCH_CHECKPOINTS,
    epoch_checkpoints,
    load_epoch_params,
    read_epoch_file,
)
from analysis.training._classifier_network import ClassifierRun, classification_terms
from analysis.training._epoch_files import _check_epoch_files, _run_record
from analysis.training._load_run import network_of_run
from analysis.training._presets import randman_data_seed, randman_preset, shd_steps
from analysis.training._spike_train_run import SpikeTrainRun, spike_train_setup

_TASKS = ("spike-train", "randman", "shd")


@dataclass(frozen=True)
class _VanRossumLoss:
    """The spike-train training loss: squared van Rossum distance to the target (inputs[1])."""

    tau: float

    def __call__(self, result: SimResult, inputs: Any) -> jax.Array:
        target = jnp.broadcast_to(inputs[1], result.output.shape)
        return jnp.mean(metrics.van_rossum_loss(result.output, target, self.tau))


@dataclass(frozen=True)
class _ClassifierLoss:
    """The classification training loss: max-over-time cross-entropy + upper-bound regulariser."""

    bound: float
    strength: float
    kind: str = "neuron"

    def __call__(self, result: SimResult, inputs: Any) -> jax.Array:
        ce, reg = classification_terms(result, inputs[1], self.bound, self.strength, self.kind)
        return ce + reg


def _fields(cls, record: dict) -> dict:
    names = {f.name for f in fields(cls)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in names}


def _setup(record: dict, profile: str | None, batch: int, shd_path: Any, where: Path):
    """(loss, inputs (x, y)) of the run rebuilt from its record (its network and method:
    :func:`analysis.training._load_run.network_of_run`)."""
    task = record.get("task")
    if task not in _TASKS:
        raise ValueError(f"unknown task {task!r} in {where}; valid: {', '.join(_TASKS)}")
    if task == "spike-train":
        run = SpikeTrainRun(**_fields(SpikeTrainRun, record))
        data, _, _ = spike_train_setup(run)
        return _VanRossumLoss(run.tau_vr), (data.inputs, data.target)
    crun = ClassifierRun(**_fields(ClassifierRun, record))
    if task == "randman":
        from analysis.training.tasks import randman_splits

        if profile is None:
            raise ValueError(
                f"{where} has no summary.json with the profile of this randman run (it is written "
                f"when the run ends); finish the run with sgtheory train randman --resume"
            )
        data_cfg, _ = randman_preset(profile, seed=crun.seed)
        data_key = jax.random.key(randman_data_seed(profile, crun.seed))
        pair: tuple[Any, Any] = randman_splits(data_key, data_cfg, (0.8, 0.1, 0.1))[0]
    else:
        from analysis.training.tasks import SHDConfig, load_shd

        # binned as the run was trained: its profile's steps (349 for paper) at its dt
        binning = SHDConfig(n_steps=shd_steps(profile or "quick"), dt=crun.dt)
        pair = load_shd("data/shd" if shd_path is None else shd_path, "train", binning, max_samples=batch)
    x, y = pair
    pick = np.unique(
        np.linspace(0, len(y) - 1, min(batch, len(y))).round().astype(int)
    )  # spread over classes
    xb, yb = jnp.asarray(np.asarray(x)[pick], jnp.float32), jnp.asarray(np.asarray(y)[pick], jnp.int32)
    loss = _ClassifierLoss(crun.reg_bound, crun.reg_strength, crun.reg_kind)
    return loss, (xb, yb)


@dataclass(frozen=True)
class RunAlignmentConfig:
    """The sampling of :func:`run_alignment`: ``n_ref`` (>= 20: 10 jackknife batches of 2)
    reference samples with ``n_flips`` flips each, ``n_sg`` samples of stochastic SGs,
    ``chunk`` samples at a time, all from ``key(seed)`` (the same at every epoch); ``batch``
    training samples evenly spaced over a classification run's training set (None: 8;
    refused for spike-train runs, which have their one frozen input); ``shd_path``: the SHD
    data of an shd run (default ``data/shd``; refused for other runs)."""

    n_ref: int = 1000
    n_flips: int = 8
    n_sg: int = 128
    chunk: int = 250
    batch: int | None = None
    seed: int = 0
    shd_path: str | os.PathLike | None = None

    def __post_init__(self):
        for name in ("n_ref", "n_flips", "n_sg", "chunk"):
            _validate.positive_int(getattr(self, name), name)
        if self.batch is not None:
            _validate.positive_int(self.batch, "batch")
        if self.n_ref < 20:
            raise ValueError(f"n_ref must be at least 20 (10 jackknife batches of 2), got {self.n_ref}")
        _validate.seed(self.seed)


def run_alignment(
    run_dir: str | os.PathLike, config: RunAlignmentConfig = RunAlignmentConfig(), *, progress: Any = None
) -> dict:
    """Alignment of the run's SG and the matched stochastic SG with the unbiased reference at
    every epoch kept in ``run_dir``/checkpoints (see the module docstring), sampled as
    ``config`` (:class:`RunAlignmentConfig`) says.

    ``progress(row)`` is called after each epoch. Computes in the default float (float64
    under x64). Returns {"run_dir", "task", "method", "seed" (the run's), "batch",
    "variants", "rows": [{"epoch", cos_/cos_se_/sign_trained, ..._stoch_matched, ref_snr,
    ceiling, ...}]}. Raises ValueError (one line) before computing for a missing folder, a
    folder without epoch checkpoints (train with --save-every), epoch files that are
    damaged, come from different runs or miss a kept epoch, a damaged summary.json, an
    unknown task, or options that the run's task does not use.
    """
    run_dir = Path(run_dir)
    files = _checked_epoch_files(run_dir, config)
    record, profile = _run_record(run_dir, files)
    _check_options(record.get("task"), config, run_dir)
    batch = 8 if config.batch is None else config.batch
    loss, inputs = _setup(record, profile, batch, config.shd_path, run_dir)
    first = files[min(files)]
    cfg, trained, _ = network_of_run(record, read_epoch_file(first)[1], first)
    dtype = jnp.result_type(float)
    inputs = tuple(jnp.asarray(a, dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a for a in inputs)
    template = init_params(jax.random.key(0), cfg, dtype=dtype)
    for path in files.values():  # every file readable and of this network before computing
        load_epoch_params(path, template)
    variants: dict[str, Method | None] = {"trained": trained, "stoch_matched": None}
    rows = []
    for epoch, path in files.items():
        params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), load_epoch_params(path, template)[0])
        rows.append({"epoch": epoch, **_alignment_row(cfg, params, inputs, loss, variants, config)})
        if progress is not None:
            progress(rows[-1])
    return {
        "run_dir": str(run_dir),
        "task": record["task"],
        "method": record.get("method"),
        "seed": record.get("seed"),
        "batch": int(inputs[0].shape[0]),
        "variants": list(variants),
        "rows": rows,
    }


def _alignment_row(cfg, params, inputs, loss, variants: dict, config: RunAlignmentConfig) -> dict:
    """:func:`analysis.stochastic.snn_alignment` of the variants at one epoch's params, the
    reference being grad E[L] of the stochastic network with the trained method's noise."""
    trained = variants["trained"]
    noise = Method("stochastic", hidden_noise=trained.hidden_noise, output_noise=trained.output_noise)
    budget = AlignmentBudget(n_ref=config.n_ref, n_flips=config.n_flips, n_sg=config.n_sg, chunk=config.chunk)
    key = jax.random.key(config.seed)
    return snn_alignment(cfg, params, inputs, loss, key=key, method=noise, budget=budget, variants=variants)


def _checked_epoch_files(run_dir: Path, config: RunAlignmentConfig) -> dict[int, Path]:
    """The run's epoch files, after checking the folder and that they come from one run."""
    if not isinstance(config, RunAlignmentConfig):
        raise TypeError(f"config must be a RunAlignmentConfig, got {type(config).__name__}")
    if not run_dir.is_dir():
        raise ValueError(
            f"run folder {run_dir} does not exist" + (" (it is a file)" if run_dir.exists() else "")
        )
    files = epoch_checkpoints(run_dir)
    if not files:
        raise ValueError(
            f"run folder {run_dir} has no {EPOCH_CHECKPOINTS}/epoch_*.npz; train it with "
            f"--save-every K (save_every=K) to keep the params along the run"
        )
    _check_epoch_files(run_dir, files)
    return files


def _check_options(task: Any, config: RunAlignmentConfig, run_dir: Path) -> None:
    """Options the run's task does not use are refused."""
    if config.shd_path is not None and task != "shd":
        raise ValueError(f"shd_path (--shd-path) is used by shd runs only; {run_dir} is a {task} run")
    if config.batch is not None and task == "spike-train":
        raise ValueError(
            f"batch (--batch) is used by classification runs only; {run_dir} is a spike-train run "
            f"(one frozen input)"
        )
