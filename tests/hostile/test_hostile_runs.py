"""Hostile use of run folders (analysis.training.fit / run_experiment / run_alignment and
``sgtheory train`` / ``align --run``): two writers, spliced epoch files, diverging runs,
damaged or missing files, options that do not apply, and the litter of killed writes.

Every refusal is checked to come before anything is trained or computed. Runs here are a
three-parameter regression trained with :func:`analysis.training.fit` (milliseconds); the
alignment checks under test all run before a network is built, so a run record naming a task
is enough. Two tests start a second Python process (~3-5 s each, mostly importing jax).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import jax.numpy as jnp
import numpy as np
import pytest

from analysis.runtime._lock import folder_lock, folder_lock_owner
from analysis.training import (
    RunConfig,
    RunFolder,
    TrainConfig,
    fit,
    run_alignment,
    run_experiment,
)
from analysis.training._checkpoints import epoch_checkpoints
from tests.helpers import REPO_ROOT, assert_one_line_error, run_cli

P0 = {"w": jnp.ones(3, jnp.float32)}
DATA = (jnp.ones((4, 3), jnp.float32), jnp.zeros((4, 3), jnp.float32))
CFG = TrainConfig(epochs=3, batch_size=4, optimizer="sgd", learning_rate=0.1, seed=0)
INFO = {"task": "spike-train", "method": "stochastic", "seed": 0}


def _loss(p, key, x, y):
    return jnp.mean((p["w"] * x - y) ** 2), {}


def _train(out, cfg=CFG, info=INFO, **kw):
    return fit(_loss, P0, DATA, cfg, folder=RunFolder(out, run_info=info, **kw), progress=False)


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "JAX_PLATFORMS": "cpu"}


# ------------------------------------------------------------------ one writer per run folder


def test_second_train_process_is_refused_naming_the_pid(tmp_path):
    """A ``sgtheory train`` process on a folder whose lock another process holds (here: the
    test process, through the same helper) exits 2 with one line naming that pid, and
    writes nothing."""
    out = tmp_path / "run"
    code = "import sys; from proofs_numeric.cli import main; sys.exit(main())"
    argv = ["train", "spike-train", "--epochs", "1", "--quiet", "--out", str(out)]
    with folder_lock(out):
        proc = subprocess.run(
            [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=_env(), timeout=120
        )
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    assert_one_line_error(
        proc.returncode, proc.stdout, proc.stderr, rf"run folder .*run is in use by process {os.getpid()}\b"
    )
    assert not out.exists()  # the lock's folder goes with the lock when it is empty


def test_lock_of_a_killed_process_is_released(tmp_path):
    """Another process holds the folder: fit is refused naming it; after ``kill -9`` of that
    process (flock dies with it, the stale .lock file stays) fit takes the folder over."""
    out = tmp_path / "run"
    holder = textwrap.dedent(
        f"""
        import sys, time
        from analysis.runtime._lock import folder_lock
        with folder_lock({str(out)!r}):
            print("locked", flush=True)
            time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        assert folder_lock_owner(out) == proc.pid
        with pytest.raises(ValueError, match=rf"is in use by process {proc.pid} \(lock .*\.lock\)"):
            _train(out)
        assert not (out / "checkpoint.npz").exists()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert (out / ".lock").exists()  # stale: its process is gone
    res = _train(out)
    assert len(res.history) == 3 and not (out / ".lock").exists()


def test_lock_is_reentrant_in_one_process_and_released(tmp_path):
    out = tmp_path / "run"
    with folder_lock(out):
        res = _train(out)  # fit locks the folder again: shared, not refused
        assert folder_lock_owner(out) == os.getpid()
    assert len(res.history) == 3 and not (out / ".lock").exists()


# ------------------------------------------------------------------ --force, --resume, records


def test_force_removes_the_old_summary_and_rasters_before_training(tmp_path):
    """At the first step of a forced run (trace time of the loss) the replaced run's
    summary.json, variability.npz and epoch files are already gone."""
    out = tmp_path / "run"
    _train(out, save_every=1)
    (out / "summary.json").write_text("{}")
    (out / "variability.npz").write_bytes(b"old")
    seen = []

    def loss(p, key, x, y):
        seen.append(sorted(q.name for q in out.rglob("*") if q.is_file()))
        return _loss(p, key, x, y)

    fit(loss, P0, DATA, CFG, folder=RunFolder(out, force=True, run_info=INFO), progress=False)
    assert seen and all(n not in seen[0] for n in ("summary.json", "variability.npz", "epoch_0001.npz"))
    assert epoch_checkpoints(out) == {}


def test_every_epoch_file_and_the_checkpoint_carry_the_run_record(tmp_path):
    out = tmp_path / "run"
    _train(out, save_every=2)
    metas = {}
    for e, p in epoch_checkpoints(out).items():
        with np.load(p) as z:
            metas[e] = json.loads(z["meta"].tobytes().decode())
    assert sorted(metas) == [0, 2, 3]
    ids = {m["run_id"] for m in metas.values()}
    assert len(ids) == 1 and None not in ids
    assert all(m["run"] == INFO and m["save_every"] == 2 and m["epoch"] == e for e, m in metas.items())
    with np.load(out / "checkpoint.npz") as z:
        ck = json.loads(z["meta"].tobytes().decode())
    assert ck["run_id"] in ids and ck["save_every"] == 2


def test_resume_keeps_the_run_id_and_refuses_another_save_every(tmp_path):
    out = tmp_path / "run"
    _train(out, save_every=2)
    more = TrainConfig(**{**CFG.__dict__, "epochs": 5})
    for bad, how in ((3, r"--save-every 2"), (None, r"--save-every 2")):
        with pytest.raises(
            ValueError, match=rf"started with save_every=2, cannot resume it with save_every={bad}.*{how}"
        ):
            _train(out, more, resume=True, save_every=bad)
    assert sorted(epoch_checkpoints(out)) == [0, 2, 3]  # nothing written
    _train(out, more, resume=True, save_every=2)
    assert sorted(epoch_checkpoints(out)) == [0, 2, 3, 4, 5]
    assert _files_pass_the_checks(out)  # a resumed run's files are one run


def _files_pass_the_checks(out) -> bool:
    """align's file checks (run_alignment makes them before building the network)."""
    from analysis.training._epoch_files import _check_epoch_files

    _check_epoch_files(out, epoch_checkpoints(out))
    return True


def test_resume_from_a_checkpoint_holding_nan_is_refused(tmp_path):
    out = tmp_path / "run"
    _train(out)
    with np.load(out / "checkpoint.npz") as z:
        arrays = {k: np.asarray(z[k]) for k in z.files}
    name = next(k for k in arrays if k.startswith("params/"))  # a named params array (format 2)
    arrays[name] = arrays[name] * np.nan
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (out / "checkpoint.npz").write_bytes(buf.getvalue())
    more = TrainConfig(**{**CFG.__dict__, "epochs": 5})
    with pytest.raises(ValueError, match=r"checkpoint .*checkpoint\.npz holds non-finite params"):
        _train(out, more, resume=True)
    # run_experiment refuses it too, before building the task
    with pytest.raises(ValueError, match=r"holds non-finite params .*--force"):
        run_experiment(RunConfig("spike-train"), RunFolder(out, resume=True), progress=False)


# ------------------------------------------------------------------ diverging runs


def _first_nonfinite_epoch(w0: float, lr: float) -> int:
    """Reference in NumPy float32: loss w^2 at the params before the step, sgd w <- w - lr 2w."""
    w = np.float32(w0)
    for epoch in range(1, 200):
        with np.errstate(over="ignore"):
            loss = np.float32(w * w)
            if not np.isfinite(loss):
                return epoch
            w = np.float32(w - np.float32(lr) * np.float32(2) * w)
    raise AssertionError("no divergence")


def test_diverging_run_stops_at_the_first_non_finite_loss(tmp_path):
    """loss = w^2, sgd with lr 10: w -> -19 w per step; the loss overflows float32 at the
    epoch the NumPy reference says (17), which the error names; the folder keeps the epochs
    before it and the message suggests a smaller learning rate."""
    out = tmp_path / "run"
    cfg = TrainConfig(epochs=40, batch_size=1, optimizer="sgd", learning_rate=10.0, seed=0)
    want = _first_nonfinite_epoch(1.0, 10.0)
    loss = lambda p, k, x, y: (jnp.sum(p["w"] ** 2), {})
    data = (jnp.ones((1, 1), jnp.float32), jnp.ones((1, 1), jnp.float32))
    with pytest.raises(
        ValueError,
        match=rf"diverged in epoch {want}: the loss is inf; .*keeps epoch {want - 1}.*smaller learning rate",
    ):
        fit(loss, {"w": jnp.ones(1, jnp.float32)}, data, cfg, folder=RunFolder(out), progress=False)
    rows = (out / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == want - 1


def test_non_finite_params_stop_the_run_in_their_epoch(tmp_path):
    """loss = sqrt(|w|) at w = 0: finite loss, infinite gradient, so the params are -inf after
    the first step: stopped in epoch 1, nothing saved."""
    cfg = TrainConfig(epochs=5, batch_size=1, optimizer="sgd", learning_rate=0.1, seed=0)
    loss = lambda p, k, x, y: (jnp.sum(jnp.sqrt(jnp.abs(p["w"]))), {})
    data = (jnp.ones((1, 1), jnp.float32), jnp.ones((1, 1), jnp.float32))
    with pytest.raises(ValueError, match=r"diverged in epoch 1: the params contain NaN or inf"):
        fit(
            loss,
            {"w": jnp.zeros(1, jnp.float32)},
            data,
            cfg,
            folder=RunFolder(tmp_path / "r"),
            progress=False,
        )
    assert not (tmp_path / "r" / "checkpoint.npz").exists()


# ------------------------------------------------------------------ bad folders and data paths


def test_checkpoints_path_that_is_a_file_is_refused_before_training(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoints").write_text("not a folder")
    with pytest.raises(ValueError, match=r"checkpoints is a file, not a folder; save_every"):
        _train(out, save_every=1)
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints"]


def test_train_checks_data_before_the_memory_estimate(tmp_path, capsys):
    """``train shd --profile paper`` with a missing data folder fails in one line without
    compiling (printing) the memory estimate of the paper network."""
    argv = ["train", "shd", "--profile", "paper", "--shd-path", tmp_path / "none", "--out", tmp_path / "r"]
    rc, out, err = run_cli(capsys, argv)
    assert_one_line_error(rc, out, err, r"SHD file .*none.* not found")
    assert "memory of one training step" not in out


def test_litter_of_killed_atomic_writes_is_removed_at_start_and_resume(tmp_path):
    out = tmp_path / "run"
    _train(out, save_every=1)
    litter = [out / ".checkpoint.npz.k1ll3d.tmp", out / "checkpoints" / ".epoch_0002.npz.abc.tmp"]
    for p in litter:
        p.write_bytes(b"x" * 1000)
    other = out / ".notes.txt.tmp"
    other.write_text("mine")
    more = TrainConfig(**{**CFG.__dict__, "epochs": 4})
    _train(out, more, resume=True, save_every=1)
    assert not any(p.exists() for p in litter) and other.exists()
    (out / ".metrics.csv.zz.tmp").write_bytes(b"x")
    _train(out, force=True)
    assert not (out / ".metrics.csv.zz.tmp").exists()


# ------------------------------------------------------------------ align --run


def test_align_refuses_epoch_files_of_two_runs(tmp_path):
    """Epoch files of another seed, or of a second run with the same record (another
    run_id), spliced into a run folder are refused, naming both files."""
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _train(a, save_every=1)
    _train(b, info={**INFO, "seed": 1}, save_every=1)
    _train(c, save_every=1)
    spliced = (a / "checkpoints" / "epoch_0002.npz").read_bytes()
    (a / "checkpoints" / "epoch_0002.npz").write_bytes((b / "checkpoints" / "epoch_0002.npz").read_bytes())
    with pytest.raises(
        ValueError,
        match=r"come from different runs: epoch_0000\.npz and epoch_0002\.npz differ \(seed 0 vs 1, run_id",
    ):
        run_alignment(a)
    (a / "checkpoints" / "epoch_0002.npz").write_bytes((c / "checkpoints" / "epoch_0002.npz").read_bytes())
    with pytest.raises(ValueError, match=r"differ \(run_id"):
        run_alignment(a)
    (a / "checkpoints" / "epoch_0002.npz").write_bytes(spliced)
    assert _files_pass_the_checks(a)


def test_align_refuses_a_missing_or_damaged_epoch_before_computing(tmp_path, capsys):
    out = tmp_path / "run"
    _train(out, TrainConfig(**{**CFG.__dict__, "epochs": 6}), save_every=2)
    (out / "checkpoints" / "epoch_0004.npz").unlink()
    rc, o, err = run_cli(capsys, ["align", "--run", out])
    assert_one_line_error(rc, o, err, r"lacks epoch_0004\.npz in checkpoints/ \(kept: epoch 0, every 2-th")
    _train(out, TrainConfig(**{**CFG.__dict__, "epochs": 6}), save_every=2, force=True)
    (out / "checkpoints" / "epoch_0006.npz").unlink()  # the last: known from the checkpoint
    rc, o, err = run_cli(capsys, ["align", "--run", out])
    assert_one_line_error(rc, o, err, r"lacks epoch_0006\.npz")
    _train(out, TrainConfig(**{**CFG.__dict__, "epochs": 6}), save_every=2, force=True)
    last = out / "checkpoints" / "epoch_0006.npz"
    last.write_bytes(last.read_bytes()[:100])  # damaged: found before epoch 0 is computed
    rc, o, err = run_cli(capsys, ["align", "--run", out])
    assert_one_line_error(rc, o, err, r"epoch checkpoint .*epoch_0006\.npz is damaged")
    assert o == ""  # no table row was computed
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(last)


def test_align_summary_damaged_or_missing_reads_as_such(tmp_path, capsys):
    out = tmp_path / "run"
    _train(out, info={"task": "randman", "method": "stochastic", "seed": 0}, save_every=1)
    rc, o, err = run_cli(capsys, ["align", "--run", out])
    assert_one_line_error(
        rc, o, err, r"has no summary\.json .*finish the run with sgtheory train randman --resume"
    )
    (out / "summary.json").write_text('{"profile": "qui')
    rc, o, err = run_cli(capsys, ["align", "--run", out])
    assert_one_line_error(rc, o, err, r"summary\.json is damaged \(JSONDecodeError")
    assert "finish the run" not in err


@pytest.mark.parametrize(
    "argv, pattern",
    [
        (["align", "--n-ref", "40"], r"--n-ref applies to --run DIR only"),
        (["align", "--batch", "4", "--n-sg", "8"], r"--n-sg, --batch apply to --run DIR only"),
        (["align", "--shd-path", "data"], r"--shd-path applies to --run DIR only"),
        (["align", "--seed", "3"], r"--seed applies to --run DIR only"),
    ],
)
def test_align_sweep_refuses_options_of_run(argv, pattern, capsys):
    rc, o, err = run_cli(capsys, argv)
    assert_one_line_error(rc, o, err, pattern)


def test_align_run_refuses_options_its_task_does_not_use(tmp_path, capsys):
    out = tmp_path / "run"
    _train(out, save_every=1)  # a spike-train record
    for extra, pattern in (
        (
            ["--shd-path", tmp_path],
            r"shd_path \(--shd-path\) is used by shd runs only; .* is a spike-train run",
        ),
        (["--batch", "4"], r"batch \(--batch\) is used by classification runs only"),
        (["--profile", "full"], r"--profile sets the sizes of the sweep"),
    ):
        rc, o, err = run_cli(capsys, ["align", "--run", out, *extra])
        assert_one_line_error(rc, o, err, pattern)
