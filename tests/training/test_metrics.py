"""Spike-train metrics against naive loop implementations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.training import _metrics as metrics


def _rand_raster(seed, shape, p=0.2):
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float64)


def _naive_van_rossum(a, b, tau, dt):
    """Double loop over neurons and time of the discrete exponential filter."""
    t_len, n = a.shape
    lam = np.exp(-dt / tau)
    total = 0.0
    for j in range(n):
        y = 0.0
        for t in range(t_len):
            y = lam * y + (a[t, j] - b[t, j])
            total += y * y
    return np.sqrt(total * dt / tau)


@pytest.mark.parametrize("tau,dt", [(10.0, 1.0), (3.0, 0.5), (0.7, 1.0)])
def test_van_rossum_matches_naive_loop(tau, dt):
    a, b = _rand_raster(0, (4, 40, 6)), _rand_raster(1, (4, 40, 6))
    got = np.asarray(metrics.van_rossum_distance(a, b, tau, dt))
    ref = [_naive_van_rossum(a[i], b[i], tau, dt) for i in range(4)]
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(metrics.van_rossum_loss(a, b, tau, dt)), np.square(ref), rtol=1e-12)


def test_van_rossum_single_spike_closed_form_and_gradient():
    # one spike, long train: D^2 -> (1/tau) sum_t lam^(2t) dt = 1/(tau (1 - lam^2)) (dt = 1)
    a = np.zeros((400, 1))
    a[0, 0] = 1
    tau = 5.0
    lam = np.exp(-1 / tau)
    d2 = float(metrics.van_rossum_loss(a, np.zeros_like(a), tau))
    assert d2 == pytest.approx(1 / (tau * (1 - lam**2)), rel=1e-12)
    g = jax.grad(lambda x: metrics.van_rossum_loss(x, jnp.zeros_like(x), tau))(jnp.asarray(a))
    assert np.isfinite(np.asarray(g)).all() and float(g[0, 0]) > 0


def test_l2_rates_counts():
    a, b = _rand_raster(2, (30, 5)), _rand_raster(3, (30, 5))
    assert float(metrics.l2_spike_distance(a, b)) == pytest.approx(np.sqrt(np.sum((a - b) ** 2)))
    rates = np.asarray(metrics.firing_rates(a, dt=1e-3))
    np.testing.assert_allclose(rates, a.sum(0) / 0.030)


def test_fano_factor_naive_and_deterministic_zero():
    trials = _rand_raster(4, (12, 50, 7), p=0.3)
    counts = trials.sum(axis=1)
    ref = [np.var(counts[:, j], ddof=1) / np.mean(counts[:, j]) for j in range(7)]
    np.testing.assert_allclose(np.asarray(metrics.fano_factor(trials)), ref, rtol=1e-12)
    same = np.repeat(trials[:1], 5, axis=0)
    assert float(metrics.mean_fano_factor(same)) == 0.0
    silent = np.zeros((3, 10, 2))
    assert np.isnan(np.asarray(metrics.fano_factor(silent))).all()
    with pytest.raises(ValueError, match="2 trials"):
        metrics.fano_factor(trials[:1])


def test_fano_factor_of_bernoulli_trains_close_to_one_minus_p():
    # count ~ Binomial(T, p): Fano = 1 - p. With 400 trials x 50 neurons, the SE of the
    # mean Fano over neurons ~ sqrt(2/399)(1-p)/sqrt(50) ~ 0.009; k = 5 (false-failure < 1e-6).
    p = 0.2
    x = (np.random.default_rng(0).random((400, 100, 50)) < p).astype(np.float64)
    assert abs(float(metrics.mean_fano_factor(x)) - (1 - p)) < 5 * 0.009


def test_isi_and_cv_vs_naive():
    s = _rand_raster(5, (200, 9), p=0.1)
    s[:, 0] = 0  # silent neuron -> NaN
    s[:, 1] = 0
    s[[3, 50], 1] = 1  # one ISI only -> NaN
    got = metrics.isi_cv(s)
    for j in range(9):
        isi = metrics.interspike_intervals(s[:, j])
        ref_isi = np.diff([t for t in range(200) if s[t, j] > 0])
        np.testing.assert_array_equal(isi, ref_isi)
        if len(isi) < 2:
            assert np.isnan(got[j])
        else:
            assert got[j] == pytest.approx(np.std(isi) / np.mean(isi), rel=1e-12)
    regular = np.zeros((100, 1))
    regular[::10] = 1
    assert metrics.isi_cv(regular)[0] == 0.0


def test_metrics_bad_shapes():
    with pytest.raises(ValueError, match="must match"):
        metrics.van_rossum_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"\[\.\.\., T, N\]"):
        metrics.l2_spike_distance(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="tau"):
        metrics.van_rossum_distance(np.zeros((5, 2)), np.zeros((5, 2)), tau=0.0)
    with pytest.raises(ValueError, match=r"\[T, N\]"):
        metrics.isi_cv(np.zeros(4))
