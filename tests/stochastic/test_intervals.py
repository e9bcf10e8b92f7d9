"""analysis.stochastic.proportion_interval: inside [0, 1] and equal to the interval found
by scanning p on a fine grid with the defining inequality (Wilson) or binomial tail
probabilities (Clopper-Pearson)."""

import numpy as np
import pytest
from scipy import stats

from analysis.stochastic import proportion_interval


def _scan(k, n, level, method):
    """Smallest and largest p on a grid of 200001 points accepted by the interval's
    defining test (no closed form used)."""
    p = np.linspace(0.0, 1.0, 200_001)
    a = 1 - level
    if method == "wilson":
        z = stats.norm.ppf(1 - a / 2)
        ok = np.abs(k / n - p) <= z * np.sqrt(p * (1 - p) / n)
    else:
        ok = (stats.binom.sf(k - 1, n, p) >= a / 2) & (stats.binom.cdf(k, n, p) >= a / 2)
    return p[ok].min(), p[ok].max()


@pytest.mark.parametrize("method", ["wilson", "clopper_pearson"])
@pytest.mark.parametrize("n", [1, 7, 40, 400])
def test_interval_in_unit_range_and_matches_scan(method, n):
    k = np.unique(np.linspace(0, n, 9).round().astype(int))
    lo, hi = proportion_interval(k, n, level=0.9, method=method)
    assert np.all((0 <= lo) & (lo <= k / n) & (k / n <= hi) & (hi <= 1))
    for ki, l, h in zip(k, lo, hi, strict=True):
        sl, sh = _scan(int(ki), n, 0.9, method)
        assert abs(l - sl) < 2e-5 and abs(h - sh) < 2e-5


def test_interval_shape_and_bad_input():
    lo, hi = proportion_interval(np.array([[0, 3], [5, 10]]), 10)
    assert lo.shape == hi.shape == (2, 2) and lo[0, 0] == 0 and hi[1, 1] == 1
    for kw, msg in (
        (dict(k=11, n=10), "k must lie"),
        (dict(k=1, n=0), "n must be"),
        (dict(k=1, n=10, level=1.0), "level"),
        (dict(k=1, n=10, method="wald"), "method"),
        (dict(k=0.5, n=10), "integers"),
    ):
        with pytest.raises(ValueError, match=msg):
            proportion_interval(**kw)
