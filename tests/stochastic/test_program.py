"""User-written stochastic programs: exact enumeration, estimators, sources, bad input.

Statistical tests use fixed keys and ``check_unbiased`` at family-wise alpha = 1e-3 (Holm
over the coordinates), so each "passes" assertion has a false-failure rate <= 1e-3 under the
normal approximation (and, with fixed keys, is deterministic once it has passed).
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis import escape_noise
from analysis.stochastic import (
    Network,
    check_unbiased,
    draw_site_uniforms,
    exact_value_and_grad,
    n_spike_variables,
    program_estimate,
    program_estimate_from_uniforms,
    program_log_prob_and_loss,
    program_value_and_grad,
    random_instance,
    split_flat,
)

T, N = 3, 2
SITES = {"h": (T, N), "out": (1,)}  # K = 7


def recurrent(params, x, src):
    """Stochastic binary recurrent model (lax.scan over steps) and a final coin."""

    def step(h, t):
        p = jax.nn.sigmoid(params["w"] @ h + x[t] + params["b"])
        s = src.bernoulli("h", p, t)
        return s, s

    h, hs = jax.lax.scan(step, jnp.zeros(N), jnp.arange(T))
    y = src.bernoulli("out", jax.nn.sigmoid(params["v"] @ h - 0.5), 0)
    return (jnp.sum(hs[:, 0] * hs[:, 1]) - 0.7) ** 2 + 2.0 * y * hs[0, 0] + 0.1 * jnp.sum(params["v"] ** 2)


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    params = {
        "w": jnp.asarray(rng.normal(size=(N, N)) * 1.5),
        "b": jnp.asarray(rng.normal(size=N) * 0.5),
        "v": jnp.asarray(rng.normal(size=N) * 1.5),
    }
    x = jnp.asarray(rng.normal(size=(T, N)))
    return params, x


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def brute_force(params, x):
    """E[L] and grad E[L] with plain loops: sum_c P(c) [L(c) grad log P(c) + grad L(c)]."""
    w, b, v = (np.asarray(params[k], float) for k in ("w", "b", "v"))
    x = np.asarray(x, float)
    value = 0.0
    grad = {"w": np.zeros((N, N)), "b": np.zeros(N), "v": np.zeros(N)}
    for bits in itertools.product([0.0, 1.0], repeat=T * N + 1):
        hs, y = np.array(bits[: T * N]).reshape(T, N), bits[-1]
        logp, glp = 0.0, {"w": np.zeros((N, N)), "b": np.zeros(N), "v": np.zeros(N)}
        prev = np.zeros(N)
        for t in range(T):
            for i in range(N):
                a = sum(w[i, j] * prev[j] for j in range(N)) + x[t, i] + b[i]
                p = _sig(a)
                logp += np.log(p if hs[t, i] else 1.0 - p)
                for j in range(N):
                    glp["w"][i, j] += (hs[t, i] - p) * prev[j]
                glp["b"][i] += hs[t, i] - p
            prev = hs[t]
        p = _sig(sum(v[j] * prev[j] for j in range(N)) - 0.5)
        logp += np.log(p if y else 1.0 - p)
        glp["v"] += (y - p) * prev
        loss = (sum(hs[t, 0] * hs[t, 1] for t in range(T)) - 0.7) ** 2 + 2.0 * y * hs[0, 0] + 0.1 * (v @ v)
        P = np.exp(logp)
        value += P * loss
        for k in grad:
            grad[k] += P * loss * glp[k]
        grad["v"] += P * 0.2 * v
    return value, grad


def test_exact_matches_brute_force_loops():
    params, x = make_params(0)
    value, grad = program_value_and_grad(recurrent, SITES, params, x)
    ref_value, ref_grad = brute_force(params, x)
    assert abs(float(value) - ref_value) < 1e-12
    for k in ref_grad:
        np.testing.assert_allclose(np.asarray(grad[k]), ref_grad[k], rtol=0, atol=1e-12)
    # chunks smaller than 2^K give the same sums
    value2, grad2 = program_value_and_grad(recurrent, SITES, params, x, chunk=8)
    assert abs(float(value2) - ref_value) < 1e-12
    np.testing.assert_allclose(np.asarray(grad2["w"]), ref_grad["w"], atol=1e-12)


def test_forced_log_probs_sum_to_one():
    params, x = make_params(1)
    K = n_spike_variables(SITES)
    bits = jnp.array(list(itertools.product([0.0, 1.0], repeat=K)))
    one = lambda b: program_log_prob_and_loss(recurrent, SITES, params, x, split_flat(b, SITES))[0]
    total = float(jnp.sum(jnp.exp(jax.jit(jax.vmap(one))(bits))))
    assert abs(total - 1.0) < 1e-12


@pytest.fixture(scope="module")
def instance():
    params, x = make_params(2)
    return params, x, program_value_and_grad(recurrent, SITES, params, x)[1]


@pytest.mark.parametrize("name", ["score", "coupled_flip"])
def test_unbiased_estimators_pass(instance, name):
    params, x, exact = instance
    g = jax.jit(lambda k, p: program_estimate(name, k, recurrent, SITES, p, x, 4000))(
        jax.random.key(11), params
    )
    report = check_unbiased(None, jax.random.key(0), params, 4000, reference=exact, samples=g)
    assert report.passed, str(report)


def test_sg_bias_detected(instance):
    params, x, exact = instance
    g = jax.jit(lambda k, p: program_estimate("sg_stochastic", k, recurrent, SITES, p, x, 4000))(
        jax.random.key(12), params
    )
    report = check_unbiased(None, jax.random.key(0), params, 4000, reference=exact, samples=g)
    assert not report.passed


def test_mean_field_is_deterministic(instance):
    params, x, _ = instance
    g = program_estimate("mean_field", jax.random.key(0), recurrent, SITES, params, x, 3)
    assert g["w"].shape == (3, N, N)
    np.testing.assert_array_equal(np.asarray(g["w"][0]), np.asarray(g["w"][2]))


def chain(params, x, src):
    h = src.bernoulli("h", jax.nn.sigmoid(params["w"] @ x), 0)
    y = src.bernoulli("y", jax.nn.sigmoid(params["v"] @ h - 0.5), 0)
    return y


def test_straight_through_is_hand_written_sg():
    """SG chain rule by hand: g_v = f'(a_y) h, g_W[i, j] = f'(a_y) v_i f'(a_h,i) x_j (loss = y)."""
    rng = np.random.default_rng(3)
    w, v, x = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2)
    sites = {"h": (1, 3), "y": (1,)}
    n = 16
    u = draw_site_uniforms(jax.random.key(5), sites, n)
    params = {"w": jnp.asarray(w), "v": jnp.asarray(v)}
    g = program_estimate_from_uniforms("sg_stochastic", chain, sites, params, jnp.asarray(x), u)
    d = lambda a: _sig(a) * (1.0 - _sig(a))
    for i in range(n):
        a_h = w @ x
        h = (np.asarray(u["h"][i, 0]) < _sig(a_h)).astype(float)
        a_y = v @ h - 0.5
        np.testing.assert_allclose(np.asarray(g["v"][i]), d(a_y) * h, atol=1e-14)
        np.testing.assert_allclose(np.asarray(g["w"][i]), d(a_y) * np.outer(v * d(a_h), x), atol=1e-14)


def _feedforward_as_program(noise):
    """The feedforward Network (2, 3, 2), theta 0.4, mse to (0.2, 0.9), written as a program:
    one draw per layer (sites layer0, layer1)."""

    def program(pp, xx, src):
        s = xx
        for layer, w in enumerate(pp):
            s = src.bernoulli(f"layer{layer}", noise.prob(w @ s - 0.4), 0)
        return jnp.mean((s - jnp.array([0.2, 0.9])) ** 2)

    return program, {"layer0": (1, 3), "layer1": (1, 2)}


def test_feedforward_network_as_program_matches_exact():
    noise = escape_noise("sigmoid", 3.0)
    net = Network("feedforward", (2, 3, 2), noise, theta=0.4, loss="mse", target=(0.2, 0.9))
    params, x = random_instance(jax.random.key(4), net)

    program, sites = _feedforward_as_program(noise)
    value, grad = program_value_and_grad(program, sites, params, x)
    ref_value, ref_grad = exact_value_and_grad(net, params, x)
    assert abs(float(value) - float(ref_value)) < 1e-12
    for a, b in zip(grad, ref_grad, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["sg_stochastic", "linearised", "sg_deterministic", "mean_field"])
def test_feedforward_program_estimators_match_network_estimators(name):
    """Sample by sample, the program estimator equals the Network estimator of the same name
    (independent implementations: the Network's linearised estimator is a coupled-flip sum
    with c_k -> dL/dS_k, its sg_deterministic thresholds z at 0 with derivative f')."""
    from analysis.stochastic import estimate_from_uniforms

    noise = escape_noise("sigmoid", 3.0)
    net = Network("feedforward", (2, 3, 2), noise, theta=0.4, loss="mse", target=(0.2, 0.9))
    params, x = random_instance(jax.random.key(4), net, weight_scale=2.0)
    program, sites = _feedforward_as_program(noise)
    n = 50
    u = draw_site_uniforms(jax.random.key(9), sites, n)
    g = program_estimate_from_uniforms(name, program, sites, list(params), x, u)
    flat = jnp.concatenate([u["layer0"].reshape(n, 3), u["layer1"].reshape(n, 2)], axis=1)
    ref = estimate_from_uniforms(name, net, params, x, flat)
    assert float(jnp.max(jnp.abs(ref[0]))) > 1e-2  # non-trivial estimates
    for a, b in zip(g, ref, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-12)


def test_scan_program_under_jit_and_vmap():
    params, x = make_params(5)
    est = lambda k, p: program_estimate("coupled_flip", k, recurrent, SITES, p, x, 2)
    eager = est(jax.random.key(1), params)
    jitted = jax.jit(est)(jax.random.key(1), params)
    np.testing.assert_allclose(np.asarray(jitted["w"]), np.asarray(eager["w"]), atol=1e-13)
    # vmap of the exact value over a batch of biases equals the loop
    bs = jnp.stack([params["b"], params["b"] + 0.3])
    batched = jax.vmap(lambda b: program_value_and_grad(recurrent, SITES, {**params, "b": b}, x)[0])(bs)
    for b, value in zip(bs, batched, strict=True):
        assert abs(float(value) - brute_force({**params, "b": b}, x)[0]) < 1e-12


def _draw_twice(p, x, src):
    return jnp.sum(
        src.bernoulli("h", jax.nn.sigmoid(p * x), 0) + src.bernoulli("h", jax.nn.sigmoid(p * x), 0)
    )


def _scan_three(p, x, src):
    _, s = jax.lax.scan(lambda c, t: (c, src.bernoulli("h", jax.nn.sigmoid(p * x), t)), 0.0, jnp.arange(3))
    return jnp.sum(s)


_one = lambda site, shape, index: (
    lambda p, x, src: jnp.sum(src.bernoulli(site, jnp.full(shape, 0.5) * p, index))
)
P, X = jnp.array(1.0), jnp.ones(2)

BAD = [
    # (program, sites, params, kwargs, exception, match)
    (_one("h", (2,), 0), [("h", (1, 2))], P, {}, TypeError, "sites must be a dict"),
    (_one("h", (2,), 0), {}, P, {}, ValueError, "sites is empty"),
    (_one("h", (2,), 0), {"h": (0, 2)}, P, {}, ValueError, r"sites\['h'\] must be a tuple"),
    (_one("h", (2,), 0), {"h": (1.5,)}, P, {}, ValueError, r"sites\['h'\] must be a tuple"),
    (_one("h", (2,), 0), {"h": 2}, P, {}, ValueError, r"sites\['h'\] must be a tuple"),
    (_one("h", (2,), 0), {3: (1, 2)}, P, {}, TypeError, "site names must be non-empty strings"),
    (_one("oops", (2,), 0), {"h": (1, 2)}, P, {}, ValueError, "undeclared site 'oops'; declared sites: h"),
    (_one("h", (3,), 0), {"h": (1, 2)}, P, {}, ValueError, r"declares draws of shape \(2,\).*shape \(3,\)"),
    (_one("h", (2,), 5), {"h": (1, 2)}, P, {}, ValueError, r"index 5 of site 'h' is out of range \[0, 1\)"),
    (_scan_three, {"h": (4, 2)}, P, {}, ValueError, "draw 3 was made 0 times"),
    (_draw_twice, {"h": (1, 2)}, P, {}, ValueError, "draw 0 was made 2 times"),
    (
        lambda p, x, src: src.bernoulli("h", jnp.full(2, 0.5) * p, 0),
        {"h": (1, 2)},
        P,
        {},
        ValueError,
        "scalar loss",
    ),
    (_one("h", (2,), 0), {"h": (1, 2)}, jnp.array(1), {}, TypeError, r"params must be a floating-point"),
    (_one("h", (2,), 0), {"h": (1, 2)}, jnp.array(jnp.nan), {}, ValueError, "NaN"),
    ("not a function", {"h": (1, 2)}, P, {}, TypeError, "program must be a function"),
    (_one("h", (30,), 0), {"h": (1, 30)}, P, {}, ValueError, r"2\^K = 2\^30 = 1.07e\+09.*max_k = 22"),
]


@pytest.mark.parametrize("program, sites, params, kw, exc, match", BAD)
def test_bad_input(program, sites, params, kw, exc, match):
    with pytest.raises(exc, match=match):
        program_value_and_grad(program, sites, params, X, **kw)


def test_bad_estimator_arguments():
    prog, sites = _one("h", (2,), 0), {"h": (1, 2)}
    with pytest.raises(
        ValueError, match="unknown estimator 'reinforce'; valid names: sg_stochastic, sg_deterministic, score"
    ):
        program_estimate("reinforce", jax.random.key(0), prog, sites, P, X, 4)
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        program_estimate("score", jax.random.key(0), prog, sites, P, X, 0)
    with pytest.raises(ValueError, match=r"u\['h'\] must have shape \(n,\) \+ \(1, 2\)"):
        program_estimate_from_uniforms("score", prog, sites, P, X, {"h": jnp.zeros((4, 2))})
    with pytest.raises(ValueError, match="u must be a dict with one entry per site"):
        program_estimate_from_uniforms("score", prog, sites, P, X, {"g": jnp.zeros((4, 1, 2))})


def test_float32_params_with_float64_inputs():
    """float32 params under x64 stay float32 in the gradient; float64 inputs promote the loss
    (the enumeration's accumulator follows the program's dtypes: it used to fail with a scan
    carry type mismatch). Results agree with the all-float64 run to float32 precision."""
    import jax
    import jax.numpy as jnp

    from analysis.stochastic import program_value_and_grad

    def program(w, x, src):
        s = src.bernoulli("h", jax.nn.sigmoid(w * x), 0)
        return jnp.sum(s * w * x)

    sites = {"h": (1, 3)}
    w64 = jnp.array([0.5, -0.2, 1.0])
    v32, g32 = program_value_and_grad(program, sites, w64.astype(jnp.float32), jnp.ones(3, jnp.float32))
    vmix, gmix = program_value_and_grad(program, sites, w64.astype(jnp.float32), jnp.ones(3))
    v64, g64 = program_value_and_grad(program, sites, w64, jnp.ones(3))
    assert v32.dtype == jnp.float32 and g32.dtype == jnp.float32
    assert vmix.dtype == jnp.float64 and gmix.dtype == jnp.float32
    for v, g in ((v32, g32), (vmix, gmix)):
        assert abs(float(v) - float(v64)) < 1e-6
        assert float(jnp.max(jnp.abs(g.astype(jnp.float64) - g64))) < 1e-6


def test_estimators_refuse_runs_above_the_memory_limit():
    """The memory guard refuses before computing, naming the estimate and the option; the
    coupled flip (K re-runs per sample) is estimated K + 1 times the score function."""
    import jax
    import jax.numpy as jnp
    import pytest

    from analysis.stochastic import program_estimate, program_estimator_memory

    def program(w, x, src):
        s = src.bernoulli("h", jax.nn.sigmoid(w * x), 0)
        return jnp.sum(s * w)

    sites, w, x = {"h": (1, 3)}, jnp.array([0.5, -0.2, 1.0]), jnp.ones(3)
    score = program_estimator_memory("score", sites, w, 10)
    assert score == 8 * 10 * (3 * 3 + 3)
    assert program_estimator_memory("coupled_flip", sites, w, 10) == 4 * score
    with pytest.raises(ValueError, match=r"coupled_flip with n = 1000000000 samples .* GiB .*max_memory_gib"):
        program_estimate("coupled_flip", jax.random.key(0), program, sites, w, x, 10**9)
    with pytest.raises(ValueError, match="max_memory_gib"):
        program_estimate("score", jax.random.key(0), program, sites, w, x, 100, max_memory_gib=1e-9)
    assert program_estimate("score", jax.random.key(0), program, sites, w, x, 4).shape == (4, 3)


# ---------------------------------------------------------------- DisARM on programs


@pytest.fixture(scope="module")
def disarm_samples(instance):
    params, x, exact = instance
    g = jax.jit(lambda k, p: program_estimate("disarm", k, recurrent, SITES, p, x, 4000))(
        jax.random.key(11), params
    )
    return params, exact, g


def test_disarm_unbiased_on_scan_program_and_cheaper_in_variance_than_score(disarm_samples, instance):
    """check_unbiased passes (false-failure rate <= 1e-3, see the module docstring); with the
    same uniforms its total variance is below the score function's on this program."""
    params, exact, g = disarm_samples
    report = check_unbiased(None, jax.random.key(0), params, 4000, reference=exact, samples=g)
    assert report.passed, str(report)
    est = lambda k, p: program_estimate("score", k, recurrent, SITES, p, instance[1], 4000)
    score = jax.jit(est)(jax.random.key(11), params)
    total = lambda t: sum(float(jnp.sum(jnp.var(v, axis=0))) for v in jax.tree_util.tree_leaves(t))
    assert total(g) < 0.5 * total(score)


def test_disarm_one_draw_is_the_hand_written_formula():
    """Logits a are the params and L does not depend on them: the estimate is ghat itself,
    ghat_i = 1/2 (L(b) - L(b~)) (-1)^b~_i 1[b_i != b~_i] sigma(|a_i|), b = 1[u < p], b~ = 1[1 - u < p]."""
    a = np.array([0.8, -1.3, 2.0, 0.1])
    f = lambda b: (b[0] + 2.0 * b[1] - b[2] * b[3] - 0.5) ** 2
    sites = {"b": (1, 4)}
    program = lambda pp, x, src: f(src.bernoulli("b", jax.nn.sigmoid(pp), 0))
    u = draw_site_uniforms(jax.random.key(8), sites, 64)
    est = lambda pp, uu: program_estimate_from_uniforms("disarm", program, sites, pp, None, uu)
    g = np.asarray(jax.jit(est)(jnp.asarray(a), u))
    p, n_nonzero = _sig(a), 0
    for i in range(64):
        ui = np.asarray(u["b"][i, 0])
        b, bt = (ui < p).astype(float), (1.0 - ui < p).astype(float)
        ref = 0.5 * (f(b) - f(bt)) * (-1.0) ** bt * (b != bt) * _sig(np.abs(a))
        np.testing.assert_allclose(g[i], ref, rtol=0, atol=1e-14)
        n_nonzero += int(np.count_nonzero(ref))
    assert n_nonzero > 50  # the formula is exercised, not only its zeros


def test_disarm_equals_network_disarm_gradient_on_feedforward_network():
    """Layer = one draw, so the program's groups are the Network's (layer) groups: the same
    uniforms give the same estimate to 1e-12."""
    from analysis.stochastic import disarm_gradient

    noise = escape_noise("sigmoid", 3.0)
    net = Network("feedforward", (2, 3, 2), noise, theta=0.4, loss="mse", target=(0.2, 0.9))
    params, x = random_instance(jax.random.key(4), net, weight_scale=2.0)

    program, sites = _feedforward_as_program(noise)
    n = 200
    u = draw_site_uniforms(jax.random.key(9), sites, n)
    est = lambda pp, uu: program_estimate_from_uniforms("disarm", program, sites, pp, x, uu)
    g = jax.jit(est)(list(params), u)
    flat = jnp.concatenate([u["layer0"].reshape(n, 3), u["layer1"].reshape(n, 2)], axis=1)
    ref = jax.jit(jax.vmap(lambda ui: disarm_gradient(net, params, x, ui)))(flat)
    assert float(jnp.max(jnp.abs(ref[0]))) > 1e-2  # non-trivial estimates
    for a, b in zip(g, ref, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-12)


def test_disarm_unbiased_on_recurrent_snn_program():
    """A recurrent LIF network of analysis.snn (hidden 2, LIF readout, T = 4: K = 12, one draw
    per layer and step = 8 groups); check_unbiased at family-wise alpha = 1e-3, fixed keys."""
    from analysis.neuron import escape_noise as neuron_noise
    from analysis.snn import method
    from analysis.stochastic import snn_program, snn_sites
    from tests.helpers import tiny_recurrent_snn_config

    cfg = tiny_recurrent_snn_config()
    m = method(
        "stochastic", hidden_noise=neuron_noise("sigmoid", 5.0), output_noise=neuron_noise("sigmoid", 5.0)
    )

    def loss(res, inputs):
        h = res.spikes[0][0]
        return (jnp.sum(res.output) - 1.0) ** 2 + 0.5 * jnp.sum(h[:, 0] * h[:, 1])

    rng = np.random.default_rng(1)
    params = {
        "hidden": [
            {"w": jnp.asarray(rng.normal(size=(2, 2)) * 2.5), "v": jnp.asarray(rng.normal(size=(2, 2)) * 2.5)}
        ],
        "readout": {"w": jnp.asarray(rng.normal(size=(2, 1)) * 2.5 + 0.5)},
    }
    x = jnp.asarray(rng.random((1, 4, 2)) < 0.7, jnp.float64)
    program, sites = snn_program(cfg, m, loss), snn_sites(cfg, 1, 4)
    exact = program_value_and_grad(program, sites, params, x)[1]
    assert min(float(jnp.max(jnp.abs(v))) for v in jax.tree_util.tree_leaves(exact)) > 4e-2  # every leaf
    g = jax.jit(lambda k, p: program_estimate("disarm", k, program, sites, p, x, 4000))(
        jax.random.key(23), params
    )
    report = check_unbiased(None, jax.random.key(0), params, 4000, reference=exact, samples=g)
    assert report.passed, str(report)


def test_disarm_memory_counts_one_run_per_draw():
    from analysis.stochastic import program_estimator_memory

    w = jnp.zeros(3)
    sites = {"h": (4, 3), "y": (2,)}  # K = 14 variables in G = 6 draws
    score = program_estimator_memory("score", sites, w, 10)
    assert program_estimator_memory("disarm", sites, w, 10) == 7 * score
    assert program_estimator_memory("coupled_flip", sites, w, 10) == 15 * score
