"""Program shapes users write: jax.checkpoint, an inner vmap, lax.cond, the Heaviside source.

Each supported shape is checked against a naive enumeration written here (NumPy, all 2^K
configurations, gradient by central differences); each unsupported one must be refused
before anything runs with one line naming the pattern.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import checkpoint as captured_checkpoint  # imported early on purpose (see the test)

from analysis.stochastic import (
    Heaviside,
    Program,
    estimate_many,
    exact_value_and_grad,
    trace_program,
)

T, N = 3, 2
RNG = np.random.default_rng(7)
W = RNG.normal(size=(N, N))
R = np.array([0.7, -1.3])
X = RNG.normal(size=(T, N))


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def naive_value(w, r, x):
    """E[L] by enumeration: s_t ~ Bernoulli(sigmoid(s_{t-1} W + x_t)), L = (sum_t s_t . r)^2."""
    total = 0.0
    for bits in itertools.product([0.0, 1.0], repeat=T * N):
        s = np.array(bits).reshape(T, N)
        prev, prob = np.zeros(N), 1.0
        for t in range(T):
            p = _sig(prev @ w + x[t])
            prob *= np.prod(np.where(s[t] > 0, p, 1.0 - p))
            prev = s[t]
        total += prob * float(np.sum(s @ r)) ** 2
    return total


def naive_grad(w, r, x, h=1e-6):
    gw = np.zeros_like(w)
    for i, j in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[i, j] = h
        gw[i, j] = (naive_value(w + e, r, x) - naive_value(w - e, r, x)) / (2 * h)
    gr = np.zeros_like(r)
    for i in range(r.size):
        e = np.zeros_like(r)
        e[i] = h
        gr[i] = (naive_value(w, r + e, x) - naive_value(w, r - e, x)) / (2 * h)
    return gw, gr


def scan_program(wrap):
    """The scan program; ``wrap`` is applied to the step when the program is traced (so
    ``lambda f: jax.checkpoint(f)`` looks jax.checkpoint up then, as user code does)."""

    def fn(params, x, src):
        def step(prev, t):
            s = src.bernoulli("h", jax.nn.sigmoid(prev @ params["w"] + x[t]), t)
            return s, jnp.sum(s * params["r"])

        _, out = jax.lax.scan(wrap(step), jnp.zeros(N), jnp.arange(T))
        return jnp.sum(out) ** 2

    return Program(fn, {"h": (T, N)})


PARAMS = {"w": jnp.asarray(W), "r": jnp.asarray(R)}


@pytest.fixture(scope="module")
def reference():
    return naive_value(W, R, X), naive_grad(W, R, X)


def test_checkpointed_scan_step_gives_the_exact_gradient(reference):
    """jax.checkpoint on the scan step (long BPTT) changes memory only: the exact value and
    gradient equal the naive enumeration (central differences: error ~1e-9)."""
    value, grad = exact_value_and_grad(scan_program(lambda f: jax.checkpoint(f)), PARAMS, jnp.asarray(X))
    (v_ref, (gw, gr)) = reference
    assert abs(float(value) - v_ref) < 1e-12
    np.testing.assert_allclose(grad["w"], gw, atol=1e-7)
    np.testing.assert_allclose(grad["r"], gr, atol=1e-7)


def test_checkpointed_program_estimators_equal_the_plain_ones():
    """Every estimator gives the same samples with and without jax.checkpoint (same key)."""
    # one estimator of each kind of run: importance-sampled coupled flips (re-runs from the
    # trace), antithetic re-runs, a probe derivative (linearised); grad under a source and the
    # score's log P are the exact gradient's paths, checked above
    names = ["coupled_flip_sub", "disarm", "linearised"]
    plain = estimate_many(names, scan_program(lambda f: f), PARAMS, jnp.asarray(X), 8, key=jax.random.key(3))
    ckpt = estimate_many(
        names, scan_program(lambda f: jax.checkpoint(f)), PARAMS, jnp.asarray(X), 8, key=jax.random.key(3)
    )
    for name in names:
        for a, b in zip(
            jax.tree_util.tree_leaves(plain[name]), jax.tree_util.tree_leaves(ckpt[name]), strict=True
        ):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=name)


def test_a_captured_checkpoint_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"from jax import checkpoint") as err:
        exact_value_and_grad(scan_program(captured_checkpoint), PARAMS, jnp.asarray(X))
    assert "\n" not in str(err.value)


def test_a_draw_inside_an_inner_vmap_is_refused_and_the_batched_form_works(reference):
    def per_example(params, x, src):  # the step vmapped over T "examples", drawing inside
        def one(xt, t):
            return src.bernoulli("h", jax.nn.sigmoid(xt @ params["w"]), t)

        return jnp.sum(jax.vmap(one)(x, jnp.arange(T)) @ params["r"]) ** 2

    def batched(params, x, src):  # the alternative: the whole batch in one draw
        return jnp.sum(src.bernoulli("h", jax.nn.sigmoid(x @ params["w"]), 0) @ params["r"]) ** 2

    with pytest.raises(ValueError, match=r"inner jax\.vmap") as err:
        exact_value_and_grad(Program(per_example, {"h": (T, N)}), PARAMS, jnp.asarray(X))
    assert "\n" not in str(err.value)
    value, _ = exact_value_and_grad(Program(batched, {"h": (1, T, N)}), PARAMS, jnp.asarray(X))
    p = _sig(X @ W)  # independent rows: E[(sum s.r)^2] = Var + mean^2
    mean, var = float(np.sum(p @ R)), float(np.sum(p * (1 - p) @ (R**2)))
    assert abs(float(value) - (var + mean**2)) < 1e-12


def test_a_draw_inside_lax_cond_is_refused_and_a_cond_without_draws_works(reference):
    def drawing_branch(params, x, src):
        s0 = src.bernoulli("h", jax.nn.sigmoid(x[0]), 0)
        s1 = jax.lax.cond(
            s0[0] > 0,
            lambda: src.bernoulli("h", jax.nn.sigmoid(x[1]), 1),
            lambda: src.bernoulli("h", jax.nn.sigmoid(-x[1]), 1),
        )
        return jnp.sum((s0 + s1) * params["r"])

    def select_after(params, x, src):  # the alternative: draw, then branch on the spikes
        s0 = src.bernoulli("h", jax.nn.sigmoid(x[0] @ params["w"]), 0)
        z1 = jax.lax.cond(s0[0] > 0, lambda: x[1], lambda: -x[1])
        s1 = src.bernoulli("h", jax.nn.sigmoid(z1), 1)
        return jnp.sum((s0 + s1) * params["r"])

    with pytest.raises(ValueError, match=r"lax\.cond") as err:
        exact_value_and_grad(Program(drawing_branch, {"h": (2, N)}), PARAMS, jnp.asarray(X))
    assert "\n" not in str(err.value)
    value, grad = exact_value_and_grad(Program(select_after, {"h": (2, N)}), PARAMS, jnp.asarray(X))
    p0 = _sig(X[0] @ W)
    p1_on, p1_off = _sig(X[1]), _sig(-X[1])
    closed = p0 @ R + p0[0] * (p1_on @ R) + (1 - p0[0]) * (p1_off @ R)
    assert abs(float(value) - float(closed)) < 1e-12
    np.testing.assert_allclose(grad["r"], p0 + p0[0] * p1_on + (1 - p0[0]) * p1_off, atol=1e-12)


def test_heaviside_thresholds_the_potential_not_the_probability():
    """With f(0) != 1/2 (here p = sigmoid(z + 2)), 1[p > 1/2] would be wrong; the source
    thresholds z, and a draw without z is refused."""
    z = jnp.array([-1.0, 0.5])

    def with_z(w, x, src):
        return jnp.sum(src.bernoulli("h", jax.nn.sigmoid(w * x + 2.0), 0, z=w * x))

    def without_z(w, x, src):
        return jnp.sum(src.bernoulli("h", jax.nn.sigmoid(w * x + 2.0), 0))

    prog = Program(with_z, {"h": (1, 2)})
    _, tr = trace_program(prog, 1.0, z, Heaviside(prog.sites), record=("spikes",))
    np.testing.assert_array_equal(tr.spikes["h"], [[0.0, 1.0]])
    bad = Program(without_z, {"h": (1, 2)})
    with pytest.raises(ValueError, match="needs the potential"):
        trace_program(bad, 1.0, z, Heaviside(bad.sites))


def test_a_draw_whose_probability_does_not_depend_on_params():
    """A fixed coin (p independent of params) beside a parameterised one: E[L] = p_fixed + sigmoid(w)."""

    def coins(w, x, src):
        fixed = src.bernoulli("fixed", jnp.full((1,), 0.3), 0)
        free = src.bernoulli("free", jax.nn.sigmoid(w * x), 0)
        return jnp.sum(fixed) + jnp.sum(free)

    value, grad = exact_value_and_grad(Program(coins, {"fixed": (1, 1), "free": (1, 1)}), 0.4, jnp.ones(1))
    s = _sig(0.4)
    assert abs(float(value) - (0.3 + s)) < 1e-14
    assert abs(float(grad) - s * (1 - s)) < 1e-14
    g = estimate_many(
        ["score", "coupled_flip", "disarm"],
        Program(coins, {"fixed": (1, 1), "free": (1, 1)}),
        0.4,
        jnp.ones(1),
        4,
        key=jax.random.key(0),
    )
    assert all(np.isfinite(np.asarray(v)).all() for v in g.values())
