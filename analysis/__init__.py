"""sgtheory's library: surrogate gradients, escape noise and stochastic AD in JAX.

The library is organised in families of concepts, one subpackage each, whose ``__init__``
is that family's public API:

* :mod:`analysis.neuron` -- escape noise, surrogates, spike rules, Bernoulli stochastic
  derivatives, single-neuron results (:mod:`analysis.neuron.symbolic`: sympy derivations);
* :mod:`analysis.snn` -- LIF networks in time: configuration, methods, the simulator;
* :mod:`analysis.stochastic` -- exact enumeration, unbiased estimators, comparisons,
  alignment, JSON network specs;
* :mod:`analysis.fields` -- toy sigmoid networks, loop integrals, curl, Stokes;
* :mod:`analysis.training` -- fit loop, optimisers, metrics, experiments; tasks;
* :mod:`analysis.runtime` -- devices, host memory, file output.

The most used names are re-exported here. References: Gygax & Zenke, Neural Computation
37(5):886-925 (2025), arXiv 2404.14964; Arya, Schauer, Schaefer & Rackauckas, NeurIPS 2022.
"""

from importlib import metadata as _metadata

from analysis.neuron import (
    ESCAPE_NOISE_NAMES,
    SURROGATE_NAMES,
    EscapeNoise,
    Surrogate,
    bernoulli_spike,
    escape_noise,
    heaviside_spike,
    matched_surrogate,
    surrogate,
)
from analysis.snn import METHOD_NAMES, Method, SNNConfig, init_params, simulate
from analysis.stochastic import (
    Network,
    Program,
    check_unbiased,
    estimate,
    estimate_many,
    exact_sg_mean,
    exact_value_and_grad,
    snn_program,
)

try:
    __version__ = _metadata.version("sgtheory")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    # analysis.neuron
    "ESCAPE_NOISE_NAMES",
    "SURROGATE_NAMES",
    "EscapeNoise",
    "Surrogate",
    "escape_noise",
    "surrogate",
    "matched_surrogate",
    "heaviside_spike",
    "bernoulli_spike",
    # analysis.snn
    "METHOD_NAMES",
    "Method",
    "SNNConfig",
    "init_params",
    "simulate",
    # analysis.stochastic
    "Program",
    "estimate",
    "estimate_many",
    "exact_value_and_grad",
    "exact_sg_mean",
    "check_unbiased",
    "Network",
    "snn_program",
]
