"""Spiking networks in time (analysis.snn._network): forward against a naive NumPy loop, gradients
against an explicitly unrolled JAX network, finite differences on the (linear) readout,
checkpointing, reset modes, randomness, dtypes and bad input.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.neuron import bernoulli_spike_from_uniform, escape_noise, heaviside_spike, matched_surrogate
from analysis.snn import LIFParams, Method, SNNConfig, init_params, method, simulate
from analysis.snn._methods import sampled_derivative_spike
from tests.helpers import naive_lif

B, T = 2, 12
_sim = jax.jit(simulate, static_argnames=("cfg", "method", "record"))


def _inputs(n_in, p=0.3, key=1, dtype=jnp.float64, t=T):
    return jnp.asarray(np.random.default_rng(key).random((B, t, n_in)) < p, dtype)


def _uniforms(key, n_layers, l, t, shape):
    """The documented contract: layer l's uniforms at bin t."""
    keys = jax.random.split(key, n_layers)
    return jax.random.uniform(jax.random.fold_in(keys[l], t), shape, jnp.float64)


def _np_conv(x, w, stride, same):
    """Explicit-loop 1-D conv; x [B, L, Ci], w [K, Ci, Co] -> [B, L_out, Co]."""
    k, _, co = w.shape
    left = (k - 1) // 2 if same else 0
    xp = np.pad(x, ((0, 0), (left, k - 1 - left), (0, 0))) if same else x
    l_out = x.shape[1] if same else (x.shape[1] - k) // stride + 1
    out = np.zeros((x.shape[0], l_out, co))
    for p in range(l_out):
        for j in range(k):
            out[:, p, :] += xp[:, p * stride + j, :] @ w[j]
    return out


def _np_current(cfg, l, w, s, rec=False):
    if cfg.connectivity == "dense" or l == len(cfg.hidden):
        return s @ w
    length = cfg.lengths[l + 1] if rec else cfg.lengths[l]
    x = s.reshape(s.shape[0], length, w.shape[1])
    return _np_conv(x, w, 1 if rec else cfg.stride[l], rec).reshape(s.shape[0], -1)


def _np_network(params, x, cfg, meth, key):
    """The naive LIF loop of tests.helpers (NumPy) with this network's spikes and currents,
    and a naive loop over kernel taps for conv layers."""
    p = jax.tree_util.tree_map(np.asarray, params)
    x = np.asarray(x)
    n_hidden = len(cfg.hidden)
    sizes = list(cfg.layer_sizes) + [cfg.n_out]
    lifs = [cfg.out_lif if l == n_hidden else cfg.lif for l in range(len(sizes))]

    def spike(z, l, t):
        last = l == n_hidden
        if last and cfg.readout == "integrator":
            return np.zeros_like(z)
        if meth.name == "deterministic":
            return (z > 0).astype(float)
        noise = meth.output_noise if last else meth.hidden_noise
        u = np.asarray(_uniforms(key, len(sizes), l, t, z.shape))
        return (u < 1 / (1 + np.exp(-noise.beta * z))).astype(float)

    spikes, potentials = naive_lif(
        x,
        [h["w"] for h in p["hidden"]] + [p["readout"]["w"]],
        spike,
        lif=[(lp.lambda_mem, lp.lambda_syn, lp.theta) for lp in lifs],
        sizes=sizes,
        recurrent=[h["v"] for h in p["hidden"]] + [None] if cfg.recurrent else None,
        current=lambda l, w, s, rec: _np_current(cfg, l, w, s, rec=rec),
    )
    out = spikes[-1] if cfg.readout == "lif" else potentials[-1]
    return [np.stack(s, 1) for s in spikes[:-1]], np.stack(out, 1)


CONFIGS = {
    "dense": SNNConfig(n_in=10, hidden=(7, 5), n_out=3),
    "dense_rec_lif": SNNConfig(
        n_in=10,
        hidden=(6,),
        n_out=4,
        recurrent=True,
        readout="lif",
        readout_lif=LIFParams(tau_mem=20e-3, tau_syn=10e-3),
    ),
    "conv_rec": SNNConfig(
        n_in=24,
        hidden=(3, 4),
        n_out=2,
        connectivity="conv1d",
        in_channels=2,
        kernel_size=(3, 2),
        stride=(2, 1),
        recurrent=True,
    ),
}


_slow = pytest.mark.slow


@pytest.mark.parametrize(
    "name,meth",
    [
        ("dense_rec_lif", "deterministic"),
        ("conv_rec", "stochastic"),
        pytest.param("dense", "stochastic", marks=_slow),
        pytest.param("dense", "deterministic", marks=_slow),
        pytest.param("dense_rec_lif", "stochastic", marks=_slow),
        pytest.param("conv_rec", "deterministic", marks=_slow),
    ],
)
def test_forward_matches_numpy_loop(name, meth):
    cfg = CONFIGS[name]
    params = init_params(jax.random.key(0), cfg, nu=60.0, dtype=jnp.float64)
    x, key = _inputs(cfg.n_in), jax.random.key(5)
    res = _sim(params, x, cfg, method(meth), key=key)
    ref_spikes, ref_out = _np_network(params, x, cfg, method(meth), key)
    assert res.output.shape == (B, T, cfg.n_out) and res.output.dtype == jnp.float64
    for s, r, n in zip(res.spikes, ref_spikes, cfg.layer_sizes, strict=True):
        assert s.shape == (B, T, n)
        np.testing.assert_array_equal(np.asarray(s), r)
    assert sum(float(s.sum()) for s in res.spikes) > 0  # the comparison is not vacuous
    np.testing.assert_allclose(np.asarray(res.output), ref_out, rtol=1e-12, atol=1e-12)


def _loop_loss(params, x, cfg, meth, key, reset):
    """Same network as the naive LIF loop of tests.helpers, in JAX, with the spike functions
    of analysis.neuron._spikes (dense, one hidden layer, integrator readout);
    loss = sum_t sum_j U_out[t, j] cos(0.3 t + j)."""
    lif = cfg.lif
    w, wo = params["hidden"][0]["w"], params["readout"]["w"]
    noise = meth.hidden_noise

    def spike(z, l, t):
        if l == 1:
            return 0.0 * z  # non-spiking readout
        if meth.name == "deterministic":
            return heaviside_spike(z, matched_surrogate(noise))
        if meth.name == "stochastic":
            return bernoulli_spike_from_uniform(z, _uniforms(key, 2, 0, t, z.shape), noise)
        return sampled_derivative_spike(z, _uniforms(key, 2, 0, t, z.shape), noise)

    _, potentials = naive_lif(
        x,
        [w, wo],
        spike,
        lif=[(lif.lambda_mem, lif.lambda_syn, lif.theta)] * 2,
        reset=None if reset == "differentiable" else jax.lax.stop_gradient,
    )
    return sum(jnp.sum(uo * jnp.cos(0.3 * t + jnp.arange(wo.shape[1]))) for t, uo in enumerate(potentials[1]))


def _scan_loss(params, x, cfg, meth, key):
    out = _sim(params, x, cfg, meth, key=key).output
    c = jnp.cos(0.3 * jnp.arange(x.shape[1])[:, None] + jnp.arange(cfg.n_out)[None, :])
    return jnp.sum(out * c)


@pytest.mark.parametrize(
    "meth,reset",
    [
        ("deterministic", "detached"),
        ("stochastic", "differentiable"),
        pytest.param("multilayer_spiker", "detached", marks=_slow),
        pytest.param("deterministic", "differentiable", marks=_slow),
        pytest.param("stochastic", "detached", marks=_slow),
        pytest.param("multilayer_spiker", "differentiable", marks=_slow),
    ],
)
def test_gradients_match_unrolled_loop(meth, reset):
    cfg = SNNConfig(n_in=8, hidden=(6,), n_out=3, lif=LIFParams(reset=reset))
    params = init_params(jax.random.key(2), cfg, nu=80.0, dtype=jnp.float64)
    x, key, m = _inputs(8), jax.random.key(9), method(meth)
    g_scan = jax.jit(jax.grad(_scan_loss), static_argnums=(2, 3))(params, x, cfg, m, key)
    g_loop = jax.jit(jax.grad(_loop_loss), static_argnums=(2, 3, 5))(params, x, cfg, m, key, reset)
    for a, b in zip(jax.tree_util.tree_leaves(g_scan), jax.tree_util.tree_leaves(g_loop), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)
    assert float(jnp.abs(g_scan["hidden"][0]["w"]).sum()) > 0


def test_readout_gradient_finite_differences():
    """The integrator output is linear in the readout weights and they do not change any
    spike, so central differences are exact up to rounding (independent of autodiff)."""
    cfg = CONFIGS["dense"]
    params = init_params(jax.random.key(0), cfg, nu=60.0, dtype=jnp.float64)
    x, m, key = _inputs(cfg.n_in), method("stochastic"), jax.random.key(1)
    g = np.asarray(jax.grad(_scan_loss)(params, x, cfg, m, key)["readout"]["w"])
    loss_w = jax.jit(lambda wo: _scan_loss({**params, "readout": {"w": wo}}, x, cfg, m, key))
    eps, fd, w0 = 1e-4, np.zeros_like(g), params["readout"]["w"]
    for idx in np.ndindex(g.shape):
        fd[idx] = (float(loss_w(w0.at[idx].add(eps))) - float(loss_w(w0.at[idx].add(-eps)))) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)


def test_reset_modes_differ():
    g = {}
    for reset in ("detached", "differentiable"):
        cfg = SNNConfig(n_in=8, hidden=(6,), n_out=3, lif=LIFParams(reset=reset))
        params = init_params(jax.random.key(2), cfg, nu=80.0, dtype=jnp.float64)
        g[reset] = np.asarray(
            jax.jit(jax.grad(_scan_loss), static_argnums=(2, 3))(
                params, _inputs(8), cfg, method("deterministic"), None
            )["hidden"][0]["w"]
        )
    assert np.abs(g["detached"] - g["differentiable"]).max() > 1e-6 * np.abs(g["detached"]).max()


@pytest.mark.parametrize("block", [5, pytest.param(0, marks=_slow), pytest.param(4, marks=_slow)])
def test_checkpoint_identical_gradients(block):
    base = CONFIGS["dense_rec_lif"]
    ck = SNNConfig(**{**base.__dict__, "checkpoint": True, "checkpoint_block": block})
    params = init_params(jax.random.key(0), base, nu=60.0, dtype=jnp.float64)
    x, m, key = _inputs(base.n_in, t=23), method("stochastic"), jax.random.key(3)
    loss = lambda p, c: jnp.sum(_sim(p, x, c, m, key=key).output * jnp.arange(23.0)[:, None])
    grad = jax.jit(jax.grad(loss), static_argnums=1)
    ga, gb = grad(params, base), grad(params, ck)
    for a, b in zip(jax.tree_util.tree_leaves(ga), jax.tree_util.tree_leaves(gb), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-14)


def test_stochastic_reproducible_and_key_dependent():
    cfg = CONFIGS["dense"]
    params = init_params(jax.random.key(0), cfg, nu=60.0)
    x = _inputs(cfg.n_in, dtype=jnp.float32)
    run = lambda k: _sim(params, x, cfg, method("stochastic"), key=jax.random.key(k)).spikes[0]
    a, b, c = run(1), run(1), run(2)
    assert a.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))


def test_multilayer_spiker_derivative_is_beta_times_spike():
    noise = escape_noise("sigmoid", 10.0)
    z = jnp.linspace(-0.5, 0.5, 11)
    u = jnp.full_like(z, 0.5)
    s = sampled_derivative_spike(z, u, noise)
    d = jax.vmap(jax.grad(lambda zz, uu: sampled_derivative_spike(zz, uu, noise)))(z, u)
    np.testing.assert_array_equal(np.asarray(d), 10.0 * np.asarray(s))
    assert 0 < float(s.sum()) < 11


def test_record_modes_and_jit():
    cfg = CONFIGS["dense"]
    params = init_params(jax.random.key(0), cfg)
    x = _inputs(cfg.n_in, dtype=jnp.float32)
    f = _sim
    r_out = f(params, x, cfg, Method(), record="output")
    r_all = f(params, x, cfg, Method(), record="all")
    assert r_out.spikes == () and r_out.membranes is None
    assert len(r_all.membranes) == 2 and r_all.output_membrane.shape == (B, T, 3)
    np.testing.assert_array_equal(np.asarray(r_all.output), np.asarray(r_all.output_membrane))


def test_bad_input_errors():
    cfg = CONFIGS["dense"]
    params = init_params(jax.random.key(0), cfg)
    x = _inputs(cfg.n_in)
    with pytest.raises(ValueError, match="n_in=10"):
        simulate(params, x[..., :5], cfg, Method())
    with pytest.raises(ValueError, match="batch, time"):
        simulate(params, x[0], cfg, Method())
    with pytest.raises(ValueError, match="valid names: deterministic, stochastic, multilayer_spiker"):
        method("spiketorch")
    with pytest.raises(ValueError, match="PRNG key"):
        simulate(params, x, cfg, method("stochastic"))
    with pytest.raises(ValueError, match="connectivity"):
        SNNConfig(n_in=4, connectivity="sparse")
    with pytest.raises(ValueError, match="does not fit"):
        SNNConfig(n_in=4, hidden=(2,), connectivity="conv1d", kernel_size=7)
    with pytest.raises(ValueError, match="hidden layers"):
        simulate({"hidden": [], "readout": params["readout"]}, x, cfg, Method())
    with pytest.raises(ValueError, match="record"):
        simulate(params, x, cfg, Method(), record="everything")
    with pytest.raises(ValueError, match="NaN"):
        simulate(params, x.at[0, 0, 0].set(jnp.nan), cfg, Method())


@pytest.mark.parametrize(
    "meth,reset",
    [
        ("deterministic", "differentiable"),
        ("stochastic", "detached"),
        ("multilayer_spiker", "differentiable"),
    ],
)
@pytest.mark.parametrize(
    "cfg",
    [
        SNNConfig(n_in=10, hidden=(7, 5), n_out=4, readout="lif"),
        SNNConfig(
            n_in=24,
            hidden=(3, 4),
            n_out=2,
            connectivity="conv1d",
            in_channels=2,
            kernel_size=(3, 2),
            stride=(2, 1),
            readout="lif",
        ),
    ],
    ids=["dense_lif", "conv_lif"],
)
def test_handwritten_layer_backward_equals_autodiff(cfg, meth, reset):
    """The layer-wise path's hand-written LIF backward (analysis._snn_layerwise._lif_layer)
    against autodiff of the all-layers scan (the checkpointed path), with cotangents on
    every output: hidden spikes and potentials, output spikes and potential."""
    cfg = SNNConfig(**{**cfg.__dict__, "lif": LIFParams(reset=reset)})
    ck = SNNConfig(**{**cfg.__dict__, "checkpoint": True})
    params = init_params(
        jax.random.key(4), cfg, nu=80.0, sigma_u=3.0, dtype=jnp.float64
    )  # every layer spikes
    x, m, key = _inputs(cfg.n_in, t=30), method(meth), jax.random.key(6)

    def loss(p, c):
        r = _sim(p, x, c, m, key=key, record="all")
        arrays = r.spikes + r.membranes + (r.output, r.output_membrane)
        return sum(
            jnp.sum(jnp.sin(1.0 + k + jnp.arange(a.size).reshape(a.shape)) * a) for k, a in enumerate(arrays)
        )

    grad = jax.jit(jax.grad(loss), static_argnums=1)
    ga, gb = grad(params, cfg), grad(params, ck)
    for a, b in zip(jax.tree_util.tree_leaves(ga), jax.tree_util.tree_leaves(gb), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)
    assert all(float(jnp.abs(a).max()) > 0 for a in jax.tree_util.tree_leaves(ga))


@pytest.mark.parametrize("name", ["deterministic", "stochastic", "multilayer_spiker"])
@pytest.mark.parametrize("output", [False, True])
def test_spike_derivative_is_jvp_of_spike_fn(name, output):
    m = method(name)
    z = jnp.linspace(-0.3, 0.3, 41)
    u = jax.random.uniform(jax.random.key(0), z.shape, z.dtype)
    s, ds = jax.jvp(lambda zz: m.spike_fn(output)(zz, u), (z,), (jnp.ones_like(z),))
    np.testing.assert_array_equal(np.asarray(ds), np.asarray(m.spike_derivative(output)(z, s)))
