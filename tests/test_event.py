"""Event-driven synaptic input (analysis.event) against the dense product."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.event import active_indices, event_matmul
from analysis.snn import SNNConfig, init_params, simulate
from analysis.snn_methods import Method


def test_active_indices_match_numpy_nonzero():
    s = np.random.default_rng(0).random((5, 17)) < 0.3
    idx, count = active_indices(jnp.asarray(s, jnp.float32), 17)
    for b in range(5):
        nz = np.nonzero(s[b])[0]
        assert int(count[b]) == len(nz)
        np.testing.assert_array_equal(np.asarray(idx[b, : len(nz)]), nz)
        assert np.all(np.asarray(idx[b, len(nz):]) == 17)


@pytest.mark.parametrize("budget", [0, 4, pytest.param(40, marks=pytest.mark.slow)])
def test_event_matmul_value_and_grads(budget):
    """Budget 4 overflows (dense fallback), 0 and 40 use the gather path; values need not
    be binary. Reference: the dense product and its gradients (float64, exact up to
    summation order)."""
    rng = np.random.default_rng(1)
    s = jnp.asarray((rng.random((6, 40)) < 0.15) * rng.normal(size=(6, 40)))
    w = jnp.asarray(rng.normal(size=(40, 9)))
    g = jnp.asarray(rng.normal(size=(6, 9)))
    y = event_matmul(s, w, budget)
    np.testing.assert_allclose(np.asarray(y), np.asarray(s @ w), rtol=1e-12, atol=1e-12)
    f_e = lambda s, w: jnp.sum(event_matmul(s, w, budget) * g)  # noqa: E731
    f_d = lambda s, w: jnp.sum((s @ w) * g)  # noqa: E731
    for a, b in zip(jax.grad(f_e, (0, 1))(s, w), jax.grad(f_d, (0, 1))(s, w)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)


def test_event_network_gradients_equal_dense_float32():
    kw = dict(n_in=30, hidden=(20,), n_out=4, recurrent=True)
    dense, event = SNNConfig(**kw), SNNConfig(**kw, event_driven=True)
    params = init_params(jax.random.key(0), dense, nu=60.0)
    x = jnp.asarray(np.random.default_rng(2).random((3, 30, 30)) < 0.1, jnp.float32)
    c = jnp.asarray(np.random.default_rng(3).normal(size=(3, 30, 4)), jnp.float32)

    def loss(p, cfg):
        r = simulate(p, x, cfg, Method("stochastic"), jax.random.key(3))
        return jnp.sum(r.output * c) + sum(jnp.sum(s) for s in r.spikes)

    grad = jax.jit(jax.grad(loss), static_argnums=1)
    gd, ge = grad(params, dense), grad(params, event)
    for a, b in zip(jax.tree_util.tree_leaves(gd), jax.tree_util.tree_leaves(ge)):
        assert a.dtype == jnp.float32
        scale = float(jnp.abs(a).max())
        assert scale > 0
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-5 * scale)


def test_event_driven_conv_rejected():
    with pytest.raises(ValueError, match="event_driven"):
        SNNConfig(n_in=8, hidden=(2,), connectivity="conv1d", kernel_size=3, event_driven=True)
