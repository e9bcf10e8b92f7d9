"""``sgtheory verify``: one claim written to JSON, unknown names exit 2, --list."""

import json

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
