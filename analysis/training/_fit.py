"""Training: optimisers, classification losses, activity regulariser, a resumable loop.

* :func:`smorms3` -- SMORMS3 (Funk 2015, "RMSprop loses to SMORMS3 - Beware the Epsilon!"),
  the optimiser used by Gygax & Zenke (2025) for the spike-train task, as an optax
  GradientTransformation. Per parameter, with memory m (init 1), g, g2 (init 0):
  r = 1/(m+1); g <- (1-r) g + r grad; g2 <- (1-r) g2 + r grad^2; x = g^2 / (g2 + eps);
  update = -grad min(lr, x) / (sqrt(g2) + eps); m <- 1 + m (1 - x).
* :func:`optimizer` -- registry by name: adam (default), smorms3, sgd.
* :func:`max_over_time_cross_entropy` -- logits = max_t of the readout (Zenke & Vogels 2021).
* :func:`upper_bound_regularizer` -- penalises neurons whose mean spike count exceeds a bound.
* :func:`fit` -- epochs of minibatch steps (jitted), tqdm progress, metrics per epoch to
  JSONL and CSV, a checkpoint per epoch written atomically. Every random number of epoch e
  comes from ``fold_in(key(seed), e)``, so a run resumed from a checkpoint reproduces an
  uninterrupted run bit for bit. One process at a time writes a run folder (an exclusive
  lock, :func:`analysis.runtime.folder_lock`); training stops at the first epoch whose
  loss or parameters are not finite.

Training is float32: callers pass float32 parameters and data (the CLI leaves x64 off).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import math
import os
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from analysis import _validate
from analysis.runtime._io import atomic_write_bytes, remove_atomic_litter, to_jsonable
from analysis.runtime._lock import folder_lock
from analysis.runtime._paths import check_output_dir

RUN_FILES = ("checkpoint.npz", "metrics.jsonl", "metrics.csv", "summary.json")
CHECKPOINT = "checkpoint.npz"
#: the classifier's spike rasters of :func:`analysis.training.run_experiment`
VARIABILITY = "variability.npz"
#: folder of the params kept every ``save_every`` epochs: ``epoch_XXXX.npz``
EPOCH_CHECKPOINTS = "checkpoints"
_ANY: Any = object()  # "not given": skip the save_every comparison on resume


class SMORMS3State(NamedTuple):
    mem: optax.Updates
    g: optax.Updates
    g2: optax.Updates


def smorms3(learning_rate: float = 1e-3, eps: float = 1e-16) -> optax.GradientTransformation:
    """SMORMS3 (Funk 2015) as an optax transformation; updates are to be *added* to params."""
    lr = _validate.positive_scalar(learning_rate, "learning_rate")

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return SMORMS3State(jax.tree.map(jnp.ones_like, params), zeros, zeros)

    def update(grads, state, params=None):
        r = jax.tree.map(lambda m: 1.0 / (m + 1.0), state.mem)
        g = jax.tree.map(lambda r_, g_, d: (1 - r_) * g_ + r_ * d, r, state.g, grads)
        g2 = jax.tree.map(lambda r_, g_, d: (1 - r_) * g_ + r_ * d * d, r, state.g2, grads)
        x = jax.tree.map(lambda a, b: a * a / (b + eps), g, g2)
        upd = jax.tree.map(lambda d, x_, b: -d * jnp.minimum(lr, x_) / (jnp.sqrt(b) + eps), grads, x, g2)
        mem = jax.tree.map(lambda m, x_: 1.0 + m * (1.0 - x_), state.mem, x)
        return upd, SMORMS3State(mem, g, g2)

    return optax.GradientTransformation(init, update)


_OPTIMIZERS: dict[str, Callable[[float], optax.GradientTransformation]] = {
    "adam": lambda lr: optax.adam(lr),
    "smorms3": lambda lr: smorms3(lr),
    "sgd": lambda lr: optax.sgd(lr),
}
OPTIMIZER_NAMES = tuple(_OPTIMIZERS)


def optimizer(name: str = "adam", learning_rate: float = 1e-3) -> optax.GradientTransformation:
    """Optimiser by name (one of :data:`OPTIMIZER_NAMES`)."""
    if name not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(OPTIMIZER_NAMES)}")
    return _OPTIMIZERS[name](_validate.positive_scalar(learning_rate, "learning_rate"))


def _check_logits(outputs, labels):
    if outputs.ndim != 3 or labels.shape != outputs.shape[:1]:
        raise ValueError(f"outputs must be [B, T, C] and labels [B]; got {outputs.shape} and {labels.shape}")


def max_over_time_cross_entropy(outputs: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean over the batch of CE(softmax(max_t outputs[b, t, :]), labels[b]); outputs [B,T,C]."""
    outputs, labels = jnp.asarray(outputs), jnp.asarray(labels)
    _check_logits(outputs, labels)
    logits = jnp.max(outputs, axis=1)
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))


def accuracy_max_over_time(outputs: jax.Array, labels: jax.Array) -> jax.Array:
    """Fraction of samples whose argmax_c max_t outputs equals the label."""
    outputs, labels = jnp.asarray(outputs), jnp.asarray(labels)
    _check_logits(outputs, labels)
    return jnp.mean(jnp.argmax(jnp.max(outputs, axis=1), axis=-1) == labels)


def upper_bound_regularizer(spikes: jax.Array, bound: float, strength: float = 1.0) -> jax.Array:
    """strength * mean_n relu(c_n - bound)^2, c_n = spike count of neuron n per sample.

    ``spikes`` [B, T, N] (or [T, N]): counts are averaged over the batch first, so only
    neurons that are active on average beyond ``bound`` spikes per sample are penalised
    (an upper-bound activity regulariser as in Zenke & Vogels 2021).
    """
    s = jnp.asarray(spikes)
    counts = jnp.sum(s, axis=-2).reshape(-1, s.shape[-1]).mean(axis=0)
    return strength * jnp.mean(jax.nn.relu(counts - bound) ** 2)


def population_upper_bound_regularizer(spikes: jax.Array, bound: float, strength: float = 1.0) -> jax.Array:
    """strength * mean_b relu(c_b - bound)^2, c_b = sample b's spike count per neuron averaged
    over the layer's neurons (the population mean; the form of the paper's experiments).

    ``spikes`` [B, T, N]. Penalises samples whose layer fires more than ``bound`` spikes per
    neuron on average (Gygax & Zenke 2025, classification experiments).
    """
    s = jnp.asarray(spikes)
    if s.ndim != 3:
        raise ValueError(f"spikes must be [batch, time, neurons], got shape {s.shape}")
    c = jnp.sum(s, axis=1).mean(axis=-1)
    return strength * jnp.mean(jax.nn.relu(c - bound) ** 2)


@dataclass(frozen=True)
class TrainConfig:
    """Loop hyperparameters; ``batch_size`` larger than the data means full batch."""

    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self):
        _validate.positive_int(self.epochs, "epochs")
        _validate.positive_int(self.batch_size, "batch_size")
        _validate.positive_scalar(self.learning_rate, "learning_rate")
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r}; valid names: {', '.join(OPTIMIZER_NAMES)}"
            )
        _validate.seed(self.seed)


class TrainResult(NamedTuple):
    params: object
    history: list  # one dict of metrics per epoch


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
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    run_info: dict | None = None,
    save_every: int | None = None,
) -> TrainResult:
    """Train ``params`` on ``data`` = (x [B, ...], y [B, ...]) for ``cfg.epochs`` epochs.

    ``loss_fn(params, key, x_batch, y_batch) -> (loss, aux)`` with aux a dict of scalars
    (averaged per epoch). ``evaluate(params, key) -> dict`` of extra metrics, run after each
    epoch. With ``out_dir``: metrics.jsonl / metrics.csv rewritten atomically each epoch and
    checkpoint.npz (params, optimiser state, history); ``resume=True`` continues from it
    (and refuses when there is none). A folder that already holds a run is refused unless
    ``resume`` or ``force`` (start over, replacing its files) is given.
    ``run_info`` (JSON-able dict: task, method, sizes) is stored with the checkpoint and
    must match on resume, as must ``cfg`` apart from ``epochs``. All of this is checked
    before the first step. ``save_every`` (a positive int K, needs ``out_dir``) also keeps
    the params of epoch 0 (the initialisation), of every K-th epoch and of the last epoch in
    ``out_dir``/checkpoints/epoch_XXXX.npz (:func:`epoch_checkpoints`, :func:`load_epoch_params`;
    written atomically, before the run's checkpoint, so a resumed run rewrites the same files).
    Starting over with ``force`` removes the replaced run's files (checkpoint, metrics,
    summary, variability rasters, epoch files) before the first step. ``resume`` refuses a
    different ``save_every`` than the run was started with, and a checkpoint holding
    non-finite numbers. While it runs, ``out_dir`` is locked against other processes
    (:func:`analysis.runtime.folder_lock`; ValueError naming the other process's pid);
    temporary files of writes killed midway are removed at the start.
    Training stops with a ValueError at the first epoch whose mean loss or updated params
    are not finite (nothing of that epoch is saved).
    Returns the trained params and the per-epoch metric history.
    """
    _check_fit_args(loss_fn, data, cfg, evaluate)
    save_every = check_save_every(save_every, out_dir)
    if out_dir is not None or resume:
        out_dir = check_run_folder(out_dir, resume=resume, force=force)
    lock = folder_lock(out_dir) if out_dir is not None else contextlib.nullcontext()
    with lock:
        return _fit(
            loss_fn, params, data, cfg, evaluate, out_dir, resume, force, progress, run_info, save_every
        )


def _fit(loss_fn, params, data, cfg, evaluate, out_dir, resume, force, progress, run_info, save_every):
    from tqdm import tqdm

    run_id = uuid.uuid4().hex
    if out_dir is not None:
        prepare_run_folder(out_dir, resume=resume, force=force, save_every=save_every)
    if resume:
        run_id = check_resumable(out_dir, cfg, run_info).get("run_id")
    opt_state = optimizer(cfg.optimizer, cfg.learning_rate).init(params)
    history: list[dict]
    history, start = [], 0
    if resume and out_dir is not None:  # check_run_folder refused resume without out_dir
        params, opt_state, history = load_checkpoint(out_dir, params, opt_state, cfg, run_info)
        start = len(history)
    record = {"run": run_info, "run_id": run_id, "save_every": save_every}
    if save_every and start == 0:
        _save_epoch(out_dir, 0, params, record)
    step, root = _step_fn(loss_fn, cfg.optimizer, cfg.learning_rate), jax.random.key(cfg.seed)
    bar = tqdm(
        range(start, cfg.epochs),
        desc="epochs",
        unit="epoch",
        disable=not progress,
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


def check_save_every(save_every: Any, out_dir: Any) -> int | None:
    """``save_every`` as an int (None: no epoch checkpoints); ValueError when it is not a
    positive int, when there is no ``out_dir`` to keep the checkpoints in, or when
    ``out_dir``/checkpoints is a file."""
    if save_every is None:
        return None
    save_every = _validate.positive_int(save_every, "save_every")
    if out_dir is None:
        raise ValueError("save_every needs out_dir, the run folder that keeps the checkpoints")
    folder = Path(out_dir) / EPOCH_CHECKPOINTS
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"{folder} is a file, not a folder; save_every (--save-every) keeps the epoch params "
            f"there: move the file away or choose another run folder"
        )
    return save_every


def prepare_run_folder(out_dir, *, resume: bool = False, force: bool = False, save_every: Any = _ANY) -> Path:
    """Make ``out_dir`` ready for a run, to be called while holding its lock
    (:func:`analysis.runtime.folder_lock`): check it (:func:`check_run_folder`), remove the
    temporary files of atomic writes killed midway, and with ``force`` the replaced run's
    files (:data:`RUN_FILES`, :data:`VARIABILITY`, the epoch files)."""
    out = check_run_folder(out_dir, resume=resume, force=force, save_every=save_every)
    remove_atomic_litter(out, (*RUN_FILES, VARIABILITY))
    remove_atomic_litter(out / EPOCH_CHECKPOINTS, ("epoch_*.npz",))
    if force:
        for name in (*RUN_FILES, VARIABILITY):
            path = out / name
            if path.is_file() or path.is_symlink():
                path.unlink()
        _remove_epoch_checkpoints(out)
    return out


def _npz_bytes(arrays: dict, meta: dict) -> bytes:
    arrays = dict(arrays, meta=np.frombuffer(json.dumps(to_jsonable(meta)).encode(), dtype=np.uint8))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _save_epoch(out_dir, epoch: int, params, record: dict) -> None:
    """params of ``epoch`` with the run record: run_info, run_id (one per run, kept on
    resume) and save_every, so that files of different runs can be told apart."""
    arrays: dict = {}
    _leaves_npz("p", params, arrays)
    folder = Path(out_dir) / EPOCH_CHECKPOINTS
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"epoch": epoch, **record, "run": record.get("run") or {}}
    atomic_write_bytes(folder / f"epoch_{epoch:04d}.npz", _npz_bytes(arrays, meta))


def _remove_epoch_checkpoints(out_dir) -> None:
    for path, _ in _epoch_files(out_dir):
        path.unlink()


def _epoch_files(out_dir) -> list[tuple[Path, int]]:
    folder = Path(out_dir) / EPOCH_CHECKPOINTS
    if not folder.is_dir():
        return []
    out = []
    for p in folder.glob("epoch_*.npz"):
        tail = p.stem[len("epoch_") :]
        if tail.isdigit():
            out.append((p, int(tail)))
    return sorted(out, key=lambda t: t[1])


def epoch_checkpoints(out_dir: str | os.PathLike) -> dict[int, Path]:
    """{epoch: path} of the params kept by ``fit(..., save_every=K)`` in ``out_dir``, by epoch."""
    return {epoch: path for path, epoch in _epoch_files(out_dir)}


def load_epoch_params(path: str | os.PathLike, template: Any) -> tuple[Any, dict]:
    """(params, meta) of an epoch checkpoint, with ``template`` (e.g. the initial params) as
    the structure (None: only the meta, params None); ValueError naming the file when it is
    damaged or does not match."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, AttributeError) as exc:
        raise ValueError(f"epoch checkpoint {path} is damaged ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"epoch checkpoint {path} is damaged (its meta is not a JSON object)")
    if template is None:
        return None, meta
    try:
        return _restore("p", template, arrays), meta
    except ValueError as exc:
        raise ValueError(f"epoch checkpoint {path} does not match the network: {exc}") from None


def _leaves_npz(prefix, tree, store):
    for i, leaf in enumerate(jax.tree.leaves(tree)):
        store[f"{prefix}{i}"] = np.asarray(leaf)


def _save(out_dir, params, opt_state, history, cfg, record: dict) -> None:
    out = Path(out_dir)
    arrays: dict = {}
    _leaves_npz("p", params, arrays)
    _leaves_npz("o", opt_state, arrays)
    meta = {
        "config": asdict(cfg),
        "run": to_jsonable(record.get("run") or {}),
        "run_id": record.get("run_id"),
        "save_every": record.get("save_every"),
        "history": history,
    }
    atomic_write_bytes(out / "checkpoint.npz", _npz_bytes(arrays, meta))
    lines = "".join(json.dumps(to_jsonable(r)) + "\n" for r in history)
    atomic_write_bytes(out / "metrics.jsonl", lines.encode())
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(history[-1]), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(history)
    atomic_write_bytes(out / "metrics.csv", text.getvalue().encode())


def _restore(prefix, template, z):
    leaves, treedef = jax.tree.flatten(template)
    if f"{prefix}{len(leaves)}" in z or any(f"{prefix}{i}" not in z for i in range(len(leaves))):
        raise ValueError("checkpoint does not match the model/optimiser structure")
    new = [jnp.asarray(z[f"{prefix}{i}"], dtype=jnp.asarray(l).dtype) for i, l in enumerate(leaves)]
    for a, b in zip(new, leaves, strict=True):
        _validate.same_shape(a, b, "checkpointed array", "model array")
    return jax.tree.unflatten(treedef, new)


def _damaged(path: Path, why: str) -> ValueError:
    return ValueError(
        f"checkpoint {path} is damaged ({why}); delete it and start over with --force "
        f"(force=True), or restore the file from a copy"
    )


def read_checkpoint(out_dir) -> tuple[dict, dict]:
    """(meta, arrays) of ``out_dir``/checkpoint.npz; a missing file raises FileNotFoundError,
    a damaged one (empty, truncated, not an npz, no readable meta) a ValueError naming it."""
    path = Path(out_dir) / CHECKPOINT
    if path.is_dir():
        raise ValueError(f"checkpoint {path} is a folder, not a file; remove it or choose another run folder")
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint {path} to resume from; run without --resume (resume=False) to start a new run"
        )
    if path.stat().st_size == 0:
        raise _damaged(path, "empty file")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":  # every .npz is a zip archive
        what = "a single .npy array" if magic.startswith(b"\x93NUM") else "unrecognised bytes"
        raise _damaged(path, f"not an .npz (zip) archive: {what}")
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise _damaged(path, "a single .npy array, not an .npz archive")
        with z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        if str(exc).startswith("checkpoint "):
            raise
        why = "truncated or corrupt zip archive" if isinstance(exc, (zipfile.BadZipFile, EOFError)) else ""
        raise _damaged(path, f"{why + ': ' if why else ''}{type(exc).__name__}: {exc}") from None
    if "meta" not in arrays:
        raise _damaged(path, "no 'meta' entry; not written by sgtheory")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(path, f"meta is not readable JSON: {exc}") from None
    if not isinstance(meta, dict) or not {"config", "history"} <= set(meta):
        raise _damaged(path, "meta lacks the keys 'config' and 'history'")
    return meta, arrays


def _check_finite_checkpoint(path: Path, arrays: dict) -> None:
    bad = [
        k
        for k, a in arrays.items()
        if k[:1] in "po"
        and k[1:].isdigit()
        and np.issubdtype(a.dtype, np.inexact)
        and not np.isfinite(a).all()
    ]
    if bad:
        what = "params" if any(k.startswith("p") for k in bad) else "optimiser state"
        raise ValueError(
            f"checkpoint {path} holds non-finite {what} (NaN or inf; the run diverged); start over "
            f"with --force (force=True) and a smaller learning rate"
        )


def check_run_folder(out_dir, *, resume: bool = False, force: bool = False, save_every: Any = _ANY) -> Path:
    """Refuse, before anything is computed, a run folder that cannot take this run:
    ``out_dir`` not a writable folder; ``resume`` without a checkpoint there or without
    ``out_dir``, from a checkpoint holding NaN or inf, or (when ``save_every`` is given,
    None included) with another ``save_every`` than the run was started with; a folder
    holding a previous run (:data:`RUN_FILES`) without ``resume`` or ``force``; ``resume``
    together with ``force``."""
    if resume and force:
        raise ValueError("resume and force exclude each other: resume continues a run, force replaces it")
    if out_dir is None:
        raise ValueError("resume=True needs out_dir, the folder holding the checkpoint")
    out = check_output_dir(out_dir, "out_dir")
    if resume:
        meta, arrays = read_checkpoint(out)
        _check_finite_checkpoint(out / CHECKPOINT, arrays)
        if save_every is not _ANY and "save_every" in meta and meta["save_every"] != save_every:
            have = meta["save_every"]
            how = f"--save-every {have}" if have is not None else "no --save-every"
            raise ValueError(
                f"run in {out} was started with save_every={have}, cannot resume it with "
                f"save_every={save_every}: the kept epochs would not follow one schedule; resume "
                f"with {how}"
            )
        return out
    present = [f for f in RUN_FILES if (out / f).exists()]
    if present and not force:
        raise ValueError(
            f"run folder {out} already holds a run ({', '.join(present)}); continue it with "
            f"--resume (resume=True) or start over with --force (force=True)"
        )
    return out


def check_resumable(out_dir, cfg: TrainConfig, run_info: dict | None = None) -> dict:
    """Meta of the checkpoint in ``out_dir`` after checking it was written by a run with the
    same config (apart from ``epochs``) and ``run_info``; ValueError otherwise."""
    meta, _ = read_checkpoint(out_dir)
    want = {k: v for k, v in asdict(cfg).items() if k != "epochs"}
    have = {k: v for k, v in dict(meta["config"]).items() if k != "epochs"}
    if want != have:
        raise ValueError(f"checkpoint in {out_dir} was written with config {have}, cannot resume with {want}")
    drop = lambda d: {k: v for k, v in dict(d).items() if k != "epochs"}
    if drop(meta.get("run") or {}) != drop(to_jsonable(run_info or {})):
        raise ValueError(
            f"checkpoint in {out_dir} belongs to run {meta.get('run')}, cannot resume run {run_info}"
        )
    return meta


def load_checkpoint(
    out_dir: str | os.PathLike, params: Any, opt_state: Any, cfg: TrainConfig, run_info: dict | None = None
) -> tuple[Any, Any, list[dict]]:
    """(params, opt_state, history) from ``out_dir``/checkpoint.npz, using the given
    params / opt_state as structure templates. A missing checkpoint raises
    FileNotFoundError; a damaged one, a different config (other than the number of epochs)
    or ``run_info``, arrays of other shapes or holding NaN / inf raise ValueError."""
    meta = check_resumable(out_dir, cfg, run_info)
    _, z = read_checkpoint(out_dir)
    _check_finite_checkpoint(Path(out_dir) / CHECKPOINT, z)
    history = [{k: _from_json(v) for k, v in row.items()} for row in meta["history"]]
    return _restore("p", params, z), _restore("o", opt_state, z), history


def _check_fit_args(loss_fn, data, cfg, evaluate) -> None:
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {loss_fn!r}")
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be callable or None, got {evaluate!r}")
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError("data must be a pair (x, y) of arrays with the samples on axis 0")
    nx, ny = (len(a) if hasattr(a, "__len__") else None for a in data)
    if nx is None or ny is None or nx != ny:
        raise ValueError(f"x and y must have the same number of samples, got {nx} and {ny}")
    if nx == 0:
        raise ValueError("data holds no samples")


def _from_json(v):
    """Undo :func:`analysis.runtime.to_jsonable` for non-finite floats ("nan", "inf", "-inf")."""
    return float(v) if v in ("nan", "inf", "-inf") else v
