"""Spike-train metrics: van Rossum and L2 distances, rates, Fano factor, ISI and CV.

Conventions: spike rasters are arrays [..., T, N] (time on axis -2, neurons last) of 0/1
(or counts); ``dt`` is the bin width in seconds for rates, time constants ``tau`` are in
bins unless ``dt`` says otherwise.

* van Rossum distance (van Rossum 2001): filter the difference of two trains with the
  causal kernel exp(-t / tau) and take D^2 = (1 / tau) sum_t y[t]^2 dt, summed over
  neurons. In discrete time y[t] = lambda y[t-1] + (a[t] - b[t]), lambda = exp(-dt / tau),
  computed with ``lax.scan`` (differentiable; the training loss of the spike-train task).
* L2 spike distance: ||a - b||_2 over time and neurons.
* Trial-to-trial Fano factor: Var / mean over repeated trials of each neuron's spike count
  (Gygax & Zenke 2025, Fig. 6 use it to show that stochastic networks stay variable), and
  of counts in sliding windows (:func:`windowed_fano_factor`, their Fig. 7 protocol).
* ISIs and their coefficient of variation CV = std(ISI) / mean(ISI).

Example
-------
>>> import jax.numpy as jnp
>>> from analysis.training._metrics import van_rossum_distance, l2_spike_distance
>>> a = jnp.zeros((5, 1)).at[1, 0].set(1.0)
>>> round(float(l2_spike_distance(a, jnp.zeros((5, 1)))), 3)
1.0
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from jax.typing import ArrayLike

from analysis import _validate


def exp_filter(x: ArrayLike, tau: float, dt: float = 1.0) -> jax.Array:
    """Causal exponential filter along axis -2: y[t] = exp(-dt/tau) y[t-1] + x[t], y[-1] = 0."""
    x = jnp.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must have shape [..., T, N], got {x.shape}")
    lam = jnp.exp(-_validate.positive_scalar(dt, "dt") / _validate.positive_scalar(tau, "tau"))
    lam = lam.astype(x.dtype) if jnp.issubdtype(x.dtype, jnp.floating) else lam
    xt = jnp.moveaxis(x, -2, 0)

    def step(y, xi):
        y = lam * y + xi
        return y, y

    _, ys = jax.lax.scan(step, jnp.zeros_like(xt[0], dtype=lam.dtype), xt)
    return jnp.moveaxis(ys, 0, -2)


def _pair(a: ArrayLike, b: ArrayLike) -> tuple[jax.Array, jax.Array]:
    a, b = jnp.asarray(a), jnp.asarray(b)
    _validate.same_shape(a, b, "a", "b")
    if a.ndim < 2:
        raise ValueError(f"spike trains must have shape [..., T, N], got {a.shape}")
    if a.shape[-2] == 0:
        raise ValueError(f"spike trains need at least one time bin, got shape {a.shape}")
    return a, b


def van_rossum_loss(a: ArrayLike, b: ArrayLike, tau: float = 10.0, dt: float = 1.0) -> jax.Array:
    """Squared van Rossum distance D^2 = (dt / tau) sum_{t,n} (kappa * (a - b))^2, shape [...]."""
    a, b = _pair(a, b)
    y = exp_filter(a - b, tau, dt)
    return jnp.sum(y * y, axis=(-2, -1)) * (dt / tau)


def van_rossum_distance(a: ArrayLike, b: ArrayLike, tau: float = 10.0, dt: float = 1.0) -> jax.Array:
    """van Rossum distance D = sqrt(:func:`van_rossum_loss`), shape [...]."""
    return jnp.sqrt(van_rossum_loss(a, b, tau, dt))


def l2_spike_distance(a: ArrayLike, b: ArrayLike) -> jax.Array:
    """Euclidean distance of rasters over time and neurons, shape [...]."""
    a, b = _pair(a, b)
    return jnp.sqrt(jnp.sum((a - b) ** 2, axis=(-2, -1)))


def spike_counts(spikes: ArrayLike) -> jax.Array:
    """Spike count per neuron: [..., T, N] -> [..., N]."""
    return jnp.sum(jnp.asarray(spikes), axis=-2)


def firing_rates(spikes: ArrayLike, dt: float = 1e-3) -> jax.Array:
    """Mean firing rate in Hz per neuron: count / (T dt), [..., T, N] -> [..., N]."""
    s = jnp.asarray(spikes)
    if s.ndim < 2:
        raise ValueError(f"spikes must have shape [..., T, N], got {s.shape}")
    if s.shape[-2] == 0:
        raise ValueError(f"spikes need at least one time bin, got shape {s.shape}")
    return spike_counts(s) / (s.shape[-2] * _validate.positive_scalar(dt, "dt"))


def fano_factor(trials: ArrayLike) -> jax.Array:
    """Trial-to-trial Fano factor per neuron from rasters [R, ..., T, N] (R >= 2 trials).

    F_n = Var_r(count_rn) / E_r(count_rn) with the unbiased (R - 1) variance; NaN where a
    neuron never fires. A deterministic network gives F = 0.
    """
    c = spike_counts(trials)
    if c.shape[0] < 2:
        raise ValueError(f"fano_factor needs >= 2 trials on axis 0, got shape {jnp.shape(trials)}")
    mean, var = jnp.mean(c, axis=0), jnp.var(c, axis=0, ddof=1)
    return jnp.where(mean > 0, var / jnp.where(mean > 0, mean, 1.0), jnp.nan)


def mean_fano_factor(trials: ArrayLike) -> jax.Array:
    """Mean of :func:`fano_factor` over the neurons that fire at all (NaN if none do)."""
    return jnp.nanmean(fano_factor(trials))


def windowed_fano_factor(trials: ArrayLike, window: int = 10, *, last_window: bool = False) -> jax.Array:
    """Trial-to-trial Fano factor of spike counts in sliding windows, averaged, as Gygax &
    Zenke (2025) measure it for their classification networks.

    ``trials`` [R, T, N] (R >= 2 repeats of one input): counts c[r, j, n] of the spikes in
    bins [j, j + window) for j = 0 .. T - window - 1, i.e. T - window windows of stride 1
    (``last_window=True`` adds the window starting at T - window: T - window + 1 windows);
    F[j, n] = Var_r c / E_r c with the unbiased (R - 1) variance; the mean of F over the
    (j, n) with E_r c > 0 (NaN if there are none). The published protocol is the first:
    fmi-basel/surrogate-gradient-theory, Classification/experiments/deep_convSNN.py,
    ``monitor_model``, lines 536-552 (``range(0, T - monitor_fano)``, ``torch.var``, which
    is unbiased, ``np.nanmean(vot / mot)``; 0 / 0 is NaN there too).
    """
    s = jnp.asarray(trials)
    window = _validate.positive_int(window, "window")
    if not isinstance(last_window, bool):
        raise TypeError(f"last_window must be True or False, got {last_window!r}")
    if s.ndim != 3 or s.shape[0] < 2:
        raise ValueError(f"trials must have shape [R >= 2, T, N], got {s.shape}")
    n_windows = s.shape[1] - window + (1 if last_window else 0)
    if n_windows < 1:
        need = window if last_window else window + 1
        raise ValueError(
            f"window {window} is too long for the {s.shape[1]} time bins (at least {need} bins needed)"
        )
    cum = jnp.concatenate([jnp.zeros_like(s[:, :1]), jnp.cumsum(s, axis=1)], axis=1)
    c = (cum[:, window:] - cum[:, :-window])[:, :n_windows]  # [R, n_windows, N]
    mean = c.mean(axis=0)
    var = c.var(axis=0, ddof=1)
    f = jnp.where(mean > 0, var / jnp.where(mean > 0, mean, 1.0), jnp.nan)
    return jnp.nanmean(f)


def interspike_intervals(train: npt.ArrayLike) -> np.ndarray:
    """ISIs (in bins) of one spike train [T] of 0/1 values, as a NumPy array."""
    t = np.flatnonzero(np.asarray(train) > 0)
    return np.diff(t)


def isi_cv(spikes: npt.ArrayLike) -> np.ndarray:
    """Coefficient of variation of the ISIs per neuron of a raster [T, N] (NumPy, vectorised).

    CV_n = std(ISI) / mean(ISI) over the ISIs of neuron n (population std, ddof=0); NaN for
    neurons with fewer than 2 ISIs.
    """
    s = np.asarray(spikes)
    if s.ndim != 2:
        raise ValueError(f"spikes must have shape [T, N], got {s.shape}")
    neuron, time = np.nonzero(s.T > 0)  # neuron-major, times ascending within a neuron
    same = neuron[1:] == neuron[:-1]
    isi, owner = np.diff(time)[same], neuron[1:][same]
    n = np.bincount(owner, minlength=s.shape[1]).astype(float)
    tot = np.bincount(owner, weights=isi, minlength=s.shape[1])
    sq = np.bincount(owner, weights=isi.astype(float) ** 2, minlength=s.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = tot / n
        std = np.sqrt(np.maximum(sq / n - mean**2, 0.0))
        return np.where(n >= 2, std / mean, np.nan)
