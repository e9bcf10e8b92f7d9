"""Spiking networks in time: the discrete-time LIF recursion, network configuration, the
training methods (deterministic SG, stochastic SG, MultilayerSpiker) and the batched
simulator (dense / conv1d / recurrent layers; layer-wise and event-driven kernels).

Gygax & Zenke 2025, Figs. 6-7.
"""

from analysis.snn._event import (
    active_indices,
    event_backend,
    event_matmul,
)
from analysis.snn._lif import (
    RESET_MODES,
    LIFParams,
    epsilon_hat,
    fluctuation_sigma_w,
    integrator_update,
    lif_update,
    psp_kernel,
)
from analysis.snn._methods import (
    METHOD_NAMES,
    Method,
    method,
    sampled_derivative_spike,
)
from analysis.snn._network import (
    CONNECTIVITIES,
    READOUTS,
    RECORD_MODES,
    SimResult,
    SNNConfig,
    init_params,
    param_shapes,
    simulate,
)

__all__ = [
    "LIFParams",
    "RESET_MODES",
    "psp_kernel",
    "epsilon_hat",
    "fluctuation_sigma_w",
    "lif_update",
    "integrator_update",
    "Method",
    "METHOD_NAMES",
    "method",
    "sampled_derivative_spike",
    "SNNConfig",
    "SimResult",
    "init_params",
    "simulate",
    "CONNECTIVITIES",
    "READOUTS",
    "RECORD_MODES",
    "param_shapes",
    "event_matmul",
    "event_backend",
    "active_indices",
]
