"""Tests of analysis.fields._toy (sigmoid networks with forward beta, backward beta_SG); the
sign-flip / plateau claims of Gygax & Zenke 2025, sec. 5 are in tests/claims/."""

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.fields import _toy as tn
from analysis.fields._reference import five_weight_output_np, five_weight_sg_np
from tests.helpers import LAYOUTS


def _plain_loss(layout, theta, beta):
    """Independent smooth network: jax.nn.sigmoid and W @ a, no custom rule."""
    a = jnp.asarray(layout.x)
    for W in tn.unflatten(layout, theta):
        a = jax.nn.sigmoid(beta * (W @ a))
    return jnp.sum(a)


@pytest.mark.parametrize(
    "beta,beta_sg", [(3.0, 3.0), (10000.0, 5.0), (math.inf, 5.0), (20.0, 2.0), (1e6, 1.0)]
)
def test_five_weight_matches_handwritten_numpy(beta, beta_sg):
    th = np.random.default_rng(0).normal(size=(7, 5))
    got = np.asarray(jax.vmap(tn.sg_field(tn.FIVE_WEIGHT, beta, beta_sg))(jnp.asarray(th)))
    np.testing.assert_allclose(got, five_weight_sg_np(th, beta, beta_sg), rtol=1e-12, atol=1e-14)
    y = np.asarray(jax.vmap(lambda t: tn.network_loss(tn.FIVE_WEIGHT, t, beta, beta_sg))(jnp.asarray(th)))
    np.testing.assert_allclose(y, five_weight_output_np(th, beta), rtol=1e-12, atol=1e-300)


@partial(jax.jit, static_argnums=0)
def _plain_grads(layout, th, beta):
    return jax.vmap(jax.grad(_plain_loss, argnums=1), in_axes=(None, 0, None))(layout, th, beta)


@settings(max_examples=8)
@given(seed=st.integers(0, 10_000), which=st.integers(0, len(LAYOUTS) - 1), beta=st.floats(0.3, 8.0))
def test_exact_field_is_grad_of_plain_network(seed, which, beta):
    """Fixed layouts (compiled once; beta is traced), random parameters and beta."""
    from analysis.fields._numerics import on_grid

    layout = LAYOUTS[which]
    th = np.random.default_rng(seed).normal(size=(3, layout.n_params))
    got = np.asarray(on_grid(tn.exact_field(layout, beta), th))
    np.testing.assert_allclose(got, _plain_grads(layout, jnp.asarray(th), beta), rtol=1e-11, atol=1e-14)


def test_large_layout_uses_matrix_path_consistently():
    lay = tn.Layout((4, 8, 6, 1), tuple(np.linspace(-1, 1, 4)))
    assert lay.n_params > tn._UNROLL_MAX
    th = jax.random.normal(jax.random.key(3), (lay.n_params,))
    ref = jax.jit(jax.grad(lambda t: _plain_loss(lay, t, 2.0)))(th)
    np.testing.assert_allclose(jax.jit(tn.exact_field(lay, 2.0))(th), ref, rtol=1e-11, atol=1e-14)


def test_sg_jacobian_matches_finite_differences():
    """The SG field's Jacobian differentiates the forward activations truly (curl needs it)."""
    g = tn.sg_field(tn.FIVE_WEIGHT, 3.0, 1.0)
    th = np.array([0.2, 0.5, -0.4, 0.9, -0.7])
    J = np.asarray(jax.jit(jax.jacfwd(g))(jnp.asarray(th)))
    eps = 1e-6
    fd = np.stack(
        [
            (five_weight_sg_np(th + eps * e, 3.0, 1.0) - five_weight_sg_np(th - eps * e, 3.0, 1.0))
            / (2 * eps)
            for e in np.eye(5)
        ],
        axis=1,
    )
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-9)
    assert np.abs(J - J.T).max() > 1e-3  # an SG Jacobian is not symmetric


def test_stable_at_large_beta_and_heaviside_forward():
    from analysis.fields._numerics import on_grid

    th = np.random.default_rng(1).normal(size=(50, 5))
    for beta in (1e4, 1e6, math.inf):
        y = np.asarray(on_grid(tn.loss_fn(tn.FIVE_WEIGHT, beta, 5.0), th))
        g = np.asarray(on_grid(tn.sg_field(tn.FIVE_WEIGHT, beta, 5.0), th))
        assert np.isfinite(g).all() and np.isfinite(y).all()
    assert set(np.unique(y)) <= {0.0, 1.0}  # beta = inf: Heaviside forward


def test_bad_input():
    with pytest.raises(ValueError, match="beta"):
        tn.sg_field(tn.FIVE_WEIGHT, 0.0, 1.0)
    with pytest.raises(ValueError, match="beta_sg"):
        tn.sg_field(tn.FIVE_WEIGHT, 1.0, math.inf)
    with pytest.raises(ValueError, match="beta"):
        tn.sg_sigmoid(0.0, float("nan"), 1.0)
    with pytest.raises(ValueError, match="finite"):
        tn.exact_field(tn.FIVE_WEIGHT, math.inf)
    with pytest.raises(ValueError, match="x has"):
        tn.Layout((2, 1), (1.0,))
    with pytest.raises(ValueError, match="theta must have shape"):
        tn.forward(tn.FIVE_WEIGHT, jnp.zeros(4), 1.0)
    with pytest.raises(ValueError, match="sizes"):
        tn.layout_from_spec({"sizes": [2, 1]})
    with pytest.raises(TypeError, match="Layout"):
        tn.sg_field("five", 1.0, 1.0)


def test_derivative_rule_is_the_sigmoid_prime_surrogate():
    from analysis import surrogate

    z = jnp.linspace(-3.0, 3.0, 41)
    for beta, beta_sg in ((10000.0, 5.0), (2.0, 2.0)):
        d = jax.vmap(jax.grad(lambda v, b=beta, b_sg=beta_sg: tn.sg_sigmoid(v, b, b_sg)))(z)
        np.testing.assert_allclose(d, surrogate("sigmoid_prime", beta_sg)(z), rtol=1e-14, atol=1e-300)
