"""The settings and the result of the training loop :func:`analysis.training.fit`: its
hyperparameters (:class:`TrainConfig`) and the folder that keeps the run (:class:`RunFolder`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import NamedTuple

from analysis import _validate
from analysis.training._optimizers import _OPTIMIZERS, OPTIMIZER_NAMES


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


@dataclass(frozen=True)
class RunFolder:
    """The folder that keeps a run, and what to do with a run already there.

    out_dir : the run folder: metrics.jsonl / metrics.csv, checkpoint.npz (params, optimiser
    state, history), summary.json (:func:`analysis.training.run_experiment`).
    resume : continue the run in ``out_dir`` from its checkpoint (one must be there).
    force : start over, replacing a run already in ``out_dir`` (its files are removed
    first); excludes ``resume``. Without either, a folder holding a run is refused.
    save_every : K > 0 also keeps the params of epoch 0, every K-th and the last epoch in
    ``out_dir``/checkpoints/epoch_XXXX.npz (for :func:`analysis.training.run_alignment`).
    run_info : JSON-able record of the run (task, method, sizes) stored with the checkpoint
    and compared on resume; the experiment functions fill it in.
    """

    out_dir: str | os.PathLike
    resume: bool = False
    force: bool = False
    save_every: int | None = None
    run_info: dict | None = None

    def __post_init__(self):
        for name in ("resume", "force"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.resume and self.force:
            raise ValueError("resume and force exclude each other: resume continues a run, force replaces it")
        if self.save_every is not None:
            object.__setattr__(self, "save_every", _validate.positive_int(self.save_every, "save_every"))
        if self.out_dir is None:
            if self.resume:
                raise ValueError("resume=True needs out_dir, the folder holding the checkpoint")
            if self.save_every is not None:
                raise ValueError("save_every needs out_dir, the run folder that keeps the checkpoints")
            raise ValueError(
                "out_dir must be a folder path (pass no RunFolder for a run that keeps no files)"
            )
        if not isinstance(self.out_dir, (str, os.PathLike)):
            raise TypeError(f"out_dir must be a path (str or os.PathLike), got {type(self.out_dir).__name__}")
        if self.run_info is not None and not isinstance(self.run_info, dict):
            raise TypeError(f"run_info must be a dict or None, got {type(self.run_info).__name__}")
