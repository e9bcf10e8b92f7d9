"""Property tests of the neuron maths (issue 3): escape noise, surrogates, spike functions.

Hypothesis draws shapes, dtypes (float32/float64), beta in [1e-3, 1e6] and z up to 1e6.
References: scipy quadrature for densities, sympy for the surrogate factors c
(analysis.neuron.symbolic), analytic gradients for the custom rules.
"""

from itertools import pairwise

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate

from analysis import (
    ESCAPE_NOISE_NAMES,
    SURROGATE_NAMES,
    bernoulli_spike,
    bernoulli_spike_from_uniform,
    escape_noise,
    heaviside_spike,
    matched_surrogate,
    surrogate,
)

BETAS = st.floats(-3.0, 6.0).map(lambda e: float(10.0**e))
DTYPES = st.sampled_from([np.float32, np.float64])
# Surrogates without reflection symmetry psi(-z) = psi(z): the exponential forms.
ASYMMETRIC = {"exponential", "matched:exponential"}


@st.composite
def z_arrays(draw):
    dtype = draw(DTYPES)
    # A few fixed shapes: every new shape costs XLA compilations of the eager ops.
    shape = draw(st.sampled_from([(), (2, 3, 4)]))
    elems = st.floats(-1e6, 1e6, allow_nan=False, width=32)
    return draw(hnp.arrays(dtype, shape, elements=elems))


@given(z=z_arrays(), beta=BETAS, name=st.sampled_from(ESCAPE_NOISE_NAMES))
def test_escape_noise_finite_in_unit_interval(z, beta, name):
    f = escape_noise(name, beta)
    p, d = f.prob(z), f.deriv(z)
    for v in (p, d):
        assert v.shape == z.shape and v.dtype == z.dtype
        assert np.all(np.isfinite(v))
    assert np.all((p >= 0) & (p <= 1)) and np.all(d >= 0)


@given(z=z_arrays(), beta=BETAS, name=st.sampled_from(ESCAPE_NOISE_NAMES))
def test_escape_noise_monotone(z, beta, name):
    zs = np.sort(z.ravel())
    p = np.asarray(escape_noise(name, beta).prob(zs))
    assert np.all(np.diff(p) >= 0)


@given(z=z_arrays(), beta=BETAS, name=st.sampled_from(SURROGATE_NAMES))
def test_surrogates_finite_nonnegative(z, beta, name):
    psi = surrogate(name, beta)(z)
    assert psi.shape == z.shape and psi.dtype == z.dtype
    assert np.all(np.isfinite(psi)) and np.all(psi >= 0)


@given(z=z_arrays(), beta=BETAS, name=st.sampled_from([n for n in SURROGATE_NAMES if n not in ASYMMETRIC]))
def test_surrogates_symmetric(z, beta, name):
    psi = surrogate(name, beta)
    np.testing.assert_allclose(psi(-z), psi(z), rtol=1e-6 if z.dtype == np.float32 else 1e-13)


@given(z=st.floats(-50, 50), name=st.sampled_from([n for n in ESCAPE_NOISE_NAMES if n != "exponential"]))
def test_symmetric_noise_is_point_symmetric(z, name):
    """For symmetric threshold noise f(-z) = 1 - f(z)."""
    f = escape_noise(name, 1.3)
    assert abs(float(f.prob(-z)) - (1.0 - float(f.prob(z)))) < 1e-14


def _quad(fn, breaks):
    pts = sorted(set(breaks))
    edges = [-np.inf] + pts + [np.inf] if pts else [-np.inf, 0.0, np.inf]
    return sum(
        integrate.quad(lambda t: float(fn(t)), a, b, limit=200, epsabs=1e-12)[0] for a, b in pairwise(edges)
    )


@pytest.mark.parametrize("name", ESCAPE_NOISE_NAMES)
def test_escape_noise_density_integrates_to_one(name):
    f = escape_noise(name, 2.5, p0=0.4)
    breaks = [-0.4, 0.0, 0.4, float(-np.log(0.4) / 2.5)]
    assert abs(_quad(f.deriv, breaks) - 1.0) < 1e-8


@pytest.mark.parametrize("name", [n for n in SURROGATE_NAMES if n != "straight_through"])
def test_surrogate_integrates_to_sympy_factor(name):
    """integral of psi over R equals c (psi = c f'): c from analysis.neuron.symbolic, integral by scipy."""
    from analysis.neuron.symbolic import BETA, P0, surrogate_factor

    beta, p0 = 2.5, 0.4
    c = float(surrogate_factor(name).c.subs({BETA: beta, P0: p0}))
    breaks = [-0.4, 0.0, 0.4, float(-np.log(p0) / beta)]
    assert abs(_quad(surrogate(name, beta, p0=p0), breaks) - c) < 1e-8 * max(1.0, c)


def test_straight_through_is_not_a_density():
    from analysis.neuron.symbolic import surrogate_factor

    r = surrogate_factor("straight_through")
    assert r.c is None and r.family is None and "not a density" in r.note


@given(z=st.floats(-5, 5), beta=st.floats(0.1, 30), name=st.sampled_from(SURROGATE_NAMES))
def test_heaviside_custom_rule_invoked(z, beta, name):
    """grad of Theta(z) with surrogate psi is psi(z) (plain AD would give 0)."""
    psi = surrogate(name, beta)
    g = jax.grad(lambda t: heaviside_spike(t, psi))(z)
    assert float(g) == pytest.approx(float(psi(z)), rel=1e-12, abs=1e-300)
    assert float(heaviside_spike(z, psi)) == float(z > 0)


@given(z=st.floats(-3, 3), seed=st.integers(0, 2**16), name=st.sampled_from(ESCAPE_NOISE_NAMES))
def test_bernoulli_rule_matched_and_custom(z, seed, name):
    f = escape_noise(name, 2.0)
    key = jax.random.key(seed)
    g = jax.grad(lambda t: bernoulli_spike(key, t, f))(z)
    assert float(g) == pytest.approx(float(f.deriv(z)), rel=1e-12, abs=1e-300)
    psi = surrogate("superspike", 5.0)
    g2 = jax.grad(lambda t: bernoulli_spike(key, t, f, psi))(z)
    assert float(g2) == pytest.approx(float(psi(z)), rel=1e-12)


@pytest.mark.parametrize("shape", [(), (2, 3, 4)])
def test_spikes_under_jit_vmap_grad(shape):
    key = jax.random.key(0)
    z = jax.random.normal(key, shape)
    f, psi = escape_noise("sigmoid", 3.0), surrogate("arctan", 2.0)
    keys = jax.random.split(key, 2)

    @jax.jit
    def everything(z):
        s_det, s_sto = heaviside_spike(z, psi), bernoulli_spike(key, z, f)
        g_det = jax.grad(lambda t: heaviside_spike(t, psi).sum())(z)
        g_sto = jax.grad(lambda t: bernoulli_spike(key, t, f).sum())(z)
        vb = jax.vmap(lambda k, t: bernoulli_spike(k, t, f))(keys, jnp.stack([z, z + 1.0]))
        return s_det, s_sto, g_det, g_sto, vb

    s_det, s_sto, g_det, g_sto, vb = everything(z)
    assert s_det.shape == shape and s_sto.shape == shape and vb.shape == (2,) + shape
    assert set(np.unique(s_sto)).issubset({0.0, 1.0})
    np.testing.assert_array_equal(s_det, (z > 0).astype(z.dtype))
    np.testing.assert_allclose(g_det, psi(z), rtol=1e-12)
    np.testing.assert_allclose(g_sto, f.deriv(z), rtol=1e-12)
    np.testing.assert_array_equal(vb[1], bernoulli_spike(keys[1], z + 1.0, f))  # vmap == unbatched


def test_float32_preserved():
    z = jnp.linspace(-2, 2, 7, dtype=jnp.float32)
    f = escape_noise("probit", 4.0)
    assert heaviside_spike(z, matched_surrogate(f)).dtype == jnp.float32
    assert bernoulli_spike(jax.random.key(1), z, f).dtype == jnp.float32
    assert jax.grad(lambda t: bernoulli_spike(jax.random.key(1), t, f).sum())(z).dtype == jnp.float32


def test_lax_scan_gradient_matches_analytic():
    """sum_t S_t with z_t = a t - 1 inside lax.scan: d/da = sum_t psi(z_t) t (SG-BPTT)."""
    ts = jnp.arange(1.0, 9.0)
    f = escape_noise("sigmoid", 2.0)
    psi = matched_surrogate(f)
    keys = jax.random.split(jax.random.key(3), ts.shape[0])

    def total(a, stochastic):
        def step(c, inp):
            t, k = inp
            z = a * t - 1.0
            s = bernoulli_spike(k, z, f) if stochastic else heaviside_spike(z, psi)
            return c + s, s

        return jax.lax.scan(step, 0.0, (ts, keys))[0]

    a = 0.21
    expected = float(jnp.sum(psi(a * ts - 1.0) * ts))
    for stochastic in (False, True):
        assert float(jax.jit(jax.grad(total), static_argnums=1)(a, stochastic)) == pytest.approx(
            expected, rel=1e-12
        )


def test_coupled_uniforms_reproduce_bernoulli_spike():
    from analysis import spike_uniforms

    key, z = jax.random.key(5), jnp.linspace(-1, 1, 11)
    f = escape_noise("laplace", 3.0)
    u = spike_uniforms(key, z.shape, z.dtype)
    np.testing.assert_array_equal(bernoulli_spike(key, z, f), bernoulli_spike_from_uniform(z, u, f))
