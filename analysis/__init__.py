"""sgtheory's library: surrogate gradients, escape noise and stochastic AD in JAX.

The public API is re-exported here; see README.md for a tour. References:
Gygax & Zenke, Neural Computation 37(5):886-925 (2025), arXiv 2404.14964;
Arya, Schauer, Schaefer & Rackauckas, NeurIPS 2022.
"""

from analysis.escape_noise import ESCAPE_NOISE_NAMES, EscapeNoise, escape_noise
from analysis.spikes import (
    bernoulli_spike,
    bernoulli_spike_from_uniform,
    heaviside_spike,
    spike_uniforms,
)
from analysis.stochastic_ad import (
    BERNOULLI_CONSTRUCTS,
    SMOOTHED_CONSTRUCTS,
    TRIPLE_CONSTRUCTS,
    bernoulli_construct_moments,
    bernoulli_derivative_samples,
    bernoulli_jump_weights,
)
from analysis.surrogates import (
    MATCHED_NOISE,
    SURROGATE_NAMES,
    Surrogate,
    matched_surrogate,
    surrogate,
)
from analysis import single_neuron
from analysis import fields, paper_setups, toy_networks  # SG fields: loops, curl, Stokes
from analysis import metrics, tasks  # spike-train metrics; task data (experiments: analysis.experiments)
from analysis import devices, event, lif, snn, snn_methods  # LIF networks in time; multi-device
from analysis.snn import SNNConfig, init_params, simulate
from analysis.snn_methods import METHOD_NAMES, Method
from analysis import alignment, bias, compare, estimators, exact, netspec  # exact gradients, estimators
from analysis.compare import check_unbiased
from analysis.estimators import estimate
from analysis.exact import Network, exact_value_and_grad

__all__ = [
    "ESCAPE_NOISE_NAMES",
    "EscapeNoise",
    "escape_noise",
    "bernoulli_spike",
    "bernoulli_spike_from_uniform",
    "heaviside_spike",
    "spike_uniforms",
    "BERNOULLI_CONSTRUCTS",
    "SMOOTHED_CONSTRUCTS",
    "TRIPLE_CONSTRUCTS",
    "bernoulli_construct_moments",
    "bernoulli_derivative_samples",
    "bernoulli_jump_weights",
    "MATCHED_NOISE",
    "SURROGATE_NAMES",
    "Surrogate",
    "matched_surrogate",
    "surrogate",
    "single_neuron",
    "fields",
    "paper_setups",
    "toy_networks",
    "metrics",
    "tasks",
    "devices",
    "event",
    "lif",
    "snn",
    "snn_methods",
    "SNNConfig",
    "init_params",
    "simulate",
    "METHOD_NAMES",
    "Method",
    "alignment",
    "bias",
    "compare",
    "estimators",
    "exact",
    "netspec",
    "check_unbiased",
    "estimate",
    "Network",
    "exact_value_and_grad",
]
