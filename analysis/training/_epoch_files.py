"""The record of a run kept with ``save_every``: its epoch files checked to come from one
run with no kept epoch missing, and the run's record and profile read back, before
:func:`analysis.training.run_alignment` rebuilds the run."""

from __future__ import annotations

import json
from pathlib import Path

from analysis.training._checkpoints import CHECKPOINT, EPOCH_CHECKPOINTS, load_epoch_params, read_checkpoint


def _identity(meta: dict) -> dict:
    """What must agree between the files of one run: its record (all but ``epochs``, which a
    resumed run may raise, and ``network``, which a format-1 run resumed since records), its
    run_id and save_every."""
    run = {k: v for k, v in dict(meta.get("run") or {}).items() if k not in ("epochs", "network")}
    return {"run": run, "run_id": meta.get("run_id"), "save_every": meta.get("save_every")}


def _differences(a: dict, b: dict) -> str:
    keys = [k for k in a["run"].keys() | b["run"].keys() if a["run"].get(k) != b["run"].get(k)]
    keys = sorted(keys) + [k for k in ("run_id", "save_every") if a[k] != b[k]]
    return ", ".join(f"{k} {a['run'].get(k, a.get(k))!r} vs {b['run'].get(k, b.get(k))!r}" for k in keys[:4])


def _check_epoch_files(run_dir: Path, files: dict[int, Path]) -> dict:
    """Meta of the first epoch file, after checking that every file is readable, that all come
    from one run (same record, run_id and save_every) and that no kept epoch is missing
    (epoch 0, every save_every-th and the last trained epoch, per the checkpoint); ValueError
    naming the file otherwise. Reads metas only (params are checked by the caller)."""
    metas = {e: load_epoch_params(p, None)[1] for e, p in files.items()}
    first = min(files)
    ref = _identity(metas[first])
    for e, meta in metas.items():
        if meta.get("epoch", e) != e:
            raise ValueError(f"epoch checkpoint {files[e]} holds epoch {meta.get('epoch')}, not {e}")
        if _identity(meta) != ref:
            raise ValueError(
                f"epoch files of {run_dir} come from different runs: {files[first].name} and "
                f"{files[e].name} differ ({_differences(ref, _identity(meta))}); two trainings wrote "
                f"this folder: train it again with --force"
            )
    last = max(files)
    if (run_dir / CHECKPOINT).is_file():
        try:
            ck, _ = read_checkpoint(run_dir)
        except ValueError:
            ck = None  # damaged: the epoch files alone say how far the run went
        if ck is not None:
            if ck.get("run_id") is not None and ref["run_id"] is not None and ck["run_id"] != ref["run_id"]:
                raise ValueError(
                    f"{run_dir / CHECKPOINT} belongs to another run than its epoch files "
                    f"(run_id {ck['run_id']} vs {ref['run_id']}); train it again with --force"
                )
            last = max(last, len(ck.get("history") or []))
    k = ref["save_every"]
    want = {0, last} | (set(range(k, last + 1, k)) if isinstance(k, int) and k > 0 else set())
    missing = sorted(want - set(files))
    if missing:
        names = ", ".join(f"epoch_{e:04d}.npz" for e in missing[:5])
        raise ValueError(
            f"run folder {run_dir} lacks {names}{' ...' if len(missing) > 5 else ''} in "
            f"{EPOCH_CHECKPOINTS}/ (kept: epoch 0, every {k}-th and the last, {last}); the run's "
            f"files are incomplete: train it again with --force (--save-every {k})"
        )
    return metas[first]


def _run_record(run_dir: Path, files: dict[int, Path]) -> tuple[dict, str | None]:
    """(run_info stored with the epoch checkpoints, profile from summary.json or None when
    there is none); ValueError when summary.json exists but cannot be read."""
    _, meta = load_epoch_params(files[min(files)], None)
    summary = run_dir / "summary.json"
    profile = None
    if summary.exists():
        try:
            obj = json.loads(summary.read_text())
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            profile = obj.get("profile")
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(
                f"{summary} is damaged ({type(exc).__name__}: {exc}); restore it from a copy, or "
                f"train the run again with --force"
            ) from None
    return dict(meta.get("run") or {}), profile
