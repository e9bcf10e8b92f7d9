"""Surrogates (analysis.neuron._surrogates): finite, non-negative, symmetric where they should
be, integrating to the sympy factor c of psi = c f' (analysis.neuron.symbolic, scipy quadrature);
bad parameters and unknown names are named.

Hypothesis draws shapes, dtypes (float32/float64), beta in [1e-3, 1e6] and z up to 1e6.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import SURROGATE_NAMES, surrogate
from tests.helpers import ASYMMETRIC, BETAS, quad_over_pieces, z_arrays


@given(z=z_arrays(), beta=BETAS, name=st.sampled_from(SURROGATE_NAMES))
def test_surrogates_finite_nonnegative(z, beta, name):
    psi = surrogate(name, beta)(z)
    assert psi.shape == z.shape and psi.dtype == z.dtype
    assert np.all(np.isfinite(psi)) and np.all(psi >= 0)


@given(z=z_arrays(), beta=BETAS, name=st.sampled_from([n for n in SURROGATE_NAMES if n not in ASYMMETRIC]))
def test_surrogates_symmetric(z, beta, name):
    psi = surrogate(name, beta)
    np.testing.assert_allclose(psi(-z), psi(z), rtol=1e-6 if z.dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("name", [n for n in SURROGATE_NAMES if n != "straight_through"])
def test_surrogate_integrates_to_sympy_factor(name):
    """integral of psi over R equals c (psi = c f'): c from analysis.neuron.symbolic, integral by scipy."""
    from analysis.neuron.symbolic import BETA, P0, surrogate_factor

    beta, p0 = 2.5, 0.4
    c = float(surrogate_factor(name).c.subs({BETA: beta, P0: p0}))
    breaks = [-0.4, 0.0, 0.4, float(-np.log(p0) / beta)]
    assert abs(quad_over_pieces(surrogate(name, beta, p0=p0), breaks) - c) < 1e-8 * max(1.0, c)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_beta_must_be_positive(bad):
    with pytest.raises(ValueError, match="beta"):
        surrogate("superspike", bad)


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.2])
def test_p0_range(bad):
    with pytest.raises(ValueError, match=r"p0 must lie in \(0, 1\]"):
        surrogate("exponential", 1.0, p0=bad)


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match="unknown surrogate 'fast'.*valid names: superspike"):
        surrogate("fast")
