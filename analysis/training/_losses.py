"""Classification losses and activity regularisers of the paper's experiments:
max-over-time cross-entropy and accuracy (Zenke & Vogels 2021), upper-bound regularisers
per neuron and per population (Gygax & Zenke 2025)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def _check_logits(outputs, labels):
    if outputs.ndim != 3 or labels.shape != outputs.shape[:1]:
        raise ValueError(f"outputs must be [B, T, C] and labels [B]; got {outputs.shape} and {labels.shape}")


def max_over_time_cross_entropy(outputs: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean over the batch of CE(softmax(max_t outputs[b, t, :]), labels[b]); outputs [B,T,C]."""
    outputs, labels = jnp.asarray(outputs), jnp.asarray(labels)
    _check_logits(outputs, labels)
    logits = jnp.max(outputs, axis=1)
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))


def accuracy_max_over_time(outputs: jax.Array, labels: jax.Array) -> jax.Array:
    """Fraction of samples whose argmax_c max_t outputs equals the label."""
    outputs, labels = jnp.asarray(outputs), jnp.asarray(labels)
    _check_logits(outputs, labels)
    return jnp.mean(jnp.argmax(jnp.max(outputs, axis=1), axis=-1) == labels)


def upper_bound_regularizer(spikes: jax.Array, bound: float, strength: float = 1.0) -> jax.Array:
    """strength * mean_n relu(c_n - bound)^2, c_n = spike count of neuron n per sample.

    ``spikes`` [B, T, N] (or [T, N]): counts are averaged over the batch first, so only
    neurons that are active on average beyond ``bound`` spikes per sample are penalised
    (an upper-bound activity regulariser as in Zenke & Vogels 2021).
    """
    s = jnp.asarray(spikes)
    counts = jnp.sum(s, axis=-2).reshape(-1, s.shape[-1]).mean(axis=0)
    return strength * jnp.mean(jax.nn.relu(counts - bound) ** 2)


def population_upper_bound_regularizer(spikes: jax.Array, bound: float, strength: float = 1.0) -> jax.Array:
    """strength * mean_b relu(c_b - bound)^2, c_b = sample b's spike count per neuron averaged
    over the layer's neurons (the population mean; the form of the paper's experiments).

    ``spikes`` [B, T, N]. Penalises samples whose layer fires more than ``bound`` spikes per
    neuron on average (Gygax & Zenke 2025, classification experiments).
    """
    s = jnp.asarray(spikes)
    if s.ndim != 3:
        raise ValueError(f"spikes must be [batch, time, neurons], got shape {s.shape}")
    c = jnp.sum(s, axis=1).mean(axis=-1)
    return strength * jnp.mean(jax.nn.relu(c - bound) ** 2)
