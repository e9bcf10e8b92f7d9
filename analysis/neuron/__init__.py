"""Single neurons: escape noise f, surrogate derivatives psi and their registry, spike rules
(Heaviside with psi; Bernoulli with its smoothed stochastic derivative), stochastic
derivatives of a Bernoulli variable (triples and smoothing), single-neuron results
(:func:`spm_gradient`, :func:`surrogate_gradient`).

Gygax & Zenke, Neural Computation 37(5):886-925 (2025), sec. 2-4.
The sympy derivations live in :mod:`analysis.neuron.symbolic` (imported on demand: sympy
is slow to import).
"""

from analysis.neuron._bernoulli import (
    BERNOULLI_CONSTRUCTS,
    bernoulli_construct_moments,
    bernoulli_derivative_samples,
    bernoulli_jump_weights,
)
from analysis.neuron._escape_noise import (
    ESCAPE_NOISE_NAMES,
    EscapeNoise,
    escape_noise,
)
from analysis.neuron._single_neuron import spm_gradient, surrogate_gradient
from analysis.neuron._spikes import (
    bernoulli_spike,
    bernoulli_spike_from_uniform,
    heaviside_spike,
    spike_uniforms,
)
from analysis.neuron._surrogates import (
    MATCHED_NOISE,
    SURROGATE_NAMES,
    Surrogate,
    as_surrogate,
    matched_surrogate,
    surrogate,
)

__all__ = [
    "EscapeNoise",
    "escape_noise",
    "ESCAPE_NOISE_NAMES",
    "Surrogate",
    "surrogate",
    "matched_surrogate",
    "as_surrogate",
    "SURROGATE_NAMES",
    "MATCHED_NOISE",
    "heaviside_spike",
    "bernoulli_spike",
    "bernoulli_spike_from_uniform",
    "spike_uniforms",
    "BERNOULLI_CONSTRUCTS",
    "bernoulli_derivative_samples",
    "bernoulli_construct_moments",
    "bernoulli_jump_weights",
    "spm_gradient",
    "surrogate_gradient",
]
