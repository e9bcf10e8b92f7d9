"""One experiment by name, as ``sgtheory train`` runs it: task, method and profile checked,
the run folder checked, the network trained, and ``summary.json`` written.

Every input is checked before anything is computed (names and numbers when the
:class:`RunConfig` is made; data files, the run folder and a checkpoint to resume from
before training), so that a bad command fails at once and nothing is lost.

Example
-------
>>> from analysis.training import RunConfig
>>> RunConfig("mnist", "stochastic")
Traceback (most recent call last):
...
ValueError: unknown task 'mnist'; valid: spike-train, randman, shd, classify
"""

from __future__ import annotations

import dataclasses
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jax
import numpy as np

from analysis import _validate
from analysis.runtime import write_json
from analysis.runtime._io import atomic_write_bytes
from analysis.runtime._lock import folder_lock
from analysis.snn import METHOD_NAMES
from analysis.training import _classifier, _presets, _spike_train_run, _variability
from analysis.training._checkpoints import VARIABILITY
from analysis.training._classifier import ClassificationData
from analysis.training._optimizers import OPTIMIZER_NAMES
from analysis.training._run_folder import check_run_folder, check_save_every, prepare_run_folder
from analysis.training._train_config import RunFolder

TASKS = ("spike-train", "randman", "shd", "classify")
PROFILES = ("quick", "full", "paper")
#: the least input rate (Hz) that the classify task's initialisation assumes (data with
#: fewer or no spikes)
MIN_NU_IN = 0.1
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


@dataclass(frozen=True)
class RunConfig:
    """One experiment: ``task`` (:data:`TASKS`) trained with ``method`` under the ``profile``
    preset (:func:`spike_train_preset`, :func:`randman_preset`, :func:`shd_preset`) from
    ``seed``; ``epochs``, ``learning_rate``, ``optimizer`` override the preset (None: the
    preset's). ``image``: the spike-train target image; ``shd_path``: folder or file of the
    SHD data (default ``data/shd``). ``classify`` (:func:`_presets.classify_preset`, profiles quick
    and full) trains on the user's ``data_path`` (an .npz or HDF5 file:
    :func:`analysis.training.tasks._labelled.load_labelled`) binned at ``dt`` seconds (None:
    :data:`CLASSIFY_DT`, 1 ms). Checked when made (ValueError naming the field)."""

    task: str
    method: str = "stochastic"
    profile: str = "quick"
    seed: int = 0
    epochs: int | None = None
    learning_rate: float | None = None
    optimizer: str | None = None
    image: str | os.PathLike | None = None
    shd_path: str | os.PathLike | None = None
    data_path: str | os.PathLike | None = None
    dt: float | None = None

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; valid: {', '.join(TASKS)}")
        if self.method not in METHOD_NAMES:
            raise ValueError(f"unknown method {self.method!r}; valid: {', '.join(METHOD_NAMES)}")
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; valid: {', '.join(PROFILES)}")
        if self.epochs is not None:
            _validate.positive_int(self.epochs, "epochs")
        if self.learning_rate is not None:
            _validate.positive_scalar(self.learning_rate, "learning_rate")
        if self.optimizer is not None and self.optimizer not in OPTIMIZER_NAMES:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r}; valid names: {', '.join(OPTIMIZER_NAMES)}"
            )
        _validate.seed(self.seed)
        if self.image is not None and self.task != "spike-train":
            raise ValueError("image is used by the spike-train task only")
        if self.shd_path is not None and self.task != "shd":
            raise ValueError("shd_path is used by the shd task only")
        if self.task != "classify":
            for name in ("data_path", "dt"):
                if getattr(self, name) is not None:
                    flag = "--data" if name == "data_path" else "--dt"
                    raise ValueError(f"{name} ({flag}) is used by the classify task only")
        else:
            if self.data_path is None:
                raise ValueError("the classify task needs data_path (sgtheory train classify --data FILE)")
            if self.profile == "paper":
                raise ValueError("the classify task has profiles quick and full (no paper profile)")
            if self.dt is not None:
                _validate.positive_scalar(self.dt, "dt")

    def default_folder(self) -> Path:
        """``out/train/<task>-<method>-seed<seed>``, the command line's default run folder."""
        return default_run_folder(self.task, self.method, self.seed)

    def overrides(self) -> dict[str, Any]:
        """The preset's fields this config sets: seed, and epochs / learning_rate / optimizer
        where given."""
        over: dict[str, Any] = {"seed": self.seed}
        for key in ("epochs", "learning_rate", "optimizer"):
            if getattr(self, key) is not None:
                over[key] = getattr(self, key)
        return over


def _check_data(config: RunConfig) -> None:
    """The data files exist (FileNotFoundError naming them), before anything is built."""
    if config.task == "shd":  # each file found, a readable HDF5 file, with the SHD datasets
        from analysis.training.tasks._shd import _check_layout, _open, shd_file

        for split in ("train", "test"):
            file = shd_file("data/shd" if config.shd_path is None else config.shd_path, split)
            with _open(file) as fh:
                _check_layout(fh, file)
    elif config.task == "classify":
        from analysis.training.tasks._labelled import load_labelled

        load_labelled(cast(str, config.data_path))  # every array read and checked
    elif config.image is not None and not Path(config.image).is_file():
        raise FileNotFoundError(f"image {str(config.image)!r} does not exist or is not a file")


def check_experiment(config: RunConfig, folder: RunFolder | None = None) -> Path | None:
    """Every check :func:`run_experiment` makes before computing (data files, run folder,
    checkpoint to resume from; the config checked itself when made), without computing or
    writing anything; returns the run folder (None without ``folder``). For callers that do
    work of their own first (the command line prints memory estimates)."""
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a RunConfig, got {type(config).__name__}")
    if folder is not None and not isinstance(folder, RunFolder):
        raise TypeError(f"folder must be a RunFolder or None, got {type(folder).__name__}")
    if folder is not None:
        check_save_every(folder.save_every, folder.out_dir)
    _check_data(config)
    if folder is None:
        return None
    return check_run_folder(
        folder.out_dir, resume=folder.resume, force=folder.force, save_every=folder.save_every
    )


def run_experiment(
    config: RunConfig, folder: RunFolder | None = None, *, progress: bool = True
) -> ExperimentResult:
    """Train the experiment of ``config`` (:class:`RunConfig`).

    With ``folder`` (:class:`RunFolder`): metrics, checkpoint (see :func:`fit`) and
    ``summary.json`` (the last history row, with the provenance ``meta`` block) are written
    to ``folder.out_dir``; ``folder.resume`` continues the run in it, ``folder.force``
    replaces a run already there; ``folder.save_every`` (K) also keeps the params of epoch
    0, every K-th and the last epoch in out_dir/checkpoints/epoch_XXXX.npz (for
    :func:`run_alignment`). Raises ValueError / TypeError / FileNotFoundError before
    computing for any bad input (:func:`check_experiment`). While it runs, ``out_dir`` is
    locked against other processes (a second writer is refused with a ValueError naming its
    pid); ``force`` removes the replaced run's files, ``summary.json`` and
    ``variability.npz`` included, before training.
    """
    out_dir = check_experiment(config, folder)
    if folder is None or out_dir is None:
        return _train_and_write(config, None, progress)
    with folder_lock(out_dir):
        prepare_run_folder(out_dir, resume=folder.resume, force=folder.force, save_every=folder.save_every)
        return _train_and_write(config, dataclasses.replace(folder, out_dir=out_dir), progress)


def _train_and_write(config: RunConfig, folder: RunFolder | None, progress: bool) -> ExperimentResult:
    test_metrics = variability = None
    if config.task == "spike-train":
        over = config.overrides() | ({"image": str(config.image)} if config.image else {})
        run = _presets.spike_train_preset(config.profile, **over)
        res = _spike_train_run.train_spike_train(config.method, run, folder, progress=progress)
    else:
        res, test_metrics, variability = _train_classifier(config, folder, progress)
    out_dir = None if folder is None else Path(folder.out_dir)
    summary = (
        None if out_dir is None else _write_summary(out_dir, config, res.history, test_metrics, variability)
    )
    c = config
    return ExperimentResult(
        c.task,
        c.method,
        c.profile,
        c.seed,
        res.params,
        res.history,
        out_dir,
        summary,
        test_metrics,
        variability,
    )


def _train_classifier(config: RunConfig, folder: RunFolder | None, progress: bool):
    """(TrainResult, test metrics (None without test data), variability of one held-out
    sample)."""
    data, test, run = _classification_data(config)
    res = _classifier.train_classifier(config.method, data, run, folder, progress=progress)
    key = jax.random.key(config.seed)
    # classify without test arrays: no test metrics; the variability of a validation sample
    test_metrics = None if test is None else _classifier.evaluate_classifier(key, res.params, test, run)
    held_out = data.valid if test is None else test
    # Fano windows of 10 steps; shorter for inputs of 10 steps or fewer (classify), none for 1
    window = min(_variability.VariabilityConfig.window, int(held_out[0].shape[1]) - 1)
    if window < 1:
        return res, test_metrics, None
    layer = min(1, len(run.hidden) - 1)
    opts = _variability.VariabilityConfig(N_VARIABILITY_TRIALS, window=window, raster_layer=layer)
    variability = _variability.trial_variability(
        jax.random.fold_in(key, 400), res.params, held_out[0][0], run, config.method, opts
    )
    return res, test_metrics, variability


def _write_summary(out_dir: Path, config: RunConfig, history, test_metrics, variability) -> Path:
    """summary.json (the last history row, test metrics, variability without its rasters)
    and variability.npz (the rasters)."""
    final = {"task": config.task, "method": config.method, "profile": config.profile, "final": history[-1]}
    if test_metrics is not None:
        final["test"] = test_metrics
    if variability is not None:
        final["variability"] = {k: v for k, v in variability.items() if k != "rasters"}
        buf = io.BytesIO()
        np.savez_compressed(buf, rasters=np.asarray(variability["rasters"]))
        atomic_write_bytes(out_dir / VARIABILITY, buf.getvalue())
    return write_json(out_dir / "summary.json", final, seeds=[config.seed], profile=config.profile)


def _classification_data(config: RunConfig):
    """(ClassificationData, test, run). randman: a random 0.8 / 0.1 / 0.1 split of one data
    set (the paper profile: the fixed data seed of :data:`_presets.PAPER` for every
    training seed). SHD: every profile validates on a random 10 % of the training rows used
    (the authors' 90 / 10 split) and tests on the test file, inputs binned at the network's
    2 ms step; ``quick`` uses a random subset of each file. classify: the SHD split of the
    file's ``x``, ``y`` from the run's seed, its ``x_test``, ``y_test`` (None if absent) for
    the test, ``nu_in`` the inputs' mean rate mean(x) / dt (at least :data:`MIN_NU_IN`)."""
    from analysis.training.tasks import N_CLASSES, SHDConfig, load_shd, randman_splits, shd_size

    task, over, method = config.task, config.overrides(), config.method
    if task == "classify":
        return _classify_data(config, over)
    if task == "randman":
        data_cfg, run = _presets.randman_preset(config.profile, method, **over)
        data_key = jax.random.key(_presets.randman_data_seed(config.profile, config.seed))
        train, valid, test = randman_splits(data_key, data_cfg, (0.8, 0.1, 0.1))
        return ClassificationData(train, valid, data_cfg.n_classes, task), test, run
    n_tr, n_te, run = _presets.shd_preset(config.profile, method, **over)
    path = "data/shd" if config.shd_path is None else config.shd_path
    binning = SHDConfig(n_steps=_presets.shd_steps(config.profile), dt=run.dt, dtype=np.uint8)
    rng = np.random.default_rng(config.seed)

    def rows(split, n):
        size = shd_size(path, split)
        return rng.permutation(size) if n is None else np.sort(rng.permutation(size)[: min(n, size)])

    shd_train = load_shd(path, "train", binning, indices=rows("train", n_tr))
    shd_test = load_shd(path, "test", binning, indices=rows("test", n_te))
    train, valid = _validation_split(*shd_train, rng)
    return ClassificationData(train, valid, N_CLASSES, task), shd_test, run


def _validation_split(x, y, rng: np.random.Generator):
    """A random 90 / 10 split of (x, y) drawn from ``rng``, rows kept in file order: the
    authors' SHD rule, int(validation_split * n) training rows (PAPER["shd"])."""
    perm = rng.permutation(len(y))
    cut = int(0.9 * len(perm))
    tr, va = np.sort(perm[:cut]), np.sort(perm[cut:])
    return (x[tr], y[tr]), (x[va], y[va])


def _classify_data(config: RunConfig, over: dict):
    """(ClassificationData, test or None, run) of the classify task."""
    from analysis.training.tasks._labelled import load_labelled

    d = load_labelled(cast(str, config.data_path))
    dt = _presets.CLASSIFY_DT if config.dt is None else config.dt
    nu = max(float(np.mean(d.x, dtype=np.float64)) / dt, MIN_NU_IN)
    run = _presets.classify_preset(config.profile, dt=dt, nu_in=nu, **over)
    train, valid = _validation_split(d.x, d.y, np.random.default_rng(config.seed))
    test = None if d.x_test is None else (d.x_test, d.y_test)
    return ClassificationData(train, valid, d.n_classes, config.task), test, run
