"""Training and evaluating the classifier of the paper's classification experiments
(Gygax & Zenke 2025, Fig. 7), every evaluation in BOTH modes (``det_*`` and ``stoch_*``
metrics: a stochastically trained network tested deterministically and vice versa)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis import _validate
from analysis.snn import init_params, param_shapes, simulate
from analysis.training import _metrics as metrics
from analysis.training._classifier_network import (
    ClassifierRun,
    classifier_loss,
    classifier_method,
    classifier_network,
)
from analysis.training._fit import (
    TrainConfig,
    TrainResult,
    accuracy_max_over_time,
    check_folder_before_build,
    check_save_every,
    fit,
    max_over_time_cross_entropy,
)
from analysis.training._trials import sigmoid_method


@partial(jax.jit, static_argnums=(3, 5))
def _accuracies(params, x, y, cfg, key, prefix):
    out = {}
    for mode, tag in (("deterministic", "det"), ("stochastic", "stoch")):
        sim = simulate(params, x, cfg, sigmoid_method(mode), key)
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


def train_classifier(
    method_name: str,
    train: tuple[ArrayLike, ArrayLike],
    valid: tuple[ArrayLike, ArrayLike],
    run: ClassifierRun,
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
    check_folder_before_build(out_dir, resume, force, tcfg, info, save_every)
    n_classes = n_classes or int(max(int(y_tr.max()), int(y_va.max())) + 1)
    cfg = classifier_network(run, x_tr.shape[2], n_classes)
    params0 = init_params(
        jax.random.key(run.seed),
        cfg,
        nu=run.nu_in,
        sigma_u=run.sigma_u_for(method_name),
        recurrent_fraction=run.recurrent_fraction,
    )

    loss_fn = classifier_loss(cfg, method, run.reg_bound, run.reg_strength, run.reg_kind)
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
    loss = classifier_loss(
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
