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
  uninterrupted run bit for bit.

Training is float32: callers pass float32 parameters and data (the CLI leaves x64 off).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
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
from analysis.runtime import atomic_write_bytes, to_jsonable

__all__ = [
    "smorms3",
    "optimizer",
    "OPTIMIZER_NAMES",
    "max_over_time_cross_entropy",
    "accuracy_max_over_time",
    "upper_bound_regularizer",
    "TrainConfig",
    "TrainResult",
    "fit",
    "load_checkpoint",
]


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
            raise ValueError(f"unknown optimizer {self.optimizer!r}; valid: {OPTIMIZER_NAMES}")


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
    progress: bool = True,
    run_info: dict | None = None,
) -> TrainResult:
    """Train ``params`` on ``data`` = (x [B, ...], y [B, ...]) for ``cfg.epochs`` epochs.

    ``loss_fn(params, key, x_batch, y_batch) -> (loss, aux)`` with aux a dict of scalars
    (averaged per epoch). ``evaluate(params, key) -> dict`` of extra metrics, run after each
    epoch. With ``out_dir``: metrics.jsonl / metrics.csv rewritten atomically each epoch and
    checkpoint.npz (params, optimiser state, history); ``resume=True`` continues from it.
    ``run_info`` (JSON-able dict: task, method, sizes) is stored with the checkpoint and
    must match on resume, as must ``cfg`` apart from ``epochs``.
    Returns the trained params and the per-epoch metric history.
    """
    from tqdm import tqdm

    opt_state = optimizer(cfg.optimizer, cfg.learning_rate).init(params)
    history: list[dict]
    history, start = [], 0
    if resume and out_dir is not None and (Path(out_dir) / "checkpoint.npz").is_file():
        params, opt_state, history = load_checkpoint(out_dir, params, opt_state, cfg, run_info)
        start = len(history)
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
        if evaluate is not None:
            row.update({k: float(v) for k, v in evaluate(params, jax.random.fold_in(key, 2**30)).items()})
        history.append({"epoch": epoch + 1, **row})
        bar.set_postfix(loss=f"{row['loss']:.4g}")
        if out_dir is not None:
            _save(out_dir, params, opt_state, history, cfg, run_info)
    return TrainResult(params, history)


def _leaves_npz(prefix, tree, store):
    for i, leaf in enumerate(jax.tree.leaves(tree)):
        store[f"{prefix}{i}"] = np.asarray(leaf)


def _save(out_dir, params, opt_state, history, cfg, run_info=None) -> None:
    out = Path(out_dir)
    arrays: dict = {}
    _leaves_npz("p", params, arrays)
    _leaves_npz("o", opt_state, arrays)
    meta = {"config": asdict(cfg), "run": to_jsonable(run_info or {}), "history": history}
    arrays["meta"] = np.frombuffer(json.dumps(to_jsonable(meta)).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(out / "checkpoint.npz", buf.getvalue())
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


def load_checkpoint(
    out_dir: str | os.PathLike, params: Any, opt_state: Any, cfg: TrainConfig, run_info: dict | None = None
) -> tuple[Any, Any, list[dict]]:
    """(params, opt_state, history) from ``out_dir``/checkpoint.npz, using the given
    params / opt_state as structure templates; a different config (other than the number
    of epochs) or ``run_info`` raises ValueError."""
    with np.load(Path(out_dir) / "checkpoint.npz") as z:
        meta = json.loads(bytes(z["meta"]).decode())
        want = {k: v for k, v in asdict(cfg).items() if k != "epochs"}
        have = {k: v for k, v in meta["config"].items() if k != "epochs"}
        if want != have:
            raise ValueError(
                f"checkpoint in {out_dir} was written with config {have}, cannot resume with {want}"
            )
        drop = lambda d: {k: v for k, v in d.items() if k != "epochs"}
        if drop(meta.get("run", {})) != drop(to_jsonable(run_info or {})):
            raise ValueError(
                f"checkpoint in {out_dir} belongs to run {meta.get('run')}, cannot resume run {run_info}"
            )
        history = [{k: _from_json(v) for k, v in row.items()} for row in meta["history"]]
        return _restore("p", params, z), _restore("o", opt_state, z), history


def _from_json(v):
    """Undo :func:`analysis.runtime.to_jsonable` for non-finite floats ("nan", "inf", "-inf")."""
    return float(v) if v in ("nan", "inf", "-inf") else v
