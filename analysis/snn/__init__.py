"""Spiking networks in time: the discrete-time LIF recursion, network configuration, the
training methods (deterministic SG, stochastic SG, MultilayerSpiker) and the batched
simulator (dense / conv1d / recurrent layers; layer-wise and event-driven kernels).

Gygax & Zenke 2025, sec. 6; THEORY.md sec. 6.
"""

from analysis.snn._lif import (
    LIFParams,
    RESET_MODES,
    psp_kernel,
    epsilon_hat,
    fluctuation_sigma_w,
    lif_update,
    integrator_update,
)
from analysis.snn._methods import (
    Method,
    METHOD_NAMES,
    method,
    sampled_derivative_spike,
)
from analysis.snn._network import (
    SNNConfig,
    SimResult,
    init_params,
    simulate,
    CONNECTIVITIES,
    READOUTS,
    RECORD_MODES,
    param_shapes,
)
from analysis.snn._event import (
    event_matmul,
    event_backend,
    active_indices,
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
