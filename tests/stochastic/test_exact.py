"""Exact enumeration (analysis.stochastic._program) against independent naive references."""

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
    Bernoulli,
    Network,
    exact_value_and_grad,
    log_prob_and_loss,
    random_instance,
    trace_program,
)
from analysis.stochastic._sources import join_flat, split_flat


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
    sites = net.program().sites
    assert sites == (("readout", (4, 1, 2)),)  # flat order: time-major, then neuron
    one = lambda s: log_prob_and_loss(net, params, x, split_flat(s, sites))[0]
    lps = jax.jit(jax.vmap(one))(jnp.asarray(configs))
    for bits, lp in zip(configs[::5], np.asarray(lps)[::5], strict=True):
        assert abs(lp - _naive_lif_logp(params, np.asarray(x), bits, 0.2, 3.0, lm, ls)) < 1e-10
    assert abs(float(jnp.sum(jnp.exp(lps))) - 1.0) < 1e-12


def _cdf(name, beta):
    """The escape-noise CDFs of the hypothesis test below, written out in numpy/scipy from
    their definitions (independent of analysis.neuron)."""
    from scipy.special import ndtr

    forms = {
        "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
        "probit": ndtr,
        "arctan": lambda a: 0.5 + np.arctan(a) / np.pi,
        "laplace": lambda a: 0.5 + 0.5 * np.sign(a) * (1 - np.exp(-np.abs(a))),
    }
    return lambda z: forms[name](beta * np.asarray(z))


def _naive_expected_loss(net, params, x, cdf):
    """E[L] of a feedforward or LIF ``Network`` (recurrent hidden layers included) by
    enumerating every configuration in numpy: one vectorised pass over all 2^K
    configurations, a plain loop over steps and layers with the LIF equations of the Network
    docstring (Gygax & Zenke 2025, sec. 5; the reset does not matter: every spike is
    teacher-forced)."""
    sizes, steps = net.sizes[1:], net.steps
    n_layers = len(sizes)
    ws = [np.asarray(w, float) for w in params[:n_layers]]
    vs = [np.asarray(v, float) for v in params[n_layers:]] + [None] * (n_layers - len(params[n_layers:]))
    x = np.asarray(x, float)
    k = net.n_spikes
    bits = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1).astype(float)  # every configuration
    spikes = bits.reshape(len(bits), steps, sum(sizes))  # time-major, then layer, then neuron
    edges = np.cumsum((0,) + tuple(sizes))
    s = [spikes[:, :, a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]  # [C, T, n_l]
    prob = np.ones(len(bits))

    def weigh(z, s_now):
        p = cdf(z - net.theta)
        return np.prod(np.where(s_now > 0.5, p, 1.0 - p), axis=1)

    if net.kind == "feedforward":
        s_in = np.broadcast_to(x, (len(bits), len(x)))
        for w, s_l in zip(ws, s, strict=True):
            prob = prob * weigh(s_in @ w.T, s_l[:, 0])
            s_in = s_l[:, 0]
    else:
        lm, ls = math.exp(-net.dt / net.tau_mem), math.exp(-net.dt / net.tau_syn)
        cur = [np.zeros((len(bits), n)) for n in sizes]
        pot = [np.zeros((len(bits), n)) for n in sizes]
        for t in range(steps):
            for l in range(n_layers):
                s_now = s[l][:, t]
                prob = prob * weigh(pot[l], s_now)
                drive = (x[t][None, :] if l == 0 else s[l - 1][:, t]) @ ws[l].T
                if vs[l] is not None:
                    drive = drive + s_now @ vs[l].T
                cur[l], pot[l] = ls * cur[l] + drive, lm * pot[l] * (1.0 - s_now) + (1.0 - lm) * cur[l]
    r = s[-1].mean(axis=1)  # readout: the last layer's spikes, averaged over time
    if net.loss == "mean":
        loss = r.mean(axis=1)
    elif net.loss == "mse":
        loss = np.mean((r - np.asarray(net.target)) ** 2, axis=1)
    else:
        top = r.max(axis=1, keepdims=True)
        loss = -(r[:, net.target] - top[:, 0] - np.log(np.exp(r - top).sum(axis=1)))
    return float(np.sum(prob * loss)), float(np.sum(prob))


@st.composite
def _enumerable_networks(draw):
    """A network small enough to enumerate (K <= 15) whose every weight acts on the loss: a
    LIF layer's input reaches its spikes two steps later, so a LIF network of depth L gets
    at least 2 L + 1 steps and an input spike at step 0 in every input channel; xent gets at
    least two outputs (the cross-entropy of one output is constant) and mse a target other
    than 1/2 (a single binary output is then at distance 1/2 from it whether it spikes or not)."""
    kind = draw(st.sampled_from(["feedforward", "lif"]))
    loss = draw(st.sampled_from(["mean", "mse", "xent"]))
    low = 2 if loss == "xent" else 1
    if kind == "feedforward":
        depth = draw(st.integers(1, 3))
        widths = [draw(st.integers(1, 3)) for _ in range(depth - 1)] + [draw(st.integers(low, 3))]
        steps, recurrent = 1, False
    else:  # widths with K = steps x sum(widths) <= 15 at 2 depth + 1 steps
        layouts = [(1,), (2,), (1, 1), (2, 1), (1, 2)]
        widths = list(draw(st.sampled_from([w for w in layouts if w[-1] >= low])))
        depth = len(widths)
        steps = draw(st.integers(2 * depth + 1, 15 // sum(widths)))
        recurrent = depth > 1 and draw(st.booleans())
    target = {"mean": None, "mse": (0.3,) * widths[-1], "xent": widths[-1] - 1}[loss]
    net = Network(
        kind,
        (2, *widths),
        escape_noise(draw(st.sampled_from(["sigmoid", "probit", "arctan", "laplace"])), 2.0),
        theta=0.2,
        loss=loss,
        target=target,
        steps=steps,
        tau_mem=4.0,
        tau_syn=2.0,
        reset=draw(st.sampled_from(["detached", "differentiable"])),
        recurrent=recurrent,
    )
    params, x = random_instance(jax.random.key(draw(st.integers(0, 1000))), net, weight_scale=1.5)
    if kind == "lif":
        x = x.at[0].set(1.0)
    return net, params, x


@settings(max_examples=6)
@given(case=_enumerable_networks())
def test_exact_gradient_of_every_layer_matches_a_naive_enumeration(case):
    """Hypothesis over network families (feedforward depth 1-3; LIF depth 1-2 in time, with and
    without recurrence): the enumerated E[L] equals a naive numpy enumeration, and every
    coordinate of every layer's gradient (drawn so that none is identically zero, checked
    first) equals central finite differences of that naive enumeration."""
    net, params, x = case
    cdf = _cdf(net.noise.name, net.noise.beta)
    value, grad = exact_value_and_grad(net, params, x)
    naive, total = _naive_expected_loss(net, params, x, cdf)
    assert abs(total - 1.0) < 1e-12
    assert abs(float(value) - naive) < 1e-12 * max(1.0, abs(naive))
    for name, g in zip(net.param_names(), grad, strict=True):
        assert float(np.max(np.abs(g))) > 1e-8, f"{name}: gradient identically zero {np.asarray(g)}"
    h = 1e-5
    for k, (name, g) in enumerate(zip(net.param_names(), grad, strict=True)):
        fd = np.zeros(g.shape)
        for idx in np.ndindex(*g.shape):

            def at(d, k=k, idx=idx):
                shifted = [np.array(p, float) for p in params]
                shifted[k][idx] += d
                return _naive_expected_loss(net, shifted, x, cdf)[0]

            fd[idx] = (at(h) - at(-h)) / (2 * h)
        np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-6, atol=1e-9, err_msg=name)


def test_sampler_matches_enumerated_distribution():
    """Frequencies of sampled configurations within 5 SE of exp(log P) (2-sided, per config
    false-failure 5.7e-7; 8 configurations)."""
    net = Network("feedforward", (2, 2, 1), escape_noise("probit", 1.5), theta=0.1)
    params, x = random_instance(jax.random.key(3), net)
    n = 20000
    program = net.program()
    sites = program.sites

    def sample(u):
        src = Bernoulli(sites, u=u)
        return join_flat(trace_program(program, params, x, src, record=("spikes",))[1].spikes, sites)

    s = jax.jit(jax.vmap(sample))(program.draw_uniforms(jax.random.key(4), n))
    idx = np.asarray(s @ (2.0 ** np.arange(3))).astype(int)
    freq = np.bincount(idx, minlength=8) / n
    bits = jnp.array([[(c >> k) & 1 for k in range(3)] for c in range(8)], dtype=float)
    lp = lambda b: log_prob_and_loss(net, params, x, split_flat(b, sites))[0]
    probs = np.exp(np.asarray(jax.vmap(lp)(bits)))
    for c, p in enumerate(probs):
        assert abs(freq[c] - p) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-12


def test_enumeration_guard_names_k_and_the_limit():
    net = Network("lif", (4, 8), escape_noise("sigmoid", 2.0), steps=4)
    params, x = random_instance(jax.random.key(0), net)
    with pytest.raises(ValueError, match=r"2\^K = 2\^32 = 4.29e\+09 .*K = 32 spike variables.*max_k = 22"):
        exact_value_and_grad(net, params, x)
    assert net.program().K == 32
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
