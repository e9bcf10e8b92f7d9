"""Gradients of expectations over spike configurations: small stochastic networks, exact
enumeration, per-sample estimators (score function, coupled-flip stochastic AD, linearised,
mean field, surrogate gradients), comparison tables and the unbiasedness check, bias tables,
alignment at scale, and JSON network specs.

Gygax & Zenke 2025, sec. 3-4; Arya, Schauer, Schaefer & Rackauckas, NeurIPS 2022;
THEORY.md sec. 3-4.
"""

from analysis.stochastic._network import (
    Network,
    NETWORK_KINDS,
    LOSSES,
    MODES,
    simulate,
    loss_of_spikes,
    log_prob_and_loss,
    sample_spikes,
    random_instance,
)
from analysis.stochastic._exact import (
    exact_value_and_grad,
    exact_mean,
    enumeration_cost,
    DEFAULT_MAX_K,
    spike_probability_range,
)
from analysis.stochastic._coupled_flip import (
    coupled_flip_gradient,
    subsampled_coupled_flip_gradient,
    linearised_coupled_flip_gradient,
    linearised_given_spikes,
)
from analysis.stochastic._estimators import (
    ESTIMATORS,
    UNBIASED,
    estimate,
    estimate_from_uniforms,
    estimator_names,
    draw_uniforms,
    estimate_many,
    exact_sg_mean,
)
from analysis.stochastic._compare import (
    summarize,
    compare_estimators,
    format_table,
    write_csv,
    check_unbiased,
    UnbiasednessReport,
    flatten,
    coordinate_names,
    cosine,
)
from analysis.stochastic._bias import (
    sg_bias_table,
    DEFAULT_SIZES,
)
from analysis.stochastic._alignment import (
    AlignmentConfig,
    alignment_point,
    alignment_sweep,
    PROFILES,
    METHODS,
)
from analysis.stochastic._netspec import (
    network_from_spec,
    load_spec,
    SPEC_KEYS,
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
    "draw_uniforms",
    "estimate_many",
    "exact_sg_mean",
    "summarize",
    "compare_estimators",
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
]
