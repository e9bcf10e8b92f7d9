"""Gradients of expectations over spike configurations: small stochastic networks, exact
enumeration, per-sample estimators (score function, coupled-flip stochastic AD, linearised,
mean field, surrogate gradients), comparison tables and the unbiasedness check, bias tables,
alignment at scale, JSON network specs, and the same exact gradients and estimators for a
user's own stochastic program (any JAX function drawing its spikes from a spike source).

Gygax & Zenke 2025, sec. 3-4; Arya, Schauer, Schaefer & Rackauckas, NeurIPS 2022.
"""

from analysis.stochastic._alignment import AlignmentBudget, snn_alignment
from analysis.stochastic._alignment_stats import paired_cos_difference
from analysis.stochastic._alignment_sweep import AlignmentConfig, alignment_point, alignment_sweep
from analysis.stochastic._bias import sg_bias_table
from analysis.stochastic._compare import (
    compare_estimators,
    compare_spec,
    cosine,
    flatten,
    format_table,
    summarize,
)
from analysis.stochastic._estimators import (
    ESTIMATORS,
    UNBIASED,
    estimate,
    estimate_many,
    estimator_memory,
    exact_sg_mean,
    sg_given_spikes,
)
from analysis.stochastic._intervals import proportion_interval
from analysis.stochastic._netspec import SpecError, load_spec, network_from_spec
from analysis.stochastic._network import Network, random_instance
from analysis.stochastic._program import (
    Program,
    check_program,
    exact_mean,
    exact_value_and_grad,
    log_prob_and_loss,
    spike_probability_range,
)
from analysis.stochastic._snn_program import snn_program, snn_uniforms
from analysis.stochastic._sources import (
    Bernoulli,
    CoupledFlip,
    Forced,
    Heaviside,
    MeanField,
    SpikeSource,
    StraightThrough,
    Trace,
    trace_program,
)
from analysis.stochastic._unbiased import check_unbiased

__all__ = [
    # programs and spike sources
    "Program",
    "SpikeSource",
    "Bernoulli",
    "Forced",
    "CoupledFlip",
    "StraightThrough",
    "MeanField",
    "Heaviside",
    "Trace",
    "trace_program",
    "check_program",
    # exact enumeration
    "exact_value_and_grad",
    "exact_mean",
    "exact_sg_mean",
    "sg_given_spikes",
    "log_prob_and_loss",
    "spike_probability_range",
    # estimators
    "ESTIMATORS",
    "UNBIASED",
    "estimate",
    "estimate_many",
    "estimator_memory",
    # comparisons and tests
    "summarize",
    "compare_estimators",
    "compare_spec",
    "format_table",
    "check_unbiased",
    "flatten",
    "cosine",
    "proportion_interval",
    "sg_bias_table",
    # program builders: small networks, JSON specs, analysis.snn networks
    "Network",
    "random_instance",
    "network_from_spec",
    "load_spec",
    "SpecError",
    "snn_program",
    "snn_uniforms",
    # alignment at scale
    "AlignmentBudget",
    "AlignmentConfig",
    "snn_alignment",
    "alignment_point",
    "alignment_sweep",
    "paired_cos_difference",
]
