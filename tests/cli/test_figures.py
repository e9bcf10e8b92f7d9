"""``sgtheory figures``: fig1 written as PNG, PDF and JSON; an unknown figure exits 2."""

import json

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
