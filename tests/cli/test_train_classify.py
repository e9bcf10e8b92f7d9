"""``sgtheory train classify --data FILE``: end to end on a written toy data set (two
classes told apart by spike timing), the validation split, and one-line errors for bad
input."""

import json
import sys

import numpy as np
import pytest

from tests.helpers import assert_one_line_error, run_cli


def _toy(n, seed, t=30, c=8):
    """Two classes: class 0's first half of the channels fire early (one spike each in the
    first quarter of the bins) and its second half late (in bins 0.6 t to 0.85 t); class 1
    the reverse. The same spike count per sample in both."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = np.zeros((n, t, c), np.uint8)
    half = np.arange(c // 2)
    for i, k in enumerate(y):
        x[i, rng.integers(0, t // 4, c // 2), half + (c // 2) * k] = 1
        x[i, rng.integers(int(0.6 * t), int(0.85 * t), c // 2), half + (c // 2) * (1 - k)] = 1
    return x, y


def test_trains_on_a_written_npz_file(tmp_path, capsys):
    """2 epochs (deterministic, seed 0) on 200 samples: the test accuracy on 100 held-out
    samples is 0.86 on CPU; asserted >= 0.7, 4 standard errors (sqrt(0.25 / 100) = 0.05)
    above chance (0.5). Deterministic given the seed: no chance failure."""
    x, y = _toy(200, 0)
    x_test, y_test = _toy(100, 1)
    np.savez(tmp_path / "toy.npz", x=x, y=y, x_test=x_test, y_test=y_test)
    out = tmp_path / "run"
    argv = ["train", "classify", "--data", tmp_path / "toy.npz", "--epochs", "2", "--out", out, "--quiet"]
    rc, stdout, err = run_cli(capsys, [*argv, "--method", "deterministic"])
    assert rc == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"] == "classify" and summary["final"]["epoch"] == 2
    assert summary["test"]["det_test_acc"] >= 0.7 and "test: det_test_acc=" in stdout


@pytest.mark.slow  # a second compile of the classifier (~4-7 s); the default suite keeps one
def test_without_test_arrays_the_summary_has_no_test(tmp_path, capsys):
    x, y = _toy(20, 2, t=10, c=4)
    np.savez(tmp_path / "toy.npz", x=x, y=y)
    out = tmp_path / "run"
    argv = ["train", "classify", "--data", tmp_path / "toy.npz", "--epochs", "1", "--out", out, "--quiet"]
    rc, stdout, err = run_cli(capsys, [*argv, "--dt", "2e-3", "--method", "deterministic"])
    assert rc == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert "test" not in summary and "variability" in summary and "test:" not in stdout


def test_validation_split_and_data_rate():
    """The classify data: a random 10 % of x validates (int(0.9 n) rows train, disjoint,
    file order kept, from the seed), nu_in = mean(x) / dt."""
    from analysis.training import RunConfig
    from analysis.training._run import _validation_split

    x, y = np.arange(50)[:, None, None] * np.ones((1, 2, 1)), np.arange(50)
    (xt, yt), (xv, yv) = _validation_split(x, y, np.random.default_rng(3))
    assert len(yt) == 45 and len(yv) == 5 and set(yt) | set(yv) == set(range(50)) and not set(yt) & set(yv)
    assert (np.diff(yt) > 0).all() and (np.diff(yv) > 0).all() and (xt[:, 0, 0] == yt).all()
    assert _validation_split(x, y, np.random.default_rng(4))[1][1].tolist() != yv.tolist()
    assert [len(p[1]) for p in _validation_split(x[:2], y[:2], np.random.default_rng(0))] == [1, 1]
    with pytest.raises(ValueError, match="data_path \\(--data\\) is used by the classify task only"):
        RunConfig("shd", data_path="a.npz")
    with pytest.raises(ValueError, match="dt"):
        RunConfig("classify", data_path="a.npz", dt=-1.0)


def test_data_rate_sets_nu_in(tmp_path):
    from analysis.training import RunConfig
    from analysis.training._run import _classify_data

    x, y = _toy(20, 2, t=10, c=4)
    np.savez(tmp_path / "toy.npz", x=x, y=y)
    data, test, run = _classify_data(RunConfig("classify", data_path=tmp_path / "toy.npz", dt=2e-3), {})
    rate = x.sum() / x.size / 2e-3  # spikes per bin and channel over the bin
    assert run.nu_in == pytest.approx(rate) and run.dt == 2e-3 and test is None
    assert data.n_classes == 2 and len(data.train[1]) == 18 and data.train[0].dtype == np.uint8


def test_bad_input_is_one_line(tmp_path, capsys, monkeypatch):
    x, y = _toy(4, 0, t=5, c=2)
    np.savez(tmp_path / "nan.npz", x=np.where(x, np.nan, 0.0), y=y)
    np.savez(tmp_path / "ok.npz", x=x, y=y)
    cases = [
        (
            ["train", "classify"],
            "the classify task needs data_path \\(sgtheory train classify --data FILE\\)",
        ),
        (["train", "classify", "--data", tmp_path / "none.npz"], "data file .*none.npz' does not exist"),
        (
            ["train", "classify", "--data", tmp_path / "nan.npz"],
            "nan.npz': array 'x' holds values that are not finite",
        ),
        (
            ["train", "randman", "--data", tmp_path / "ok.npz"],
            "data_path \\(--data\\) is used by the classify task",
        ),
        (["train", "randman", "--dt", "1e-3"], "dt \\(--dt\\) is used by the classify task only"),
        (
            ["train", "classify", "--data", tmp_path / "ok.npz", "--profile", "paper"],
            "profiles quick and full",
        ),
    ]
    for argv, pattern in cases:
        assert_one_line_error(*run_cli(capsys, [*argv, "--out", tmp_path / "o"]), pattern)
    assert not (tmp_path / "o").exists()
    (tmp_path / "d.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    monkeypatch.setitem(sys.modules, "h5py", None)  # h5py not installed
    rc, out, err = run_cli(
        capsys, ["train", "classify", "--data", tmp_path / "d.h5", "--out", tmp_path / "o"]
    )
    assert_one_line_error(rc, out, err, 'needs h5py: pip install "sgtheory\\[shd\\]"')


def test_dry_run_plan_reads_the_sizes_from_the_file(tmp_path):
    """The plan of a classify run: sizes from the file, parameters counted by hand (dense,
    no biases: C x 64 input weights + 64 x classes readout weights)."""
    from analysis.training import RunConfig
    from analysis.training._plan import experiment_plan

    x, y = _toy(20, 2, t=12, c=6)
    np.savez(tmp_path / "toy.npz", x=x, y=y, x_test=x[:3], y_test=y[:3])
    plan = experiment_plan(RunConfig("classify", data_path=tmp_path / "toy.npz"), memory=False)
    assert plan["layer_sizes"] == (64, 2) and plan["n_params"] == 6 * 64 + 64 * 2 and plan["n_steps"] == 12
    assert plan["data"]["train_samples"] == 18 and plan["data"]["test_samples"] == 3
    assert plan["run"]["dt"] == 1e-3 and plan["run"]["hidden"] == (64,)
