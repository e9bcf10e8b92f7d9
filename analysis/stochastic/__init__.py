"""Gradients of expectations over spike configurations: small stochastic networks, exact
enumeration, per-sample estimators (score function, coupled-flip stochastic AD, linearised,
mean field, surrogate gradients), comparison tables and the unbiasedness check, bias tables,
alignment at scale, JSON network specs, and the same exact gradients and estimators for a
user's own stochastic program (any JAX function drawing its spikes from a spike source).

Gygax & Zenke 2025, sec. 3-4; Arya, Schauer, Schaefer & Rackauckas, NeurIPS 2022.
"""

from analysis._validate import DEFAULT_MAX_MEMORY_GIB
from analysis.stochastic._alignment import (
    METHODS,
    PROFILES,
    AlignmentConfig,
    alignment_point,
    alignment_sweep,
    jackknife_se,
    leave_one_out_cosines,
    paired_cos_difference,
    snn_alignment,
)
from analysis.stochastic._bias import DEFAULT_SIZES, sg_bias_table
from analysis.stochastic._compare import (
    CompareReport,
    UnbiasednessReport,
    check_unbiased,
    compare_estimators,
    compare_spec,
    coordinate_names,
    cosine,
    flatten,
    format_table,
    summarize,
    write_csv,
)
from analysis.stochastic._estimators import (
    ESTIMATORS,
    UNBIASED,
    estimate,
    estimate_from_uniforms,
    estimate_many,
    estimator_memory,
    exact_sg_mean,
    flip_proposal,
    sg_given_spikes,
)
from analysis.stochastic._intervals import proportion_interval
from analysis.stochastic._netspec import BLOCK_KEYS, SPEC_KEYS, SpecError, load_spec, network_from_spec
from analysis.stochastic._network import LOSSES, NETWORK_KINDS, Network, random_instance
from analysis.stochastic._program import (
    DEFAULT_MAX_K,
    Program,
    check_program,
    exact_mean,
    exact_value_and_grad,
    log_prob_and_loss,
    spike_probability_range,
)
from analysis.stochastic._snn_program import snn_program, snn_sites, snn_uniforms
from analysis.stochastic._sources import (
    Bernoulli,
    CoupledFlip,
    Forced,
    Heaviside,
    MeanField,
    SpikeSource,
    StraightThrough,
    Trace,
    draw_site_uniforms,
    trace_program,
)

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
    "draw_site_uniforms",
    "check_program",
    # exact enumeration
    "exact_value_and_grad",
    "exact_mean",
    "exact_sg_mean",
    "sg_given_spikes",
    "log_prob_and_loss",
    "spike_probability_range",
    "DEFAULT_MAX_K",
    # estimators
    "ESTIMATORS",
    "UNBIASED",
    "estimate",
    "estimate_many",
    "estimate_from_uniforms",
    "estimator_memory",
    "flip_proposal",
    "DEFAULT_MAX_MEMORY_GIB",
    # comparisons and tests
    "summarize",
    "compare_estimators",
    "compare_spec",
    "CompareReport",
    "format_table",
    "write_csv",
    "check_unbiased",
    "UnbiasednessReport",
    "flatten",
    "coordinate_names",
    "cosine",
    "proportion_interval",
    "sg_bias_table",
    "DEFAULT_SIZES",
    # program builders: small networks, JSON specs, analysis.snn networks
    "Network",
    "NETWORK_KINDS",
    "LOSSES",
    "random_instance",
    "network_from_spec",
    "load_spec",
    "SPEC_KEYS",
    "BLOCK_KEYS",
    "SpecError",
    "snn_program",
    "snn_sites",
    "snn_uniforms",
    # alignment at scale
    "AlignmentConfig",
    "alignment_point",
    "alignment_sweep",
    "snn_alignment",
    "jackknife_se",
    "leave_one_out_cosines",
    "paired_cos_difference",
    "PROFILES",
    "METHODS",
]
