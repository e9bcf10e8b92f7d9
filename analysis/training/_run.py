"""One experiment by name, as ``sgtheory train`` runs it: task, method and profile checked,
the run folder checked, the network trained, and ``summary.json`` written.

Every input is checked before anything is computed (names, numbers, the run folder, a
checkpoint to resume from), so that a bad command fails at once and nothing is lost.

Example
-------
>>> from analysis.training import run_experiment
>>> run_experiment("mnist", "stochastic")
Traceback (most recent call last):
...
ValueError: unknown task 'mnist'; valid: spike-train, randman, shd
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np

from analysis import _validate
from analysis.runtime import write_json
from analysis.runtime._io import atomic_write_bytes
from analysis.runtime._lock import folder_lock
from analysis.snn import METHOD_NAMES
from analysis.training import _experiments as exp
from analysis.training._fit import (
    OPTIMIZER_NAMES,
    VARIABILITY,
    check_run_folder,
    check_save_every,
    prepare_run_folder,
)

TASKS = ("spike-train", "randman", "shd")
PROFILES = ("quick", "full", "paper")
#: repeats of one held-out sample for the trial-to-trial variability of a trained classifier
N_VARIABILITY_TRIALS = 400


@dataclass(frozen=True)
class ExperimentResult:
    """What :func:`run_experiment` returns: the trained params, the per-epoch history, the
    last row (``final``) and the files written (``summary_path`` None without out_dir)."""

    task: str
    method: str
    profile: str
    seed: int
    params: object
    history: list
    out_dir: Path | None
    summary_path: Path | None
    test: dict | None = None
    variability: dict | None = None

    @property
    def final(self) -> dict:
        return self.history[-1]


def default_run_folder(task: str, method: str, seed: int) -> Path:
    """``out/train/<task>-<method>-seed<seed>``, the command line's default run folder."""
    return Path("out/train") / f"{task}-{method}-seed{seed}"


def _check(task, method, profile, epochs, learning_rate, optimizer, seed, image, shd_path) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; valid: {', '.join(TASKS)}")
    if method not in METHOD_NAMES:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHOD_NAMES)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
    if epochs is not None:
        _validate.positive_int(epochs, "epochs")
    if learning_rate is not None:
        _validate.positive_scalar(learning_rate, "learning_rate")
    if optimizer is not None and optimizer not in OPTIMIZER_NAMES:
        raise ValueError(f"unknown optimizer {optimizer!r}; valid names: {', '.join(OPTIMIZER_NAMES)}")
    _validate.seed(seed)
    if image is not None and task != "spike-train":
        raise ValueError("image is used by the spike-train task only")
    if shd_path is not None and task != "shd":
        raise ValueError("shd_path is used by the shd task only")


def _check_data(task, image, shd_path) -> None:
    """The data files exist (FileNotFoundError naming them), before anything is built."""
    if task == "shd":  # each file found, a readable HDF5 file, with the SHD datasets
        from analysis.training.tasks._shd import _check_layout, _open, shd_file

        for split in ("train", "test"):
            file = shd_file("data/shd" if shd_path is None else shd_path, split)
            with _open(file) as fh:
                _check_layout(fh, file)
    elif image is not None and not Path(image).is_file():
        raise FileNotFoundError(f"image {str(image)!r} does not exist or is not a file")


def check_experiment(
    task: str,
    method: str = "stochastic",
    profile: str = "quick",
    *,
    epochs: int | None = None,
    learning_rate: float | None = None,
    optimizer: str | None = None,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    force: bool = False,
    image: str | os.PathLike | None = None,
    shd_path: str | os.PathLike | None = None,
    save_every: int | None = None,
) -> Path | None:
    """Every check :func:`run_experiment` makes before computing (arguments, data files, run
    folder, checkpoint to resume from), without computing or writing anything; returns the
    run folder (None without ``out_dir``). For callers that do work of their own first (the
    command line prints memory estimates)."""
    _check(task, method, profile, epochs, learning_rate, optimizer, seed, image, shd_path)
    check_save_every(save_every, out_dir)
    _check_data(task, image, shd_path)
    if out_dir is not None or resume:
        return check_run_folder(out_dir, resume=resume, force=force, save_every=save_every)
    return None


def run_experiment(
    task: str,
    method: str = "stochastic",
    profile: str = "quick",
    *,
    epochs: int | None = None,
    learning_rate: float | None = None,
    optimizer: str | None = None,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    force: bool = False,
    image: str | os.PathLike | None = None,
    shd_path: str | os.PathLike | None = None,
    progress: bool = True,
    save_every: int | None = None,
) -> ExperimentResult:
    """Train ``task`` (:data:`TASKS`) with ``method`` under the ``profile`` preset
    (:func:`spike_train_preset`, :func:`randman_preset`, :func:`shd_preset`); ``epochs``,
    ``learning_rate``, ``optimizer`` override the preset.

    With ``out_dir``: metrics, checkpoint (see :func:`fit`) and ``summary.json`` (the last
    history row, with the provenance ``meta`` block) are written there; ``resume``
    continues the run in it, ``force`` replaces a run already there. ``image``: the
    spike-train target image; ``shd_path``: folder or file of the SHD data (default
    ``data/shd``). ``save_every`` (K, needs ``out_dir``): also keep the params of epoch 0,
    every K-th and the last epoch in ``out_dir``/checkpoints/epoch_XXXX.npz (for
    :func:`run_alignment`). Raises ValueError / TypeError / FileNotFoundError before computing
    for any bad input (:func:`check_experiment`). While it runs, ``out_dir`` is locked against
    other processes (a second writer is refused with a ValueError naming its pid); ``force``
    removes the replaced run's files, ``summary.json`` and ``variability.npz`` included,
    before training.
    """
    out_dir = check_experiment(
        task,
        method,
        profile,
        epochs=epochs,
        learning_rate=learning_rate,
        optimizer=optimizer,
        seed=seed,
        out_dir=out_dir,
        resume=resume,
        force=force,
        image=image,
        shd_path=shd_path,
        save_every=save_every,
    )
    with folder_lock(out_dir) if out_dir is not None else contextlib.nullcontext():
        if out_dir is not None:
            prepare_run_folder(out_dir, resume=resume, force=force, save_every=save_every)
        return _train_and_write(
            task,
            method,
            profile,
            epochs,
            learning_rate,
            optimizer,
            seed,
            out_dir,
            resume,
            force,
            image,
            shd_path,
            progress,
            save_every,
        )


def _train_and_write(
    task,
    method,
    profile,
    epochs,
    learning_rate,
    optimizer,
    seed,
    out_dir,
    resume,
    force,
    image,
    shd_path,
    progress,
    save_every,
) -> ExperimentResult:
    over: dict[str, Any] = {"seed": seed}
    for key, val in (("epochs", epochs), ("learning_rate", learning_rate), ("optimizer", optimizer)):
        if val is not None:
            over[key] = val
    kw: dict[str, Any] = dict(out_dir=out_dir, resume=resume, force=force, progress=progress)
    kw["save_every"] = save_every
    test_metrics = variability = None
    if task == "spike-train":
        run = exp.spike_train_preset(profile, **over, **({"image": str(image)} if image else {}))
        res = exp.train_spike_train(method, run, **kw)
    else:
        train, valid, test, run, n_classes = _classification_data(task, profile, over, shd_path)
        res = exp.train_classifier(method, train, valid, run, task_name=task, n_classes=n_classes, **kw)
        if test is not None:
            test_metrics = exp.evaluate_classifier(res.params, test, run, n_classes, seed=seed)
        held_out = test if test is not None else valid
        variability = exp.trial_variability(
            res.params,
            held_out[0][0],
            run,
            n_classes,
            method,
            jax.random.fold_in(jax.random.key(seed), 400),
            n_trials=N_VARIABILITY_TRIALS,
            raster_layer=min(1, len(run.hidden) - 1),
        )
    summary = None
    if out_dir is not None:
        final = {"task": task, "method": method, "profile": profile, "final": res.history[-1]}
        if test_metrics is not None:
            final["test"] = test_metrics
        if variability is not None:
            final["variability"] = {k: v for k, v in variability.items() if k != "rasters"}
            buf = io.BytesIO()
            np.savez_compressed(buf, rasters=np.asarray(variability["rasters"]))
            atomic_write_bytes(Path(out_dir) / VARIABILITY, buf.getvalue())
        summary = write_json(Path(out_dir) / "summary.json", final, seeds=[seed], profile=profile)
    return ExperimentResult(
        task, method, profile, seed, res.params, res.history, out_dir, summary, test_metrics, variability
    )


def _classification_data(task, profile, over, shd_path):
    """(train, valid, test or None, run, n_classes). randman: a random 0.8 / 0.1 / 0.1 split
    of one data set (every profile). SHD ``paper``: a random 90 % / 10 % train /
    validation split of the training file, the test file for testing; other SHD profiles
    validate on (a part of) the test file, without a separate test set."""
    import jax
    import numpy as np

    from analysis.training.tasks import N_CLASSES, load_shd, randman_splits

    key = jax.random.key(over["seed"])
    if task == "randman":
        data_cfg, run = exp.randman_preset(profile, **over)
        train, valid, test = randman_splits(key, data_cfg, (0.8, 0.1, 0.1))
        return train, valid, test, run, data_cfg.n_classes
    n_tr, n_te, run = exp.shd_preset(profile, **over)
    path = "data/shd" if shd_path is None else shd_path
    train = load_shd(path, "train", max_samples=n_tr, dtype=np.uint8)
    test = load_shd(path, "test", max_samples=n_te, dtype=np.uint8)
    if profile != "paper":
        return train, test, None, run, N_CLASSES
    perm = np.asarray(jax.random.permutation(jax.random.fold_in(key, 7), len(train[1])))
    cut = int(round(0.9 * len(perm)))
    split = lambda idx: (train[0][np.sort(idx)], train[1][np.sort(idx)])
    return split(perm[:cut]), split(perm[cut:]), test, run, N_CLASSES
