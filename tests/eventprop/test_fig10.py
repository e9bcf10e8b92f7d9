"""figures.fig10_eventprop.plot draws given comparison outputs (no network run) and records the
facts its caption needs."""

import json

import numpy as np


def _run(seed):
    rng = np.random.default_rng(seed)
    sg = [
        {
            "dt": dt,
            "beta_sg": b,
            "loss": 1.0 + dt,
            "cos_hidden": float(rng.uniform(-1, 1)),
            "norm_hidden": 1e-4 / dt / b,
            "rel_readout": 100 * dt,
        }
        for dt in (1e-3, 0.1e-3)
        for b in (2.0, 20.0)
    ]
    esc = [
        {
            "beta": beta,
            "n_samples": 100,
            **{f"{f}_hidden": 0.5 for f in ("cos", "sg_cos", "ss_cos")},
            **{f"{f}_se_hidden": 0.02 for f in ("cos", "sg_cos", "ss_cos")},
        }
        for beta in (2.0, 20.0)
    ]
    setup = {"seed": seed, "n_in": 20, "hidden": 12, "n_out": 3, "t_max": 0.05, "batch": 4}
    return {"setup": setup, "eventprop": {"loss": 1.0, "norm_hidden": 0.1}, "sg": sg, "escape": esc}


def test_fig10_plot_draws_given_runs(tmp_path):
    from figures.fig10_eventprop import NAME, plot

    paths = plot([_run(1), _run(2)], tmp_path, profile="quick")
    assert {p.suffix for p in paths} >= {".svg", ".pdf", ".png", ".json"}
    data = json.loads((tmp_path / f"{NAME}.json").read_text())
    assert data["seeds"] == [1, 2] and data["n_samples"] == 100
    assert data["caption"]["dts_ms"] == [0.1, 1.0] and "jackknife" in data["caption"]["d_errorbars"]
