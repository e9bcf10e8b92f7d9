"""The full estimator set on user programs: coupled_flip_sub, score_loo, sg_deterministic,
sg_stochastic / linearised, against exact enumeration and the training path of analysis.snn.

Statistical tests use fixed keys and ``check_unbiased`` at family-wise alpha = 1e-3 (Holm over
the coordinates): each "passes" assertion has a false-failure rate <= 1e-3 under the normal
approximation of the mean (and is deterministic once it has passed, the keys being fixed).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.neuron import escape_noise
from analysis.snn import init_params, method
from analysis.stochastic import (
    check_unbiased,
    draw_site_uniforms,
    program_estimate,
    program_estimate_from_uniforms,
    program_value_and_grad,
    snn_program,
    snn_sites,
)
from tests.helpers import tiny_recurrent_snn_config

# ---------------------------------------------------------------- a non-spiking program

WALK_T = 6
WALK_SITES = {"step": (WALK_T,), "stop": (1,)}  # K = 7


def walk(params, x, src):
    """A random walk whose step probability depends on its position (lax.scan), then a coin
    whose probability depends on the end point; a nonlinear loss of the path."""

    def step(pos, t):
        s = src.bernoulli("step", jax.nn.sigmoid(params["a"] * pos + params["b"] * x[t]), t)
        new = pos + 2.0 * s - 1.0
        return new, new

    end, path = jax.lax.scan(step, jnp.zeros(()), jnp.arange(WALK_T))
    c = src.bernoulli("stop", jax.nn.sigmoid(params["c"] * end - 0.3), 0)
    return jnp.sin(end) + 0.3 * jnp.sum(path**2) / WALK_T + 1.5 * c * end


@pytest.fixture(scope="module")
def walk_case():
    params = {"a": jnp.asarray(0.7), "b": jnp.asarray(1.2), "c": jnp.asarray(-0.8)}
    x = jnp.asarray(np.random.default_rng(4).normal(size=WALK_T))
    return params, x, program_value_and_grad(walk, WALK_SITES, params, x)[1]


# ---------------------------------------------------------------- a tiny recurrent LIF network

SNN_T = 4  # K = 3 T = 12
SNN_CFG = tiny_recurrent_snn_config()
SNN_METHOD = method(
    "stochastic", hidden_noise=escape_noise("sigmoid", 5.0), output_noise=escape_noise("sigmoid", 5.0)
)
SNN_X = jnp.asarray(np.random.default_rng(2).random((1, SNN_T, 2)) < 0.6, jnp.float64)


def _snn_loss(res, inputs):
    h = res.spikes[0][0]
    return (jnp.sum(res.output) - 1.0) ** 2 + 0.5 * jnp.sum(h[:, 0] * h[:, 1])


@pytest.fixture(scope="module")
def snn_case():
    params = init_params(jax.random.key(3), SNN_CFG, nu=200.0, recurrent_fraction=0.5, dtype=jnp.float64)
    program = snn_program(SNN_CFG, SNN_METHOD, _snn_loss)
    sites = snn_sites(SNN_CFG, 1, SNN_T)
    return params, program, sites, program_value_and_grad(program, sites, params, SNN_X)[1]


N_SAMPLES = 4000


def _check(name, key, program, sites, params, inputs, exact, **kw):
    g = jax.jit(lambda k, p: program_estimate(name, k, program, sites, p, inputs, N_SAMPLES, **kw))(
        key, params
    )
    return check_unbiased(None, jax.random.key(0), params, N_SAMPLES, reference=exact, samples=g)


@pytest.mark.parametrize(
    "name,kw", [("coupled_flip_sub", {"n_flips": 2}), ("coupled_flip_sub", {"n_flips": 9})]
)
def test_unbiased_on_random_walk(walk_case, name, kw):
    params, x, exact = walk_case
    report = _check(name, jax.random.key(31), walk, WALK_SITES, params, x, exact, **kw)
    assert report.passed, str(report)


@pytest.mark.parametrize("name,kw", [("coupled_flip_sub", {"n_flips": 3})])
def test_unbiased_on_recurrent_lif(snn_case, name, kw):
    params, program, sites, exact = snn_case
    assert max(float(np.abs(np.asarray(a)).max()) for a in jax.tree_util.tree_leaves(exact)) > 1e-3
    report = _check(name, jax.random.key(32), program, sites, params, SNN_X, exact, **kw)
    assert report.passed, str(report)


def test_coupled_flip_sub_is_conditionally_unbiased_for_coupled_flip(walk_case):
    """For fixed spike uniforms, the mean over flip draws is the coupled_flip estimate of the
    same sample (E_q[c_k e_k / q_k] = c). Tolerance 5 SE per coordinate over 3 params:
    false-failure rate <= 3 * 5.7e-7 (normal approximation)."""
    params, x, _ = walk_case
    n = 20000
    u1 = draw_site_uniforms(jax.random.key(5), WALK_SITES, 1)
    u = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n,) + a.shape[1:]), u1)
    sub = jax.jit(
        lambda p: program_estimate_from_uniforms(
            "coupled_flip_sub", walk, WALK_SITES, p, x, u, n_flips=2, flip_key=jax.random.key(6)
        )
    )(params)
    full = program_estimate_from_uniforms("coupled_flip", walk, WALK_SITES, params, x, u1)
    for k in params:
        s = np.asarray(sub[k])
        assert s.std() > 0  # the flip draws vary
        se = s.std(ddof=1) / np.sqrt(n)
        assert abs(s.mean() - float(full[k][0])) < 5.0 * se, (k, s.mean(), float(full[k][0]), se)


def test_coupled_flip_sub_flips_do_not_change_the_spikes(walk_case):
    """Same key: the score estimator is unchanged whatever n_flips (the flip uniforms come
    from fold_in of the key), and program_estimate equals program_estimate_from_uniforms
    with flip_key = key."""
    params, x, _ = walk_case
    key = jax.random.key(8)
    a = program_estimate("coupled_flip_sub", key, walk, WALK_SITES, params, x, 5, n_flips=3)
    u = draw_site_uniforms(key, WALK_SITES, 5)
    b = program_estimate_from_uniforms(
        "coupled_flip_sub", walk, WALK_SITES, params, x, u, n_flips=3, flip_key=key
    )
    for k in params:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]))
    s1 = program_estimate("score", key, walk, WALK_SITES, params, x, 5, n_flips=1)
    s2 = program_estimate("score", key, walk, WALK_SITES, params, x, 5, n_flips=7)
    np.testing.assert_array_equal(np.asarray(s1["a"]), np.asarray(s2["a"]))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_n_flips(walk_case, bad):
    params, x, _ = walk_case
    with pytest.raises((ValueError, TypeError), match="n_flips"):
        program_estimate("coupled_flip_sub", jax.random.key(0), walk, WALK_SITES, params, x, 2, n_flips=bad)


def test_coupled_flip_sub_from_uniforms_needs_flip_key(walk_case):
    params, x, _ = walk_case
    u = draw_site_uniforms(jax.random.key(0), WALK_SITES, 2)
    with pytest.raises(ValueError, match="flip_key"):
        program_estimate_from_uniforms("coupled_flip_sub", walk, WALK_SITES, params, x, u)
