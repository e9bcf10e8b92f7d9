"""The simulator options that reproduce stork's network (github.com/fmi-basel/stork at 6dd5824).

(a) An independent NumPy reference runs stork's step order literally (every group evolves
from its stored input, then every connection adds its source's new output into the next
step's input; LIF spike from the membrane before the update, multiplicative reset of the
whole update; readout records the membrane after the update, from initial_state = -1e-3;
'VALID' feedforward convs, 'SAME' recurrent convs of kernel 5). ``simulate`` with
reset_scope="update", delay=1, readout_value="after", readout_u0=-1e-3 gives its spikes
exactly and its readout to 1e-10 (float64), dense / conv1d / conv1d + recurrent, in the
layer-wise, checkpointed and event-driven paths.
(b) A naive loop of this package's equations checks each option on its own (delay without
the update reset, the update reset without delay, "before" with u0).
(c) Gradients: the layer-wise path (hand-written adjoint, or its autodiff fallback) equals
autodiff of the all-layers time loop to 1e-5 relative, detached and differentiable reset,
deterministic and stochastic (fixed key).
(d) A spike source of analysis.stochastic drives the same network: Bernoulli with the
training uniforms and Heaviside reproduce ``simulate``'s spikes and output.
(e) readout_scale="fan_in": readout SD 1/sqrt(N_L) within 4 standard errors (fixed key; a
4-SE band fails by chance with probability 6e-5), hidden weights unchanged.
(f) Bad values are refused with errors naming the field.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.snn import LIFParams, Method, SNNConfig, init_params, parameter_count, simulate
from analysis.snn._network import param_shapes
from analysis.stochastic import Bernoulli, Heaviside, exact_value_and_grad, snn_program, snn_uniforms
from analysis.stochastic._snn_program import snn_sites

B, T = 2, 16
STORK_LIF = LIFParams(reset_scope="update")  # theta = 1 as stork's LIFGroup
STORK = dict(
    lif=STORK_LIF, readout_lif=LIFParams(tau_mem=0.2), delay=1, readout_value="after", readout_u0=-1e-3
)
GEOMETRY = {
    "dense": dict(n_in=8, hidden=(7, 5), n_out=3),
    "dense_recurrent": dict(n_in=8, hidden=(7, 5), n_out=3, recurrent=True),
    "conv1d": dict(
        n_in=20, hidden=(3, 2), n_out=3, connectivity="conv1d", in_channels=2, kernel_size=3, stride=(1, 2)
    ),
    "conv1d_recurrent": dict(
        n_in=20,
        hidden=(3, 2),
        n_out=3,
        connectivity="conv1d",
        in_channels=2,
        kernel_size=3,
        stride=(1, 2),
        recurrent=True,
        recurrent_kernel_size=5,
    ),
}


# jit (static cfg, method, record): one compilation per configuration, ~3x faster than eager
_sim = jax.jit(simulate, static_argnums=(2, 3), static_argnames=("record",))


def _instance(cfg, seed=0, gain=4.0):
    """Weights scaled up from the fluctuation-driven init so that neurons spike; spike inputs."""
    params = init_params(jax.random.key(seed), cfg, nu=20.0, dtype=jnp.float64)
    params = jax.tree_util.tree_map(lambda w: gain * w, params)
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.random((B, T, cfg.n_in)) < 0.3, jnp.float64)
    return params, x


# --- (a) stork's step order, literally ------------------------------------------------------


def _conv_valid(s, w, stride, length):
    """'VALID' cross-correlation of s [B, length * C_in] (position-major) with w [K, C_in, C_out]."""
    k, c_in, c_out = w.shape
    x = s.reshape(len(s), length, c_in)
    n_out = (length - k) // stride + 1
    y = np.zeros((len(s), n_out, c_out))
    for p in range(n_out):
        for j in range(k):
            y[:, p] += x[:, p * stride + j] @ w[j]
    return y.reshape(len(s), -1)


def _conv_same5(s, v, length):
    """stork's recurrent ConvLayer connection: kernel 5, stride 1, padding 2 (zeros)."""
    k, c, _ = v.shape
    assert k == 5
    x = np.zeros((len(s), length + 4, c))
    x[:, 2 : 2 + length] = s.reshape(len(s), length, c)
    return _conv_valid(x.reshape(len(s), -1), v, 1, length + 4)


def stork_reference(params, x, cfg):
    """Hidden spikes [B, T, N_l] per layer and readout record [B, T, n_out], as stork's Model.run."""
    p = jax.tree_util.tree_map(np.asarray, params)
    x = np.asarray(x)
    n_b, n_t, _ = x.shape
    lif, ro = cfg.lif, cfg.readout_lif
    dcy_mem, dcy_syn = math.exp(-lif.dt / lif.tau_mem), math.exp(-lif.dt / lif.tau_syn)
    ro_mem, ro_syn_dcy = math.exp(-ro.dt / ro.tau_mem), math.exp(-ro.dt / ro.tau_syn)
    sizes = cfg.layer_sizes
    mem = [np.zeros((n_b, n)) for n in sizes]
    syn = [np.zeros((n_b, n)) for n in sizes]
    inp = [np.zeros((n_b, n)) for n in sizes]
    r_out, r_syn, r_inp = (
        np.full((n_b, cfg.n_out), -1e-3),
        np.zeros((n_b, cfg.n_out)),
        np.zeros((n_b, cfg.n_out)),
    )
    spikes = [np.zeros((n_b, n_t, n)) for n in sizes]
    record = np.zeros((n_b, n_t, cfg.n_out))
    for n in range(n_t):
        # evolve_all: input group, hidden groups, readout; each clears its input afterwards
        outs = [x[:, n]]
        for l in range(len(sizes)):
            new_out = (mem[l] - 1.0 > 0).astype(float)
            new_syn = dcy_syn * syn[l] + inp[l]
            new_mem = (dcy_mem * mem[l] + (1 - dcy_mem) * syn[l]) * (1.0 - new_out)
            mem[l], syn[l] = new_mem, new_syn
            inp[l] = np.zeros_like(inp[l])
            outs.append(new_out)
            spikes[l][:, n] = new_out
        new_syn = ro_syn_dcy * r_syn + r_inp
        r_out = ro_mem * r_out + (1 - ro_mem) * r_syn
        r_syn, r_inp = new_syn, np.zeros_like(r_inp)
        record[:, n] = r_out
        # propagate_all: every connection adds W * (its source's new output) to the next input
        for l, layer in enumerate(p["hidden"]):
            if cfg.connectivity == "dense":
                inp[l] += outs[l] @ layer["w"]
            else:
                inp[l] += _conv_valid(outs[l], layer["w"], cfg.stride[l], cfg.lengths[l])
            if cfg.recurrent and cfg.connectivity == "dense":
                inp[l] += outs[l + 1] @ layer["v"]
            elif cfg.recurrent:
                inp[l] += _conv_same5(outs[l + 1], layer["v"], cfg.lengths[l + 1])
        r_inp += outs[-1] @ p["readout"]["w"]
    return spikes, record


_STORK_CASES = [
    ("dense", "layerwise"),
    ("dense", "checkpoint"),
    ("dense", "event"),
    ("dense", "event_checkpoint"),
    ("dense_recurrent", "layerwise"),
    ("conv1d", "layerwise"),
    ("conv1d", "checkpoint"),
    ("conv1d_recurrent", "layerwise"),
    ("conv1d_recurrent", "checkpoint"),
]


@pytest.mark.parametrize("geometry,path", _STORK_CASES)
def test_simulate_reproduces_stork_step_order(geometry, path):
    extra = {
        "checkpoint": dict(checkpoint=True, checkpoint_block=5),
        "event": dict(event_driven=True),
        "event_checkpoint": dict(event_driven=True, checkpoint=True),
    }.get(path, {})
    cfg = SNNConfig(**GEOMETRY[geometry], **STORK, **extra)
    params, x = _instance(cfg)
    ref_spikes, ref_out = stork_reference(params, x, cfg)
    res = _sim(params, x, cfg, Method("deterministic"))
    for l, s in enumerate(ref_spikes):
        assert 0.02 < s.mean() < 0.6, f"layer {l} must spike for the test to bite (rate {s.mean():.3f})"
        np.testing.assert_array_equal(np.asarray(res.spikes[l]), s)
    np.testing.assert_allclose(np.asarray(res.output), ref_out, rtol=1e-10, atol=1e-12)
    assert np.ptp(ref_out) > 1e-2
    # the same network in this package's default ordering gives other spikes
    default = SNNConfig(**GEOMETRY[geometry], **extra)
    other = _sim(params, x, default, Method("deterministic"))
    assert any(not np.array_equal(np.asarray(o), s) for o, s in zip(other.spikes, ref_spikes, strict=True))


# --- (b) each option alone, against a naive loop of the documented equations ------------------


def naive_dense(params, x, lif, ro, delay, scope, value, u0):
    """Dense, non-recurrent network: S[t] = 1[U[t] > theta], I[t+1] = ls I[t] + W S_prev[t-D],
    U[t+1] as the reset scope says; readout U_o[0] = u0, output U_o[t] or U_o[t+1]."""
    p = jax.tree_util.tree_map(np.asarray, params)
    x = np.asarray(x)
    lm, ls = math.exp(-lif.dt / lif.tau_mem), math.exp(-lif.dt / lif.tau_syn)
    rm, rs = math.exp(-ro.dt / ro.tau_mem), math.exp(-ro.dt / ro.tau_syn)
    s_in = x
    spikes = []
    for layer in p["hidden"]:
        n = layer["w"].shape[1]
        i_syn, u = np.zeros((len(x), n)), np.zeros((len(x), n))
        s_out = np.zeros((len(x), x.shape[1], n))
        for t in range(x.shape[1]):
            s = (u > lif.theta).astype(float)
            s_out[:, t] = s
            src = s_in[:, t - delay] if t - delay >= 0 else np.zeros_like(s_in[:, 0])
            leak = lm * u * (1 - s) + (1 - lm) * i_syn
            u = (lm * u + (1 - lm) * i_syn) * (1 - s) if scope == "update" else leak
            i_syn = ls * i_syn + src @ layer["w"]
        spikes.append(s_out)
        s_in = s_out
    i_o, u_o = (
        np.zeros((len(x), p["readout"]["w"].shape[1])),
        np.full((len(x), p["readout"]["w"].shape[1]), u0),
    )
    out = np.zeros((len(x), x.shape[1], u_o.shape[1]))
    for t in range(x.shape[1]):
        src = s_in[:, t - delay] if t - delay >= 0 else np.zeros_like(s_in[:, 0])
        u_next = rm * u_o + (1 - rm) * i_o
        out[:, t] = u_next if value == "after" else u_o
        i_o, u_o = rs * i_o + src @ p["readout"]["w"], u_next
    return spikes, out


@pytest.mark.parametrize(
    "delay,scope,value,u0",
    [(1, "leak", "before", 0.0), (0, "update", "after", -1e-3), (1, "update", "before", 0.25)],
)
def test_each_option_matches_naive_loop(delay, scope, value, u0):
    lif = LIFParams(theta=0.8, reset_scope=scope)
    cfg = SNNConfig(**GEOMETRY["dense"], lif=lif, delay=delay, readout_value=value, readout_u0=u0)
    params, x = _instance(cfg, seed=1)
    ref_spikes, ref_out = naive_dense(params, x, lif, cfg.out_lif, delay, scope, value, u0)
    for c in (cfg, SNNConfig(**{**cfg.__dict__, "checkpoint": True, "checkpoint_block": 4})):
        res = _sim(params, x, c, Method("deterministic"), record="all")
        for l, s in enumerate(ref_spikes):
            assert 0.02 < s.mean() < 0.6
            np.testing.assert_array_equal(np.asarray(res.spikes[l]), s)
        np.testing.assert_allclose(np.asarray(res.output), ref_out, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(np.asarray(res.output_membrane), np.asarray(res.output))


# --- (c) gradients: hand-written / layer-wise vs autodiff of the time loop --------------------

STOCH = Method("stochastic")


@pytest.mark.parametrize(
    "reset,geometry,readout,meth",
    [
        ("detached", "dense", "integrator", "stochastic"),  # hand-written adjoint, update scope
        ("differentiable", "dense", "lif", "deterministic"),  # autodiff fallback, LIF readout
        ("detached", "conv1d_recurrent", "integrator", "deterministic"),  # delayed V S[t-1]
    ],
)
def test_layerwise_gradient_equals_time_loop_autodiff(reset, geometry, readout, meth):
    lif = LIFParams(theta=0.8, reset=reset, reset_scope="update")
    ro = (
        dict(readout="lif", readout_lif=LIFParams(theta=0.3))
        if readout == "lif"
        else dict(readout_lif=LIFParams(tau_mem=0.2), readout_value="after", readout_u0=-1e-3)
    )
    cfg = SNNConfig(**GEOMETRY[geometry], lif=lif, delay=1, **ro)
    ckpt = SNNConfig(**{**cfg.__dict__, "checkpoint": True, "checkpoint_block": 5})
    params, x = _instance(cfg, seed=0, gain=4.0)
    m = Method(meth)
    key = jax.random.key(7)
    record = "all" if meth == "stochastic" else "spikes"  # "all": cotangents of U reach the adjoint too

    def loss(p, c):
        res = simulate(p, x, c, m, key=key, record=record)
        extra = res.membranes[-1].mean() if record == "all" else 1.0
        return jnp.mean((res.output - 0.1) ** 2) + 0.1 * jnp.mean(res.spikes[0] * extra)

    grad = jax.jit(jax.grad(loss), static_argnums=1)
    g_lw, g_tl = grad(params, cfg), grad(params, ckpt)
    rates = [float(s.mean()) for s in _sim(params, x, cfg, m, key=key).spikes]
    assert all(0.02 < r < 0.6 for r in rates), rates
    for a, b in zip(jax.tree_util.tree_leaves(g_lw), jax.tree_util.tree_leaves(g_tl), strict=True):
        scale = float(jnp.max(jnp.abs(b)))
        assert scale > 0, "gradients must not vanish for the test to bite"
        assert float(jnp.max(jnp.abs(a - b))) <= 1e-5 * scale
    if geometry == "dense" and reset == "detached":
        # the update-scope adjoint is not the leak-scope one (same key, other gradient)
        leak = SNNConfig(**{**cfg.__dict__, "lif": LIFParams(theta=0.8, reset_scope="leak")})
        g_leak = grad(params, leak)
        assert not np.allclose(g_leak["hidden"][0]["w"], g_lw["hidden"][0]["w"], rtol=1e-3)


# --- (d) spike sources of analysis.stochastic -------------------------------------------------


def test_spike_sources_reproduce_simulate_with_stork_options():
    cfg = SNNConfig(**GEOMETRY["dense"], **{**STORK, "lif": LIFParams(theta=0.8, reset_scope="update")})
    params, x = _instance(cfg, seed=4, gain=3.0)
    sites = snn_sites(cfg, B, T)
    key = jax.random.key(11)
    train = _sim(params, x, cfg, STOCH, key=key)
    src = Bernoulli(sites, u=snn_uniforms(key, cfg, B, T, jnp.float64))
    via_src = _sim(params, x, cfg, STOCH, source=src)
    for a, b in zip(train.spikes, via_src.spikes, strict=True):
        assert 0.02 < float(a.mean()) < 0.98
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(train.output), np.asarray(via_src.output))
    # Heaviside source = the deterministic network (stork's forward pass)
    det = _sim(params, x, cfg, Method("deterministic"))
    hv = _sim(params, x, cfg, STOCH, source=Heaviside(sites))
    for a, b in zip(det.spikes, hv.spikes, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_allclose(np.asarray(hv.output), np.asarray(det.output), rtol=1e-12, atol=1e-15)


def test_exact_gradient_runs_on_program_with_stork_options():
    cfg = SNNConfig(
        n_in=2, hidden=(2,), n_out=1, **{**STORK, "lif": LIFParams(theta=0.5, reset_scope="update")}
    )
    params = init_params(jax.random.key(0), cfg, nu=200.0, dtype=jnp.float64)
    x = jnp.ones((1, 3, 2), jnp.float64)
    loss = lambda res, inputs: jnp.sum(res.output[:, -1] ** 2)
    program = snn_program(cfg, Method("stochastic"), loss, batch=1, n_steps=3)
    value, grad = exact_value_and_grad(program, params, x)
    assert np.isfinite(float(value))
    assert float(jnp.max(jnp.abs(grad["readout"]["w"]))) > 0


# --- (e) readout_scale -------------------------------------------------------------------------


def test_readout_scale_fan_in():
    for geom in (dict(n_in=30, hidden=(40, 200), n_out=50), GEOMETRY["conv1d_recurrent"]):
        cfg = SNNConfig(**geom)
        key = jax.random.key(5)
        default = init_params(key, cfg, nu=15.0, sigma_u=0.7)
        fan = init_params(key, cfg, nu=15.0, sigma_u=0.7, readout_scale="fan_in")
        for a, b in zip(
            jax.tree_util.tree_leaves(default["hidden"]),
            jax.tree_util.tree_leaves(fan["hidden"]),
            strict=True,
        ):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        w_def, w_fan = (
            np.asarray(default["readout"]["w"], np.float64),
            np.asarray(fan["readout"]["w"], np.float64),
        )
        n_last = cfg.layer_sizes[-1]
        assert w_fan.shape == (n_last, cfg.n_out)
        # same normal draws, another scale: the ratio is one constant
        ratio = w_fan / w_def
        np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-5)
    # SD within 4 standard errors (SE of a normal sample SD: sigma / sqrt(2 (n - 1)))
    cfg = SNNConfig(n_in=30, hidden=(40, 200), n_out=50)
    w = np.asarray(
        init_params(jax.random.key(6), cfg, readout_scale="fan_in", dtype=jnp.float64)["readout"]["w"]
    )
    sigma = 1 / math.sqrt(200)
    assert abs(w.std(ddof=1) - sigma) < 4 * sigma / math.sqrt(2 * (w.size - 1))
    assert abs(w.mean()) < 4 * sigma / math.sqrt(w.size)


def test_parameter_count():
    dense = SNNConfig(n_in=8, hidden=(7, 5), n_out=3, recurrent=True)
    assert parameter_count(dense) == 8 * 7 + 7 * 7 + 7 * 5 + 5 * 5 + 5 * 3
    conv = SNNConfig(**GEOMETRY["conv1d_recurrent"])
    # lengths 10 -> 8 -> 3; W [3, C_in, C], V [5, C, C]; readout [2 * 3, 3]
    assert conv.lengths == (10, 8, 3)
    assert parameter_count(conv) == 3 * 2 * 3 + 5 * 3 * 3 + 3 * 3 * 2 + 5 * 2 * 2 + 6 * 3
    params = init_params(jax.random.key(0), conv)
    assert parameter_count(conv) == sum(a.size for a in jax.tree_util.tree_leaves(params))
    assert param_shapes(conv)["readout"]["w"] == (6, 3)
    with pytest.raises(TypeError, match="SNNConfig"):
        parameter_count("cfg")  # type: ignore[arg-type]


# --- (f) bad values ----------------------------------------------------------------------------


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match="reset_scope 'whole'; valid: leak, update"):
        LIFParams(reset_scope="whole")
    for bad in (2, -1, 0.5, True, "1"):
        with pytest.raises(ValueError, match="delay must be 0 or 1"):
            SNNConfig(n_in=3, delay=bad)
    with pytest.raises(ValueError, match="readout_value 'post'; valid: before, after"):
        SNNConfig(n_in=3, readout_value="post")
    with pytest.raises(ValueError, match="readout_u0 must be finite"):
        SNNConfig(n_in=3, readout_u0=float("nan"))
    with pytest.raises(TypeError, match="readout_u0 must be a number"):
        SNNConfig(n_in=3, readout_u0="0")
    with pytest.raises(ValueError, match="readout_value and readout_u0 apply to readout='integrator'"):
        SNNConfig(n_in=3, readout="lif", readout_value="after")
    with pytest.raises(ValueError, match="readout_value and readout_u0"):
        SNNConfig(n_in=3, readout="lif", readout_u0=-1e-3)
    with pytest.raises(ValueError, match="readout_scale 'kaiming'; valid: fluctuation, fan_in"):
        init_params(jax.random.key(0), SNNConfig(n_in=3), readout_scale="kaiming")
    assert SNNConfig(n_in=3, delay=1.0).delay == 1  # an integral float is the int
