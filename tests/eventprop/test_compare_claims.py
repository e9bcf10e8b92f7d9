"""The decision rules of the three EventProp claims on hand-made rows: each passes what it
states and rejects the outcome it rules out (the mutants), without running a network."""

import math

import pytest

from proofs_numeric import eventprop_discrete_limit as limit
from proofs_numeric import eventprop_escape_noise as escape
from proofs_numeric import eventprop_sg_dt_limit as sg_limit

DTS = (1e-3, 0.5e-3, 0.25e-3, 0.1e-3, 0.05e-3)


def _run(seed=1, rows=(), escape_rows=(), loss=1.0, fd_err=1e-7):
    return {
        "setup": {"seed": seed},
        "eventprop": {"loss": loss, "hidden_spikes": 60, "fd_check": {"random": {"rel_error": fd_err}}},
        "sg": list(rows),
        "escape": list(escape_rows),
    }


def _sg_rows(
    norm=lambda dt: 1e-4 / dt,
    cos=lambda dt: 0.3,
    rel_readout=lambda dt: 200 * dt,
    loss=lambda dt: 1.0 + dt,
    betas=(2.0, 20.0),
):
    return [
        {
            "dt": dt,
            "beta_sg": b,
            "loss": loss(dt),
            "hidden_spikes": 60,
            "norm_hidden": norm(dt) / b,
            "cos_hidden": cos(dt),
            "rel_hidden": 3.0,
            "rel_readout": rel_readout(dt),
            "cos_readout": 0.99,
        }
        for dt in DTS
        for b in betas
    ]


def test_discrete_limit_passes_convergence_and_rejects_a_constant_error():
    assert limit.decide([_run(rows=_sg_rows())])["passed"]
    # mutant: the readout gradient keeps a 20 % error (e.g. a missed maximum of V_o)
    stuck = _sg_rows(rel_readout=lambda dt: 0.2)
    d = limit.decide([_run(rows=_sg_rows()), _run(seed=2, rows=stuck)])
    assert not d["passed"] and [p["passed"] for p in d["per_seed"]] == [True, False]
    # mutant: an EventProp gradient that central differences do not confirm
    assert not limit.decide([_run(rows=_sg_rows(), fd_err=0.3)])["passed"]
    # mutant: the loss does not converge (2 % off at the smallest bin)
    assert not limit.decide([_run(rows=_sg_rows(loss=lambda dt: 1.02))])["passed"]
    with pytest.raises(ValueError, match="at least one"):
        limit.decide([])


def test_sg_dt_limit_passes_one_over_dt_and_rejects_convergence():
    d = sg_limit.decide([_run(rows=_sg_rows())])
    assert d["passed"] and all(p["slope"] == pytest.approx(-1.0) for p in d["per_row"])
    # mutant 1: a hidden SG scaled by dt (norm independent of dt): slope 0
    assert not sg_limit.decide([_run(rows=_sg_rows(norm=lambda dt: 1.0))])["passed"]
    # mutant 2: the SG direction converges to EventProp's
    conv = _sg_rows(cos=lambda dt: 1.0 - dt)
    assert not sg_limit.decide([_run(rows=conv)])["passed"]
    with pytest.raises(ValueError, match="three dts"):
        sg_limit.decide([_run(rows=[r for r in _sg_rows() if r["dt"] > 0.3e-3])])


def _escape_rows(sg_cos=0.6, sg_se=0.03, cos=0.3, se=0.04):
    return [
        {
            "beta": b,
            "rate": 0.03,
            "snr_hidden": 5.0,
            "sg_cos_hidden": sg_cos,
            "sg_cos_se_hidden": sg_se,
            "ss_cos_hidden": sg_cos,
            "esg_cos_hidden": 0.8,
            "cos_hidden": cos,
            "cos_se_hidden": se,
            "rel_hidden": 1.5,
            "sg_ep_cos_hidden": 0.0,
            "cos_all": 0.8,
        }
        for b in (2.0, 20.0)
    ]


def test_escape_noise_decision_and_its_mutants():
    assert escape.decide([_run(escape_rows=_escape_rows())])["passed"]
    # mutant: grad E[L] that is EventProp's gradient (cosine 0.98)
    assert not escape.decide([_run(escape_rows=_escape_rows(cos=0.98, se=0.01))])["passed"]
    # mutant: an SG unrelated to grad E[L] (cosine 0.05 +- 0.03 is not 4.5 SE above 0)
    assert not escape.decide([_run(escape_rows=_escape_rows(sg_cos=0.05))])["passed"]
    # a cosine of 0.8 whose SE reaches 0.9 within 4.5 SE is not shown to be below 0.9
    assert not escape.decide([_run(escape_rows=_escape_rows(cos=0.8, se=0.03))])["passed"]
    assert math.isclose(escape.K_SE, 4.5)
    with pytest.raises(ValueError, match="part c"):
        escape.decide([_run()])
