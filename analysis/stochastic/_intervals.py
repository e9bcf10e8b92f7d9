"""Confidence intervals for a Bernoulli probability from k successes in n trials.

Unlike the normal band ``k/n +- z SD``, these intervals always lie in [0, 1]. Wilson (1927):
the p with ``|k/n - p| <= z sqrt(p (1 - p) / n)``. Clopper & Pearson (1934), exact: the p
for which ``P(X >= k; p) >= alpha/2`` and ``P(X <= k; p) >= alpha/2``, from beta quantiles.
"""

from __future__ import annotations

import numpy as np

METHODS = ("wilson", "clopper_pearson")


def proportion_interval(k, n: int, *, level: float = 0.95, method: str = "wilson"):
    """Two-sided ``level`` confidence interval for p given ``k ~ Binomial(n, p)``.

    Args:
        k: successes, an integer or an integer array (each in 0..n).
        n: trials (>= 1), the same for every ``k``.
        level: confidence level in (0, 1).
        method: ``"wilson"`` (score interval) or ``"clopper_pearson"`` (exact, conservative).

    Returns:
        ``(lower, upper)``: float arrays of the shape of ``k``, with ``0 <= lower <= k/n <=
        upper <= 1``.

    Example:
        >>> lo, hi = proportion_interval(0, 20)
        >>> float(lo), round(float(hi), 4)
        (0.0, 0.1611)
    """
    from scipy import stats

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    k = np.asarray(k)
    if k.dtype.kind not in "iu" and not np.all(k == np.round(k)):
        raise ValueError("k must hold integers")
    if np.any(k < 0) or np.any(k > n):
        raise ValueError(f"k must lie in 0..n = 0..{n}")
    k = k.astype(float)
    alpha = 1.0 - level
    if method == "wilson":
        z = stats.norm.ppf(1 - alpha / 2)
        centre = (k + z**2 / 2) / (n + z**2)
        half = z / (n + z**2) * np.sqrt(k * (n - k) / n + z**2 / 4)
        # at k = 0 (k = n) the bound is 0 (1) exactly; set it so rounding cannot move it
        lower = np.where(k > 0, np.clip(centre - half, 0.0, k / n), 0.0)
        upper = np.where(k < n, np.clip(centre + half, k / n, 1.0), 1.0)
        return lower, upper
    with np.errstate(invalid="ignore"):
        lower = np.where(k > 0, stats.beta.ppf(alpha / 2, np.maximum(k, 1), n - k + 1), 0.0)
        upper = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, np.maximum(n - k, 1)), 1.0)
    return lower, upper
