"""Continuous-time LIF networks with exact spike times, and their exact gradients.

* :func:`ct_simulate` -> :class:`CTResult`: event-driven simulation (closed-form threshold
  crossings for tau_mem = 2 tau_syn, a guarded Newton root finder otherwise), feedforward and
  recurrent, a fixed maximum number of spikes per neuron; :func:`voltage_trace`;
  :func:`discretise_inputs` (binned inputs for ``analysis.snn.simulate``, which converges to
  this model as dt -> 0);
* losses of a :class:`CTResult`: :func:`max_voltage_cross_entropy`, :func:`first_spike_time`,
  :func:`ttfs_cross_entropy`;
* two exact gradients: :func:`eventprop_grad` (the adjoint method with jumps at spike times,
  Wunderlich & Pehle, Scientific Reports 11:12829, 2021) and :func:`ct_loss` under
  ``jax.grad`` (through the spike times by the implicit function theorem). Both are exact
  where no spike appears or disappears, and blind to spikes that do;
* :func:`compare_gradients` on a :class:`CompareSetup`: EventProp against SG-BPTT of the
  discretised network (bins dt, surrogate steepness beta_SG) and against grad E[L] of the
  escape-noise network (unbiased coupled-flip estimate), cosines and relative differences
  per parameter group.
"""

from analysis.eventprop._adjoint import eventprop_grad
from analysis.eventprop._compare import CompareSetup, compare_gradients
from analysis.eventprop._losses import (
    ct_loss,
    first_spike_time,
    max_voltage_cross_entropy,
    ttfs_cross_entropy,
)
from analysis.eventprop._simulate import CTResult, ct_simulate, discretise_inputs, voltage_trace

__all__ = [
    "CTResult",
    "ct_simulate",
    "voltage_trace",
    "discretise_inputs",
    "max_voltage_cross_entropy",
    "first_spike_time",
    "ttfs_cross_entropy",
    "ct_loss",
    "eventprop_grad",
    "CompareSetup",
    "compare_gradients",
]
