"""The training loop :func:`fit`: epochs of minibatch steps (jitted), tqdm progress,
metrics per epoch to JSONL and CSV, a checkpoint per epoch written atomically (when a
:class:`RunFolder` is given). Every random number of epoch e comes from
``fold_in(key(seed), e)``, so a run resumed from a checkpoint reproduces an uninterrupted
run bit for bit. One process at a time writes a run folder (an exclusive lock,
:func:`analysis.runtime._lock.folder_lock`); training stops at the first epoch whose loss or
parameters are not finite.

Training is float32: callers pass float32 parameters and data (the CLI leaves x64 off).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import uuid
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from analysis.runtime._lock import folder_lock
from analysis.training._checkpoints import _save, _save_epoch, check_resumable, load_checkpoint
from analysis.training._optimizers import optimizer
from analysis.training._run_folder import check_run_folder, check_save_every, prepare_run_folder
from analysis.training._train_config import RunFolder, TrainConfig, TrainResult


@functools.lru_cache(maxsize=16)
def _step_fn(loss_fn, opt_name: str, learning_rate: float):
    """Jitted training step, cached so that a resumed or repeated run reuses the compiled code."""
    opt = optimizer(opt_name, learning_rate)

    def step(params, opt_state, key, x, y):
        (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, key, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, aux

    return jax.jit(step)


def _batches(key, n: int, batch_size: int):
    perm = np.asarray(jax.random.permutation(key, n))
    return [perm[i : i + batch_size] for i in range(0, n, batch_size)]


def _run_epoch(step, params, opt_state, key, data, batch_size):
    x, y = data
    losses, auxs = [], []
    for i, idx in enumerate(_batches(jax.random.fold_in(key, 0), len(x), batch_size)):
        params, opt_state, loss, aux = step(params, opt_state, jax.random.fold_in(key, i + 1), x[idx], y[idx])
        losses.append(loss)
        auxs.append(aux)
    row = {"loss": float(np.mean(jax.device_get(losses)))}
    for k in auxs[0] if auxs else {}:
        row[k] = float(np.mean([jax.device_get(a[k]) for a in auxs]))
    return params, opt_state, row


def fit(
    loss_fn: Callable,
    params: Any,
    data: tuple[ArrayLike, ArrayLike],
    cfg: TrainConfig,
    *,
    evaluate: Callable | None = None,
    folder: RunFolder | None = None,
    progress: bool | Callable[[dict], Any] = True,
) -> TrainResult:
    """Train ``params`` on ``data`` = (x [B, ...], y [B, ...]) for ``cfg.epochs`` epochs.

    ``loss_fn(params, key, x_batch, y_batch) -> (loss, aux)`` with aux a dict of scalars
    (averaged per epoch). ``evaluate(params, key) -> dict`` of extra metrics, run after each
    epoch. With a :class:`RunFolder` ``folder``: metrics.jsonl / metrics.csv rewritten
    atomically each epoch and checkpoint.npz (params, optimiser state, history) in
    ``folder.out_dir``; ``folder.resume`` continues from it (and refuses when there is none).
    A folder that already holds a run is refused unless ``resume`` or ``force`` (start over,
    replacing its files) is given. ``folder.run_info`` (JSON-able dict: task, method, sizes)
    is stored with the checkpoint and must match on resume, as must ``cfg`` apart from
    ``epochs``. All of this is checked before the first step. ``folder.save_every`` (K) also
    keeps the params of epoch 0 (the initialisation), of every K-th epoch and of the last
    epoch in ``out_dir``/checkpoints/epoch_XXXX.npz (written atomically, before the run's
    checkpoint, so a resumed run rewrites the same files). Starting over with ``force``
    removes the replaced run's files (checkpoint, metrics, summary, variability rasters,
    epoch files) before the first step. ``resume`` refuses a different ``save_every`` than
    the run was started with, and a checkpoint holding non-finite numbers. While it runs,
    ``out_dir`` is locked against other processes (:func:`analysis.runtime._lock.folder_lock`;
    ValueError naming the other process's pid); temporary files of writes killed midway are
    removed at the start. Training stops with a ValueError at the first epoch whose mean
    loss or updated params are not finite (nothing of that epoch is saved).
    ``progress``: True shows a tqdm bar, False nothing; a callable ``progress(row)`` is
    called instead of the bar after each epoch with a copy of that epoch's history row
    ({"epoch", "loss", the loss's aux, the ``evaluate`` metrics}; the row metrics.csv gets),
    once the epoch is saved: an exception it raises propagates out of ``fit`` and a run in a
    folder resumes after that epoch (a callback can stop training early that way).
    Returns the trained params and the per-epoch metric history.
    """
    _check_fit_args(loss_fn, data, cfg, evaluate, folder)
    if not (isinstance(progress, bool) or callable(progress)):
        raise TypeError(f"progress must be True, False or a callable progress(row), got {progress!r}")
    if folder is None:
        return _fit(loss_fn, params, data, cfg, evaluate, None, progress)
    check_save_every(folder.save_every, folder.out_dir)
    out_dir = check_run_folder(folder.out_dir, resume=folder.resume, force=folder.force)
    with folder_lock(out_dir):
        folder = dataclasses.replace(folder, out_dir=out_dir)
        return _fit(loss_fn, params, data, cfg, evaluate, folder, progress)


def _start(params, cfg: TrainConfig, folder: RunFolder | None):
    """(params, opt_state, history, record) at the first epoch to train: the initial ones,
    or those of the checkpoint to resume from; the run folder prepared."""
    opt_state = optimizer(cfg.optimizer, cfg.learning_rate).init(params)
    if folder is None:
        return params, opt_state, [], {"run": None, "run_id": uuid.uuid4().hex, "save_every": None}
    out, info = folder.out_dir, folder.run_info
    prepare_run_folder(out, resume=folder.resume, force=folder.force, save_every=folder.save_every)
    run_id = check_resumable(out, cfg, info).get("run_id") if folder.resume else uuid.uuid4().hex
    history: list[dict] = []
    if folder.resume:
        params, opt_state, history = load_checkpoint(out, params, opt_state, cfg, info)
    record = {"run": info, "run_id": run_id, "save_every": folder.save_every}
    if folder.save_every and not history:
        _save_epoch(out, 0, params, record)
    return params, opt_state, history, record


def _fit(loss_fn, params, data, cfg, evaluate, folder, progress):
    from tqdm import tqdm

    params, opt_state, history, record = _start(params, cfg, folder)
    out_dir, save_every, start = folder and folder.out_dir, record["save_every"], len(history)
    step, root = _step_fn(loss_fn, cfg.optimizer, cfg.learning_rate), jax.random.key(cfg.seed)
    report = progress if callable(progress) else None
    bar = tqdm(
        range(start, cfg.epochs),
        desc="epochs",
        unit="epoch",
        disable=progress is not True,
        initial=start,
        total=cfg.epochs,
    )
    for epoch in bar:
        key = jax.random.fold_in(root, epoch)
        params, opt_state, row = _run_epoch(step, params, opt_state, key, data, cfg.batch_size)
        _check_finite_epoch(epoch + 1, row["loss"], params, cfg, out_dir)
        if evaluate is not None:
            row.update({k: float(v) for k, v in evaluate(params, jax.random.fold_in(key, 2**30)).items()})
        history.append({"epoch": epoch + 1, **row})
        bar.set_postfix(loss=f"{row['loss']:.4g}")
        if save_every and ((epoch + 1) % save_every == 0 or epoch + 1 == cfg.epochs):
            _save_epoch(out_dir, epoch + 1, params, record)
        if out_dir is not None:
            _save(out_dir, params, opt_state, history, cfg, record)
        if report is not None:
            report(dict(history[-1]))
    return TrainResult(params, history)


def _all_finite(tree) -> bool:
    leaves = [a for a in jax.tree.leaves(tree) if jnp.issubdtype(jnp.asarray(a).dtype, jnp.inexact)]
    return all(bool(jnp.all(jnp.isfinite(a))) for a in leaves)


def _check_finite_epoch(epoch: int, loss: float, params, cfg: TrainConfig, out_dir) -> None:
    """ValueError at the first epoch whose mean loss or updated params are NaN or inf."""
    if math.isfinite(loss) and _all_finite(params):
        return
    what = f"the loss is {loss}" if not math.isfinite(loss) else "the params contain NaN or inf"
    kept = f"; {out_dir} keeps epoch {epoch - 1}" if out_dir is not None else ""
    raise ValueError(
        f"training diverged in epoch {epoch}: {what}; stopped{kept}. Try a smaller learning rate "
        f"(--lr, learning_rate; now {cfg.learning_rate:g})"
    )


def _check_fit_args(loss_fn, data, cfg, evaluate, folder) -> None:
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {loss_fn!r}")
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if folder is not None and not isinstance(folder, RunFolder):
        raise TypeError(f"folder must be a RunFolder or None, got {type(folder).__name__}")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be callable or None, got {evaluate!r}")
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError("data must be a pair (x, y) of arrays with the samples on axis 0")
    nx, ny = (len(a) if hasattr(a, "__len__") else None for a in data)
    if nx is None or ny is None or nx != ny:
        raise ValueError(f"x and y must have the same number of samples, got {nx} and {ny}")
    if nx == 0:
        raise ValueError("data holds no samples")
