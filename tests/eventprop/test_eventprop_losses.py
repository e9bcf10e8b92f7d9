"""The losses of analysis.eventprop on hand-made results, against NumPy formulas."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from analysis.eventprop import CTResult, first_spike_time, max_voltage_cross_entropy, ttfs_cross_entropy

INF = np.inf


def _result(readout=True):
    st = jnp.array([[[0.002, 0.004], [INF, INF], [0.001, INF]], [[INF, INF], [0.003, 0.005], [0.006, INF]]])
    vmax = jnp.array([[0.2, 1.5, -0.3], [0.9, 0.1, 0.4]])
    return CTResult(
        spike_times=(st,),
        counts=(jnp.isfinite(st).sum(-1),),
        readout_max=vmax if readout else None,
        readout_argmax=None,
        readout_final=None,
        overflow=jnp.zeros(2, bool),
        t_max=jnp.asarray(0.01),
    )


def _ce(logits, labels):
    logits = np.asarray(logits, float)
    lse = np.log(np.exp(logits).sum(1))
    return float(np.mean(lse - logits[np.arange(len(labels)), labels]))


def test_max_voltage_cross_entropy_is_the_softmax_cross_entropy_of_the_maxima():
    r = _result()
    want = _ce([[0.2, 1.5, -0.3], [0.9, 0.1, 0.4]], [1, 2])
    assert float(max_voltage_cross_entropy(r, jnp.array([1, 2]))) == pytest.approx(want, rel=1e-14)
    with pytest.raises(ValueError, match="labels"):
        max_voltage_cross_entropy(r, jnp.array([1, 3]))
    with pytest.raises(TypeError, match="labels"):
        max_voltage_cross_entropy(r, jnp.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="integrator"):
        max_voltage_cross_entropy(_result(readout=False), jnp.array([1, 2]))


def test_first_spike_time_and_ttfs_use_t_max_for_silent_units():
    r = _result()
    first = np.array([[0.002, 0.01, 0.001], [0.01, 0.003, 0.006]])
    assert float(first_spike_time(r)) == pytest.approx(first.sum(1).mean(), rel=1e-14)
    tau = 2e-3
    want = _ce(-first / tau, [2, 1])
    assert float(ttfs_cross_entropy(r, jnp.array([2, 1]), tau)) == pytest.approx(want, rel=1e-14)
    with pytest.raises(ValueError, match="tau"):
        ttfs_cross_entropy(r, jnp.array([2, 1]), 0.0)
