"""``sgtheory loop``: the loop integral written to JSON against the library, a spec file, and
bad radii / directions refused."""

import json

import pytest

from analysis import fields
from analysis.fields import _toy as tn
from proofs_numeric.cli import main


def test_cli_loop(tmp_path, capsys):
    out = tmp_path / "loop.json"
    assert main(["loop", "--points", "2000", "--beta-sg", "20", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "loop integral" in text and "curl norm" in text
    data = json.loads(out.read_text())
    ref = fields.loop_integral(tn.sg_field(tn.FIVE_WEIGHT, 1e4, 20.0), tn.paper_plane(), 1.8, 2000)
    assert data["loop_integral"] == pytest.approx(ref.value, rel=1e-12)
    assert data["cumulative"][-1] == pytest.approx(ref.value, rel=1e-12)
    spec = tmp_path / "net.json"
    spec.write_text(json.dumps({"sizes": [2, 2, 1], "x": [1.0, -0.5]}))
    assert (
        main(
            ["loop", "--spec", str(spec), "--beta", "3", "--beta-sg", "1", "--radius", "1", "--points", "64"]
        )
        == 0
    )
    assert main(["loop", "--radius", "0"]) == 2
    assert main(["loop", "--d1", "1,0,0,0,0", "--d2", "1,1,0,0,0"]) == 2
    assert "orthonormal" in capsys.readouterr().err
