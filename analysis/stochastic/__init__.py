"""Gradients of expectations over spike configurations: small stochastic networks, exact
enumeration, per-sample estimators (score function, coupled-flip stochastic AD, linearised,
mean field, surrogate gradients), comparison tables and the unbiasedness check, bias tables,
alignment at scale, and JSON network specs.

Gygax & Zenke 2025, sec. 3-4; Arya, Schauer, Schaefer & Rackauckas, NeurIPS 2022;
THEORY.md sec. 3-4.
"""

from analysis._validate import DEFAULT_MAX_MEMORY_GIB
from analysis.stochastic._alignment import (
    METHODS,
    PROFILES,
    AlignmentConfig,
    alignment_point,
    alignment_sweep,
)
from analysis.stochastic._bias import (
    DEFAULT_SIZES,
    sg_bias_table,
)
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
from analysis.stochastic._coupled_flip import (
    coupled_flip_gradient,
    disarm_gradient,
    linearised_coupled_flip_gradient,
    linearised_given_spikes,
    spike_groups,
    subsampled_coupled_flip_gradient,
)
from analysis.stochastic._estimators import (
    ESTIMATORS,
    UNBIASED,
    draw_uniforms,
    estimate,
    estimate_from_uniforms,
    estimate_many,
    estimator_memory,
    estimator_names,
    exact_sg_mean,
)
from analysis.stochastic._exact import (
    DEFAULT_MAX_K,
    enumeration_cost,
    exact_mean,
    exact_value_and_grad,
    spike_probability_range,
)
from analysis.stochastic._netspec import (
    BLOCK_KEYS,
    SPEC_KEYS,
    SpecError,
    load_spec,
    network_from_spec,
)
from analysis.stochastic._network import (
    LOSSES,
    MODES,
    NETWORK_KINDS,
    Network,
    log_prob_and_loss,
    loss_of_spikes,
    random_instance,
    sample_spikes,
    simulate,
)

__all__ = [
    "Network",
    "NETWORK_KINDS",
    "LOSSES",
    "MODES",
    "simulate",
    "loss_of_spikes",
    "log_prob_and_loss",
    "sample_spikes",
    "random_instance",
    "exact_value_and_grad",
    "exact_mean",
    "enumeration_cost",
    "DEFAULT_MAX_K",
    "spike_probability_range",
    "coupled_flip_gradient",
    "subsampled_coupled_flip_gradient",
    "linearised_coupled_flip_gradient",
    "linearised_given_spikes",
    "ESTIMATORS",
    "UNBIASED",
    "estimate",
    "estimate_from_uniforms",
    "estimator_names",
    "estimator_memory",
    "draw_uniforms",
    "estimate_many",
    "exact_sg_mean",
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
    "sg_bias_table",
    "DEFAULT_SIZES",
    "AlignmentConfig",
    "alignment_point",
    "alignment_sweep",
    "PROFILES",
    "METHODS",
    "network_from_spec",
    "load_spec",
    "SPEC_KEYS",
    "BLOCK_KEYS",
    "DEFAULT_MAX_MEMORY_GIB",
    "SpecError",
    "disarm_gradient",
    "spike_groups",
]
