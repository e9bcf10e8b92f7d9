"""analysis.snn networks as stochastic programs, tied to the training path.

(a) same params, inputs and uniforms: identical spikes and loss through ``simulate`` for
training and through the program under the Bernoulli source (dense, recurrent, conv1d);
(b) the straight-through source's gradient is SG-BPTT of the training network, sample by
sample; (c) exact gradients of a tiny recurrent LIF network agree with a naive
implementation written here; (d) ``check_unbiased`` (fixed keys, family-wise alpha = 1e-3
with Holm over the coordinates: false-failure rate <= 1e-3 under the normal approximation)
rejects the surrogate gradient on the hidden layer, where its bias is measured (the unbiased
estimators on a recurrent LIF network: tests/stochastic/test_estimators.py).
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.neuron import escape_noise
from analysis.snn import LIFParams, SNNConfig, init_params, method, simulate
from analysis.stochastic import (
    Bernoulli,
    MeanField,
    check_unbiased,
    estimate,
    exact_value_and_grad,
    snn_program,
    snn_uniforms,
    trace_program,
)
from analysis.stochastic._estimators import estimate_from_uniforms
from analysis.stochastic._snn_program import snn_sites
from tests.helpers import tiny_recurrent_snn_config

B, T = 2, 10


def _mse(res, inputs):
    """A nonlinear loss of the readout (spikes or potential) and of the first layer's spikes."""
    _, target = inputs
    return jnp.mean((jnp.mean(res.output, axis=1) - target) ** 2) + 0.1 * jnp.mean(
        res.spikes[0][:, :, 0] * res.spikes[0][:, :, -1]
    )


_LIF = {"lif": LIFParams(theta=0.5), "readout_lif": LIFParams(theta=0.2)}
CONFIGS = {
    "dense_checkpoint": SNNConfig(
        n_in=6, hidden=(5, 4), n_out=3, readout="lif", checkpoint=True, checkpoint_block=3, **_LIF
    ),
    "recurrent": SNNConfig(n_in=6, hidden=(5, 4), n_out=3, recurrent=True, readout="lif", **_LIF),
    "conv1d": SNNConfig(
        n_in=12,
        hidden=(3,),
        n_out=2,
        connectivity="conv1d",
        in_channels=2,
        kernel_size=3,
        recurrent=True,
        **_LIF,
    ),
}
STOCHASTIC = method(
    "stochastic", hidden_noise=escape_noise("sigmoid", 4.0), output_noise=escape_noise("sigmoid", 6.0)
)


def _data(cfg, seed=0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.random((B, T, cfg.n_in)) < 0.4, jnp.float64)
    target = jnp.asarray(rng.random((B, cfg.n_out)))
    params = init_params(jax.random.key(seed), cfg, nu=20.0, recurrent_fraction=0.3, dtype=jnp.float64)
    return params, x, target


def _training_loss(cfg, params, x, target, key):
    res = simulate(params, x, cfg, STOCHASTIC, key=key, record="spikes")
    return _mse(res, (x, target)), res


@pytest.mark.parametrize("name", list(CONFIGS))
def test_training_spikes_and_loss_equal_program_under_bernoulli(name):
    cfg = CONFIGS[name]
    params, x, target = _data(cfg, 1)
    sites = snn_sites(cfg, B, T)
    program = snn_program(cfg, STOCHASTIC, _mse, B, T)
    assert program.sites == tuple(sorted(sites.items()))
    training = jax.jit(lambda p, k: _training_loss(cfg, p, x, target, k))
    as_program = jax.jit(lambda p, s: trace_program(program, p, (x, target), s))
    for seed in (3, 4):
        key = jax.random.key(seed)
        loss, res = training(params, key)
        src = Bernoulli(sites, u=snn_uniforms(key, cfg, B, T, jnp.float64))
        loss_p, tr = as_program(params, src)
        assert float(loss) == float(loss_p)
        for l in range(len(cfg.hidden)):
            s_train = np.asarray(res.spikes[l])
            np.testing.assert_array_equal(s_train, np.swapaxes(np.asarray(tr.spikes[f"layer{l}"]), 0, 1))
            assert 0.02 < s_train.mean() < 0.98, "spikes must not be trivial for this test to bite"
        if cfg.readout == "lif":
            assert 0.02 < float(res.output.mean()) < 0.98
            np.testing.assert_array_equal(
                np.asarray(res.output), np.swapaxes(np.asarray(tr.spikes["readout"]), 0, 1)
            )
        np.testing.assert_array_equal(np.asarray(tr.counts["layer0"]), np.ones(T))


def test_source_runs_without_key_and_rejects_non_sources():
    cfg = CONFIGS["recurrent"]
    params, x, _ = _data(cfg)
    sites = snn_sites(cfg, B, T)
    assert sites == {"layer0": (T, B, 5), "layer1": (T, B, 4), "readout": (T, B, 3)}
    assert snn_sites(CONFIGS["conv1d"], B, T) == {"layer0": (T, B, 3 * 4)}
    res = simulate(params, x, cfg, STOCHASTIC, record="spikes", source=MeanField(sites))
    p0 = np.asarray(res.spikes[0])
    assert np.all((p0 > 0) & (p0 < 1)), "mean field spikes are probabilities"
    with pytest.raises(TypeError, match="bernoulli"):
        simulate(params, x, cfg, STOCHASTIC, source=object())
    with pytest.raises(ValueError, match="shape"):  # sites declared for another batch size
        simulate(params, x, cfg, STOCHASTIC, source=MeanField(snn_sites(cfg, B + 1, T)))
    with pytest.raises(TypeError, match="SNNConfig"):
        snn_sites("cfg", B, T)  # type: ignore[arg-type]
    program = snn_program(cfg, STOCHASTIC, _mse, B, T)
    assert program == snn_program(cfg, STOCHASTIC, _mse, B, T)  # equal programs: compiled once
    assert hash(program) == hash(snn_program(cfg, STOCHASTIC, _mse, B, T))
    assert program.K == T * B * (5 + 4 + 3)
    with pytest.raises(ValueError, match=r"inputs of this program must have shape \[B, T, n_in\]"):
        exact_value_and_grad(program, params, (x[:, :-1], None))


@pytest.mark.parametrize("name,reset", [("recurrent", "detached"), ("conv1d", "differentiable")])
def test_straight_through_gradient_is_sg_bptt_sample_by_sample(name, reset):
    cfg = CONFIGS[name]
    cfg = SNNConfig(**{**cfg.__dict__, "lif": LIFParams(theta=0.5, reset=reset)})
    params, x, target = _data(cfg, 2)
    keys = [jax.random.key(s) for s in (5, 6, 7)]
    u = jax.tree_util.tree_map(
        lambda *a: jnp.stack(a), *[snn_uniforms(k, cfg, B, T, jnp.float64) for k in keys]
    )
    program = snn_program(cfg, STOCHASTIC, _mse, B, T)
    g_sg = jax.jit(lambda p: estimate_from_uniforms("sg_stochastic", program, p, (x, target), u))(params)
    grad_train = jax.jit(jax.grad(lambda p, k: _training_loss(cfg, p, x, target, k)[0]))
    for i, k in enumerate(keys):
        g = grad_train(params, k)
        assert max(float(np.abs(np.asarray(a)).max()) for a in jax.tree_util.tree_leaves(g)) > 1e-3
        for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(g_sg), strict=True):
            assert np.abs(np.asarray(a)).max() > 0  # gradient reaches every weight
            np.testing.assert_allclose(np.asarray(b[i]), np.asarray(a), rtol=0, atol=1e-10)


# ---------------------------------------------------------------- tiny recurrent network

TINY = tiny_recurrent_snn_config()
TINY_T = 5  # K = 5 * (2 + 1) = 15 spike variables
TINY_BETA = 5.0
TINY_METHOD = method(
    "stochastic",
    hidden_noise=escape_noise("sigmoid", TINY_BETA),
    output_noise=escape_noise("sigmoid", TINY_BETA),
)


def _tiny_loss(res, inputs):
    h = res.spikes[0][0]  # [T, 2]
    return (
        (jnp.sum(res.output) - 1.0) ** 2
        + 0.5 * jnp.sum(h[:, 0] * h[:, 1])
        - 0.3 * jnp.sum(h[1:, 0] * h[:-1, 1])
    )


def _tiny_params():
    rng = np.random.default_rng(7)
    return {
        "hidden": [
            {"w": jnp.asarray(rng.normal(size=(2, 2)) * 2.5), "v": jnp.asarray(rng.normal(size=(2, 2)) * 2.5)}
        ],
        "readout": {"w": jnp.asarray(rng.normal(size=(2, 1)) * 2.5 + 0.5)},
    }


TINY_X = jnp.asarray(np.random.default_rng(1).random((1, TINY_T, 2)) < 0.6, jnp.float64)  # [B=1, T, n_in]


def _naive_expected_loss(params, x):
    """E[L] = sum over all 2^15 configurations (H [T, 2], O [T]) of P(H, O) L(H, O).

    Written from the LIF equations (Gygax & Zenke 2025, sec. 5):
    S[t] ~ Bernoulli(sigmoid(beta (U[t] - theta))),
    I[t+1] = ls I[t] + sum_i x_i[t] W_ij + sum_i S_i[t] V_ij, U[t+1] = lm U[t] (1 - S[t]) + (1 - lm) I[t];
    readout the same with W_o and beta_o, driven by the hidden spikes of the same bin. Loops over
    time steps and neurons; the configurations form the leading array axis.
    """
    lif = TINY.lif
    lm, ls = np.exp(-lif.dt / lif.tau_mem), np.exp(-lif.dt / lif.tau_syn)
    beta = beta_o = TINY_BETA
    w, v, wo = params["hidden"][0]["w"], params["hidden"][0]["v"], params["readout"]["w"]
    configs = np.array(list(itertools.product([0.0, 1.0], repeat=3 * TINY_T)))
    H = configs[:, : 2 * TINY_T].reshape(-1, TINY_T, 2)
    O = configs[:, 2 * TINY_T :]
    sig = lambda a: 1.0 / (1.0 + jnp.exp(-a))
    i_h, u_h = [0.0, 0.0], [0.0, 0.0]
    i_o, u_o = 0.0, 0.0
    log_p = 0.0
    for t in range(TINY_T):
        for j in range(2):
            p = sig(beta * (u_h[j] - lif.theta))
            log_p = log_p + jnp.log(jnp.where(H[:, t, j] > 0, p, 1.0 - p))
        p_o = sig(beta_o * (u_o - lif.theta))
        log_p = log_p + jnp.log(jnp.where(O[:, t] > 0, p_o, 1.0 - p_o))
        new_i = []
        for j in range(2):
            cur = sum(x[0, t, i] * w[i, j] for i in range(2)) + sum(H[:, t, i] * v[i, j] for i in range(2))
            new_i.append(ls * i_h[j] + cur)
        u_h = [lm * u_h[j] * (1.0 - H[:, t, j]) + (1.0 - lm) * i_h[j] for j in range(2)]
        i_h = new_i
        cur_o = sum(H[:, t, i] * wo[i, 0] for i in range(2))
        u_o, i_o = lm * u_o * (1.0 - O[:, t]) + (1.0 - lm) * i_o, ls * i_o + cur_o
    loss = (
        (O.sum(1) - 1.0) ** 2
        + 0.5 * np.sum(H[:, :, 0] * H[:, :, 1], 1)
        - 0.3 * np.sum(H[:, 1:, 0] * H[:, :-1, 1], 1)
    )
    return jnp.sum(jnp.exp(log_p) * loss)


@pytest.fixture(scope="module")
def tiny():
    params = _tiny_params()
    program = snn_program(TINY, TINY_METHOD, _tiny_loss, 1, TINY_T)
    value, grad = exact_value_and_grad(program, params, TINY_X)
    return params, program, value, grad


def test_exact_gradient_of_recurrent_lif_matches_naive_loops(tiny):
    params, _, value, grad = tiny
    ref_value, ref_grad = jax.value_and_grad(_naive_expected_loss)(params, TINY_X)
    assert abs(float(value) - float(ref_value)) < 1e-12
    for a, b in zip(jax.tree_util.tree_leaves(grad), jax.tree_util.tree_leaves(ref_grad), strict=True):
        assert np.abs(np.asarray(b)).max() > 1e-3
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-10)


N_SAMPLES = 4000


def test_sg_rejected_on_hidden_layer_of_recurrent_lif(tiny):
    params, program, _, exact = tiny
    g = jax.jit(lambda k, p: estimate("sg_stochastic", program, p, TINY_X, N_SAMPLES, key=k))(
        jax.random.key(22), params
    )
    hidden, ref = g["hidden"][0], exact["hidden"][0]
    # measured bias of the hidden layer, in standard errors of the sample mean
    z = {
        k: np.abs(np.asarray(hidden[k].mean(0) - ref[k])) / np.asarray(hidden[k].std(0) / np.sqrt(N_SAMPLES))
        for k in ref
    }
    assert max(float(v.max()) for v in z.values()) > 10.0, z
    report = check_unbiased(None, ref, N_SAMPLES, key=jax.random.key(0), reference=ref, samples=hidden)
    assert not report.passed
