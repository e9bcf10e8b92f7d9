"""Equinox layers (analysis.layers): LIF -> LI (or LIF -> LIF) stacks against
analysis.snn.simulate of the same SNNConfig and weights (spikes exact, readout and weight
gradients to 1e-6; Bernoulli spikes with the simulator's uniforms), a user's callable surrogate,
training with optax, and bad input.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

eqx = pytest.importorskip("equinox", reason="analysis.layers needs equinox (pip install equinox)")
optax = pytest.importorskip("optax")

from analysis.layers import LI, LIF  # noqa: E402
from analysis.neuron import escape_noise, surrogate  # noqa: E402
from analysis.snn import LIFParams, Method, SNNConfig, simulate  # noqa: E402

B, T, N_IN, N_H, N_OUT = 3, 25, 6, 5, 2
F64 = jnp.float64
NOISE_OUT = escape_noise("sigmoid", 5.0)  # a LIF readout's f (and matched psi) in both codes


def _x(b=B, key=1):
    return (jax.random.uniform(jax.random.key(key), (b, T, N_IN)) < 0.3).astype(F64)


def _sim_uniforms(key, n_layers, l, shape):
    """simulate's documented draw: layer l at bin t uses uniform(fold_in(split(key)[l], t), [B, N])."""
    kl = jax.random.split(key, n_layers)[l]
    draw = lambda t: jax.random.uniform(jax.random.fold_in(kl, t), shape, F64)
    return jnp.moveaxis(jax.vmap(draw)(jnp.arange(T)), 0, 1)


def _stack(spike, readout, recurrent=False, reset="detached", reset_scope="leak"):
    k1, k2 = jax.random.split(jax.random.key(0))
    kw = dict(nu=50.0, sigma_u=2.0, dtype=F64, reset=reset, reset_scope=reset_scope)
    hidden = LIF(N_IN, N_H, key=k1, spike=spike, recurrent=recurrent, **kw)
    if readout == "lif":
        out = LIF(N_H, N_OUT, key=k2, spike=spike, escape_noise=NOISE_OUT, **kw)
    else:
        out = LI(N_H, N_OUT, key=k2, dtype=F64)
    lif = LIFParams(reset=reset, reset_scope=reset_scope)
    cfg = SNNConfig(n_in=N_IN, hidden=(N_H,), n_out=N_OUT, readout=readout, recurrent=recurrent, lif=lif)
    return hidden, out, cfg


def _params(hidden, out):
    h = {"w": hidden.w} if hidden.v is None else {"w": hidden.w, "v": hidden.v}
    return {"hidden": [h], "readout": {"w": out.w}}


SLOW = pytest.mark.slow  # ~4 s each (compilation); the default cases cover every option once
CASES = [
    ("heaviside", "integrator", False, "detached", "leak"),
    pytest.param("bernoulli", "integrator", False, "detached", "leak", marks=SLOW),
    pytest.param("heaviside", "lif", True, "differentiable", "leak", marks=SLOW),
    ("bernoulli", "lif", False, "detached", "update"),
    ("bernoulli", "integrator", True, "differentiable", "update"),
]


@pytest.mark.parametrize("spike, readout, recurrent, reset, scope", CASES)
def test_stack_equals_simulate_spikes_and_gradients(spike, readout, recurrent, reset, scope):
    hidden, out, cfg = _stack(spike, readout, recurrent, reset, scope)
    meth = Method("deterministic" if spike == "heaviside" else "stochastic", output_noise=NOISE_OUT)
    x, key = _x(), jax.random.key(7)
    u_h = _sim_uniforms(key, 2, 0, (B, N_H))
    u_o = _sim_uniforms(key, 2, 1, (B, N_OUT))
    target = jnp.sin(jnp.arange(T * N_OUT, dtype=F64)).reshape(T, N_OUT)

    def model(layers, x, uh, uo):
        h, o = layers
        s = h(x, uniforms=uh)
        return s, (o(s, uniforms=uo) if isinstance(o, LIF) else o(s))

    def loss_layers(layers):
        s, y = jax.vmap(model, in_axes=(None, 0, 0, 0))(layers, x, u_h, u_o)
        return jnp.sum((y - target) ** 2) + 0.1 * jnp.sum(s * jnp.arange(N_H))

    def loss_sim(params):
        r = simulate(params, x, cfg, meth, key=key)
        return jnp.sum((r.output - target) ** 2) + 0.1 * jnp.sum(r.spikes[0] * jnp.arange(N_H))

    (s, y), g_layers = eqx.filter_jit(
        lambda ls: (jax.vmap(model, in_axes=(None, 0, 0, 0))(ls, x, u_h, u_o), jax.grad(loss_layers)(ls))
    )((hidden, out))
    r, g_sim = jax.jit(lambda p: (simulate(p, x, cfg, meth, key=key), jax.grad(loss_sim)(p)))(
        _params(hidden, out)
    )
    np.testing.assert_array_equal(s, r.spikes[0])
    assert 0.05 < float(s.mean()) < 0.6  # the layer does spike (not a vacuous comparison)
    if readout == "lif":
        np.testing.assert_array_equal(y, r.output)
    else:
        np.testing.assert_allclose(y, r.output, rtol=0, atol=1e-12)
    pairs = [(g_layers[0].w, g_sim["hidden"][0]["w"]), (g_layers[1].w, g_sim["readout"]["w"])]
    if recurrent:
        pairs.append((g_layers[0].v, g_sim["hidden"][0]["v"]))
    for a, b in pairs:
        assert float(jnp.abs(b).max()) > 1e-3
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * float(jnp.abs(b).max()))


def test_sequential_with_the_simulator_key_draws_its_uniforms():
    """eqx.nn.Sequential splits its key per layer like simulate: same spikes at batch size 1."""
    hidden, out, cfg = _stack("bernoulli", "integrator")
    x, key = _x(b=1), jax.random.key(11)
    y = eqx.nn.Sequential([hidden, out])(x[0], key=key)
    r = simulate(_params(hidden, out), x, cfg, Method("stochastic"), key=key)
    np.testing.assert_allclose(y, r.output[0], atol=1e-12)
    np.testing.assert_array_equal(hidden(x[0], key=jax.random.split(key, 2)[0]), r.spikes[0][0])
    np.testing.assert_array_equal(
        hidden.uniforms(jax.random.split(key, 2)[0], T), _sim_uniforms(key, 2, 0, (1, N_H))[0]
    )


def test_callable_surrogate_in_a_layer_equals_named():
    user = lambda z: 1.0 / (1.0 + 10.0 * jnp.abs(z)) ** 2
    k = jax.random.key(0)
    x = _x(b=1)[0]
    grads = []
    for psi in (user, surrogate("superspike", 10.0)):
        layer = LIF(N_IN, N_H, key=k, surrogate=psi, nu=50.0, sigma_u=2.0, dtype=F64)
        grads.append(
            jax.grad(lambda l: jnp.sum(l.run(x)[0] * jnp.arange(N_H)) + jnp.sum(l.run(x)[1]))(layer).w
        )
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-7)
    assert float(jnp.abs(grads[1]).max()) > 1e-3


def _toy(seed=0):
    """Fixed toy regression: 8 input patterns [T, 10] -> target readout trace (2 channels)."""
    x = (jax.random.uniform(jax.random.key(seed), (8, 40, 10)) < 0.15).astype(jnp.float32)
    y = jnp.stack([jnp.sin(jnp.linspace(0, 3, 40)), jnp.cos(jnp.linspace(0, 3, 40))], -1)
    return x, jnp.broadcast_to(0.5 * y, (8, 40, 2)) * jnp.where(jnp.arange(8) % 2, 1.0, -1.0)[:, None, None]


@pytest.mark.parametrize("spike", [pytest.param("heaviside", marks=SLOW), "bernoulli"])
def test_lif_li_model_trains_with_optax(spike):
    x, y = _toy()
    k1, k2 = jax.random.split(jax.random.key(3))
    model = eqx.nn.Sequential([LIF(10, 32, key=k1, spike=spike, nu=40.0, sigma_u=1.5), LI(32, 2, key=k2)])
    eval_keys = jax.random.split(jax.random.key(99), 16)

    def loss(m, key):
        keys = jax.random.split(key, x.shape[0])
        return jnp.mean((jax.vmap(lambda xi, ki: m(xi, key=ki))(x, keys) - y) ** 2)

    per_key = eqx.filter_jit(lambda m: jax.vmap(lambda k: loss(m, k))(eval_keys))
    opt = optax.adam(2e-2)
    state = opt.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(m, state, key):
        g = eqx.filter_grad(loss)(m, key)
        updates, state = opt.update(g, state)
        return eqx.apply_updates(m, updates), state

    before = per_key(model)
    for i in range(30):
        model, state = step(model, state, jax.random.key(1000 + i))
    after = per_key(model)
    diff = np.asarray(before - after)  # paired over the 16 fixed evaluation keys
    se = diff.std(ddof=1) / np.sqrt(diff.size) if spike == "bernoulli" else 0.0
    # Deterministic: exact; Bernoulli: the mean decrease exceeds 5 standard errors (a chance
    # failure under a true decrease of 0 has probability < 1e-6 by the t distribution, 15 dof).
    assert diff.mean() > 0.3 * float(before.mean())
    assert diff.mean() > 5 * se


def test_jit_and_vmap_of_a_layer():
    layer = LIF(N_IN, N_H, key=jax.random.key(0), nu=50.0, sigma_u=2.0, dtype=F64)
    x = _x()
    np.testing.assert_array_equal(jax.jit(jax.vmap(layer))(x), jnp.stack([layer(xi) for xi in x]))


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda l: l(jnp.zeros((T, N_IN + 1))), ValueError, r"x must have shape \[time, n_in=6\]"),
        (lambda l: l(jnp.zeros((2, T, N_IN))), ValueError, r"jax.vmap the layer over a batch"),
        (lambda l: LIF(3, 2, key=jax.random.key(0), spike="poisson"), ValueError, r"unknown spike"),
        (lambda l: LIF(3, 2, key=jax.random.key(0), escape_noise="sigmoid"), TypeError, r"escape_noise must"),
        (lambda l: LIF(3, 2, key=jax.random.key(0), surrogate="superspike"), TypeError, r"surrogate must"),
        (lambda l: LIF(3, 2, key=jax.random.key(0), tau_mem=-1.0), ValueError, r"tau_mem"),
        (lambda l: LIF(0, 2, key=jax.random.key(0)), ValueError, r"n_in"),
        (lambda l: LIF(3, 2, key=jax.random.key(0), dtype=jnp.int32), ValueError, r"floating-point dtype"),
        (lambda l: LI(3, 2, key=jax.random.key(0), value="now"), ValueError, r"unknown value"),
    ],
)
def test_bad_input_is_named(make, exc, match):
    layer = LIF(N_IN, N_H, key=jax.random.key(0))
    with pytest.raises(exc, match=match):
        make(layer)


def test_bernoulli_layer_needs_randomness():
    layer = LIF(N_IN, N_H, key=jax.random.key(0), spike="bernoulli")
    with pytest.raises(ValueError, match=r"pass key= \(a PRNG key\) or uniforms="):
        layer(jnp.zeros((T, N_IN)))
    with pytest.raises(ValueError, match=r"uniforms must have shape \[time, n_out\] = \(25, 5\)"):
        layer(jnp.zeros((T, N_IN)), uniforms=jnp.zeros((T, N_H + 1)))
