"""The ``sgtheory`` command line for the foundation: verify, --json, unknown names, figures."""

import json

import pytest

from proofs_numeric.cli import main


def test_verify_one_claim_writes_json(tmp_path, capsys):
    out = tmp_path / "claims.json"
    rc = main(["verify", "bernoulli_constructs_unbiased", "--quiet", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "bernoulli_constructs_unbiased" in text and "1/1 claims passed" in text
    data = json.loads(out.read_text())
    (claim,) = data["claims"]
    assert claim["name"] == "bernoulli_constructs_unbiased" and claim["passed"] is True
    assert data["meta"]["profile"] == "quick"
    assert claim["measured"] <= claim["tolerance"]


def test_verify_unknown_claim_exit_code_2(capsys):
    rc = main(["verify", "no_such_claim", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "unknown claim name(s): no_such_claim" in err and "single_neuron_sg" in err


def test_verify_list_names_foundation_claims(capsys):
    assert main(["verify", "--list"]) == 0
    out = capsys.readouterr().out
    for name in (
        "symbolic_surrogate_pairs",
        "single_neuron_sg",
        "bernoulli_constructs_unbiased",
        "bernoulli_nonlinear_downstream",
        "smoothed_spike_derivative",
        "single_neuron_nonlinear_loss",
    ):
        assert name in out


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


def test_default_malloc_flag_only_on_long_running_commands():
    from proofs_numeric.cli import build_parser

    p = build_parser()
    assert p.parse_args(["bench", "--default-malloc"]).default_malloc
    assert not p.parse_args(["train", "randman"]).default_malloc
    with pytest.raises(SystemExit):
        p.parse_args(["verify", "--default-malloc"])
