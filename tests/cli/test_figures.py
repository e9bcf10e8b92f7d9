"""``sgtheory figures``: fig1 written as PNG, PDF and JSON; an unknown figure exits 2."""

import json

import pytest

from proofs_numeric.cli import main


def test_figures_fig1_writes_png_pdf_json(tmp_path, capsys):
    assert main(["figures", "fig1", "--out", str(tmp_path)]) == 0
    for ext in ("png", "pdf", "json"):
        p = tmp_path / f"fig1_neuron.{ext}"
        assert p.exists() and p.stat().st_size > 1000
    data = json.loads((tmp_path / "fig1_neuron.json").read_text())
    assert len(data["u"]) == len(data["mean"]) == len(data["fprime"])
    assert (tmp_path / "fig1_neuron.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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
    assert {p.suffix for p in paths} == {".png", ".pdf", ".json"} and all(
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
