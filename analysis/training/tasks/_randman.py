"""Random-manifold ("randman") spike-timing data sets (Zenke & Vogels 2021).

Each class c owns a smooth random manifold of dimension D embedded in the space of
``n_units * n_spikes`` spike times. A coordinate x in [0, 1]^D is mapped component-wise by

    g_{c,m}(x) = sum_d sum_{k=1..K} k^(-alpha) a_{c,m,d,k} sin(2 pi (k b_{c,m,d,k} x_d + p_{c,m,d,k}))

with a, b, p ~ U[0, 1) (a random Fourier-like series whose amplitudes decay as k^-alpha:
larger ``alpha`` = smoother manifold). Each component is rescaled to [0, 1] by its range
over a fixed set of reference points (clipped for the rare sample outside it) and becomes
a spike time ``floor(g * step_frac * n_steps)``. A sample of class c is the spike raster
for one uniform coordinate x: every input unit fires exactly ``n_spikes`` times (once for
``n_spikes = 1``); two spikes of one unit in the same bin count as one bin with value 1.
Classes differ only in their spike-time structure, not in rates, which is what makes the
task a test of temporal credit assignment.

Example
-------
>>> import jax
>>> from analysis.training.tasks import RandmanConfig, make_randman
>>> cfg = RandmanConfig(n_classes=3, n_units=8, n_steps=20, n_samples=5)
>>> x, y = make_randman(jax.random.key(0), cfg)
>>> x.shape, y.shape, int(x.sum(axis=1).max())
((15, 20, 8), (15,), 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate

_N_REFERENCE = 1024


@dataclass(frozen=True)
class RandmanConfig:
    """Hyperparameters of a randman data set (defaults: a small 10-class problem).

    n_samples is per class; step_frac is the fraction of the ``n_steps`` bins that spike
    times occupy (the rest lets the network respond); n_basis = K terms per series.
    """

    n_classes: int = 10
    n_units: int = 100
    n_steps: int = 100
    dim: int = 1
    alpha: float = 2.0
    n_spikes: int = 1
    n_samples: int = 100
    step_frac: float = 0.5
    n_basis: int = 5

    def __post_init__(self):
        for name in ("n_classes", "n_units", "n_steps", "dim", "n_spikes", "n_samples", "n_basis"):
            _validate.positive_int(getattr(self, name), name)
        _validate.positive_scalar(self.alpha, "alpha")
        if not 0.0 < float(self.step_frac) <= 1.0:
            raise ValueError(f"step_frac must lie in (0, 1], got {self.step_frac!r}")


def _uniform(key, shape):
    """U[0, 1) float32 drawn flat and reshaped (XLA compiles 1-D draws much faster)."""
    return jax.random.uniform(key, (math.prod(shape),), dtype=jnp.float32).reshape(shape)


def _coefficients(key, cfg: RandmanConfig):
    a, b, p = _uniform(key, (3, cfg.n_classes, cfg.n_units * cfg.n_spikes, cfg.dim, cfg.n_basis))
    return a, b, p


def manifold_values(coef: jax.Array, x: jax.Array, alpha: float) -> jax.Array:
    """Raw series g_{c,m}(x) for per-class coordinates x [C, S, D] -> [C, S, M]."""
    a, b, p = coef  # each [C, M, D, K]
    k = jnp.arange(1, a.shape[-1] + 1, dtype=jnp.float32)
    amp = a * k ** (-alpha)
    phase = 2 * jnp.pi * (k * b[:, None] * x[:, :, None, :, None] + p[:, None])  # [C,S,M,D,K]
    return jnp.einsum("cmdk,csmdk->csm", amp, jnp.sin(phase))


def _spike_times(key_ref, coef, x, cfg: RandmanConfig) -> jax.Array:
    ref = _uniform(key_ref, (1, _N_REFERENCE, cfg.dim))
    g_ref = manifold_values(coef, jnp.broadcast_to(ref, (cfg.n_classes,) + ref.shape[1:]), cfg.alpha)
    lo, hi = g_ref.min(axis=1, keepdims=True), g_ref.max(axis=1, keepdims=True)
    g = jnp.clip((manifold_values(coef, x, cfg.alpha) - lo) / (hi - lo), 0.0, 1.0)
    n_used = max(1, int(cfg.step_frac * cfg.n_steps))
    return jnp.minimum(jnp.floor(g * n_used), n_used - 1).astype(jnp.int32)  # [C, S, M]


def make_randman(
    key: jax.Array,
    cfg: RandmanConfig = RandmanConfig(),
    n_samples: int | None = None,
    sample_key: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Draw a randman data set: (inputs [C*S, n_steps, n_units] float32, labels [C*S] int32).

    ``key`` fixes the manifolds (the task); ``sample_key`` (default: derived from ``key``)
    draws the coordinates, so a validation set with the same manifolds is
    ``make_randman(key, cfg, sample_key=other_key)``. Samples are ordered by class.
    """
    _validate.prng_key(key)
    if not isinstance(cfg, RandmanConfig):
        raise TypeError(f"cfg must be a RandmanConfig, got {type(cfg).__name__}")
    if sample_key is not None:
        _validate.prng_key(sample_key, "sample_key")
    s = cfg.n_samples if n_samples is None else _validate.positive_int(n_samples, "n_samples")
    k_coef, k_ref, k_x = jax.random.split(key, 3)
    return _draw(k_coef, k_ref, k_x if sample_key is None else sample_key, cfg, s)


@partial(jax.jit, static_argnums=(3, 4))
def _draw(k_coef, k_ref, k_x, cfg: RandmanConfig, s: int):
    coef = _coefficients(k_coef, cfg)
    x = _uniform(k_x, (cfg.n_classes, s, cfg.dim))
    times = _spike_times(k_ref, coef, x, cfg)  # [C, S, M]
    times = times.reshape(cfg.n_classes * s, cfg.n_spikes, cfg.n_units)
    onehot = jax.nn.one_hot(times, cfg.n_steps, axis=-2, dtype=jnp.float32)  # [B, n_spikes, T, N]
    inputs = jnp.minimum(onehot.sum(axis=1), 1.0)
    labels = jnp.repeat(jnp.arange(cfg.n_classes, dtype=jnp.int32), s)
    return inputs, labels


def train_valid_split(
    key: jax.Array, cfg: RandmanConfig, n_valid: int | None = None
) -> tuple[tuple[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """((x_train, y_train), (x_valid, y_valid)) on the same manifolds, independent samples.

    ``cfg.n_samples`` training and ``n_valid`` (default n_samples // 4) validation samples
    per class, drawn in one call and split per class.
    """
    n_valid = max(1, cfg.n_samples // 4) if n_valid is None else _validate.positive_int(n_valid, "n_valid")
    s = cfg.n_samples + n_valid
    x, y = make_randman(key, cfg, n_samples=s)
    per_class = np.arange(len(y)) % s  # samples are ordered by class
    tr, va = np.flatnonzero(per_class < cfg.n_samples), np.flatnonzero(per_class >= cfg.n_samples)
    return (x[tr], y[tr]), (x[va], y[va])
