"""Spiking networks in time: the discrete-time LIF recursion, network configuration, the
training methods (deterministic SG, stochastic SG, MultilayerSpiker) and the batched
simulator (dense / conv1d / recurrent layers; layer-wise and event-driven kernels).

* :class:`SNNConfig` (layers, :class:`LIFParams`, the reset scope, connection delay and
  readout options that reproduce stork's ordering), :func:`init_params` (fluctuation-driven
  scale :func:`fluctuation_sigma_w`, from the PSP kernel :func:`psp_kernel`, or a 1/sqrt(fan_in)
  readout), :func:`parameter_count`;
* :class:`Method` / :func:`method` (by name, :data:`METHOD_NAMES`);
* :func:`to_nir` / :func:`write_nir` / :func:`from_nir`: exchange with other SNN tools as
  NIR graphs (optional ``nir`` package; the discretisation rule is in their docstrings;
  ``from_nir(..., source="norse")`` reads ``norse.torch.to_nir`` exports, which
  :func:`write_nir_graph` writes to a file);
* :func:`simulate` returns a :class:`SimResult`; :func:`event_backend` says which kernels
  run the event-driven products (``numba`` or ``xla``).

The LIF update, the spike rules of the methods, the event kernels and the option lists
(reset modes, connectivities, readouts, record modes) live in the private modules.

Gygax & Zenke 2025, Figs. 6-7.
"""

from analysis.snn._event import event_backend
from analysis.snn._layerwise import recursion_backend
from analysis.snn._lif import LIFParams, fluctuation_sigma_w, psp_kernel
from analysis.snn._methods import METHOD_NAMES, Method, method
from analysis.snn._network import SimResult, SNNConfig, init_params, parameter_count, simulate
from analysis.snn._nir import from_nir, to_nir, write_nir, write_nir_graph

__all__ = [
    "SNNConfig",
    "LIFParams",
    "psp_kernel",
    "fluctuation_sigma_w",
    "init_params",
    "parameter_count",
    "Method",
    "METHOD_NAMES",
    "method",
    "simulate",
    "SimResult",
    "event_backend",
    "recursion_backend",
    "to_nir",
    "write_nir",
    "write_nir_graph",
    "from_nir",
]
