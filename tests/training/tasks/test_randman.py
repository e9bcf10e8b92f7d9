"""Random manifolds (analysis.training.tasks._randman): shapes, one spike per unit,
determinism, smoothness and class structure, bad configurations."""

import jax
import numpy as np
import pytest

from analysis.training.tasks import RandmanConfig, make_randman, train_valid_split


def test_randman_shapes_one_spike_per_unit_and_determinism():
    cfg = RandmanConfig(n_classes=4, n_units=12, n_steps=30, dim=2, n_samples=6)
    x, y = make_randman(jax.random.key(1), cfg)
    x2, y2 = make_randman(jax.random.key(1), cfg)
    assert x.shape == (24, 30, 12) and y.shape == (24,)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(x2))
    np.testing.assert_array_equal(np.bincount(np.asarray(y)), [6] * 4)
    np.testing.assert_array_equal(np.asarray(x.sum(axis=1)), 1.0)  # one spike per unit
    assert np.asarray(x)[:, 15:].sum() == 0  # step_frac = 0.5 keeps spikes in the first half
    x3, _ = make_randman(jax.random.key(2), cfg)
    assert not np.array_equal(np.asarray(x), np.asarray(x3))


def test_randman_smoothness_and_class_structure():
    """Nearby coordinates give nearby spike times (smooth manifold), and a class is a
    1-D curve: spike times of class 0 are a function of one coordinate."""
    from analysis.training.tasks._randman import _coefficients, manifold_values

    cfg = RandmanConfig(n_classes=2, n_units=5, dim=1, alpha=2.0)
    coef = _coefficients(jax.random.key(0), cfg)
    xs = np.linspace(0, 1, 2001, dtype=np.float32)[None, :, None].repeat(2, axis=0)
    g = np.asarray(manifold_values(coef, xs, cfg.alpha))
    slope = np.abs(np.diff(g, axis=1)).max() / (xs[0, 1, 0] - xs[0, 0, 0])
    # |g'| <= sum_k 2 pi k * k^-alpha (a, b < 1): a hard bound from the series definition
    bound = sum(2 * np.pi * k ** (1 - cfg.alpha) for k in range(1, cfg.n_basis + 1))
    assert 0 < slope <= bound
    (xt, yt), (xv, yv) = train_valid_split(jax.random.key(0), cfg)
    assert xt.shape[1:] == xv.shape[1:] and len(yv) == 2 * (cfg.n_samples // 4)


def test_randman_bad_config():
    with pytest.raises(ValueError, match="n_units"):
        RandmanConfig(n_units=0)
    with pytest.raises(ValueError, match="step_frac"):
        RandmanConfig(step_frac=1.5)
