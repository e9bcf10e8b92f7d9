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
    Program,
    check_unbiased,
    estimate,
    estimate_many,
    estimator_memory,
    exact_value_and_grad,
    log_prob_and_loss,
    random_instance,
)
from analysis.stochastic._estimators import estimate_from_uniforms
from analysis.stochastic._sources import draw_site_uniforms, split_flat

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


RECURRENT = Program(recurrent, SITES)


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
    value, grad = exact_value_and_grad(RECURRENT, params, x)
    ref_value, ref_grad = brute_force(params, x)
    assert abs(float(value) - ref_value) < 1e-12
    for k in ref_grad:
        np.testing.assert_allclose(np.asarray(grad[k]), ref_grad[k], rtol=0, atol=1e-12)
    # chunks smaller than 2^K give the same sums
    value2, grad2 = exact_value_and_grad(RECURRENT, params, x, chunk=8)
    assert abs(float(value2) - ref_value) < 1e-12
    np.testing.assert_allclose(np.asarray(grad2["w"]), ref_grad["w"], atol=1e-12)


def test_forced_log_probs_sum_to_one():
    params, x = make_params(1)
    K = RECURRENT.K
    assert K == 7 and RECURRENT.n_draws == 4
    bits = jnp.array(list(itertools.product([0.0, 1.0], repeat=K)))
    one = lambda b: log_prob_and_loss(RECURRENT, params, x, split_flat(b, SITES))[0]
    total = float(jnp.sum(jnp.exp(jax.jit(jax.vmap(one))(bits))))
    assert abs(total - 1.0) < 1e-12


@pytest.fixture(scope="module")
def instance():
    params, x = make_params(2)
    return params, x, exact_value_and_grad(RECURRENT, params, x)[1]


@pytest.fixture(scope="module")
def samples(instance):
    """score, coupled_flip and disarm on the same uniforms (one compilation, 4000 samples)."""
    params, x, _ = instance
    names = ("score", "coupled_flip", "disarm")
    return jax.jit(lambda k, p: estimate_many(names, RECURRENT, p, x, 4000, key=k))(
        jax.random.key(11), params
    )


@pytest.mark.parametrize("name", ["score", "coupled_flip"])
def test_unbiased_estimators_pass(instance, samples, name):
    params, x, exact = instance
    report = check_unbiased(None, params, 4000, key=jax.random.key(0), reference=exact, samples=samples[name])
    assert report.passed, str(report)


def test_sg_bias_detected(instance):
    params, x, exact = instance
    g = jax.jit(lambda k, p: estimate("sg_stochastic", RECURRENT, p, x, 4000, key=k))(
        jax.random.key(12), params
    )
    report = check_unbiased(None, params, 4000, key=jax.random.key(0), reference=exact, samples=g)
    assert not report.passed


def test_mean_field_is_deterministic(instance):
    params, x, _ = instance
    g = estimate("mean_field", RECURRENT, params, x, 3, key=jax.random.key(0))
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
    g = estimate_from_uniforms("sg_stochastic", Program(chain, sites), params, jnp.asarray(x), u)
    d = lambda a: _sig(a) * (1.0 - _sig(a))
    for i in range(n):
        a_h = w @ x
        h = (np.asarray(u["h"][i, 0]) < _sig(a_h)).astype(float)
        a_y = v @ h - 0.5
        np.testing.assert_allclose(np.asarray(g["v"][i]), d(a_y) * h, atol=1e-14)
        np.testing.assert_allclose(np.asarray(g["w"][i]), d(a_y) * np.outer(v * d(a_h), x), atol=1e-14)


def _feedforward_as_program(noise):
    """The feedforward Network (2, 3, 2), theta 0.4, mse to (0.2, 0.9), written by hand as a
    program: one draw per layer (sites layer0, layer1), passing the potential z."""

    def program(pp, xx, src):
        s = xx
        for layer, w in enumerate(pp):
            z = w @ s - 0.4
            s = src.bernoulli(f"layer{layer}", noise.prob(z), 0, z=z)
        return jnp.mean((s - jnp.array([0.2, 0.9])) ** 2)

    return Program(program, {"layer0": (1, 3), "layer1": (1, 2)})


def test_feedforward_network_as_program_matches_exact():
    noise = escape_noise("sigmoid", 3.0)
    net = Network("feedforward", (2, 3, 2), noise, theta=0.4, loss="mse", target=(0.2, 0.9))
    params, x = random_instance(jax.random.key(4), net)

    program = _feedforward_as_program(noise)
    assert program.sites == net.program().sites
    value, grad = exact_value_and_grad(program, list(params), x)
    ref_value, ref_grad = exact_value_and_grad(net, params, x)
    assert abs(float(value) - float(ref_value)) < 1e-12
    for a, b in zip(grad, ref_grad, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["sg_stochastic", "sg_deterministic", "disarm"])
def test_feedforward_program_estimators_match_network_estimators(name):
    """Sample by sample, the estimator of the hand-written program equals that of the Network
    builder (layer = one draw, so DisARM's groups are the layers in both)."""
    noise = escape_noise("sigmoid", 3.0)
    net = Network("feedforward", (2, 3, 2), noise, theta=0.4, loss="mse", target=(0.2, 0.9))
    params, x = random_instance(jax.random.key(4), net, weight_scale=2.0)
    program = _feedforward_as_program(noise)
    n = 200 if name == "disarm" else 50
    u = draw_site_uniforms(jax.random.key(9), program.sites, n)
    g = jax.jit(lambda pp, uu: estimate_from_uniforms(name, program, pp, x, uu))(list(params), u)
    ref = jax.jit(lambda pp, uu: estimate_from_uniforms(name, net, pp, x, uu))(params, u)
    assert float(jnp.max(jnp.abs(ref[0]))) > 1e-2  # non-trivial estimates
    for a, b in zip(g, ref, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-12)


def test_scan_program_under_jit_and_vmap():
    params, x = make_params(5)
    est = lambda k, p: estimate("coupled_flip", RECURRENT, p, x, 2, key=k)
    eager = est(jax.random.key(1), params)
    jitted = jax.jit(est)(jax.random.key(1), params)
    np.testing.assert_allclose(np.asarray(jitted["w"]), np.asarray(eager["w"]), atol=1e-13)
    # vmap of the exact value over a batch of biases equals the loop
    bs = jnp.stack([params["b"], params["b"] + 0.3])
    batched = jax.vmap(lambda b: exact_value_and_grad(RECURRENT, {**params, "b": b}, x)[0])(bs)
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
    ("not a function", {"h": (1, 2)}, P, {}, TypeError, "fn must be a function"),
    (_one("h", (30,), 0), {"h": (1, 30)}, P, {}, ValueError, r"2\^K = 2\^30 = 1.07e\+09.*max_k = 22"),
]


@pytest.mark.parametrize("program, sites, params, kw, exc, match", BAD)
def test_bad_input(program, sites, params, kw, exc, match):
    with pytest.raises(exc, match=match):
        exact_value_and_grad(Program(program, sites), params, X, **kw)


def test_bad_estimator_arguments():
    prog = Program(_one("h", (2,), 0), {"h": (1, 2)})
    with pytest.raises(
        ValueError, match="unknown estimator 'reinforce'; valid names: sg_stochastic, sg_deterministic, score"
    ):
        estimate("reinforce", prog, P, X, 4, key=jax.random.key(0))
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        estimate("score", prog, P, X, 0, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"u\['h'\] must have shape \(n,\) \+ \(1, 2\)"):
        estimate_from_uniforms("score", prog, P, X, {"h": jnp.zeros((4, 2))})
    with pytest.raises(ValueError, match="u must be a dict with one entry per site"):
        estimate_from_uniforms("score", prog, P, X, {"g": jnp.zeros((4, 1, 2))})


def test_float32_params_with_float64_inputs():
    """float32 params under x64 stay float32 in the gradient; float64 inputs promote the loss
    (the enumeration's accumulator follows the program's dtypes: it used to fail with a scan
    carry type mismatch). Results agree with the all-float64 run to float32 precision."""

    def fn(w, x, src):
        s = src.bernoulli("h", jax.nn.sigmoid(w * x), 0)
        return jnp.sum(s * w * x)

    program = Program(fn, {"h": (1, 3)})
    w64 = jnp.array([0.5, -0.2, 1.0])
    v32, g32 = exact_value_and_grad(program, w64.astype(jnp.float32), jnp.ones(3, jnp.float32))
    vmix, gmix = exact_value_and_grad(program, w64.astype(jnp.float32), jnp.ones(3))
    v64, g64 = exact_value_and_grad(program, w64, jnp.ones(3))
    assert v32.dtype == jnp.float32 and g32.dtype == jnp.float32
    assert vmix.dtype == jnp.float64 and gmix.dtype == jnp.float32
    for v, g in ((v32, g32), (vmix, gmix)):
        assert abs(float(v) - float(v64)) < 1e-6
        assert float(jnp.max(jnp.abs(g.astype(jnp.float64) - g64))) < 1e-6


def test_estimators_refuse_runs_above_the_memory_limit():
    """The memory guard refuses before computing, naming the estimate and the option; the
    coupled flip (K re-runs per sample) is estimated K + 1 times the score function."""

    def fn(w, x, src):
        s = src.bernoulli("h", jax.nn.sigmoid(w * x), 0)
        return jnp.sum(s * w)

    program, w, x = Program(fn, {"h": (1, 3)}), jnp.array([0.5, -0.2, 1.0]), jnp.ones(3)
    score = estimator_memory("score", program, w, 10)
    assert score == 8 * 10 * (3 * 3 + 3)
    assert estimator_memory("coupled_flip", program, w, 10) == 4 * score
    with pytest.raises(ValueError, match=r"coupled_flip with n = 1000000000 samples .* GiB .*max_memory_gib"):
        estimate("coupled_flip", program, w, x, 10**9, key=jax.random.key(0))
    with pytest.raises(ValueError, match="max_memory_gib"):
        estimate("score", program, w, x, 100, key=jax.random.key(0), max_memory_gib=1e-9)
    assert estimate("score", program, w, x, 4, key=jax.random.key(0)).shape == (4, 3)


# ---------------------------------------------------------------- DisARM on programs


def test_disarm_unbiased_on_scan_program_and_cheaper_in_variance_than_score(instance, samples):
    """check_unbiased passes (false-failure rate <= 1e-3, see the module docstring); with the
    same uniforms its total variance is below the score function's on this program."""
    params, _, exact = instance
    g = samples["disarm"]
    report = check_unbiased(None, params, 4000, key=jax.random.key(0), reference=exact, samples=g)
    assert report.passed, str(report)
    total = lambda t: sum(float(jnp.sum(jnp.var(v, axis=0))) for v in jax.tree_util.tree_leaves(t))
    assert total(g) < 0.5 * total(samples["score"])


def test_disarm_one_draw_is_the_hand_written_formula():
    """Logits a are the params and L does not depend on them: the estimate is ghat itself,
    ghat_i = 1/2 (L(b) - L(b~)) (-1)^b~_i 1[b_i != b~_i] sigma(|a_i|), b = 1[u < p], b~ = 1[1 - u < p]."""
    a = np.array([0.8, -1.3, 2.0, 0.1])
    f = lambda b: (b[0] + 2.0 * b[1] - b[2] * b[3] - 0.5) ** 2
    sites = {"b": (1, 4)}
    program = Program(lambda pp, x, src: f(src.bernoulli("b", jax.nn.sigmoid(pp), 0)), sites)
    u = draw_site_uniforms(jax.random.key(8), sites, 64)
    est = lambda pp, uu: estimate_from_uniforms("disarm", program, pp, None, uu)
    g = np.asarray(jax.jit(est)(jnp.asarray(a), u))
    p, n_nonzero = _sig(a), 0
    for i in range(64):
        ui = np.asarray(u["b"][i, 0])
        b, bt = (ui < p).astype(float), (1.0 - ui < p).astype(float)
        ref = 0.5 * (f(b) - f(bt)) * (-1.0) ** bt * (b != bt) * _sig(np.abs(a))
        np.testing.assert_allclose(g[i], ref, rtol=0, atol=1e-14)
        n_nonzero += int(np.count_nonzero(ref))
    assert n_nonzero > 50  # the formula is exercised, not only its zeros


def test_disarm_memory_counts_one_run_per_draw():
    w = jnp.zeros(3)
    program = Program(lambda pp, x, src: 0.0, {"h": (4, 3), "y": (2,)})  # K = 14 variables in G = 6 draws
    assert program.K == 14 and program.n_draws == 6
    score = estimator_memory("score", program, w, 10)
    assert estimator_memory("disarm", program, w, 10) == 7 * score
    assert estimator_memory("coupled_flip", program, w, 10) == 15 * score
