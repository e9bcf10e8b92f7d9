"""The symbolic reference (analysis.neuron.symbolic) is not vacuous: a wrong factor and a
perturbed surrogate are detected; the straight-through estimator has no factor."""


def test_symbolic_detects_a_wrong_factor():
    """The symbolic zero test is not vacuous: psi - 2c f' is not zero."""
    from analysis.neuron.symbolic import _branch, _is_zero, family_report, surrogate_expr, surrogate_factor

    r = surrogate_factor("superspike")
    lo, hi, _, d = family_report("fast_sigmoid").pieces[1]
    psi = _branch(surrogate_expr("superspike"), hi - 1)
    assert _is_zero(psi - r.c * d) and not _is_zero(psi - 2 * r.c * d)


def test_code_agreement_detects_a_perturbed_surrogate(monkeypatch):
    """The code-vs-sympy comparison is not vacuous: a 1e-9 relative change is caught."""
    import numpy as np

    import analysis.neuron._surrogates as surr
    from analysis.neuron.symbolic import code_agreement

    entry = surr._REGISTRY["arctan"]
    monkeypatch.setitem(
        surr._REGISTRY, "arctan", entry._replace(fn=lambda z, b, p: entry.fn(z, b, p) * (1 + 1e-9))
    )
    errs = code_agreement(np.linspace(-3.0, 3.0, 11), betas=(2.0,), p0s=(0.5,))
    assert errs["psi:arctan"] > 1e-10
    assert errs["psi:superspike"] < 1e-12 and errs["deriv:sigmoid"] < 1e-12


def test_straight_through_is_not_a_density():
    from analysis.neuron.symbolic import surrogate_factor

    r = surrogate_factor("straight_through")
    assert r.c is None and r.family is None and "not a density" in r.note
