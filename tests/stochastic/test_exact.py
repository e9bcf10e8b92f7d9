"""Exact enumeration (analysis.stochastic._exact) against independent naive references."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import escape_noise, surrogate
from analysis.stochastic import (
    Network,
    enumeration_cost,
    exact_value_and_grad,
    log_prob_and_loss,
    random_instance,
    sample_spikes,
)


def _sigmoid(z, beta):
    return 1.0 / (1.0 + np.exp(-beta * z))


def _naive_ff_value(ws, x, theta, beta):
    """E[mean output] by a Python loop over configurations, numpy only (independent)."""
    ws = [np.asarray(w) for w in ws]
    sizes = [w.shape[0] for w in ws]
    total = 0.0
    for bits in itertools.product([0.0, 1.0], repeat=sum(sizes)):
        s_in, prob, off = np.asarray(x), 1.0, 0
        for w, n in zip(ws, sizes, strict=True):
            s = np.array(bits[off : off + n])
            p = _sigmoid(w @ s_in - theta, beta)
            prob *= np.prod(np.where(s == 1, p, 1 - p))
            s_in, off = s, off + n
        total += prob * s_in.mean()
    return total


def _naive_lif_logp(ws, x, s_flat, theta, beta, lm, ls):
    """log P of a configuration of a 1-layer LIF net, a plain loop over time (independent)."""
    w = np.asarray(ws[0])
    n = w.shape[0]
    s = np.asarray(s_flat).reshape(len(x), n)
    i_syn, u, lp = np.zeros(n), np.zeros(n), 0.0
    for t in range(len(x)):
        p = _sigmoid(u - theta, beta)
        lp += np.sum(np.log(np.where(s[t] == 1, p, 1 - p)))
        i_syn, u = ls * i_syn + w @ np.asarray(x[t]), lm * u * (1 - s[t]) + (1 - lm) * i_syn
    return lp


def test_feedforward_value_and_gradient_match_naive_loop_and_finite_differences():
    net = Network("feedforward", (2, 3, 2), escape_noise("sigmoid", 2.0), theta=0.3)
    params, x = random_instance(jax.random.key(0), net)
    value, grad = exact_value_and_grad(net, params, x)
    assert abs(float(value) - _naive_ff_value(params, x, 0.3, 2.0)) < 1e-12
    h = 1e-5
    for layer, (i, j) in [(0, (1, 0)), (1, (0, 2))]:

        def at(d, layer=layer, i=i, j=j):
            ws = [np.array(w) for w in params]
            ws[layer][i, j] += d
            return _naive_ff_value(ws, x, 0.3, 2.0)

        fd = (at(h) - at(-h)) / (2 * h)
        assert abs(float(grad[layer][i, j]) - fd) < 1e-8


def test_lif_log_prob_matches_naive_loop_and_probabilities_sum_to_one():
    net = Network("lif", (2, 2), escape_noise("sigmoid", 3.0), theta=0.2, steps=4, tau_mem=4.0, tau_syn=2.0)
    params, x = random_instance(jax.random.key(1), net, weight_scale=2.0)
    lm, ls = math.exp(-1 / 4.0), math.exp(-1 / 2.0)
    configs = np.array(list(itertools.product([0.0, 1.0], repeat=net.n_spikes)))
    lps = jax.jit(jax.vmap(lambda s: log_prob_and_loss(net, params, x, s)[0]))(jnp.asarray(configs))
    for bits, lp in zip(configs[::5], np.asarray(lps)[::5], strict=True):
        assert abs(lp - _naive_lif_logp(params, np.asarray(x), bits, 0.2, 3.0, lm, ls)) < 1e-10
    assert abs(float(jnp.sum(jnp.exp(lps))) - 1.0) < 1e-12


@settings(max_examples=5)
@given(
    kind=st.sampled_from(["feedforward", "lif"]),
    depth=st.integers(1, 3),
    width=st.integers(1, 3),
    steps=st.integers(1, 4),
    noise=st.sampled_from(["sigmoid", "probit", "arctan", "laplace"]),
    loss=st.sampled_from(["mean", "mse", "xent"]),
    seed=st.integers(0, 1000),
)
def test_exact_gradient_is_derivative_of_exact_value(kind, depth, width, steps, noise, loss, seed):
    """Hypothesis over network families: jax.grad of the enumeration equals central finite
    differences of the enumerated value, and E[L] is a probability-weighted loss in range."""
    if kind == "lif":
        depth = min(depth, 2)
        steps = min(steps, 12 // (width * depth))
    sizes = (2,) + (width,) * depth
    K = sum(sizes[1:]) * (steps if kind == "lif" else 1)
    target = {"mean": None, "mse": (0.5,) * width, "xent": 0}[loss]
    net = Network(
        kind,
        sizes,
        escape_noise(noise, 2.0),
        theta=0.2,
        loss=loss,
        target=target,
        steps=steps if kind == "lif" else 1,
        tau_mem=4.0,
        tau_syn=2.0,
    )
    assert net.n_spikes == K
    params, x = random_instance(jax.random.key(seed), net, weight_scale=1.5)
    value, grad = exact_value_and_grad(net, params, x)
    h = 1e-6
    w = np.array(params[-1])
    i, j = seed % w.shape[0], (seed // 7) % w.shape[1]
    shift = lambda d: tuple(
        p if k < len(params) - 1 else jnp.asarray(w).at[i, j].add(d) for k, p in enumerate(params)
    )
    fd = (
        float(exact_value_and_grad(net, shift(h), x)[0]) - float(exact_value_and_grad(net, shift(-h), x)[0])
    ) / (2 * h)
    assert abs(float(grad[-1][i, j]) - fd) < 1e-6 * max(1.0, abs(fd))
    assert np.isfinite(float(value))


def test_sampler_matches_enumerated_distribution():
    """Frequencies of sampled configurations within 5 SE of exp(log P) (2-sided, per config
    false-failure 5.7e-7; 8 configurations)."""
    net = Network("feedforward", (2, 2, 1), escape_noise("probit", 1.5), theta=0.1)
    params, x = random_instance(jax.random.key(3), net)
    n = 20000
    draw = jax.jit(lambda key: jax.vmap(lambda k: sample_spikes(k, net, params, x))(jax.random.split(key, n)))
    s = draw(jax.random.key(4))
    idx = np.asarray(s @ (2.0 ** np.arange(3))).astype(int)
    freq = np.bincount(idx, minlength=8) / n
    bits = jnp.array([[(c >> k) & 1 for k in range(3)] for c in range(8)], dtype=float)
    probs = np.exp(np.asarray(jax.vmap(lambda b: log_prob_and_loss(net, params, x, b)[0])(bits)))
    for c, p in enumerate(probs):
        assert abs(freq[c] - p) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-12


def test_enumeration_guard_names_k_time_and_memory():
    net = Network("lif", (4, 8), escape_noise("sigmoid", 2.0), steps=4)
    params, x = random_instance(jax.random.key(0), net)
    with pytest.raises(ValueError, match=r"2\^K = 2\^32.*estimated time .* s.*MiB"):
        exact_value_and_grad(net, params, x)
    c = enumeration_cost(net)
    assert c["K"] == 32 and c["configurations"] == 2**32 and c["seconds"] > 0 and c["bytes"] > 0
    with pytest.raises(ValueError, match="max_k = 10"):
        exact_value_and_grad(
            Network("feedforward", (2, 11), escape_noise()), (jnp.ones((11, 2)),), jnp.ones(2), max_k=10
        )


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(kind="conv"), "kind"),
        (dict(sizes=(2,)), "sizes"),
        (dict(loss="hinge"), "loss"),
        (dict(loss="mse", target=(1.0,)), "target"),
        (dict(loss="xent", target=5), "target"),
        (dict(steps=3), "steps"),
        (dict(reset="soft"), "reset"),
        (dict(noise="sigmoid"), "noise"),
    ],
)
def test_network_rejects_bad_descriptions(bad, match):
    kw = dict(kind="feedforward", sizes=(2, 2), noise=escape_noise("sigmoid", 1.0)) | bad
    with pytest.raises((ValueError, TypeError), match=match):
        Network(**kw)


def test_bad_params_and_input_shapes_are_named():
    net = Network("feedforward", (2, 3), escape_noise(), surrogate=surrogate("superspike", 2.0))
    with pytest.raises(ValueError, match=r"params\[0\]"):
        exact_value_and_grad(net, (jnp.ones((2, 2)),), jnp.ones(2))
    with pytest.raises(ValueError, match="x has shape"):
        exact_value_and_grad(net, (jnp.ones((3, 2)),), jnp.ones(3))
