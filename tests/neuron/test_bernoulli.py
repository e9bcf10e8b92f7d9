"""Bernoulli derivative constructs (analysis.neuron._bernoulli): bad probabilities, sample
counts and construct names are named."""

import jax
import pytest

from analysis.neuron import bernoulli_construct_moments, bernoulli_derivative_samples


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.2, float("nan")])
def test_probability_outside_range(p):
    with pytest.raises(ValueError, match=r"p (must lie in \(0, 1\)|contains NaN)"):
        bernoulli_derivative_samples(jax.random.key(0), p, 10, "right")
    with pytest.raises(ValueError, match="p "):
        bernoulli_construct_moments(p, "left")


def test_unknown_construct_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown construct 'middle'.*valid names: right"):
        bernoulli_construct_moments(0.5, "middle")


def test_sample_count_must_be_positive():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        bernoulli_derivative_samples(jax.random.key(0), 0.5, 0, "right")
