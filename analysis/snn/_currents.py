"""Synaptic drive of a layer: feedforward (dense, conv1d, event-driven) and recurrent (private)."""

from __future__ import annotations

from jax import lax

from analysis.snn._event import event_matmul


def _conv(s, w, stride, length, padding):
    b = s.shape[0]
    x = s.reshape(b, length, w.shape[1])
    y = lax.conv_general_dilated(x, w, (stride,), padding, dimension_numbers=("NWC", "WIO", "NWC"))
    return y.reshape(b, -1)


def ff_current(cfg, l, w, s_in):
    """W S_in for layer l (l = len(hidden) is the dense readout)."""
    if cfg.connectivity == "conv1d" and l < len(cfg.hidden):
        return _conv(s_in, w, cfg.stride[l], cfg.lengths[l], "VALID")
    if cfg.event_driven:
        return event_matmul(s_in, w, cfg.max_active)
    return s_in @ w


def rec_current(cfg, l, v, s):
    if cfg.connectivity == "conv1d":
        return _conv(s, v, 1, cfg.lengths[l + 1], "SAME")
    return s @ v
