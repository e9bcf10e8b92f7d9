"""Random manifolds (analysis.training.tasks._randman) as Zenke & Vogels (2021) define them:
shapes, one spike per unit, determinism, the number of terms, the vectorised series against
naive loops over the definition, statistical properties that follow from the definition
(mean 0 and a closed-form variance over random manifolds, for one and two manifold
dimensions, with and without offset), min-max standardised spike times, smoothness, splits,
bad configurations.

The statistical tests use fixed keys and 5-SE tolerances (normal approximation of the means
of 20 000 independent series: false-failure rate about 6e-7 per comparison).
"""

import dataclasses
import hashlib
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.training.tasks import RandmanConfig, make_randman, randman_splits
from analysis.training.tasks._randman import (
    manifold_coefficients,
    manifold_values,
    randman_spike_times,
    spectrum_weights,
    train_valid_split,
)


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


@pytest.mark.parametrize(
    ("alpha", "prec", "max_terms", "expected"),
    [
        (2.0, 1e-3, 1000, 32),
        (0.5, 1e-3, 1000, 1000),
        (1.0, 1e-3, 1000, 1000),
        (2.0, 1e-2, 1000, 10),
        (0.5, 1e-3, 50, 50),
    ],
)
def test_number_of_terms_is_the_cutoff_of_the_definition(alpha, prec, max_terms, expected):
    assert RandmanConfig(alpha=alpha, prec=prec, max_terms=max_terms).n_terms == expected


def _naive_values(coef, x, alpha):
    """prod_d sum_i a_i (i+1)^-alpha sin(2 pi (i b_i x_d + c_i)), with Python loops."""
    a, b, c = coef
    out = np.ones((x.shape[0], a.shape[0]))
    for s, m, d in itertools.product(range(x.shape[0]), range(a.shape[0]), range(a.shape[1])):
        f = sum(
            a[m, d, i] * (i + 1) ** (-alpha) * math.sin(2 * math.pi * (i * x[s, d] * b[m, d, i] + c[m, d, i]))
            for i in range(a.shape[2])
        )
        out[s, m] *= f
    return out


def test_vectorised_series_equals_naive_loops():
    rng = np.random.default_rng(0)
    coef = rng.random((3, 4, 2, 9))
    x = rng.random((6, 2))
    np.testing.assert_allclose(
        manifold_values(coef, x, 0.7), _naive_values(coef, x, 0.7), rtol=1e-12, atol=1e-14
    )


def _variance_1d(cfg):
    """Var f(x) over random (a, b, c): sum_i E[a^2] (i+1)^(-2 alpha) E[sin^2] = sum_i (1/6)(i+1)^(-2 alpha),
    i from 0 with offset, from 1 without (a_0 = 0); the mean is 0 since c ~ U(0, 1)."""
    i = np.arange(0 if cfg.offset else 1, cfg.n_terms)
    return float(np.sum((i + 1.0) ** (-2 * cfg.alpha)) / 6.0)


@pytest.mark.parametrize(("dim", "offset", "alpha"), [(1, False, 0.5), (1, True, 2.0), (2, False, 1.0)])
def test_random_manifolds_have_mean_zero_and_the_variance_of_the_definition(dim, offset, alpha):
    cfg = RandmanConfig(n_classes=1, n_units=20000, dim=dim, alpha=alpha, offset=offset, max_terms=200)
    coef = manifold_coefficients(jax.random.key(3), cfg)[:, 0, 0]  # [3, E, D, F]
    x = np.array([[0.13] * dim, [0.71] * dim])
    g = manifold_values(coef, x, alpha)  # [2, E]: E independent series per point
    var = _variance_1d(cfg) ** dim  # product of independent zero-mean factors
    n = g.shape[1]
    for row in g:
        assert abs(row.mean()) < 5 * math.sqrt(var / n)
        se_var = math.sqrt(max(np.mean((row**2 - var) ** 2), 1e-300) / n)
        assert abs(np.mean(row**2) - var) < 5 * se_var


def test_spike_times_are_min_max_standardised_per_class_and_unit():
    cfg = RandmanConfig(n_classes=3, n_units=10, n_steps=40, step_frac=0.5, n_samples=200, n_spikes=2)
    t = randman_spike_times(jax.random.key(4), cfg)  # [C, S, n_spikes, units]
    np.testing.assert_array_equal(t.min(axis=1), 0)
    np.testing.assert_array_equal(t.max(axis=1), 19)
    x, _ = make_randman(jax.random.key(4), cfg)
    counts = np.asarray(x.sum(axis=1))
    assert set(np.unique(counts)) <= {1.0, 2.0} and (counts == 2.0).mean() > 0.5  # two spikes per unit


def test_manifolds_are_smooth_curves():
    """|f'| <= sum_i 2 pi i (i+1)^-alpha (a, b < 1): a bound from the series definition."""
    cfg = RandmanConfig(n_classes=2, n_units=5, dim=1, alpha=2.0)
    coef = manifold_coefficients(jax.random.key(0), cfg)[:, 0, 0]
    xs = np.linspace(0, 1, 4001)[:, None]
    g = manifold_values(coef, xs, cfg.alpha)
    slope = np.abs(np.diff(g, axis=0)).max() / (xs[1, 0] - xs[0, 0])
    bound = sum(2 * np.pi * i * (i + 1) ** (-cfg.alpha) for i in range(cfg.n_terms))
    assert 0 < slope <= bound


def test_splits():
    cfg = RandmanConfig(n_classes=3, n_units=6, n_steps=12, n_samples=20)
    tr, va, te = randman_splits(jax.random.key(0), cfg)
    assert [len(s[1]) for s in (tr, va, te)] == [48, 6, 6]
    x, _ = make_randman(jax.random.key(0), cfg)
    rows = {r.tobytes() for r in np.asarray(x)}
    assert all(r.tobytes() in rows for s in (tr, va, te) for r in np.asarray(s[0]))
    (xt, yt), (xv, yv) = train_valid_split(jax.random.key(0), cfg)
    assert xt.shape[1:] == xv.shape[1:] and len(yt) == 60 and len(yv) == 3 * (cfg.n_samples // 4)
    with pytest.raises(ValueError, match="fractions"):
        randman_splits(jax.random.key(0), cfg, (0.5, 0.6))
    with pytest.raises(ValueError, match="empty"):
        randman_splits(jax.random.key(0), RandmanConfig(n_classes=1, n_units=2, n_samples=3), (0.9, 0.1))


def test_randman_bad_config():
    with pytest.raises(ValueError, match="n_units"):
        RandmanConfig(n_units=0)
    with pytest.raises(ValueError, match="step_frac"):
        RandmanConfig(step_frac=1.5)
    with pytest.raises(ValueError, match="prec"):
        RandmanConfig(prec=1.0)
    with pytest.raises(TypeError, match="offset"):
        RandmanConfig(offset=1)
    with pytest.raises(ValueError, match="unknown spectrum 'jax'"):
        RandmanConfig(spectrum="jax")
    with pytest.raises(ValueError, match="unknown spectrum"):
        spectrum_weights(3, 1.0, "Torch")


def test_torch_spectrum_equals_a_closed_form_of_three_terms():
    """spectrum="torch": f(x) = sum_i a_i / ((i + 1)^alpha + 1) sin(2 pi (i b_i x + c_i)),
    written out term by term for F = 3 (weights 1/(1 + 1), 1/(2^alpha + 1), 1/(3^alpha + 1))."""
    alpha = 0.5
    np.testing.assert_allclose(
        spectrum_weights(3, alpha, "torch"), [0.5, 1 / (math.sqrt(2) + 1), 1 / (math.sqrt(3) + 1)], rtol=1e-15
    )
    rng = np.random.default_rng(5)
    coef = rng.random((3, 2, 1, 3))  # [a, b, c] x 2 embedding coordinates x D = 1 x F = 3
    x = np.array([[0.0], [0.37], [0.9]])
    got = manifold_values(coef, x, alpha, "torch")
    for s, m in itertools.product(range(3), range(2)):
        (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = coef[:, m, 0]
        xs = x[s, 0]
        want = (
            a0 / 2.0 * math.sin(2 * math.pi * (0 * b0 * xs + c0))
            + a1 / (2**alpha + 1) * math.sin(2 * math.pi * (1 * b1 * xs + c1))
            + a2 / (3**alpha + 1) * math.sin(2 * math.pi * (2 * b2 * xs + c2))
        )
        assert got[s, m] == pytest.approx(want, rel=1e-13, abs=1e-15)
    # the numpy spectrum differs from it, as 1/(r^alpha) differs from 1/(r^alpha + 1)
    assert not np.allclose(manifold_values(coef, x, alpha, "numpy"), got)


def test_torch_spectrum_uses_the_same_draws():
    """Both spectra draw the same coefficients and coordinates: with the torch weights the
    spike times are those of the numpy evaluation with a = a_i w_torch,i / w_numpy,i."""
    cfg = RandmanConfig(n_classes=2, n_units=4, n_steps=40, n_samples=6, max_terms=40)
    torch_cfg = dataclasses.replace(cfg, spectrum="torch")
    t = randman_spike_times(jax.random.key(8), torch_cfg)
    k_coef, k_x = jax.random.split(jax.random.key(8))
    coef = manifold_coefficients(k_coef, cfg)
    ratio = spectrum_weights(cfg.n_terms, cfg.alpha, "torch") / spectrum_weights(cfg.n_terms, cfg.alpha)
    coef[0] *= ratio
    xs = np.asarray(jax.random.uniform(k_x, (2 * 6,), jnp.float32), np.float64).reshape(2, 6, 1)
    for cl in range(2):
        g = manifold_values(coef[:, cl, 0], xs[cl], cfg.alpha)
        y = (g - g.min(0)) / (g.max(0) - g.min(0) + 1e-7)
        np.testing.assert_array_equal(t[cl, :, 0], np.minimum(np.floor(y * 20.0), 39))
    assert not np.array_equal(t, randman_spike_times(jax.random.key(8), cfg))


def test_numpy_spectrum_is_bit_identical_to_the_output_before_the_option():
    """SHA-256 of the spike times of two data sets, recorded before ``spectrum`` existed, and
    manifold values equal bit for bit to today's expression a (i + 1)^-alpha."""
    cases = [
        (
            RandmanConfig(n_classes=3, n_units=8, n_steps=20, n_samples=5),
            "da44b42e12e87b4740b6528e9676a19e215f8e7439851fd6e277653fa7a7cf6d",
        ),
        (
            RandmanConfig(n_classes=2, n_units=5, n_steps=40, dim=2, alpha=0.5, n_spikes=2, n_samples=7),
            "8c835a614e89c328c1493a3e67e0679d4368cc71789921b71f5ddd629fc19b6d",
        ),
    ]
    for cfg, digest in cases:
        t = randman_spike_times(jax.random.key(3), cfg)
        assert hashlib.sha256(np.ascontiguousarray(t).tobytes()).hexdigest() == digest
    coef = manifold_coefficients(jax.random.key(4), cases[1][0])[:, 0, 0]
    x = np.linspace(0, 1, 7)[:, None].repeat(2, 1)
    a, b, c = coef
    i = np.arange(a.shape[-1], dtype=np.float64)
    amp = a * (i + 1.0) ** (-0.5)
    want = np.ones((7, a.shape[0]))
    for d in range(2):
        phase = (i * b[:, d])[None] * x[:, d][:, None, None] + c[:, d][None]
        want *= np.einsum("ef,sef->se", amp[:, d], np.sin(2.0 * np.pi * phase))
    np.testing.assert_array_equal(manifold_values(coef, x, 0.5), want)
