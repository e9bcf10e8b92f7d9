"""Losses of a :class:`CTResult` (means over the batch) and the differentiable route ``ct_loss``.

* :func:`max_voltage_cross_entropy`: cross-entropy of softmax(max_t V_o) (the max-over-time
  readout of Wunderlich & Pehle 2021's classifiers; integrator readout);
* :func:`first_spike_time`: sum over the units of a spiking layer of their first spike
  times, t_max for a unit that stays silent;
* :func:`ttfs_cross_entropy`: cross-entropy of softmax(-t_first / tau) (time-to-first-spike
  coding, Wunderlich & Pehle 2021, Yin-Yang task; needs a spiking readout).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from analysis import _validate
from analysis.eventprop._simulate import CTResult, check_call, raise_on_overflow, result_of, run
from analysis.snn import SNNConfig


def _labels(labels, n_out):
    labels = jnp.asarray(labels)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"labels must be integers, got {labels.dtype}")
    if _validate.is_concrete(labels) and labels.size:
        a = np.asarray(labels)
        if a.min() < 0 or a.max() >= n_out:
            raise ValueError(f"labels must lie in [0, {n_out}), got {a.min()}..{a.max()}")
    return labels


def _cross_entropy(logits, labels):
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


def max_voltage_cross_entropy(result: CTResult, labels: ArrayLike) -> jax.Array:
    """mean_b -log softmax(readout_max[b])[labels[b]] (integrator readout; labels int [B])."""
    if result.readout_max is None:
        raise ValueError("max_voltage_cross_entropy needs readout='integrator'")
    return _cross_entropy(result.readout_max, _labels(labels, result.readout_max.shape[1]))


def first_times(result: CTResult, layer: int = -1) -> jax.Array:
    """[B, N] first spike time of every unit of spiking ``layer`` (t_max when silent)."""
    if not result.spike_times:
        raise ValueError("the network has no spiking layer")
    t = result.spike_times[layer][..., 0]
    return jnp.where(jnp.isfinite(t), t, result.t_max)


def first_spike_time(result: CTResult, layer: int = -1) -> jax.Array:
    """mean_b sum_n t_first[b, n] of spiking ``layer`` (default the last: the ``lif`` readout,
    or the last hidden layer), t_max for a silent unit."""
    return jnp.mean(jnp.sum(first_times(result, layer), axis=1))


def ttfs_cross_entropy(result: CTResult, labels: ArrayLike, tau: float) -> jax.Array:
    """mean_b -log softmax(-t_first[b] / tau)[labels[b]] over the last spiking layer (tau > 0)."""
    tau = _validate.positive_scalar(tau, "tau")
    t = first_times(result, -1)
    return _cross_entropy(-t / tau, _labels(labels, t.shape[1]))


def ct_loss(
    params: dict,
    input_times: ArrayLike,
    cfg: SNNConfig,
    loss: Callable[..., jax.Array],
    *,
    t_max: float,
    max_spikes: int,
    **loss_kwargs,
) -> jax.Array:
    """loss(ct_simulate(params, ...), **loss_kwargs): a scalar that ``jax.grad`` differentiates
    through the exact spike times (the implicit function theorem at every crossing).

    Overflow raises (outside ``jit`` and ``grad``) as in :func:`ct_simulate`; under a trace the
    value is NaN when a neuron overflowed.
    """
    if not callable(loss):
        raise TypeError(f"loss must be callable, got {loss!r}")
    max_spikes = check_call(params, input_times, cfg, t_max, max_spikes)
    carry, _ = run(params, jnp.asarray(input_times), cfg, t_max, max_spikes)
    result = result_of(carry, cfg, t_max, max_spikes)
    raise_on_overflow(result, cfg, max_spikes)
    value = loss(result, **loss_kwargs)
    return jnp.where(jnp.any(result.overflow), jnp.nan, value)
