"""The DisARM estimator (analysis.stochastic._estimators._disarm_one; Dong, Mnih & Tucker,
NeurIPS 2020): unbiased against enumeration, biased when a group is not conditionally
independent given its past, lower variance than the score function where the loss has a
large offset, and equal to a naive NumPy implementation sample by sample."""

import jax
import numpy as np
import pytest

from analysis import escape_noise
from analysis.stochastic import (
    Network,
    check_unbiased,
    estimate,
    estimate_many,
    estimator_memory,
    exact_value_and_grad,
    flatten,
    random_instance,
    spike_probability_range,
)
from analysis.stochastic._estimators import _disarm_one, _draw_groups, estimate_from_uniforms
from analysis.stochastic._sources import join_flat

FF = Network("feedforward", (2, 3, 2), escape_noise("probit", 1.5), theta=0.3, loss="mse", target=(1.0, 0.0))
LIF = Network(
    "lif",
    (2, 2, 1),
    escape_noise("sigmoid", 3.0),
    theta=0.2,
    steps=4,
    loss="mse",
    target=(0.5,),
    tau_mem=4.0,
    tau_syn=2.0,
)


def test_groups_are_draws_and_the_memory_guard_counts_them():
    """One group per draw (site, index): a layer (feedforward) or a layer at one step (LIF)."""
    groups = {k: v.tolist() for k, v in _draw_groups(FF.program()).items()}
    assert groups == {"layer0": [0], "layer1": [1]}
    groups = {k: v.tolist() for k, v in _draw_groups(LIF.program()).items()}
    assert groups == {"layer0": [0, 1, 2, 3], "readout": [4, 5, 6, 7]}
    # one re-simulation per group: between score (none) and coupled_flip (one per spike)
    params, _ = random_instance(jax.random.key(0), LIF)
    mem = {name: estimator_memory(name, LIF, params, 100) for name in ("score", "disarm", "coupled_flip")}
    assert mem["score"] < mem["disarm"] < mem["coupled_flip"]
    assert mem["disarm"] == 9 * mem["score"] and mem["coupled_flip"] == 13 * mem["score"]


@pytest.mark.parametrize("net, seed, scale", [(FF, 2, 1.0), (LIF, 3, 2.0)])
def test_disarm_is_unbiased_against_enumeration(net, seed, scale):
    params, x = random_instance(jax.random.key(seed), net, weight_scale=scale)
    lo, hi = spike_probability_range(net, params, x)  # no events of probability << 1/n
    assert 0.005 < lo and hi < 0.995
    exact = exact_value_and_grad(net, params, x)[1]
    n = 6000
    g = jax.jit(lambda p: estimate("disarm", net, p, x, n, key=jax.random.key(seed + 10)))(params)
    # Holm over the coordinates at family-wise alpha = 1e-3 per network (fixed keys)
    rep = check_unbiased(None, params, n, key=jax.random.key(0), reference=exact, samples=g, alpha=1e-3)
    assert rep.passed, str(rep)


def test_one_group_over_all_steps_is_detected_as_biased():
    """The antithetic pair must be drawn per (layer, step): flipping the uniforms of all steps
    at once pairs spikes whose probabilities depend on each other, and the bias is found."""
    params, x = random_instance(jax.random.key(3), LIF, weight_scale=2.0)
    exact = exact_value_and_grad(LIF, params, x)[1]
    n = 6000
    program = LIF.program()
    u = program.draw_uniforms(jax.random.key(13), n)
    one = {name: np.zeros(shape[0], int) for name, shape in program.sites}
    g = jax.jit(jax.vmap(lambda ui: _disarm_one(program, params, x, ui, groups=one)))(u)
    rep = check_unbiased(None, params, n, key=jax.random.key(0), reference=exact, samples=g, alpha=1e-3)
    assert not rep.passed and "[1][0, 0]" in [d["coordinate"] for d in rep.disagreeing]


def test_disarm_variance_is_finite_and_below_the_score_function_for_an_offset_loss():
    """With a loss far from zero (mse to a target of 3), the score function's variance
    carries E[L^2]; DisARM uses only loss differences of the antithetic pair."""
    net = Network(
        "feedforward", (2, 3, 2), escape_noise("sigmoid", 2.0), theta=0.3, loss="mse", target=(3.0, 3.0)
    )
    params, x = random_instance(jax.random.key(4), net, weight_scale=2.0)
    est = jax.jit(lambda p: estimate_many(("score", "disarm"), net, p, x, 4000, key=jax.random.key(5)))(
        params
    )
    var = {name: flatten(g, 1).var(0).mean() for name, g in est.items()}
    assert np.isfinite(var["disarm"]) and var["disarm"] > 0
    assert var["disarm"] < 0.25 * var["score"], var


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _naive_disarm(ws, x, u, beta, theta, target):
    """DisARM for a sigmoid feedforward net by plain loops: alpha_i = beta z_i exactly, so
    d alpha_i / d W_l[i, j] = beta S_{l-1}[j]; one antithetic simulation per layer."""

    def run(uu):
        inputs, zs, ss, s, off = [], [], [], np.asarray(x, float), 0
        for w in ws:
            inputs.append(s)
            z = np.array([sum(w[i, j] * s[j] for j in range(w.shape[1])) - theta for i in range(w.shape[0])])
            s = np.array([1.0 if uu[off + i] < _sigmoid(beta * z[i]) else 0.0 for i in range(len(z))])
            zs.append(z), ss.append(s)
            off += len(z)
        loss = sum((s[i] - target[i]) ** 2 for i in range(len(s))) / len(s)
        return inputs, zs, ss, loss

    inputs, zs, ss, loss = run(u)
    grads, off = [np.zeros(w.shape) for w in ws], 0
    for l, w in enumerate(ws):
        ut = np.array(u, float)
        ut[off : off + w.shape[0]] = 1.0 - ut[off : off + w.shape[0]]
        _, _, ss_t, loss_t = run(ut)
        for i in range(w.shape[0]):
            alpha = beta * zs[l][i]
            b, bt = ss[l][i], ss_t[l][i]
            ghat = 0.5 * (loss - loss_t) * (-1.0) ** bt * (b != bt) * _sigmoid(abs(alpha))
            for j in range(w.shape[1]):
                grads[l][i, j] += ghat * beta * inputs[l][j]
        off += w.shape[0]
    return grads


def test_disarm_equals_a_naive_loop_implementation_sample_by_sample():
    beta, theta, target = 1.5, 0.2, (0.3, 1.0)
    net = Network(
        "feedforward", (2, 3, 2, 2), escape_noise("sigmoid", beta), theta=theta, loss="mse", target=target
    )
    params, x = random_instance(jax.random.key(6), net)
    n = 40
    program = net.program()
    u = program.draw_uniforms(jax.random.key(7), n)
    g = jax.jit(lambda p, uu: estimate_from_uniforms("disarm", net, p, x, uu))(params, u)
    flat = np.asarray(join_flat(u, program.sites))  # layer0, layer1, layer2: the naive order
    ws = [np.asarray(w) for w in params]
    nonzero = 0
    for k in range(n):
        ref = _naive_disarm(ws, np.asarray(x), flat[k], beta, theta, target)
        for layer in range(len(ws)):
            np.testing.assert_allclose(np.asarray(g[layer][k]), ref[layer], rtol=0, atol=1e-12)
            nonzero += int(np.any(ref[layer] != 0))
    assert nonzero > n // 2  # most samples carry a non-trivial estimate
