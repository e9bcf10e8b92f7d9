"""``sgtheory compare``: shipped specs against independent references (a closed form; naive
loops for the recurrent LIF spec), and a bad spec."""

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
    # independent reference: closed form of the two-neuron chain (Gygax & Zenke 2025, sec. 3;
    # derived in paper/sections/theory.typ)
    f, w, v, x, th = escape_noise("sigmoid", 3.0), 0.8, 1.5, 1.2, 0.5
    grad_w = (f.prob(v - th) - f.prob(-th)) * f.deriv(w * x - th) * x
    assert abs(data["exact_grad"][0] - float(grad_w)) < 1e-12
    assert [r["estimator"] for r in data["estimators"]] == ["score_loo", "coupled_flip"]
    assert all(r["max_abs_z"] < 5 for r in data["estimators"])  # unbiased: 5 SE, false-failure 6e-7/coord
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "lif"}')
    assert main(["compare", str(bad)]) == 2
    assert "weights" in capsys.readouterr().err


def test_compare_command_on_the_recurrent_lif_spec(tmp_path):
    """The shipped recurrent spec: exact gradient = naive loops over all 2^18 configurations."""
    from importlib.resources import files

    import jax
    import jax.numpy as jnp
    import numpy as np

    from analysis.stochastic import network_from_spec
    from proofs_numeric.cli import main
    from tests.stochastic.test_network_view import _naive_expected_loss

    spec = json.loads((files("analysis.stochastic") / "specs" / "recurrent.json").read_text())
    spec["estimators"] = ["disarm"]
    spec_path = tmp_path / "recurrent.json"
    spec_path.write_text(json.dumps(spec))
    out = tmp_path / "cmp.json"
    assert main(["compare", str(spec_path), "--samples", "200", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["coordinates"][-4:] == ["V1[0, 0]", "V1[0, 1]", "V1[1, 0]", "V1[1, 1]"]
    net, params, x, _ = network_from_spec(spec)
    ref = jax.grad(_naive_expected_loss)(tuple(jnp.asarray(p, jnp.float64) for p in params), x, net)
    ref = np.concatenate([np.ravel(r) for r in ref])
    assert np.abs(ref).max() > 1e-3
    np.testing.assert_allclose(data["exact_grad"], ref, rtol=1e-9, atol=1e-14)
