"""Training and evaluating the classifier of the paper's classification experiments
(Gygax & Zenke 2025, Fig. 7), every evaluation in BOTH modes (``det_*`` and ``stoch_*``
metrics: a stochastically trained network tested deterministically and vice versa)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, cast

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis import _validate
from analysis.snn import init_params, simulate
from analysis.snn._network import param_shapes
from analysis.training import _metrics as metrics
from analysis.training._classifier_network import (
    ClassifierRun,
    classifier_loss,
    classifier_method,
    classifier_network,
    n_classes_of,
)
from analysis.training._fit import fit
from analysis.training._losses import accuracy_max_over_time, max_over_time_cross_entropy
from analysis.training._run_folder import check_folder_before_build, with_run_info
from analysis.training._train_config import RunFolder, TrainResult
from analysis.training._trials import sigmoid_method


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


@dataclass(frozen=True, eq=False)
class ClassificationData:
    """Labelled data of a classification run, checked when made.

    train, valid : (x [B, T, n_in], labels [B]) with the same T and n_in and B >= 1; x may
    be uint8 (SHD: saves memory; batches are cast to float32), labels become int32.
    n_classes : number of classes (default: the largest label + 1); labels lie in
    [0, n_classes). task : the task's name, stored in the run's record.
    """

    train: tuple
    valid: tuple
    n_classes: int | None = None
    task: str = "classification"

    def __post_init__(self):
        pairs = [_pair(self.train, "train"), _pair(self.valid, "valid")]
        (x_tr, y_tr), (x_va, y_va) = pairs
        shapes_ok = x_tr.ndim == 3 and x_va.shape[1:] == x_tr.shape[1:] and y_tr.ndim == y_va.ndim == 1
        if not shapes_ok or len(y_tr) != len(x_tr) or len(y_va) != len(x_va):
            raise ValueError(
                f"train/valid inputs must be [B, T, N] with matching T, N and labels; "
                f"got {x_tr.shape}, {y_tr.shape}, {x_va.shape}"
            )
        if len(y_tr) == 0 or len(y_va) == 0:
            raise ValueError(
                f"train and valid need at least one sample each, got {len(y_tr)} and {len(y_va)}"
            )
        lo, hi = min(int(y_tr.min()), int(y_va.min())), max(int(y_tr.max()), int(y_va.max()))
        n = hi + 1 if self.n_classes is None else _validate.positive_int(self.n_classes, "n_classes")
        if lo < 0 or hi >= n:
            raise ValueError(f"labels must lie in [0, n_classes) = [0, {n}), got [{lo}, {hi}]")
        for name, value in (("train", pairs[0]), ("valid", pairs[1]), ("n_classes", n)):
            object.__setattr__(self, name, value)

    @property
    def n_inputs(self) -> int:
        return int(self.train[0].shape[2])


def _pair(data, name: str) -> tuple[jax.Array, jax.Array]:
    """(x, int32 labels) of a pair; inputs keep their dtype (uint8 saves memory)."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{name} must be a pair (x [B, T, N], labels [B])")
    return jnp.asarray(data[0]), jnp.asarray(data[1], jnp.int32)


def train_classifier(
    method_name: str,
    data: ClassificationData,
    run: ClassifierRun,
    folder: RunFolder | None = None,
    *,
    progress: bool | Callable[[dict], Any] = True,
    eval_chunk: int = 512,
) -> TrainResult:
    """Train on ``data.train``; evaluate on ``data.valid`` in both modes each epoch
    (``det_valid_acc``, ``stoch_valid_acc``, hidden rates), in chunks of ``eval_chunk``.
    ``train_acc`` is the accuracy on the training minibatches during the epoch, in the
    training mode (the usual running training accuracy). ``folder``: where the run is kept
    (:class:`RunFolder`; None: nothing is written; read back with :func:`load_run`).
    ``progress``: a bar (True), nothing (False) or ``progress(row)`` per epoch (:func:`fit`)."""
    method = classifier_method(method_name, run)
    if not isinstance(data, ClassificationData):
        raise TypeError(f"data must be a ClassificationData, got {type(data).__name__}")
    tcfg = run.train_config()
    n_train, n_valid = len(data.train[1]), len(data.valid[1])
    info = {"task": data.task, "method": method_name, "n_train": n_train, "n_valid": n_valid}
    network = {"n_in": data.n_inputs, "n_classes": data.n_classes}  # for load_run
    folder = with_run_info(folder, {**info, **asdict(run), "network": network})
    check_folder_before_build(folder, tcfg)
    cfg = classifier_network(run, data.n_inputs, cast(int, data.n_classes))  # an int once made
    key = jax.random.key(run.seed)
    sigma_u, fraction = run.sigma_u_for(method_name), run.recurrent_fraction
    params0 = init_params(
        key, cfg, nu=run.nu_in, sigma_u=sigma_u, recurrent_fraction=fraction, readout_scale=run.readout_scale
    )
    loss_fn = classifier_loss(cfg, method, run.reg_bound, run.reg_strength, run.reg_kind)
    x_va, y_va = data.valid
    evaluate = lambda params, key: _chunked_accuracies(params, x_va, y_va, cfg, key, eval_chunk)
    return fit(loss_fn, params0, data.train, tcfg, evaluate=evaluate, folder=folder, progress=progress)


def evaluate_classifier(
    key: jax.Array,
    params: Any,
    data: tuple[ArrayLike, ArrayLike],
    run: ClassifierRun,
    *,
    prefix: str = "test",
    chunk: int = 512,
) -> dict:
    """Accuracy, max-over-time cross-entropy and hidden rate of a trained classifier on
    ``data`` = (x [B, T, n_in], labels [B]) in BOTH modes: ``det_{prefix}_acc`` with the
    deterministic network, ``stoch_{prefix}_acc`` with the stochastic one (spikes from
    ``key``), whatever mode the network was trained in (Gygax & Zenke 2025, Fig. 7:
    test accuracy with the training activation and with the other one swapped in)."""
    _validate.prng_key(key)
    x, y = jnp.asarray(data[0]), jnp.asarray(data[1], jnp.int32)
    if x.ndim != 3 or len(y) != len(x) or len(y) == 0:
        raise ValueError(f"data must be (x [B, T, N], labels [B]) with B >= 1, got {x.shape}, {y.shape}")
    cfg = classifier_network(run, x.shape[2], n_classes_of(params))
    out = _chunked_accuracies(params, x, y, cfg, key, _validate.positive_int(chunk, "chunk"), prefix)
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
