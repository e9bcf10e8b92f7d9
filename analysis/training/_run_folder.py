"""Checks of a run folder before anything is computed, and its preparation under the lock:
a folder holding a run is refused unless resumed or replaced, resume needs a sound
checkpoint of the same run, ``save_every`` needs a folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from analysis import _validate
from analysis.runtime._io import remove_atomic_litter
from analysis.runtime._paths import check_output_dir
from analysis.training._checkpoints import (
    CHECKPOINT,
    EPOCH_CHECKPOINTS,
    RUN_FILES,
    VARIABILITY,
    _check_finite_checkpoint,
    _remove_epoch_checkpoints,
    check_resumable,
    read_checkpoint,
)
from analysis.training._train_config import RunFolder, TrainConfig

_ANY: Any = object()  # "not given": skip the save_every comparison on resume


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


def with_run_info(folder: RunFolder | None, run_info: dict) -> RunFolder | None:
    """``folder`` with the run's record (None stays None: a run that keeps no files)."""
    return None if folder is None else dataclasses.replace(folder, run_info=run_info)


def check_folder_before_build(folder: RunFolder | None, tcfg: TrainConfig) -> None:
    """Run folder and checkpoint checked before a task is built (:func:`fit` checks them again)."""
    if folder is None:
        return
    check_save_every(folder.save_every, folder.out_dir)
    check_run_folder(folder.out_dir, resume=folder.resume, force=folder.force, save_every=folder.save_every)
    if folder.resume:
        check_resumable(folder.out_dir, tcfg, folder.run_info)


def prepare_run_folder(out_dir, *, resume: bool = False, force: bool = False, save_every: Any = _ANY) -> Path:
    """Make ``out_dir`` ready for a run, to be called while holding its lock
    (:func:`analysis.runtime._lock.folder_lock`): check it (:func:`check_run_folder`), remove the
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
