"""A user's psi as a surrogate (Surrogate.from_callable / surrogate(fn)): the same gradients as
the equivalent named surrogate (superspike, beta = 10: psi(z) = 1 / (1 + 10 |z|)^2) through
every consumer (spike rules, Method + simulate, stochastic Network + spike sources), hashing by
the function's identity (a static jit argument), and clear errors for bad functions.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis import Method, SNNConfig, init_params, simulate
from analysis.neuron import (
    Surrogate,
    as_surrogate,
    bernoulli_spike_from_uniform,
    escape_noise,
    heaviside_spike,
    surrogate,
)
from analysis.stochastic import Heaviside, Network, exact_sg_mean

BETA = 10.0
SUPERSPIKE = surrogate("superspike", BETA)


def user_psi(z):
    return 1.0 / (1.0 + BETA * jnp.abs(z)) ** 2


Z = jnp.linspace(-0.7, 0.9, 17)
WEIGHTS = jnp.cos(jnp.arange(17.0))


def test_callable_matches_superspike_pointwise_and_closed_form():
    z = np.linspace(-2.0, 2.0, 41)
    expected = 1.0 / (1.0 + BETA * np.abs(z)) ** 2  # closed form, NumPy
    np.testing.assert_allclose(np.asarray(surrogate(user_psi)(z)), expected, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(SUPERSPIKE(z)), expected, rtol=1e-14)


@pytest.mark.parametrize("wrap", [lambda f: f, surrogate, lambda f: Surrogate.from_callable(f, name="mine")])
def test_heaviside_gradient_with_callable_equals_named(wrap):
    loss = lambda psi: lambda z: jnp.sum(WEIGHTS * heaviside_spike(z, psi))
    g_user = jax.grad(loss(wrap(user_psi)))(Z)
    g_named = jax.grad(loss(SUPERSPIKE))(Z)
    np.testing.assert_allclose(g_user, g_named, rtol=0, atol=1e-7)
    np.testing.assert_allclose(g_user, WEIGHTS * (1.0 / (1.0 + BETA * np.abs(Z)) ** 2), atol=1e-12)


def test_bernoulli_gradient_with_callable_equals_named():
    f = escape_noise("sigmoid", 4.0)
    u = jax.random.uniform(jax.random.key(3), Z.shape, Z.dtype)
    loss = lambda psi: lambda z: jnp.sum(WEIGHTS * bernoulli_spike_from_uniform(z, u, f, psi))
    s_user = bernoulli_spike_from_uniform(Z, u, f, user_psi)
    np.testing.assert_array_equal(s_user, bernoulli_spike_from_uniform(Z, u, f, SUPERSPIKE))
    np.testing.assert_allclose(jax.grad(loss(user_psi))(Z), jax.grad(loss(SUPERSPIKE))(Z), atol=1e-7)


@pytest.mark.parametrize("name", ["deterministic", "stochastic"])
def test_method_with_callable_gives_named_gradients_in_simulate(name):
    cfg = SNNConfig(n_in=6, hidden=(5,), n_out=2)
    params = init_params(jax.random.key(0), cfg, nu=50.0, sigma_u=2.0, dtype=jnp.float64)
    x = (jax.random.uniform(jax.random.key(1), (2, 15, 6)) < 0.3).astype(jnp.float64)

    def grads(psi):
        meth = Method(name, surrogate=psi)
        loss = lambda p: jnp.sum(simulate(p, x, cfg, meth, key=jax.random.key(2)).output ** 2)
        return jax.grad(loss)(params)

    g_user, g_named = grads(user_psi), grads(SUPERSPIKE)
    for a, b in zip(jax.tree_util.tree_leaves(g_user), jax.tree_util.tree_leaves(g_named), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)
    assert any(float(jnp.abs(a).max()) > 1e-3 for a in jax.tree_util.tree_leaves(g_user))


def test_stochastic_network_with_callable_equals_named():
    """Exact SG mean (enumeration over all spike patterns) with a user psi = with superspike."""
    kw = dict(kind="feedforward", sizes=(2, 2, 1), noise=escape_noise("sigmoid", 2.0))
    params = (jnp.array([[0.9, -0.4], [0.3, 1.2]]), jnp.array([[1.1, -0.7]]))
    x = jnp.array([0.8, 0.5])
    g_user = exact_sg_mean(Network(**kw, surrogate=user_psi), params, x)
    g_named = exact_sg_mean(Network(**kw, surrogate=SUPERSPIKE), params, x)
    for a, b in zip(jax.tree_util.tree_leaves(g_user), jax.tree_util.tree_leaves(g_named), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7)
    z = jnp.array([-0.1, 0.0, 0.2])
    for psi in (user_psi, surrogate(user_psi)):  # spike sources take either
        src = Heaviside({"s": (1, 3)}, surrogate=psi)
        g = jax.grad(lambda z, src=src: jnp.sum(src.bernoulli("s", jax.nn.sigmoid(z), 0, z=z)))(z)
        np.testing.assert_allclose(g, SUPERSPIKE(z), atol=1e-12)


def test_callable_surrogate_hashes_by_identity_and_is_a_static_argument():
    a, b = surrogate(user_psi), Surrogate.from_callable(user_psi, name="custom")
    assert a == b and hash(a) == hash(b) and Method(surrogate=user_psi) == Method(surrogate=a)
    assert a != surrogate(lambda z: user_psi(z)) and a != SUPERSPIKE
    traces = []

    def g(z, psi):
        traces.append(1)
        return jax.grad(lambda z: jnp.sum(heaviside_spike(z, psi)))(z)

    jg = jax.jit(g, static_argnums=1)
    jg(Z, surrogate(user_psi))
    jg(Z, surrogate(user_psi))  # a new wrapper of the same function: cache hit
    assert len(traces) == 1
    assert a.matched_noise is None and a.name == "custom"


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda: Surrogate.from_callable(3.0), TypeError, r"surrogate fn must be callable"),
        (lambda: Method(surrogate="superspike"), TypeError, r"must be a Surrogate or None, or a callable"),
        (lambda: heaviside_spike(0.0, escape_noise("sigmoid", 1)), TypeError, r"matched_surrogate\(noise\)"),
        (lambda: surrogate(lambda z: jnp.sum(z)), ValueError, r"shape of z .* it returned \(\)"),
        (lambda: surrogate(lambda z: z[0]), ValueError, r"for z of shape \(3, 2\) it returned \(2,\)"),
        (lambda: surrogate(lambda z: z > 0), ValueError, r"must return floating values, got dtype bool"),
        (lambda: surrogate(lambda z, w: z * w), ValueError, r"failed on a float32 array of shape \(3, 2\)"),
        (lambda: surrogate(user_psi, beta=2.0), ValueError, r"fold them into fn"),
        (lambda: Surrogate.from_callable(user_psi, name="arctan"), ValueError, r"is a registry name"),
        (lambda: Surrogate.from_callable(user_psi, name=""), TypeError, r"non-empty str"),
        (lambda: as_surrogate(None), TypeError, r"surrogate must be a Surrogate, or a callable"),
    ],
)
def test_bad_callables_are_refused(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_shape_checked_on_every_call():
    """A function that passes the (3, 2) probe but breaks on another shape is caught at the call."""
    psi = surrogate(lambda z: jnp.ones((3, 2)) if z.shape == (3, 2) else jnp.ones(1))
    with pytest.raises(ValueError, match=r"for z of shape \(5,\) it returned \(1,\)"):
        jax.grad(lambda z: jnp.sum(heaviside_spike(z, psi)))(jnp.zeros(5))
