"""The foundation claims (issue 3) hold in the quick profile (one source of truth:
proofs_numeric), plus bad-input errors that name the argument and its valid range."""

import importlib

import jax
import jax.numpy as jnp
import pytest

from analysis import (
    bernoulli_construct_moments,
    bernoulli_derivative_samples,
    bernoulli_spike,
    bernoulli_spike_from_uniform,
    escape_noise,
    heaviside_spike,
    surrogate,
)
from analysis.neuron import _single_neuron as single_neuron

CLAIMS = [
    "symbolic_surrogate_pairs",
    "single_neuron_sg",
    "bernoulli_constructs_unbiased",
    "bernoulli_nonlinear_downstream",
    "smoothed_spike_derivative",
    "single_neuron_nonlinear_loss",
]


@pytest.mark.parametrize("name", CLAIMS)
def test_claim_quick(name):
    r = importlib.import_module(f"proofs_numeric.{name}").check("quick")
    assert r.name == name
    assert r.passed, r.details


def test_symbolic_detects_a_wrong_factor():
    """The symbolic zero test is not vacuous: psi - 2c f' is not zero."""
    from analysis.neuron.symbolic import _branch, _is_zero, family_report, surrogate_expr, surrogate_factor

    r = surrogate_factor("superspike")
    lo, hi, _, d = family_report("fast_sigmoid").pieces[1]
    psi = _branch(surrogate_expr("superspike"), hi - 1)
    assert _is_zero(psi - r.c * d) and not _is_zero(psi - 2 * r.c * d)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_beta_must_be_positive(bad):
    with pytest.raises(ValueError, match="beta must be a finite number > 0"):
        escape_noise("sigmoid", bad)
    with pytest.raises(ValueError, match="beta"):
        surrogate("superspike", bad)


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.2])
def test_p0_range(bad):
    with pytest.raises(ValueError, match=r"p0 must lie in \(0, 1\]"):
        escape_noise("exponential", 1.0, p0=bad)
    with pytest.raises(ValueError, match=r"p0 must lie in \(0, 1\]"):
        surrogate("exponential", 1.0, p0=bad)


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match="unknown escape noise 'gauss'.*valid names: sigmoid"):
        escape_noise("gauss")
    with pytest.raises(ValueError, match="unknown surrogate 'fast'.*valid names: superspike"):
        surrogate("fast")
    with pytest.raises(ValueError, match="unknown construct 'middle'.*valid names: right"):
        bernoulli_construct_moments(0.5, "middle")


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.2, float("nan")])
def test_probability_outside_range(p):
    with pytest.raises(ValueError, match=r"p (must lie in \(0, 1\)|contains NaN)"):
        bernoulli_derivative_samples(jax.random.key(0), p, 10, "right")
    with pytest.raises(ValueError, match="p "):
        bernoulli_construct_moments(p, "left")


def test_mismatched_shapes():
    f = escape_noise("sigmoid", 1.0)
    with pytest.raises(ValueError, match=r"z has shape \(3,\) but u has shape \(4,\)"):
        bernoulli_spike_from_uniform(jnp.zeros(3), jnp.zeros(4), f)
    with pytest.raises(ValueError, match=r"w has shape \(2,\) but x has shape \(3,\)"):
        single_neuron.spm_gradient(jnp.zeros(2), jnp.zeros(3), f)


def test_wrong_types_are_named():
    f = escape_noise("sigmoid", 1.0)
    with pytest.raises(TypeError, match="surrogate must be a Surrogate"):
        heaviside_spike(0.0, f)
    with pytest.raises(TypeError, match="noise must be an EscapeNoise"):
        bernoulli_spike(jax.random.key(0), 0.0, surrogate("arctan"))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        bernoulli_derivative_samples(jax.random.key(0), 0.5, 0, "right")


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
