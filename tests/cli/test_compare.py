"""``sgtheory compare``: a shipped spec against the closed-form gradient, and a bad spec."""

import json

from analysis import escape_noise


def test_compare_command_on_shipped_spec(tmp_path, capsys):
    from importlib.resources import files

    from proofs_numeric.cli import main

    spec = json.loads((files("analysis.stochastic") / "specs" / "chain.json").read_text())
    spec["estimators"] = ["score_loo", "coupled_flip"]
    spec_path = tmp_path / "chain.json"
    spec_path.write_text(json.dumps(spec))
    out = tmp_path / "cmp.json"
    assert main(["compare", str(spec_path), "--samples", "500", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    # independent reference: closed form of THEORY.md sec. 3 for the chain spec
    f, w, v, x, th = escape_noise("sigmoid", 3.0), 0.8, 1.5, 1.2, 0.5
    grad_w = (f.prob(v - th) - f.prob(-th)) * f.deriv(w * x - th) * x
    assert abs(data["exact_grad"][0] - float(grad_w)) < 1e-12
    assert [r["estimator"] for r in data["estimators"]] == ["score_loo", "coupled_flip"]
    assert all(r["max_abs_z"] < 5 for r in data["estimators"])  # unbiased: 5 SE, false-failure 6e-7/coord
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "lif"}')
    assert main(["compare", str(bad)]) == 2
    assert "weights" in capsys.readouterr().err
