"""``sgtheory align --run DIR`` and ``sgtheory train --save-every K``: alignment along a
training run, end to end on tiny runs, and its one-line errors."""

import json

import jax
import numpy as np
import pytest

from tests.helpers import assert_one_line_error, run_cli

TINY_RUN = dict(
    n_inputs=8,
    n_hidden=8,
    n_neurons=4,
    n_steps=30,
    epochs=2,
    eval_trials=2,
    output_beta=10.0,
    hidden_beta=5.0,
)
FAST = ["--n-ref", "40", "--n-sg", "8", "--n-flips", "2"]


def _train(out, method):
    from analysis.training import RunFolder, SpikeTrainRun, train_spike_train

    return train_spike_train(method, SpikeTrainRun(**TINY_RUN), RunFolder(out, save_every=1), progress=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for m in ("deterministic", "stochastic"):
        _train(root / m, m)
    return root


@pytest.mark.parametrize("m", ["stochastic", pytest.param("deterministic", marks=pytest.mark.slow)])
def test_align_run_end_to_end(runs, tmp_path, capsys, m):
    """Table and JSON (meta block, one row per kept epoch); for a stochastically trained run
    the run's SG and the matched stochastic SG are the same estimator on the same spikes, so
    their cosines agree to round-off; for a deterministic one they differ (~10 s each)."""
    out = tmp_path / f"{m}.json"
    rc, stdout, err = run_cli(capsys, ["align", "--run", runs / m, *FAST, "--json", out])
    assert rc == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["epoch", "cos_trained"] and len(lines) == 1 + 3 + 1
    data = json.loads(out.read_text())
    assert list(data)[0] == "meta" and data["meta"]["seeds"] == [0]
    assert data["task"] == "spike-train" and data["method"] == m
    rows = data["rows"]
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    for r in rows:
        assert -1 <= r["cos_trained"] <= 1 and r["cos_se_trained"] >= 0 and r["n_ref"] == 40
    same = [abs(r["cos_trained"] - r["cos_stoch_matched"]) < 1e-9 for r in rows]
    assert all(same) if m == "stochastic" else not all(same)


def test_run_alignment_rebuilds_the_runs_network_and_data(runs):
    """The network, task data and epoch-0 params that run_alignment rebuilds from the run's
    record equal those the training built (train_spike_train(return_setup=True))."""
    from analysis.training import SpikeTrainRun, load_run, train_spike_train
    from analysis.training._alignment import _setup
    from analysis.training._checkpoints import epoch_checkpoints, load_epoch_params, read_epoch_file
    from analysis.training._epoch_files import _run_record
    from analysis.training._load_run import network_of_run

    files = epoch_checkpoints(runs / "deterministic")
    record, _ = _run_record(runs / "deterministic", files)
    _, (x, y) = _setup(record, None, 8, None, runs)
    cfg, method, _ = network_of_run(record, read_epoch_file(files[0])[1], files[0])
    run = SpikeTrainRun(**{**TINY_RUN, "epochs": 1})
    _, (task, cfg0, params0) = train_spike_train("deterministic", run, progress=False, return_setup=True)
    assert cfg == cfg0 and method.name == "deterministic"
    np.testing.assert_array_equal(np.asarray(x), np.asarray(task.inputs))
    np.testing.assert_array_equal(np.asarray(y), np.asarray(task.target))
    kept, _ = load_epoch_params(files[0], params0)
    for a, b in zip(jax.tree.leaves(kept), jax.tree.leaves(params0), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # load_run reads the same network and initial params (epoch 0) back from the folder
    loaded = load_run(runs / "deterministic", epoch=0)
    assert loaded.config == cfg0 and loaded.method == method and loaded.history == [] and loaded.epoch == 0
    assert loaded.run_settings == SpikeTrainRun(**TINY_RUN)
    for a, b in zip(jax.tree.leaves(loaded.params), jax.tree.leaves(params0), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert len(load_run(runs / "deterministic").history) == TINY_RUN["epochs"]


def test_align_run_errors_are_one_line(runs, tmp_path, capsys):
    from analysis import training

    rc, out, err = run_cli(capsys, ["align", "--run", tmp_path / "nope"])
    assert_one_line_error(rc, out, err, r"run folder .*nope does not exist")
    rc, out, err = run_cli(capsys, ["align", "--run", tmp_path])
    assert_one_line_error(rc, out, err, r"has no checkpoints/epoch_\*\.npz; train it with --save-every K")
    rc, out, err = run_cli(capsys, ["align", "--run", runs / "stochastic", "--figure", tmp_path])
    assert_one_line_error(rc, out, err, r"--figure draws the sweep")
    rc, out, err = run_cli(capsys, ["align", "--run", runs / "stochastic", "--n-ref", "5"])
    assert_one_line_error(rc, out, err, r"n_ref must be at least 20")
    rc, out, err = run_cli(capsys, ["align", "--run", runs / "stochastic", "--n-sg", "0"])
    assert_one_line_error(rc, out, err, r"n_sg must be a positive integer")
    # a run of a task the tool does not know
    x = np.zeros((4, 1), np.float32)
    loss = lambda p, k, xb, yb: ((p["w"] * xb).sum() ** 2, {})
    bad = tmp_path / "mnist"
    training.fit(
        loss,
        {"w": np.ones(1, np.float32)},
        (x, x),
        training.TrainConfig(epochs=1),
        folder=training.RunFolder(bad, save_every=1, run_info={"task": "mnist", "method": "stochastic"}),
        progress=False,
    )
    rc, out, err = run_cli(capsys, ["align", "--run", bad])
    assert_one_line_error(rc, out, err, r"unknown task 'mnist' in .*; valid: spike-train, randman, shd")


def test_train_save_every_on_the_command_line(tmp_path, capsys):
    """``sgtheory train --save-every 2 --epochs 3`` keeps epochs 0, 2, 3; a bad K is one line."""
    out = tmp_path / "run"
    argv = ["train", "spike-train", "--epochs", "3", "--save-every", "2", "--quiet", "--out", out]
    rc, _, err = run_cli(capsys, argv)
    assert rc == 0, err
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "epoch_0000.npz",
        "epoch_0002.npz",
        "epoch_0003.npz",
    ]
    rc, o, err = run_cli(capsys, ["train", "spike-train", "--save-every", "0", "--out", tmp_path / "r2"])
    assert_one_line_error(rc, o, err, r"save_every must be a positive int")
    assert not (tmp_path / "r2").exists() or not any((tmp_path / "r2").iterdir())


@pytest.mark.slow
def test_align_run_of_a_randman_run(tmp_path):
    """A classification run (randman quick, one epoch) end to end: 8 samples spread over the
    classes, the classifier's loss, epochs 0 and 1 (~35 s under load 9)."""
    from analysis.training import RunAlignmentConfig, RunConfig, RunFolder, run_alignment, run_experiment

    run_experiment(
        RunConfig("randman", "deterministic", epochs=1), RunFolder(tmp_path, save_every=1), progress=False
    )
    res = run_alignment(tmp_path, RunAlignmentConfig(n_ref=40, n_sg=8, n_flips=2))
    assert [r["epoch"] for r in res["rows"]] == [0, 1] and res["batch"] == 8
    assert all(-1 <= r["cos_trained"] <= 1 for r in res["rows"])


def test_align_sweep_table_shows_the_references_size_and_the_rows_time(tmp_path, capsys, monkeypatch):
    """The sweep's table has n_ref (the reference's size, chosen per row), ref_seconds (the
    reference's time, pilot included) and seconds (the row's wall time, 0.1 s) beside the
    ceiling; every row goes to the JSON whole (the
    computation replaced by a stand-in)."""
    import analysis.stochastic as stochastic
    from proofs_numeric.cli.align import _COLS

    rows = [dict(dict.fromkeys(_COLS, 0.5), n_ref=180, ref_seconds=96.04, seconds=257.44, ceiling=0.957)]

    def sweep(profile, progress=None):
        for r in rows:
            progress(r)
        return rows

    monkeypatch.setattr(stochastic, "alignment_sweep", sweep)
    out = tmp_path / "rows.json"
    rc, stdout, err = run_cli(capsys, ["align", "--json", out])
    assert rc == 0, err
    head, line = stdout.splitlines()[:2]
    cells = dict(zip(head.split(), line.split(), strict=True))
    assert cells["n_ref"] == "180" and cells["seconds"] == "257.4" and cells["ceiling"] == "0.957"
    assert cells["ref_seconds"] == "96.0"
    assert json.loads(out.read_text())["rows"] == rows


@pytest.mark.slow
def test_align_sweep_rows_record_the_adaptive_reference(tmp_path, capsys, monkeypatch):
    """A real one-row sweep (a tiny network, DisARM reference targeted at ceiling 0.99 within
    [20, 400] samples): the JSON row records the estimator, the target, the n used, the
    pilot's noise ratio, the ceiling reached and the row's time (~35 s under load 9)."""
    from analysis.stochastic import AlignmentConfig
    from analysis.stochastic._alignment_sweep import PROFILES

    base = AlignmentConfig(
        depth=1, width=4, steps=8, n_ref=400, n_sg=20, chunk=50, estimator="disarm", ref_ceiling=0.99
    )
    monkeypatch.setitem(PROFILES, "quick", dict(base=base, axes={}))
    out = tmp_path / "rows.json"
    rc, stdout, err = run_cli(capsys, ["align", "--json", out])
    assert rc == 0, err
    (row,) = json.loads(out.read_text())["rows"]
    assert row["reference"] == "disarm" and row["ref_ceiling_target"] == 0.99 and row["n_ref_max"] == 400
    assert 20 <= row["n_ref"] <= 400 and row["ref_noise_ratio"] > 0
    assert 0 < row["ceiling"] <= 1 and row["seconds"] >= row["ref_seconds"] > 0
