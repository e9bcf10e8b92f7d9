"""``sgtheory figures``: every figure written as SVG, PDF, PNG and a small JSON (big arrays
in an npz beside it) with a caption dict; fig1's binomial band, fig2's several networks per
depth; an unknown figure exits 2."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from figures._style import ARRAY_LIMIT, load, save
from proofs_numeric.cli import main


def test_figures_fig1_writes_all_formats(tmp_path, capsys):
    assert main(["figures", "fig1", "--out", str(tmp_path)]) == 0
    for ext in ("svg", "pdf", "png", "json", "npz"):
        p = tmp_path / f"fig1_neuron.{ext}"
        assert p.exists() and p.stat().st_size > 1000
    data = load(tmp_path / "fig1_neuron.json")
    assert len(data["u"]) == len(data["mean"]) == len(data["fprime"]) == len(data["ci_low"])
    # the band of E[S] is a binomial interval: inside [0, 1] and around the mean
    lo, hi, m = (np.asarray(data[k]) for k in ("ci_low", "ci_high", "mean"))
    assert np.all((0 <= lo) & (lo <= m) & (m <= hi) & (hi <= 1))
    assert np.asarray(data["raster_stochastic"]).shape == (20, 200)
    assert data["caption"]["n_samples"] == 400 and "Wilson" in data["caption"]["mean_band"]
    assert (tmp_path / "fig1_neuron.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "fig1_neuron.svg").read_text().lstrip().startswith("<?xml")


def test_save_moves_big_arrays_to_npz_and_round_trips(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    big = np.arange(3 * ARRAY_LIMIT, dtype=float).reshape(3, -1)
    data = {"grid": {"1.0": big}, "x": [0.5] * (ARRAY_LIMIT + 1), "small": [1, 2, 3], "rows": [{"a": 1.5}]}
    paths = save(fig, tmp_path, "demo", data, profile="quick", seeds=[7], caption={"n": 3})
    assert [p.name for p in paths] == ["demo.svg", "demo.pdf", "demo.png", "demo.npz", "demo.json"]
    raw = json.loads(paths[-1].read_text())
    assert list(raw)[:2] == ["meta", "caption"] and raw["caption"] == {"n": 3}
    assert raw["meta"]["seeds"] == [7] and raw["meta"]["profile"] == "quick"
    assert raw["grid"]["1.0"] == {
        "npz": "demo.npz",
        "key": "grid/1.0",
        "shape": [3, ARRAY_LIMIT],
        "dtype": "float64",
    }
    assert raw["small"] == [1, 2, 3] and raw["rows"] == [{"a": 1.5}]
    back = load(paths[-1])
    np.testing.assert_array_equal(back["grid"]["1.0"], big)
    np.testing.assert_array_equal(back["x"], np.full(ARRAY_LIMIT + 1, 0.5))


@pytest.mark.parametrize(
    ("fig", "module", "sizes"),
    [
        ("fig4", "figures.fig4_loops", {"GRID_N": {"quick": 24}, "LOOP_N": 200, "FINAL_N": 2000}),
        ("fig5", "figures.fig5_bias", {"LAND_N": {"quick": 21}, "SWEEP_N": 1001}),
    ],
)
def test_grid_figures_keep_json_small(tmp_path, monkeypatch, fig, module, sizes):
    """fig4 and fig5 (at tiny sizes: arrays go to the npz whatever their size, so the JSON
    does not grow with them) write their arrays to the npz; the JSON stays far below 200 KB
    and carries the caption facts."""
    import importlib

    mod = importlib.import_module(module)
    for name, value in sizes.items():
        monkeypatch.setattr(mod, name, value)
    paths = mod.make(tmp_path, "quick")
    assert {p.suffix for p in paths} == {".svg", ".pdf", ".png", ".npz", ".json"}
    js = [p for p in paths if p.suffix == ".json"][0]
    assert js.stat().st_size < 200_000
    caption = json.loads(js.read_text())["caption"]
    assert caption and all(v is not None for v in caption.values())
    data = load(js)
    grids = data["grids"] if fig == "fig4" else {k: v["integrated_sg"] for k, v in data["landscapes"].items()}
    n = next(iter(sizes.values()))["quick"]  # the grid size comes first
    assert all(np.asarray(g).shape == (n, n) for g in grids.values())


def test_fig2_spread_over_several_networks(tmp_path, monkeypatch):
    """fig2(b) shows mean +- SD over >= 3 networks per depth and says so in the caption."""
    import figures.fig2_multilayer as fig2

    monkeypatch.setattr(fig2, "N_SAMPLES", {"quick": 300})
    monkeypatch.setattr(fig2, "DEPTHS", (1,))
    monkeypatch.setattr(fig2, "_panel_a", lambda *a: {})  # panels A and C are not under test
    monkeypatch.setattr(fig2, "_panel_c", lambda *a: [])
    paths = fig2.make(tmp_path, "quick")
    data = load(paths[-1])
    assert fig2.N_NETS["quick"] >= 3 and data["caption"]["b_n_networks_per_depth"] == fig2.N_NETS["quick"]
    assert "SD" in data["caption"]["b_errorbars"]
    assert data["b"] and all(len(r["cosines"]) >= 3 for r in data["b"])


def test_fig6_plot_draws_given_data(tmp_path):
    """figures.fig6_spike_train.plot draws given rasters and curves (no training)."""
    from figures.fig6_spike_train import plot

    rng = np.random.default_rng(0)
    run = dict(n_inputs=6, n_hidden=5, n_neurons=4, n_steps=30, epochs=3, eval_trials=2)
    run.update(hidden_beta=10.0, output_beta=10.0, seed=0)
    hist = {
        tag: [
            {
                "epoch": e,
                **{f"{tag}_{k}": 1.0 / e for k in ("van_rossum", "l2", "output_rate_hz", "hidden_rate_hz")},
            }
            | {f"{tag}_hidden_fano": 0.5}
            for e in (1, 2, 3)
        ]
        for tag in ("det", "stoch")
    }
    rasters = {
        k: rng.random((4, 30)) < 0.2
        for k in ("det_before", "det_after", "stoch_before", "stoch_after", "target")
    }
    rasters["input"] = rng.random((6, 30)) < 0.2
    data = {"profile": "quick", "run": run, "history": hist, "rasters": rasters, "isi_cv": {"input": 1.0}}
    paths = plot(data, tmp_path)
    assert {p.suffix for p in paths} == {".svg", ".pdf", ".png", ".npz", ".json"}  # rasters in the npz
    caption = json.loads(paths[-1].read_text())["caption"]
    assert caption["eval_trials"] == 2 and caption["network"] == "6 -> 5 -> 4 LIF"


def _fig7_data(seeds, rng):
    """Results as figures.fig7_classification collects them (no training)."""

    def hist(tag):
        return [{"train_acc": 0.1 * e, f"{tag}_valid_acc": 0.1 * e} for e in range(1, 5)]

    def stage(rate, fano):
        return {
            "mode": "stochastic",
            "rate_hz": rate,
            "fano": fano,
            "raster_layer": 1,
            "raster_neurons": [0, 1, 2],
        }

    var = {
        "stoch": [
            {"before": stage([9.0, 8.0], [1.0, 0.9]), "after": stage([5.0, 4.0], [0.7, "nan"]), "other": None}
            for _ in seeds
        ],
        "det": [{"before": None, "after": None, "other": stage([6.0, 3.0], [0.5, 0.4])} for _ in seeds],
    }
    rasters = {
        k: {"rasters": rng.random((5, 40, 20)) < 0.2, "raster_neurons": [0, 1, 2, 3, 4]}
        for k in ("stoch_after", "det_other")
    }
    return {
        "profile": "quick",
        "seeds": seeds,
        "chance": 0.1,
        "dt_ms": 2.0,
        "n_test": 50,
        "history": {t: [hist(t) for _ in seeds] for t in ("det", "stoch")},
        "test": {t: [{"det_test_acc": 0.5, "stoch_test_acc": 0.6} for _ in seeds] for t in ("det", "stoch")},
        "variability": var,
        "rasters": rasters,
    }


def test_fig7_draws_given_data(tmp_path, monkeypatch):
    """figures.fig7_classification.make draws given training results (no training): rates
    and Fano factors of the three published conditions, a NaN Fano factor (a silent layer)
    included."""
    import figures.fig7_classification as fig7

    seeds = fig7.SEEDS["quick"]
    data = _fig7_data(seeds, np.random.default_rng(1))
    monkeypatch.setattr(fig7, "_compute", lambda profile: data)
    paths = fig7.make(tmp_path, "quick")
    caption = json.loads(paths[-1].read_text())["caption"]
    assert caption["n_seeds"] == len(seeds) and "SD" in caption["a_band"] and caption["n_test"] == 50
    assert len(caption["conditions"]) == 3 and "T - 10 windows" in caption["d_fano"]
    back = load(paths[-1])
    assert back["variability"]["det"][0]["other"]["fano"] == [0.5, 0.4]
    assert np.asarray(back["rasters"]["stoch_after"]["rasters"]).shape == (5, 40, 20)


class _Interrupted(Exception):
    """Stands in for a kill in the middle of the paper experiment."""


def _tiny_paper(monkeypatch):
    """fig7's paper profile shrunk to 2 runs (one seed) of 2 epochs on a tiny randman."""
    import figures.fig7_classification as fig7
    from analysis.training import ClassifierRun
    from analysis.training.tasks import RandmanConfig

    tiny = (
        RandmanConfig(n_classes=2, n_units=5, n_steps=20, n_samples=20),
        ClassifierRun(hidden=(6, 4), epochs=2, batch_size=16, nu_in=40.0, dt=2e-3),
    )
    monkeypatch.setattr(fig7, "_preset", lambda profile: tiny)
    monkeypatch.setattr(fig7, "SEEDS", {**fig7.SEEDS, "paper": (0,)})
    monkeypatch.setattr(fig7, "N_TRIALS", {**fig7.N_TRIALS, "paper": 4})
    return fig7, tiny


def test_fig7_paper_refuses_on_a_cpu_without_yes(tmp_path, monkeypatch, capsys):
    """No GPU: the estimate is printed and the command exits 2 with one line, training nothing."""
    import jax

    import figures.fig7_classification as fig7

    fake = {
        "step_s": {"deterministic": 2.0, "stochastic": 3.0},
        "eval_s": {"deterministic": 1.0, "stochastic": 1.0},
        "epoch_s": {"deterministic": 62.5, "stochastic": 92.5},
        "steps_per_epoch": 30,
        "epochs": 200,
        "runs": 6,
        "batch_size": 400,
        "total_s": 3 * 200 * (62.5 + 92.5),
    }
    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    monkeypatch.setattr(fig7, "estimate_seconds", lambda profile: fake)

    def boom(*a, **k):
        raise AssertionError("nothing may be trained without --yes")

    monkeypatch.setattr(fig7, "make", boom)
    argv = ["figures", "fig7", "--profile", "paper", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "--yes" in err and "25.8 h" in err  # 3 x 200 x 155 s = 93 000 s
    assert "stochastic 3.00 s" in out and "deterministic 600, stochastic 600" in out
    assert not (tmp_path / "runs").exists()
    for bad in (["figures", "fig6", "--profile", "paper"], ["figures", "fig7", "--yes"]):
        assert main([*bad, "--out", str(tmp_path)]) == 2
    assert "fig7's published experiment" in capsys.readouterr().err


def test_fig7_paper_resumes_after_an_interruption(tmp_path, monkeypatch, capsys):
    """Killed after the first run and one epoch into the second, the command trains only what
    is missing when run again: the finished run is read back, the interrupted one resumes
    from its checkpoint (its first epoch kept as it was)."""
    from dataclasses import replace

    from analysis.training import RunFolder, train_classifier

    fig7, (_, run0) = _tiny_paper(monkeypatch)
    real, calls = fig7._train_one, []

    def interrupted(name, seed, folder, data, test, run, n_trials):
        calls.append(name)
        if len(calls) == 2:  # one epoch of the second run, then the kill
            one = replace(run, seed=seed, epochs=1)
            train_classifier(name, data, one, RunFolder(folder, save_every=run.epochs), progress=False)
            raise _Interrupted
        return real(name, seed, folder, data, test, run, n_trials)

    monkeypatch.setattr(fig7, "_train_one", interrupted)
    monkeypatch.setattr(plt.Figure, "savefig", lambda self, path, **kw: None)  # JSON only: saves 4 s
    runs, out = tmp_path / "runs", tmp_path / "fig"
    argv = [
        "figures",
        "fig7",
        "--profile",
        "paper",
        "--runs",
        str(runs),
        "--out",
        str(out),
        "--yes",
        "--quiet",
    ]
    monkeypatch.setattr(fig7, "estimate_seconds", lambda profile: pytest.fail("no estimate on a GPU"))
    import jax

    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    with pytest.raises(_Interrupted):
        main(argv)
    done, partial = runs / "deterministic-seed0", runs / "stochastic-seed0"
    finished = (done / fig7.RESULT).read_bytes()
    first_epoch = (partial / "metrics.jsonl").read_text().splitlines()
    assert calls == ["deterministic", "stochastic"] and len(first_epoch) == 1
    assert fig7.pending_epochs(runs, "paper") == {"deterministic": 0, "stochastic": 1}

    calls.clear()
    monkeypatch.setattr(fig7, "_train_one", lambda *a: calls.append(a[0]) or real(*a))
    assert main(argv) == 0
    assert jax.config.jax_enable_x64  # trained in float32 inside the command only
    assert calls == ["stochastic"]  # the finished run is not retrained
    assert (done / fig7.RESULT).read_bytes() == finished
    result = json.loads((partial / fig7.RESULT).read_text())
    assert len(result["history"]) == run0.epochs and json.loads(first_epoch[0]) == result["history"][0]
    assert result["variability"]["before"]["mode"] == "stochastic" and result["variability"]["other"] is None
    data = load(out / "fig7_classification.json")
    assert data["caption"]["n_seeds"] == 1 and data["variability"]["det"][0]["other"]["mode"] == "stochastic"
    assert fig7.pending_epochs(runs, "paper") == {"deterministic": 0, "stochastic": 0}
    calls.clear()
    assert len(fig7.train_runs(runs, "paper", progress=False)) == 2 and calls == []  # all done: read back


def test_fig7_estimate_extrapolates_measured_steps(monkeypatch):
    """estimate_seconds times the second (compiled) training call of one batch and the
    second validation pass per method, and extrapolates: epoch = steps x step + n_valid /
    batch x validation pass, total = seeds x epochs x the epochs' sum. A fake clock that the
    stubbed calls advance by known times (step 2 s / 3 s, validation 0.5 s) makes it exact."""
    from types import SimpleNamespace

    import analysis.training as training

    fig7, (data_cfg, run0) = _tiny_paper(monkeypatch)
    now, calls = [0.0], []

    def fake_train(name, data, run, *a, **k):
        calls.append((name, len(data.train[1]), len(data.valid[1]), run.epochs))
        now[0] += {"deterministic": 2.0, "stochastic": 3.0}[name]
        return SimpleNamespace(params={"w": 1})

    def fake_eval(key, params, data, run, *, prefix="test"):
        assert prefix == "valid" and len(data[1]) == run.batch_size
        now[0] += 0.5
        return {}

    monkeypatch.setattr(training, "train_classifier", fake_train)
    monkeypatch.setattr(training, "evaluate_classifier", fake_eval)
    monkeypatch.setattr(fig7, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    est = fig7.estimate_seconds("paper")
    assert calls == [(m, 16, 1, 1) for m in ("deterministic", "deterministic", "stochastic", "stochastic")]
    assert est["steps_per_epoch"] == 2 and est["runs"] == 2 and est["batch_size"] == 16  # 32 samples
    assert est["step_s"] == {"deterministic": 2.0, "stochastic": 3.0}
    assert est["eval_s"] == {"deterministic": 0.5, "stochastic": 0.5}
    assert est["epoch_s"] == {"deterministic": 2 * 2.0 + 4 / 16 * 0.5, "stochastic": 2 * 3.0 + 4 / 16 * 0.5}
    assert est["total_s"] == pytest.approx(run0.epochs * (4.125 + 6.125))


def test_unknown_figure_exit_code_2(tmp_path, capsys):
    assert main(["figures", "fig99", "--out", str(tmp_path)]) == 2
    assert "unknown figure(s) fig99" in capsys.readouterr().err


def test_fig9_plot_draws_given_data(tmp_path):
    """figures.fig9_alignment_training.plot draws the rows it is given (no training) and
    stores them beside the figure."""
    from figures.fig9_alignment_training import RUNS, plot

    def rows(c):
        return [
            {
                "epoch": e,
                "cos_trained": c,
                "cos_se_trained": 0.01,
                "sign_trained": 0.9,
                "cos_stoch_matched": 0.8,
                "cos_se_stoch_matched": 0.02,
                "sign_stoch_matched": 0.95,
                "ceiling": 0.97,
            }
            for e in (0, 5, 10)
        ]

    data = {
        "profile": "quick",
        "run": {"seed": 0},
        "save_every": 5,
        "align": {"n_ref": 400, "n_flips": 8},
        **{
            name: {
                "history": [{"epoch": e, "loss": 10.0 - e} for e in range(1, 11)],
                "alignment": rows(0.5 + k / 4),
            }
            for k, (name, _) in enumerate(RUNS)
        },
    }
    paths = plot(data, tmp_path)
    assert {p.suffix for p in paths} == {".svg", ".png", ".pdf", ".json"} and all(
        p.stat().st_size > 1000 for p in paths
    )
    saved = json.loads(paths[-1].read_text())
    assert saved["stochastic"]["alignment"] == data["stochastic"]["alignment"]
    assert saved["meta"]["profile"] == "quick"


@pytest.mark.slow
def test_figures_fig9_quick_profile(tmp_path, capsys):
    """``sgtheory figures fig9``: two tiny trainings with save_every and their alignment (~45 s)."""
    assert main(["figures", "fig9", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "fig9_alignment_training.json").read_text())
    for name in ("deterministic", "stochastic"):
        rows = data[name]["alignment"]
        assert [r["epoch"] for r in rows] == [0, 5, 10, 15, 20, 25, 30]
        assert all(-1 <= r["cos_trained"] <= 1 and 0 <= r["sign_trained"] <= 1 for r in rows)
    assert all(abs(r["cos_trained"] - r["cos_stoch_matched"]) < 1e-9 for r in data["stochastic"]["alignment"])
