"""A public unbiasedness test of any gradient estimator against a reference.

:func:`check_unbiased` tests a user's estimator (any ``fn(key, params) -> gradient pytree``,
or given samples) against an exact gradient or a second estimator: per-coordinate two-sided
z tests, Holm (or Bonferroni) correction over coordinates at family-wise level ``alpha``;
the report names the coordinates that disagree.

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis.stochastic import check_unbiased
>>> est = lambda key, p: p + jax.random.normal(key, p.shape)  # unbiased for p
>>> check_unbiased(est, jnp.array([1.0, 2.0]), 2000, key=jax.random.key(0),
...                reference=jnp.array([1.0, 2.0])).passed
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from analysis import _validate
from analysis.stochastic._compare import coordinate_names, flatten


@dataclass
class UnbiasednessReport:
    """Outcome of :func:`check_unbiased`; ``disagreeing`` lists the rejected coordinates."""

    passed: bool
    alpha: float
    method: str
    n_coordinates: int
    min_p_value: float
    disagreeing: list = field(default_factory=list)

    def __str__(self):
        head = (
            f"{'unbiased' if self.passed else 'BIASED'}: {len(self.disagreeing)} of "
            f"{self.n_coordinates} coordinates reject at family-wise alpha={self.alpha} ({self.method})"
        )
        return "\n".join(
            [head]
            + [
                f"  {d['coordinate']}: mean {d['mean']:.4g} vs reference "
                f"{d['reference']:.4g} (z = {d['z']:.3g})"
                for d in self.disagreeing
            ]
        )


def _adjusted_reject(p: np.ndarray, alpha: float, method: str) -> np.ndarray:
    if method == "bonferroni":
        return p <= alpha / p.size
    order = np.argsort(p)  # Holm step-down: reject p_(i) <= alpha / (m - i) until the first failure
    thresh = alpha / (p.size - np.arange(p.size))
    ok = p[order] <= thresh
    n_rej = p.size if ok.all() else int(np.argmin(ok))
    reject = np.zeros(p.size, bool)
    reject[order[:n_rej]] = True
    return reject


def _draw(fn, key, params, n, vectorize):
    keys = jax.random.split(key, n)
    if vectorize:
        return flatten(jax.vmap(lambda k: fn(k, params))(keys), lead=1)
    return np.stack([flatten(fn(k, params)) for k in keys])


def check_unbiased(
    estimator: Callable | None,
    params: Any,
    n: int,
    *,
    key: jax.Array,
    reference: Any = None,
    other: Callable | None = None,
    alpha: float = 1e-3,
    method: str = "holm",
    atol: float = 1e-10,
    vectorize: bool = True,
    samples: Any = None,
) -> UnbiasednessReport:
    """Test H0: E[estimator(key, params)] equals ``reference`` (exact) or E[other(key, params)].

    Per coordinate a two-sided z test (|mean - ref| - atol) / SE with the sample SE (two-sample
    SE against ``other``, drawn with an independent key); the family-wise false-rejection
    rate is <= ``alpha`` under H0 (Holm 1979, or Bonferroni), up to the normal approximation
    of the mean (use n of a few thousand). ``samples`` (a pytree with leading axis n) may be
    given instead of drawing from ``estimator`` (which may then be None).
    """
    n = _validate.positive_int(n, "n")
    if (reference is None) == (other is None):
        raise ValueError("give exactly one of reference (exact gradient) or other (second estimator)")
    if method not in ("holm", "bonferroni"):
        raise ValueError(f"method must be 'holm' or 'bonferroni', got {method!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    k1, k2 = jax.random.split(key)
    g = flatten(samples, lead=1) if samples is not None else _draw(estimator, k1, params, n, vectorize)
    mean, var = g.mean(0), g.var(0, ddof=1) / n
    if other is not None:
        h = _draw(other, k2, params, n, vectorize)
        ref, var = h.mean(0), var + h.var(0, ddof=1) / n
        names = coordinate_names(
            jax.tree_util.tree_map(lambda v: v[0], samples) if samples is not None else estimator(k1, params)  # type: ignore[misc]  # given when samples is None
        )
    else:
        ref, names = flatten(reference), coordinate_names(reference)
    if ref.shape != mean.shape:
        raise ValueError(f"reference has {ref.size} coordinates but the estimator returns {mean.size}")
    gap = np.maximum(np.abs(mean - ref) - atol, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, gap / np.sqrt(var), np.where(gap > 0, np.inf, 0.0))
    from scipy import stats  # imported here: scipy.stats costs ~0.5 s at import time

    p = 2.0 * stats.norm.sf(z)
    rej = _adjusted_reject(p, alpha, method)
    bad = [
        {
            "coordinate": names[i],
            "mean": float(mean[i]),
            "reference": float(ref[i]),
            "z": float(z[i]),
            "p_value": float(p[i]),
        }
        for i in np.flatnonzero(rej)
    ]
    return UnbiasednessReport(not bad, alpha, method, int(p.size), float(p.min()), bad)
