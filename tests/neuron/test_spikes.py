"""Spike functions (analysis.neuron._spikes): the custom derivative rules of the Heaviside and
Bernoulli spikes (surrogate or matched escape-noise density) under grad, jit, vmap and
lax.scan, dtypes kept, coupled uniforms, second-order behaviour, and bad input named.

References: analytic gradients for the custom rules; the sec. 5 toy y = Theta(v Theta(w x))
of Gygax & Zenke 2025 for the SG field's Jacobian.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.neuron import (
    ESCAPE_NOISE_NAMES,
    SURROGATE_NAMES,
    bernoulli_spike,
    bernoulli_spike_from_uniform,
    escape_noise,
    heaviside_spike,
    matched_surrogate,
    surrogate,
)


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
    from analysis.neuron import spike_uniforms

    key, z = jax.random.key(5), jnp.linspace(-1, 1, 11)
    f = escape_noise("laplace", 3.0)
    u = spike_uniforms(key, z.shape, z.dtype)
    np.testing.assert_array_equal(bernoulli_spike(key, z, f), bernoulli_spike_from_uniform(z, u, f))


def test_sg_field_jacobian_of_two_spike_toy_matches_closed_form():
    """Second order: the SG field's Jacobian differentiates the forward spikes exactly
    (Gygax & Zenke 2025, sec. 5 toy: y = Theta(v Theta(w x)))."""
    psi = surrogate("sigmoid_prime", 2.0)
    x = 1.0

    def y(p):
        w, v = p
        return heaviside_spike(v * heaviside_spike(w * x, psi), psi)

    w, v = 0.3, 0.2
    jac = jax.jacfwd(jax.grad(y))(jnp.array([w, v]))
    # g_w = psi(v Theta(wx)) v psi(wx) x and g_v = psi(v Theta(wx)) Theta(wx); Theta(wx) = 1 here.
    dpsi = jax.grad(psi)
    dgw_dv = (dpsi(v) * v + psi(v)) * psi(w * x) * x
    assert jnp.allclose(jac[1, 0], 0.0, atol=1e-15)  # d g_v / d w = 0 (Theta' = 0 a.e.)
    assert jnp.allclose(jac[0, 1], dgw_dv, rtol=1e-12)
    assert abs(jac[0, 1] - jac[1, 0]) > 0.1  # the field has curl


def test_mismatched_shapes():
    f = escape_noise("sigmoid", 1.0)
    with pytest.raises(ValueError, match=r"z has shape \(3,\) but u has shape \(4,\)"):
        bernoulli_spike_from_uniform(jnp.zeros(3), jnp.zeros(4), f)


def test_wrong_types_are_named():
    f = escape_noise("sigmoid", 1.0)
    with pytest.raises(TypeError, match="surrogate must be a Surrogate"):
        heaviside_spike(0.0, f)
    with pytest.raises(TypeError, match="noise must be an EscapeNoise"):
        bernoulli_spike(jax.random.key(0), 0.0, surrogate("arctan"))
