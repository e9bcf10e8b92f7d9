"""Random-manifold ("randman") spike-timing data sets as Zenke & Vogels (2021) define them.

Each class c owns ``n_spikes`` smooth random manifolds of dimension D embedded in the space
of the ``n_units`` input units. A manifold is, per embedding coordinate (unit) m, a product
over the manifold dimensions of smooth random functions of one variable,

    g_m(x) = prod_{d=1..D} f_{m,d}(x_d),
    f(x)   = sum_{i=0}^{F-1} a_i (i + 1)^(-alpha) sin(2 pi (i b_i x + c_i)),

with a, b, c ~ U(0, 1) (one set per class, spike, unit and dimension) and
F = min(ceil(prec^(-1/alpha)), max_terms) terms (prec = 1e-3, at most 1000): the amplitudes
fall off as (i + 1)^-alpha, so larger alpha = smoother manifold. ``spectrum="torch"`` uses
the weights 1 / ((i + 1)^alpha + 1) instead, as the PyTorch generator does
(``randman/torch_randman.py``, ``TorchRandman.init_spect`` with its default peak 0, randman
commit d3e22f5); that is the generator behind stork's ``make_tempo_randman``
(``stork/datasets.py``), with which Gygax & Zenke (2025) drew their classification data.
Without ``offset`` (the default, as in the original) the constant term i = 0 has a_0 = 0.
A sample of class c is one coordinate x ~ U[0, 1)^D mapped through the class's manifolds;
each unit's values are standardised over the samples drawn (min-max over the data set,
(g - min) / (max - min + 1e-7), per class, spike and unit) and become the spike time
floor(g * step_frac * n_steps): every unit fires ``n_spikes`` times per sample (two spikes
of a unit in one bin count as one bin with value 1), only in the first ``step_frac`` of the
bins. Classes differ only in spike timing, not in rates: a test of temporal credit
assignment.

The functions are evaluated in float64 with NumPy (F = 1000 terms of frequency up to 999 are
too fine for float32 phases); the random numbers come from JAX keys, so a key fixes the
data set on every machine. Because the spike times are standardised over the samples,
training, validation and test sets are drawn together and split afterwards
(:func:`randman_splits`), as the original does.

Example
-------
>>> import jax
>>> from analysis.training.tasks import RandmanConfig, make_randman
>>> cfg = RandmanConfig(n_classes=3, n_units=8, n_steps=20, n_samples=5)
>>> x, y = make_randman(jax.random.key(0), cfg)
>>> x.shape, y.shape, int(x.sum(axis=1).max()), cfg.n_terms
((15, 20, 8), (15,), 1, 32)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate

#: amplitude weights of the series: ``numpy`` (i + 1)^-alpha, ``torch`` 1 / ((i + 1)^alpha + 1)
SPECTRA = ("numpy", "torch")
#: numbers per block of the float64 evaluation (bounds the temporary memory to ~64 MB)
_BLOCK = 8_000_000


@dataclass(frozen=True)
class RandmanConfig:
    """Hyperparameters of a randman data set (defaults: a small 10-class problem).

    n_samples is per class; step_frac is the fraction of the ``n_steps`` bins that spike
    times occupy (the rest lets the network respond); alpha the smoothness; prec and
    max_terms set the number of terms F (``n_terms``); offset keeps the constant term;
    spectrum (:data:`SPECTRA`) the amplitude weights w_i of term i: ``numpy`` (i + 1)^-alpha
    (the default), ``torch`` 1 / ((i + 1)^alpha + 1) (see :func:`spectrum_weights`).
    """

    n_classes: int = 10
    n_units: int = 100
    n_steps: int = 100
    dim: int = 1
    alpha: float = 2.0
    n_spikes: int = 1
    n_samples: int = 100
    step_frac: float = 0.5
    prec: float = 1e-3
    max_terms: int = 1000
    offset: bool = False
    spectrum: str = "numpy"

    def __post_init__(self):
        for name in ("n_classes", "n_units", "n_steps", "dim", "n_spikes", "n_samples", "max_terms"):
            _validate.positive_int(getattr(self, name), name)
        _validate.positive_scalar(self.alpha, "alpha")
        if not 0.0 < float(self.step_frac) <= 1.0:
            raise ValueError(f"step_frac must lie in (0, 1], got {self.step_frac!r}")
        if not 0.0 < float(self.prec) < 1.0:
            raise ValueError(f"prec must lie in (0, 1), got {self.prec!r}")
        if not isinstance(self.offset, bool):
            raise TypeError(f"offset must be True or False, got {self.offset!r}")
        if self.spectrum not in SPECTRA:
            raise ValueError(f"unknown spectrum {self.spectrum!r}; valid: {', '.join(SPECTRA)}")

    @property
    def n_terms(self) -> int:
        """F = min(ceil(prec^(-1/alpha)), max_terms), the number of terms of each series."""
        return int(min(math.ceil(self.prec ** (-1.0 / self.alpha)), self.max_terms))

    @property
    def n_used_steps(self) -> float:
        """step_frac * n_steps: spike times lie in [0, n_used_steps)."""
        return self.step_frac * self.n_steps


def manifold_coefficients(key: jax.Array, cfg: RandmanConfig) -> np.ndarray:
    """(a, b, c) of every series, float64 [3, C, n_spikes, n_units, D, F]; a_0 = 0 unless
    ``cfg.offset``."""
    shape = (3, cfg.n_classes, cfg.n_spikes, cfg.n_units, cfg.dim, cfg.n_terms)
    coef = np.asarray(jax.random.uniform(key, (math.prod(shape),), jnp.float32), np.float64).reshape(shape)
    if not cfg.offset:
        coef[0, ..., 0] = 0.0
    return coef


def spectrum_weights(n_terms: int, alpha: float, spectrum: str = "numpy") -> np.ndarray:
    """Amplitude weight w_i of term i = 0 .. n_terms - 1, float64 [n_terms]: ``numpy``
    (i + 1)^-alpha; ``torch`` 1 / ((i + 1)^alpha + 1) (TorchRandman.init_spect, randman
    d3e22f5, evaluated here in float64 where the original uses float32)."""
    n_terms = _validate.positive_int(n_terms, "n_terms")
    alpha = _validate.positive_scalar(alpha, "alpha")
    if spectrum not in SPECTRA:
        raise ValueError(f"unknown spectrum {spectrum!r}; valid: {', '.join(SPECTRA)}")
    r = np.arange(n_terms, dtype=np.float64) + 1.0
    return r ** (-alpha) if spectrum == "numpy" else 1.0 / (r**alpha + 1.0)


def manifold_values(coef: np.ndarray, x: np.ndarray, alpha: float, spectrum: str = "numpy") -> np.ndarray:
    """g(x) = prod_d f_d(x_d) for coefficients (a, b, c) [3, E, D, F] (E embedding
    coordinates) at points x [S, D], each term weighted by :func:`spectrum_weights`
    (``spectrum``); returns float64 [S, E]."""
    a, b, c = (np.asarray(v, np.float64) for v in coef)
    x = np.asarray(x, np.float64)
    n_emb, dim, n_terms = a.shape
    i = np.arange(n_terms, dtype=np.float64)
    amp = a * spectrum_weights(n_terms, alpha, spectrum)  # [E, D, F]
    out = np.ones((x.shape[0], n_emb))
    rows = max(1, _BLOCK // (n_emb * n_terms))
    for d in range(dim):
        for s0 in range(0, x.shape[0], rows):
            xs = x[s0 : s0 + rows, d]
            phase = (i * b[:, d])[None] * xs[:, None, None] + c[:, d][None]  # [s, E, F]
            out[s0 : s0 + rows] *= np.einsum("ef,sef->se", amp[:, d], np.sin(2.0 * np.pi * phase))
    return out


def _standardize(g: np.ndarray) -> np.ndarray:
    lo, hi = g.min(axis=0, keepdims=True), g.max(axis=0, keepdims=True)
    return (g - lo) / (hi - lo + 1e-7)


def randman_spike_times(key: jax.Array, cfg: RandmanConfig, n_samples: int | None = None) -> np.ndarray:
    """Spike bins [C, S, n_spikes, n_units] (int) of a data set; ``key`` fixes manifolds and
    coordinates. S = ``n_samples`` (default ``cfg.n_samples``) per class."""
    _validate.prng_key(key)
    if not isinstance(cfg, RandmanConfig):
        raise TypeError(f"cfg must be a RandmanConfig, got {type(cfg).__name__}")
    s = cfg.n_samples if n_samples is None else _validate.positive_int(n_samples, "n_samples")
    k_coef, k_x = jax.random.split(key)
    coef = manifold_coefficients(k_coef, cfg)
    xs = np.asarray(jax.random.uniform(k_x, (cfg.n_classes * s * cfg.dim,), jnp.float32), np.float64)
    xs = xs.reshape(cfg.n_classes, s, cfg.dim)
    times = np.empty((cfg.n_classes, s, cfg.n_spikes, cfg.n_units), np.int32)
    for cl in range(cfg.n_classes):
        for sp in range(cfg.n_spikes):
            y = _standardize(manifold_values(coef[:, cl, sp], xs[cl], cfg.alpha, cfg.spectrum))
            times[cl, :, sp] = np.minimum(np.floor(y * cfg.n_used_steps), cfg.n_steps - 1)
    return times


def make_randman(
    key: jax.Array, cfg: RandmanConfig = RandmanConfig(), n_samples: int | None = None
) -> tuple[jax.Array, jax.Array]:
    """Draw a randman data set: (inputs [C*S, n_steps, n_units] float32, labels [C*S] int32).

    ``key`` fixes the manifolds and the coordinates (the whole data set); S = ``n_samples``
    (default ``cfg.n_samples``) per class. Samples are ordered by class; split with
    :func:`randman_splits` (the standardisation uses all samples drawn together).
    """
    times = randman_spike_times(key, cfg, n_samples)
    c, s = times.shape[:2]
    raster = np.zeros((c * s, cfg.n_steps, cfg.n_units), np.float32)
    flat = times.reshape(c * s, cfg.n_spikes, cfg.n_units)
    rows = np.repeat(np.arange(c * s), cfg.n_spikes * cfg.n_units)
    units = np.tile(np.arange(cfg.n_units), c * s * cfg.n_spikes)
    raster[rows, flat.reshape(-1), units] = 1.0
    labels = np.repeat(np.arange(c, dtype=np.int32), s)
    return jnp.asarray(raster), jnp.asarray(labels)


def randman_splits(
    key: jax.Array, cfg: RandmanConfig, fractions: tuple[float, ...] = (0.8, 0.1, 0.1)
) -> tuple[tuple[jax.Array, jax.Array], ...]:
    """One data set of ``cfg.n_samples`` per class, randomly split by ``fractions`` (summing
    to 1; the paper: 0.8 / 0.1 / 0.1 train / validation / test). Returns one (x, y) per
    fraction; the permutation comes from ``fold_in(key, 1)``."""
    fr = tuple(float(f) for f in fractions)
    if not fr or any(not 0.0 < f <= 1.0 for f in fr) or abs(sum(fr) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be numbers in (0, 1] summing to 1, got {fractions!r}")
    x, y = make_randman(key, cfg)
    n = len(y)
    perm = np.asarray(jax.random.permutation(jax.random.fold_in(key, 1), n))
    cuts = np.round(np.cumsum((0.0,) + fr) * n).astype(int)
    if np.any(np.diff(cuts) == 0):
        raise ValueError(f"a split of {n} samples by {fractions!r} is empty; draw more samples")
    return tuple((x[perm[a:b]], y[perm[a:b]]) for a, b in zip(cuts[:-1], cuts[1:], strict=True))


def train_valid_split(
    key: jax.Array, cfg: RandmanConfig, n_valid: int | None = None
) -> tuple[tuple[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """((x_train, y_train), (x_valid, y_valid)): ``cfg.n_samples`` training and ``n_valid``
    (default n_samples // 4) validation samples per class, drawn together (one
    standardisation) and split per class."""
    n_valid = max(1, cfg.n_samples // 4) if n_valid is None else _validate.positive_int(n_valid, "n_valid")
    s = cfg.n_samples + n_valid
    x, y = make_randman(key, cfg, n_samples=s)
    per_class = np.arange(len(y)) % s  # samples are ordered by class
    tr, va = np.flatnonzero(per_class < cfg.n_samples), np.flatnonzero(per_class >= cfg.n_samples)
    return (x[tr], y[tr]), (x[va], y[va])
