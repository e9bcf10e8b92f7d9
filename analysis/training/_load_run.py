"""A trained run read back from its folder: the network (:class:`analysis.snn.SNNConfig`), the
trained params and the training method, ready for :func:`analysis.snn.simulate`.

Example
-------
>>> from analysis.training import load_run
>>> load_run("no/such/run")
Traceback (most recent call last):
...
ValueError: run folder no/such/run does not exist
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from analysis.snn import Method, SNNConfig
from analysis.snn._network import param_shapes
from analysis.training._checkpoints import (
    CHECKPOINT,
    EPOCH_CHECKPOINTS,
    PARAMS,
    _check_finite_checkpoint,
    _from_json,
    epoch_checkpoints,
    leaf_names,
    read_checkpoint,
    read_epoch_file,
    stored_arrays,
)
from analysis.training._classifier_network import ClassifierRun, classifier_method, classifier_network
from analysis.training._spike_train_run import SpikeTrainRun, spike_train_network
from analysis.training._trials import sigmoid_method


class RunLoad(NamedTuple):
    """What :func:`load_run` returns.

    config : the network (:class:`analysis.snn.SNNConfig`); params : its trained params (the
    stored arrays, dtype as trained: float32); method : the :class:`analysis.snn.Method` it
    was trained with; run_settings : the run's :class:`SpikeTrainRun` or
    :class:`ClassifierRun`; history : the metric rows of epochs 1..``epoch``; epoch : the
    epoch whose params these are (0: the initialisation).
    """

    config: SNNConfig
    params: dict
    method: Method
    run_settings: SpikeTrainRun | ClassifierRun
    history: list
    epoch: int


def _fields(cls, record: dict) -> dict:
    names = {f.name for f in fields(cls)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in names}


def _classifier_sizes(record: dict, arrays: dict, crun: ClassifierRun, where: Path) -> tuple[int, int]:
    """(n_in, n_classes): as recorded (format 2), else read off a dense network's weights."""
    net = record.get("network")
    if isinstance(net, dict) and {"n_in", "n_classes"} <= set(net):
        return int(net["n_in"]), int(net["n_classes"])
    if crun.connectivity != "dense":
        raise ValueError(
            f"run in {where} predates recorded network sizes and is a {crun.connectivity} network, "
            f"whose input size its weights do not determine; train it again to load it"
        )
    shapes = param_shapes(classifier_network(crun, 1, 1))
    template = jax.tree.map(lambda s: 0, shapes, is_leaf=lambda v: isinstance(v, tuple))
    w = dict(zip(leaf_names(PARAMS, template), stored_arrays(PARAMS, template, arrays), strict=True))
    first = w[f"{PARAMS}/hidden/0/w" if crun.hidden else f"{PARAMS}/readout/w"]  # [n_in, n_1]
    return int(first.shape[0]), int(w[f"{PARAMS}/readout/w"].shape[-1])


def network_of_run(record: dict, arrays: dict, where: Path) -> tuple[SNNConfig, Method, Any]:
    """(network, training method, run settings) of a run trained by
    :func:`train_spike_train` or :func:`train_classifier`, from its record and stored params;
    ValueError naming ``where`` for a run they did not train."""
    task, name = record.get("task"), str(record.get("method"))
    try:
        if task == "spike-train":
            run = SpikeTrainRun(**_fields(SpikeTrainRun, record))
            return spike_train_network(run), sigmoid_method(name, run.hidden_beta, run.output_beta), run
        if {"hidden", "reg_kind", "escape_noise"} <= set(record):
            crun = ClassifierRun(**_fields(ClassifierRun, record))
            n_in, n_classes = _classifier_sizes(record, arrays, crun, where)
            return classifier_network(crun, n_in, n_classes), classifier_method(name, crun), crun
    except (TypeError, ValueError) as exc:
        if str(exc).startswith("run in "):
            raise
        raise ValueError(f"run record in {where} is not readable ({exc})") from None
    raise ValueError(
        f"{where} holds a run of task {task!r} that load_run cannot rebuild: only spike-train and "
        f"classification runs (train_spike_train, train_classifier, sgtheory train) are"
    )


def _params(cfg: SNNConfig, arrays: dict, where: Path) -> dict:
    """The stored params in the tree of ``cfg``'s network, shapes checked, dtypes as stored."""
    shapes = param_shapes(cfg)
    is_shape = lambda v: isinstance(v, tuple)
    template = jax.tree.map(lambda s: np.zeros((0,)), shapes, is_leaf=is_shape)
    try:
        stored = stored_arrays(PARAMS, template, arrays)
    except ValueError as exc:
        raise ValueError(f"{where} does not match the run's network: {exc}") from None
    want = jax.tree.leaves(shapes, is_leaf=is_shape)
    for a, s in zip(stored, want, strict=True):
        if tuple(a.shape) != tuple(s):
            raise ValueError(f"{where} does not match the run's network: an array {a.shape}, not {s}")
    treedef = jax.tree.structure(template)
    return jax.tree.unflatten(treedef, [jax.numpy.asarray(a) for a in stored])


def _checked_folder(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a run folder path (str or os.PathLike), got {type(path).__name__}")
    folder = Path(path)
    if not folder.exists():
        raise ValueError(f"run folder {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"run folder {folder} is a file, not a folder")
    return folder


def _checkpoint(folder: Path) -> tuple[dict, dict]:
    try:
        meta, arrays = read_checkpoint(folder)
    except FileNotFoundError:
        raise ValueError(
            f"run folder {folder} holds no {CHECKPOINT}: not a run trained with a run folder "
            f"(sgtheory train, or a RunFolder), or it has not finished an epoch yet"
        ) from None
    _check_finite_checkpoint(folder / CHECKPOINT, arrays)
    return meta, arrays


def load_run(path: str | os.PathLike, *, epoch: int | None = None) -> RunLoad:
    """The network, trained params and method of the spike-train or classification run kept in
    the folder ``path`` (``sgtheory train``, :func:`run_experiment`, :func:`train_spike_train`
    or :func:`train_classifier` with a :class:`RunFolder`), as a :class:`RunLoad`, ready for
    ``analysis.snn.simulate(r.params, x, r.config, r.method, key=key)``.

    ``epoch``: None reads the params of the last epoch trained (checkpoint.npz); an int those
    kept in ``checkpoints/epoch_XXXX.npz`` (runs trained with ``save_every``; 0 = the
    initialisation). The params are the stored arrays: a run loaded back simulates bit for
    bit as the trained params in memory. Raises ValueError (one line naming the folder or
    file) for a missing folder, one without checkpoint, a damaged checkpoint or one holding
    NaN / inf, an epoch not kept, or a run of another kind (a bare :func:`fit`).
    """
    folder = _checked_folder(path)
    if epoch is None:
        meta, arrays = _checkpoint(folder)
        where, last = folder / CHECKPOINT, len(meta["history"])
    else:
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer or None, got {epoch!r}")
        files = epoch_checkpoints(folder)
        if epoch not in files:
            kept = ", ".join(map(str, sorted(files))) or "none (train with --save-every K)"
            raise ValueError(
                f"run folder {folder} keeps no params of epoch {epoch} in {EPOCH_CHECKPOINTS}/; kept: {kept}"
            )
        where, last = files[epoch], epoch
        meta, arrays = read_epoch_file(where)
        _check_finite_checkpoint(where, arrays)
    record = dict(meta.get("run") or {})
    cfg, method, settings = network_of_run(record, arrays, where)
    params = _params(cfg, arrays, where)
    rows_meta = meta if epoch is None else _checkpoint(folder)[0]
    if rows_meta.get("run_id") != meta.get("run_id"):
        raise ValueError(
            f"{where} belongs to another run than {folder / CHECKPOINT} (run_id {meta.get('run_id')} "
            f"vs {rows_meta.get('run_id')}); train the run again with --force"
        )
    history = [{k: _from_json(v) for k, v in row.items()} for row in rows_meta["history"][:last]]
    return RunLoad(cfg, params, method, settings, history, last)
