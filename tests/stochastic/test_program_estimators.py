"""The full estimator set on user programs: coupled_flip_sub, score_loo, sg_deterministic,
sg_stochastic / linearised, against exact enumeration and the training path of analysis.snn
(their unbiasedness on a recurrent LIF network: tests/stochastic/test_estimators.py).

Statistical tests use fixed keys and ``check_unbiased`` at family-wise alpha = 1e-3 (Holm over
the coordinates): each "passes" assertion has a false-failure rate <= 1e-3 under the normal
approximation of the mean (and is deterministic once it has passed, the keys being fixed).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.neuron import escape_noise
from analysis.snn import init_params, method, simulate
from analysis.stochastic import (
    ESTIMATORS,
    UNBIASED,
    Bernoulli,
    Heaviside,
    Program,
    check_unbiased,
    estimate,
    estimator_memory,
    exact_value_and_grad,
    log_prob_and_loss,
    snn_program,
    snn_uniforms,
    trace_program,
)
from analysis.stochastic._estimators import estimate_from_uniforms
from tests.helpers import tiny_recurrent_snn_config

# ---------------------------------------------------------------- a non-spiking program

WALK_T = 6
WALK_SITES = {"step": (WALK_T,), "stop": (1,)}  # K = 7


def walk(params, x, src):
    """A random walk whose step probability depends on its position (lax.scan), then a coin
    whose probability depends on the end point; a nonlinear loss of the path."""

    def step(pos, t):
        z = params["a"] * pos + params["b"] * x[t]
        s = src.bernoulli("step", jax.nn.sigmoid(z), t, z=z)
        new = pos + 2.0 * s - 1.0
        return new, new

    end, path = jax.lax.scan(step, jnp.zeros(()), jnp.arange(WALK_T))
    z = params["c"] * end - 0.3
    c = src.bernoulli("stop", jax.nn.sigmoid(z), 0, z=z)
    return jnp.sin(end) + 0.3 * jnp.sum(path**2) / WALK_T + 1.5 * c * end


WALK = Program(walk, WALK_SITES)


@pytest.fixture(scope="module")
def walk_case():
    params = {"a": jnp.asarray(0.7), "b": jnp.asarray(1.2), "c": jnp.asarray(-0.8)}
    x = jnp.asarray(np.random.default_rng(4).normal(size=WALK_T))
    return params, x, exact_value_and_grad(WALK, params, x)[1]


# ---------------------------------------------------------------- a tiny recurrent LIF network

SNN_T = 5  # K = 3 T = 15
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
    program = snn_program(SNN_CFG, SNN_METHOD, _snn_loss, 1, SNN_T)
    return params, program


N_SAMPLES = 4000


def _check(name, key, program, params, inputs, exact, **kw):
    g = jax.jit(lambda k, p: estimate(name, program, p, inputs, N_SAMPLES, key=k, **kw))(key, params)
    return check_unbiased(None, params, N_SAMPLES, key=jax.random.key(0), reference=exact, samples=g)


@pytest.mark.parametrize(
    "name,kw",
    [("coupled_flip_sub", {"n_flips": 2}), ("coupled_flip_sub", {"n_flips": 9}), ("score_loo", {})],
)
def test_unbiased_on_random_walk(walk_case, name, kw):
    params, x, exact = walk_case
    report = _check(name, jax.random.key(31), WALK, params, x, exact, **kw)
    assert report.passed, str(report)


def test_coupled_flip_sub_is_conditionally_unbiased_for_coupled_flip(walk_case):
    """For fixed spike uniforms, the mean over flip draws is the coupled_flip estimate of the
    same sample (E_q[c_k e_k / q_k] = c). Tolerance 5 SE per coordinate over 3 params:
    false-failure rate <= 3 * 5.7e-7 (normal approximation)."""
    params, x, _ = walk_case
    n = 20000
    u1 = WALK.draw_uniforms(jax.random.key(5), 1)
    u = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n,) + a.shape[1:]), u1)
    sub = jax.jit(
        lambda p: estimate_from_uniforms(
            "coupled_flip_sub", WALK, p, x, u, n_flips=2, flip_key=jax.random.key(6)
        )
    )(params)
    full = estimate_from_uniforms("coupled_flip", WALK, params, x, u1)
    for k in params:
        s = np.asarray(sub[k])
        assert s.std() > 0  # the flip draws vary
        se = s.std(ddof=1) / np.sqrt(n)
        assert abs(s.mean() - float(full[k][0])) < 5.0 * se, (k, s.mean(), float(full[k][0]), se)


def test_coupled_flip_sub_flips_do_not_change_the_spikes(walk_case):
    """estimate with a key equals estimate_from_uniforms with the spike uniforms
    program.draw_uniforms(key) (the same as every other estimator's) and flip_key = key: the
    flip-index uniforms come from fold_in of the key and leave the spikes alone."""
    params, x, _ = walk_case
    key = jax.random.key(8)
    a = estimate("coupled_flip_sub", WALK, params, x, 5, key=key, n_flips=3)
    u = WALK.draw_uniforms(key, 5)
    b = estimate_from_uniforms("coupled_flip_sub", WALK, params, x, u, n_flips=3, flip_key=key)
    for k in params:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_n_flips(walk_case, bad):
    params, x, _ = walk_case
    with pytest.raises((ValueError, TypeError), match="n_flips"):
        estimate("coupled_flip_sub", WALK, params, x, 2, key=jax.random.key(0), n_flips=bad)


def test_coupled_flip_sub_from_uniforms_needs_flip_key(walk_case):
    params, x, _ = walk_case
    u = WALK.draw_uniforms(jax.random.key(0), 2)
    with pytest.raises(ValueError, match="flip_key"):
        estimate_from_uniforms("coupled_flip_sub", WALK, params, x, u)


def test_sg_stochastic_rejected_on_random_walk(walk_case):
    """The walk's loss is nonlinear downstream of the coins, so the straight-through SG is
    biased there; check_unbiased must reject it."""
    params, x, exact = walk_case
    report = _check("sg_stochastic", jax.random.key(33), WALK, params, x, exact)
    assert not report.passed, str(report)
    assert report.min_p_value < 1e-8, str(report)  # not a borderline rejection (measured 4e-12)


def test_score_loo_is_score_with_leave_one_out_baseline(walk_case):
    """score_loo_i = score_i - grad log P(S_i) b_i, b_i = mean_{j != i} L(S_j), with grad log P
    from teacher forcing and L from a Bernoulli run, sample by sample (same key: same spikes)."""
    params, x, _ = walk_case
    key, n = jax.random.key(9), 5
    loo = estimate("score_loo", WALK, params, x, n, key=key)
    score = estimate("score", WALK, params, x, n, key=key)
    u = WALK.draw_uniforms(key, n)
    losses, glp = [], []
    for i in range(n):
        src = Bernoulli(WALK_SITES, u={k: v[i] for k, v in u.items()})
        loss, tr = trace_program(WALK, params, x, src, record=("spikes",))
        losses.append(float(loss))
        log_p = lambda p, s=tr.spikes: log_prob_and_loss(WALK, p, x, s)[0]
        glp.append(jax.grad(log_p)(params))
    assert len(set(losses)) > 1  # the baseline differs from sample to sample
    for i in range(n):
        b = (sum(losses) - losses[i]) / (n - 1)
        for k in params:
            ref = float(score[k][i]) - float(glp[i][k]) * b
            assert abs(float(loo[k][i]) - ref) < 1e-12


def test_sg_deterministic_is_grad_under_heaviside(walk_case):
    params, x, _ = walk_case
    g = estimate("sg_deterministic", WALK, params, x, 3, key=jax.random.key(0))
    src = Heaviside(WALK_SITES)
    ref = jax.grad(lambda p: trace_program(WALK, p, x, src, record=())[0])(params)
    for k in params:
        assert g[k].shape == (3,)
        assert abs(float(ref[k])) > 1e-3
        np.testing.assert_array_equal(np.asarray(g[k]), np.broadcast_to(np.asarray(ref[k]), (3,)))
    # forward: the spikes are 1[z > 0] = 1[p > 1/2] (sigmoid escape noise)
    _, tr = trace_program(WALK, params, x, src)
    np.testing.assert_array_equal(np.asarray(tr.spikes["step"]), np.asarray(tr.probs["step"] > 0.5, float))
    # a draw without the potential z is refused: from p alone the threshold is unknown
    no_z = Program(lambda p, xx, s: s.bernoulli("step", jax.nn.sigmoid(p * xx), 0).sum(), {"step": (1, 2)})
    with pytest.raises(ValueError, match="needs the potential"):
        trace_program(no_z, 1.0, jnp.ones(2), Heaviside(no_z.sites))


def test_sg_deterministic_is_sg_bptt_of_the_deterministic_network(snn_case):
    """Independent reference: the training path, simulate(..., method("deterministic")) with
    the matched surrogate (surrogate=None), Theta(U - theta) forward."""
    params, program = snn_case
    det = method("deterministic", hidden_noise=SNN_METHOD.hidden_noise, output_noise=SNN_METHOD.output_noise)
    ref = jax.grad(lambda p: _snn_loss(simulate(p, SNN_X, SNN_CFG, det, record="spikes"), SNN_X))(params)
    g = estimate("sg_deterministic", program, params, SNN_X, 2, key=jax.random.key(0))
    leaves = jax.tree_util.tree_leaves(ref)
    assert max(float(np.abs(np.asarray(a)).max()) for a in leaves) > 1e-3
    for a, b in zip(leaves, jax.tree_util.tree_leaves(g), strict=True):
        for i in range(2):
            np.testing.assert_allclose(np.asarray(b[i]), np.asarray(a), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["sg_stochastic", "linearised"])
def test_sg_stochastic_and_linearised_are_training_sg_sample_by_sample(snn_case, name):
    """With the training path's uniforms (snn_uniforms), each sample equals jax.grad of
    simulate(..., method("stochastic"), key) to float64 round-off."""
    params, program = snn_case
    keys = [jax.random.key(s) for s in (51, 52, 53, 54)]
    u = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[snn_uniforms(k, SNN_CFG, 1, SNN_T) for k in keys])
    g = estimate_from_uniforms(name, program, params, SNN_X, u)
    train = jax.jit(
        jax.grad(
            lambda p, k: _snn_loss(simulate(p, SNN_X, SNN_CFG, SNN_METHOD, key=k, record="spikes"), SNN_X)
        )
    )
    largest = 0.0
    for i, k in enumerate(keys):
        ref = jax.tree_util.tree_leaves(train(params, k))
        largest = max(largest, *(float(np.abs(np.asarray(a)).max()) for a in ref))
        for a, b in zip(ref, jax.tree_util.tree_leaves(g), strict=True):
            np.testing.assert_allclose(np.asarray(b[i]), np.asarray(a), rtol=0, atol=1e-12)
    assert largest > 1e-3  # a sample may have zero SG (e.g. sum of outputs = target), not all


def test_estimator_names():
    assert set(ESTIMATORS) == {
        "sg_stochastic",
        "sg_deterministic",
        "score",
        "score_loo",
        "coupled_flip",
        "coupled_flip_sub",
        "disarm",
        "linearised",
        "mean_field",
    }
    # linearised is its own route (probe dL/dS, one VJP of the carriers), equal to the SG by test
    assert ESTIMATORS["linearised"] is not ESTIMATORS["sg_stochastic"]
    assert set(UNBIASED) == {"score", "score_loo", "coupled_flip", "coupled_flip_sub", "disarm"}


def test_bad_names_and_sample_counts(walk_case):
    params, x, _ = walk_case
    for bad in ("sg", "reinforce", 3):
        with pytest.raises(ValueError, match=r"^unknown estimator .*; valid names: sg_stochastic"):
            estimate(bad, WALK, params, x, 2, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"^score_loo needs n >= 2 samples .* got n = 1$"):
        estimate("score_loo", WALK, params, x, 1, key=jax.random.key(0))
    u = WALK.draw_uniforms(jax.random.key(0), 1)
    with pytest.raises(ValueError, match=r"^score_loo needs n >= 2"):
        estimate_from_uniforms("score_loo", WALK, params, x, u)


def test_memory_estimate_counts_the_flips(walk_case):
    """coupled_flip_sub makes 1 + M runs per sample: 8 n (1 + M) (3 K + P) bytes (K = 7, P = 3)."""
    params, _, _ = walk_case
    mem = lambda name, **kw: estimator_memory(name, WALK, params, 10, **kw)
    assert mem("coupled_flip_sub", n_flips=3) == 8 * 10 * 4 * (3 * 7 + 3)
    assert mem("coupled_flip_sub") == 8 * 10 * 9 * (3 * 7 + 3)  # default n_flips = 8
    assert mem("coupled_flip") == 8 * 10 * 8 * (3 * 7 + 3)
    with pytest.raises(ValueError, match="n_flips"):
        mem("coupled_flip_sub", n_flips=0)
