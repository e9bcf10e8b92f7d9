"""The single neuron (analysis.neuron._single_neuron): mismatched shapes are named."""

import jax.numpy as jnp
import pytest

from analysis import escape_noise
from analysis.neuron import _single_neuron as single_neuron


def test_mismatched_shapes():
    f = escape_noise("sigmoid", 1.0)
    with pytest.raises(ValueError, match=r"w has shape \(2,\) but x has shape \(3,\)"):
        single_neuron.spm_gradient(jnp.zeros(2), jnp.zeros(3), f)
