"""The files of a run folder: the resumable checkpoint (params, optimiser state, history,
written atomically), the metrics and the params kept every ``save_every`` epochs; reading
them back with a one-line error naming a damaged or mismatched file.

File format (version :data:`FORMAT_VERSION` = 2)
-----------------------------------------------
``checkpoint.npz`` and ``checkpoints/epoch_XXXX.npz`` are uncompressed NumPy ``.npz``
archives (``np.load(path)`` reads them; no pickles). Their entries:

* ``params/<path>`` -- one array per parameter leaf, named by its path in the params tree,
  dict keys and list indices joined by ``/``: for the networks of :mod:`analysis.snn`
  ``params/hidden/<l>/w`` (input weights of hidden layer l: [n_in or n_{l-1}, n_l], conv1d
  [k, c_in, c_out]), ``params/hidden/<l>/v`` (recurrent weights, recurrent networks only:
  [n_l, n_l], conv1d [k_rec, c, c]) and ``params/readout/w`` ([n_last, n_out]); the dtype of
  training, float32.
* ``opt/<path>`` (checkpoint.npz only) -- the optimiser state, named likewise by its path
  (named-tuple fields by name): adam ``opt/0/count`` (int32 scalar, steps taken),
  ``opt/0/mu/<param path>`` and ``opt/0/nu/<param path>`` (float32, first and second moment
  estimates); smorms3 ``opt/mem/...``, ``opt/g/...``, ``opt/g2/...`` (float32); sgd none.
* ``meta`` -- uint8 bytes of a UTF-8 JSON object: ``format_version`` (2), ``run`` (the run's
  record: task, method and its settings; classifiers also ``network``: {"n_in", "n_classes"}),
  ``run_id`` (hex string, one per run, kept on resume), ``save_every`` (int or null);
  checkpoint.npz also ``config`` (the :class:`TrainConfig` as a dict) and ``history`` (one
  dict of metrics per epoch trained, non-finite floats as "nan" / "inf" / "-inf"); an epoch
  file also ``epoch`` (int, 0 = the initialisation).

Format 1 (files written before format 2, no ``format_version`` in meta) stored the same
leaves anonymously as ``p0, p1, ...`` and ``o0, o1, ...`` in ``jax.tree.leaves`` order; it
is still read (a resumed old run is written in format 2 from then on).
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate
from analysis.runtime._io import atomic_write_bytes, to_jsonable
from analysis.training._train_config import TrainConfig

RUN_FILES = ("checkpoint.npz", "metrics.jsonl", "metrics.csv", "summary.json")
CHECKPOINT = "checkpoint.npz"
#: the classifier's spike rasters of :func:`analysis.training.run_experiment`
VARIABILITY = "variability.npz"
#: folder of the params kept every ``save_every`` epochs: ``epoch_XXXX.npz``
EPOCH_CHECKPOINTS = "checkpoints"
#: version of the checkpoint files written (see the module docstring); files without one are 1
FORMAT_VERSION = 2
#: array name prefixes of the params and of the optimiser state; format 1's were "p" and "o"
PARAMS, OPT = "params", "opt"
_FORMAT1_PREFIX = {PARAMS: "p", OPT: "o"}


def _key_name(entry) -> str:
    """One step of a pytree path as text: a dict key, a list index or a named-tuple field."""
    for attr in ("key", "idx", "name"):
        if hasattr(entry, attr):
            return str(getattr(entry, attr))
    return str(entry)


def leaf_names(prefix: str, tree: Any) -> list[str]:
    """``prefix/<path>`` of every leaf of ``tree``, in ``jax.tree.leaves`` order (the path's
    dict keys, list indices and named-tuple fields joined by ``/``; a bare array: ``prefix``)."""
    paths = [path for path, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]
    return ["/".join([prefix, *(_key_name(e) for e in path)]) for path in paths]


def _npz_bytes(arrays: dict, meta: dict) -> bytes:
    meta = {"format_version": FORMAT_VERSION, **meta}
    arrays = dict(arrays, meta=np.frombuffer(json.dumps(to_jsonable(meta)).encode(), dtype=np.uint8))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _save_epoch(out_dir, epoch: int, params, record: dict) -> None:
    """params of ``epoch`` with the run record: run_info, run_id (one per run, kept on
    resume) and save_every, so that files of different runs can be told apart."""
    arrays: dict = {}
    _leaves_npz(PARAMS, params, arrays)
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
    meta, arrays = read_epoch_file(path)
    if template is None:
        return None, meta
    try:
        return _restore(PARAMS, template, arrays), meta
    except ValueError as exc:
        raise ValueError(f"epoch checkpoint {path} does not match the network: {exc}") from None


def read_epoch_file(path: str | os.PathLike) -> tuple[dict, dict]:
    """(meta, arrays) of an epoch checkpoint; ValueError naming the file when it is damaged."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, AttributeError) as exc:
        raise ValueError(f"epoch checkpoint {path} is damaged ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"epoch checkpoint {path} is damaged (its meta is not a JSON object)")
    return meta, arrays


def _leaves_npz(prefix: str, tree: Any, store: dict) -> None:
    """Every leaf of ``tree`` into ``store`` under its name ``prefix/<path>`` (:func:`leaf_names`)."""
    names = leaf_names(prefix, tree)
    if len(set(names)) != len(names):  # a dict key holding "/" could collide with a path
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"pytree leaves of {prefix} have clashing names {dup[:3]}; use keys without '/'")
    for name, leaf in zip(names, jax.tree.leaves(tree), strict=True):
        store[name] = np.asarray(leaf)


def _save(out_dir, params, opt_state, history, cfg, record: dict) -> None:
    out = Path(out_dir)
    arrays: dict = {}
    _leaves_npz(PARAMS, params, arrays)
    _leaves_npz(OPT, opt_state, arrays)
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


def _in_group(prefix: str, key: str) -> bool:
    return key == prefix or key.startswith(prefix + "/")


def _format1(prefix: str, key: str) -> bool:
    """Whether ``key`` is a format-1 (anonymous) array name of the group ``prefix``."""
    short = _FORMAT1_PREFIX[prefix]
    return key.startswith(short) and key[len(short) :].isdigit()


def stored_arrays(prefix: str, template: Any, z: dict) -> list:
    """The arrays of group ``prefix`` ("params" / "opt") of a checkpoint, in the leaf order of
    ``template`` (any pytree of that structure; leaves unused): by name (format 2) or by
    position (format 1); ValueError naming the missing or unexpected arrays otherwise."""
    names = leaf_names(prefix, template)
    if any(_in_group(prefix, k) for k in z):
        keys = names
        extra = sorted(k for k in z if _in_group(prefix, k) and k not in set(names))
    else:
        short = _FORMAT1_PREFIX[prefix]
        keys = [f"{short}{i}" for i in range(len(names))]
        extra = sorted((k for k in z if _format1(prefix, k) and k not in set(keys)), key=lambda k: int(k[1:]))
    missing = [n for n, k in zip(names, keys, strict=True) if k not in z]
    if missing or extra:
        what = "params" if prefix == PARAMS else "optimiser state"
        parts = ([f"missing {', '.join(missing[:3])}"] if missing else []) + (
            [f"unexpected {', '.join(extra[:3])}"] if extra else []
        )
        raise ValueError(
            f"checkpoint does not match the model/optimiser structure ({what}: {'; '.join(parts)})"
        )
    return [z[k] for k in keys]


def _restore(prefix, template, z):
    leaves, treedef = jax.tree.flatten(template)
    stored = stored_arrays(prefix, template, z)
    new = [jnp.asarray(a, dtype=jnp.asarray(l).dtype) for a, l in zip(stored, leaves, strict=True)]
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
    groups = {k: g for k in arrays for g in (PARAMS, OPT) if _in_group(g, k) or _format1(g, k)}
    bad = [
        k
        for k, a in arrays.items()
        if k in groups and np.issubdtype(a.dtype, np.inexact) and not np.isfinite(a).all()
    ]
    if bad:
        what = "params" if any(groups[k] == PARAMS for k in bad) else "optimiser state"
        raise ValueError(
            f"checkpoint {path} holds non-finite {what} (NaN or inf; the run diverged); start over "
            f"with --force (force=True) and a smaller learning rate"
        )


def check_resumable(out_dir, cfg: TrainConfig, run_info: dict | None = None) -> dict:
    """Meta of the checkpoint in ``out_dir`` after checking it was written by a run with the
    same config (apart from ``epochs``) and ``run_info``; ValueError otherwise."""
    meta, _ = read_checkpoint(out_dir)
    want = {k: v for k, v in asdict(cfg).items() if k != "epochs"}
    have = {k: v for k, v in dict(meta["config"]).items() if k != "epochs"}
    if want != have:
        raise ValueError(f"checkpoint in {out_dir} was written with config {have}, cannot resume with {want}")
    stored = dict(meta.get("run") or {})
    # a run may raise its epochs; format-1 runs did not record their network's sizes
    skip = {"epochs"} | ({"network"} if "network" not in stored else set())
    drop = lambda d: {k: v for k, v in dict(d).items() if k not in skip}
    if drop(stored) != drop(to_jsonable(run_info or {})):
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
    return _restore(PARAMS, params, z), _restore(OPT, opt_state, z), history


def _from_json(v):
    """Undo :func:`analysis.runtime._io.to_jsonable` for non-finite floats ("nan", "inf", "-inf")."""
    return float(v) if v in ("nan", "inf", "-inf") else v
