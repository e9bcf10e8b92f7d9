"""Escape noise (analysis.neuron._escape_noise): finite, monotone, point-symmetric CDFs whose
densities integrate to one (scipy quadrature); bad parameters and unknown names are named.

Hypothesis draws shapes, dtypes (float32/float64), beta in [1e-3, 1e6] and z up to 1e6.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import ESCAPE_NOISE_NAMES, escape_noise
from tests.helpers import BETAS, quad_over_pieces, z_arrays


@given(z=z_arrays(), beta=BETAS, name=st.sampled_from(ESCAPE_NOISE_NAMES))
def test_escape_noise_finite_in_unit_interval(z, beta, name):
    f = escape_noise(name, beta)
    p, d = f.prob(z), f.deriv(z)
    for v in (p, d):
        assert v.shape == z.shape and v.dtype == z.dtype
        assert np.all(np.isfinite(v))
    assert np.all((p >= 0) & (p <= 1)) and np.all(d >= 0)


@given(z=z_arrays(), beta=BETAS, name=st.sampled_from(ESCAPE_NOISE_NAMES))
def test_escape_noise_monotone(z, beta, name):
    zs = np.sort(z.ravel())
    p = np.asarray(escape_noise(name, beta).prob(zs))
    assert np.all(np.diff(p) >= 0)


@given(z=st.floats(-50, 50), name=st.sampled_from([n for n in ESCAPE_NOISE_NAMES if n != "exponential"]))
def test_symmetric_noise_is_point_symmetric(z, name):
    """For symmetric threshold noise f(-z) = 1 - f(z)."""
    f = escape_noise(name, 1.3)
    assert abs(float(f.prob(-z)) - (1.0 - float(f.prob(z)))) < 1e-14


@pytest.mark.parametrize("name", ESCAPE_NOISE_NAMES)
def test_escape_noise_density_integrates_to_one(name):
    f = escape_noise(name, 2.5, p0=0.4)
    breaks = [-0.4, 0.0, 0.4, float(-np.log(0.4) / 2.5)]
    assert abs(quad_over_pieces(f.deriv, breaks) - 1.0) < 1e-8


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_beta_must_be_positive(bad):
    with pytest.raises(ValueError, match="beta must be a finite number > 0"):
        escape_noise("sigmoid", bad)


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.2])
def test_p0_range(bad):
    with pytest.raises(ValueError, match=r"p0 must lie in \(0, 1\]"):
        escape_noise("exponential", 1.0, p0=bad)


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match="unknown escape noise 'gauss'.*valid names: sigmoid"):
        escape_noise("gauss")
