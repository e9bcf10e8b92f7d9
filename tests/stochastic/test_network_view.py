"""The LIF networks of analysis.stochastic.Network (kind "lif") are programs that run the
training simulator analysis.snn.simulate with a spike source: tie the two together.

(a) Same params, inputs and uniforms give identical spikes and losses through the training
path (``snn.simulate`` with a key) and through the Network's program (``net.program()``
under the Bernoulli source with the uniforms ``snn_uniforms(key)``; under the Heaviside
source vs the deterministic training path), recurrent or not, both resets; (b) the
linearised estimator and the stochastic SG equal SG-BPTT of the training network sample by
sample, the deterministic SG equals SG-BPTT of the deterministic training network; (c)
teacher forcing and mean field agree with the program view (``snn_program`` under
``Forced`` / ``MeanField``); (d) exact gradients of a recurrent LIF network agree with a
naive implementation written here from the equations (1e-10) and with the program view.
(The unbiased estimators on a recurrent LIF network: tests/stochastic/test_estimators.py.)
"""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis import escape_noise, surrogate
from analysis.snn import simulate as snn_simulate
from analysis.stochastic import (
    Bernoulli,
    Forced,
    Heaviside,
    MeanField,
    Network,
    exact_value_and_grad,
    flatten,
    log_prob_and_loss,
    network_from_spec,
    random_instance,
    snn_program,
    snn_uniforms,
    trace_program,
)
from analysis.stochastic._estimators import estimate_from_uniforms
from analysis.stochastic._network import from_snn_params, snn_view, to_snn_params

T = 7


def _net(recurrent=False, reset="detached", sg=None):
    return Network(
        "lif",
        (3, 4, 2),
        escape_noise("sigmoid", 3.0),
        sg,
        theta=0.4,
        steps=T,
        loss="mse",
        target=(0.3, 0.1),
        tau_mem=4.0,
        tau_syn=2.0,
        reset=reset,
        recurrent=recurrent,
    )


def _readout_mse(net, output):
    """The network's loss written out here: (mean over time of the readout spikes [T, n_L]
    - target)^2, averaged over the outputs."""
    return jnp.mean((output.mean(axis=0) - jnp.asarray(net.target)) ** 2)


def _training_loss(net, method_name, key, snn_params, x):
    """The network's loss on a training-path run, and its spikes {layer0, readout} [T, N]."""
    cfg, m = snn_view(net)
    method = dataclasses.replace(m, name=method_name)
    res = snn_simulate(snn_params, x[None], cfg, method, key=key if method.stochastic else None)
    return _readout_mse(net, res.output[0]), {"layer0": res.spikes[0][0], "readout": res.output[0]}


# each option of each axis once (the full product repeated the same code paths)
@pytest.mark.parametrize("recurrent, reset", [(False, "detached"), (True, "differentiable")])
def test_view_spikes_and_loss_equal_the_training_path(recurrent, reset):
    net = _net(recurrent, reset)
    params, x = random_instance(jax.random.key(3), net, weight_scale=3.0, input_rate=0.5)
    cfg, _ = snn_view(net)
    sp = to_snn_params(net, params)
    program = net.program()
    assert program.sites == (("layer0", (T, 1, 4)), ("readout", (T, 1, 2)))
    run = jax.jit(lambda src: trace_program(program, params, x, src, record=("spikes",)))
    checked = 0
    for seed in range(4):
        key = jax.random.key(100 + seed)
        loss_view, tr = run(Bernoulli(program.sites, u=snn_uniforms(key, cfg, 1, T, x.dtype)))
        loss_train, s_train = _training_loss(net, "stochastic", key, sp, x)
        for site in ("layer0", "readout"):
            np.testing.assert_array_equal(np.asarray(tr.spikes[site][:, 0]), np.asarray(s_train[site]))
        assert float(loss_view) == pytest.approx(float(loss_train), abs=1e-14)
        checked += int(np.asarray(tr.spikes["readout"]).sum())
    assert checked > 10  # the comparison saw output spikes
    loss_view, tr = trace_program(program, params, x, Heaviside(program.sites), record=("spikes",))
    loss_train, s_train = _training_loss(net, "deterministic", None, sp, x)
    for site in ("layer0", "readout"):
        np.testing.assert_array_equal(np.asarray(tr.spikes[site][:, 0]), np.asarray(s_train[site]))
    assert float(loss_view) == pytest.approx(float(loss_train), abs=1e-14)


def test_parameter_translation_round_trips_and_names():
    net = _net(recurrent=True)
    params, _ = random_instance(jax.random.key(0), net)
    back = from_snn_params(net, to_snn_params(net, params))
    for a, b in zip(params, back, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert net.param_names() == ("W1", "W2", "V1")
    assert net.coordinate_names()[-1] == "V1[3, 3]" and len(net.coordinate_names()) == 12 + 8 + 16


@pytest.mark.parametrize(
    "recurrent, sg",
    [(True, None), (False, surrogate("superspike", 2.0))],
    ids=["matched-recurrent", "superspike"],
)
def test_linearised_and_sg_estimators_equal_training_bptt_sample_by_sample(recurrent, sg):
    net = _net(recurrent, sg=sg)
    params, x = random_instance(jax.random.key(4), net, weight_scale=3.0)
    cfg, _ = snn_view(net)
    sp = to_snn_params(net, params)
    keys = [jax.random.key(200 + i) for i in range(3)]
    u = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[snn_uniforms(k, cfg, 1, T, x.dtype) for k in keys])
    lin = flatten(estimate_from_uniforms("linearised", net, params, x, u), lead=1)
    sto = flatten(estimate_from_uniforms("sg_stochastic", net, params, x, u), lead=1)
    det = flatten(estimate_from_uniforms("sg_deterministic", net, params, x, u), lead=1)
    for i, key in enumerate(keys):
        g = jax.grad(lambda p, k=key: _training_loss(net, "stochastic", k, p, x)[0])(sp)
        ref = flatten(from_snn_params(net, g))
        assert np.abs(ref).max() > 1e-4
        np.testing.assert_allclose(np.asarray(lin[i]), ref, rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.asarray(sto[i]), ref, rtol=0, atol=1e-12)
    g = jax.grad(lambda p: _training_loss(net, "deterministic", None, p, x)[0])(sp)
    np.testing.assert_allclose(np.asarray(det[0]), flatten(from_snn_params(net, g)), rtol=0, atol=1e-12)


def _view_program(net):
    """The network written as an analysis.snn program with the loss written out here."""
    cfg, method = snn_view(net)
    return snn_program(cfg, method, lambda res, inputs: _readout_mse(net, res.output[0]), 1, net.steps)


def test_teacher_forcing_and_mean_field_agree_with_the_program_view():
    net = _net(recurrent=True)
    params, x = random_instance(jax.random.key(5), net, weight_scale=3.0)
    sp = to_snn_params(net, params)
    program = _view_program(net)
    sites = program.sites
    assert sites == net.program().sites
    s = (jax.random.uniform(jax.random.key(6), (net.n_spikes,)) < 0.4).astype(x.dtype)
    s_t = s.reshape(T, -1)
    spikes = {"layer0": s_t[:, None, :4], "readout": s_t[:, None, 4:]}
    lp, loss = log_prob_and_loss(net, params, x, spikes)
    lp_p, loss_p = log_prob_and_loss(program, sp, x[None], spikes)
    assert float(lp) == pytest.approx(float(lp_p), abs=1e-12) and float(lp) < -1.0
    assert float(loss) == pytest.approx(float(loss_p), abs=1e-14)
    _, tr_net = trace_program(net.program(), params, x, MeanField(sites))
    _, tr = trace_program(program, sp, x[None], MeanField(sites))
    for site in ("layer0", "readout"):
        mf = np.asarray(tr_net.spikes[site])
        assert np.all((mf > 0) & (mf < 1))  # mean-field spikes are probabilities
        np.testing.assert_allclose(mf, np.asarray(tr.spikes[site]), rtol=0, atol=1e-14)
    assert isinstance(Forced(sites, spikes).sites, tuple)


# --- a small recurrent LIF network: exact gradients against naive loops --------------------

SMALL_T = 5  # K = 5 * (2 + 1) = 15 spike variables (the input reaches the readout after 4 steps)


def _small_net():
    return Network(
        "lif",
        (2, 2, 1),
        escape_noise("sigmoid", 4.0),
        theta=0.3,
        steps=SMALL_T,
        loss="mse",
        target=(0.4,),
        tau_mem=3.0,
        tau_syn=2.0,
        recurrent=True,
    )


def _small_instance():
    rng = np.random.default_rng(11)
    w1 = jnp.asarray(rng.normal(size=(2, 2)) * 2.0 + 0.8)
    w2 = jnp.asarray(rng.normal(size=(1, 2)) * 2.0 + 0.8)
    v1 = jnp.asarray(rng.normal(size=(2, 2)) * 2.0)
    x = jnp.asarray(np.random.default_rng(2).random((SMALL_T, 2)) < 0.6, jnp.float64)
    return (w1, w2, v1), x


def _naive_expected_loss(params, x, net):
    """E[L] over all 2^(3T) configurations (sizes (2, 2, 1)), from the LIF equations (Gygax &
    Zenke 2025, sec. 5) in the layout W_l S_{l-1}, V_l S_l (weight [i, j]: from j to i), loops
    over steps and neurons:
    S[t] ~ Bernoulli(sigmoid(beta (U[t] - theta))), I[t+1] = ls I[t] + W S_in[t] (+ V S[t]),
    U[t+1] = lm U[t] (1 - S[t]) + (1 - lm) I[t]; loss (mean_t O[t] - target)^2."""
    w1, w2, v1 = params
    n_t = x.shape[0]
    lm, ls = np.exp(-net.dt / net.tau_mem), np.exp(-net.dt / net.tau_syn)
    beta, theta = net.noise.beta, net.theta
    cfgs = np.array(list(itertools.product([0.0, 1.0], repeat=3 * n_t))).reshape(-1, n_t, 3)
    H, O = cfgs[:, :, :2], cfgs[:, :, 2]
    sig = lambda a: 1.0 / (1.0 + jnp.exp(-a))
    i_h, u_h, i_o, u_o, log_p = [0.0, 0.0], [0.0, 0.0], 0.0, 0.0, 0.0
    for t in range(n_t):
        for j in range(2):
            p = sig(beta * (u_h[j] - theta))
            log_p = log_p + jnp.log(jnp.where(H[:, t, j] > 0, p, 1.0 - p))
        p_o = sig(beta * (u_o - theta))
        log_p = log_p + jnp.log(jnp.where(O[:, t] > 0, p_o, 1.0 - p_o))
        drive = [
            sum(w1[j, i] * x[t, i] for i in range(2)) + sum(v1[j, i] * H[:, t, i] for i in range(2))
            for j in range(2)
        ]
        u_h = [lm * u_h[j] * (1.0 - H[:, t, j]) + (1.0 - lm) * i_h[j] for j in range(2)]
        i_h = [ls * i_h[j] + drive[j] for j in range(2)]
        drive_o = sum(w2[0, i] * H[:, t, i] for i in range(2))
        u_o, i_o = lm * u_o * (1.0 - O[:, t]) + (1.0 - lm) * i_o, ls * i_o + drive_o
    loss = (O.mean(axis=1) - net.target[0]) ** 2
    return jnp.sum(jnp.exp(log_p) * loss)


@pytest.fixture(scope="module")
def small():
    net = _small_net()
    params, x = _small_instance()
    value, grad = exact_value_and_grad(net, params, x)
    return net, params, x, value, grad


def test_exact_gradient_of_recurrent_network_matches_naive_loops_and_program_view(small):
    net, params, x, value, grad = small
    ref_value, ref_grad = jax.value_and_grad(_naive_expected_loss)(params, x, net)
    assert abs(float(value) - float(ref_value)) < 1e-12
    for a, b in zip(grad, ref_grad, strict=True):  # W1 reaches the readout in the last step only
        assert np.abs(np.asarray(b)).min() > 1e-6
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-13)
    p_value, p_grad = exact_value_and_grad(_view_program(net), to_snn_params(net, params), x[None])
    assert abs(float(p_value) - float(value)) < 1e-12
    np.testing.assert_allclose(flatten(from_snn_params(net, p_grad)), flatten(grad), rtol=0, atol=1e-12)


def test_recurrent_spec_builds_the_recurrent_network(small):
    net, params, x, _, grad = small
    w1, w2, v1 = (np.asarray(p).tolist() for p in params)
    spec = {
        "kind": "lif",
        "weights": [w1, w2],
        "recurrent": [v1],
        "input": np.asarray(x).tolist(),
        "threshold": 0.3,
        "escape_noise": {"name": "sigmoid", "beta": 4.0},
        "loss": {"name": "mse", "target": [0.4]},
        "lif": {"tau_mem": 3.0, "tau_syn": 2.0},
    }
    net2, params2, x2, _ = network_from_spec(spec)
    assert net2 == net
    np.testing.assert_array_equal(flatten(exact_value_and_grad(net2, params2, x2)[1]), flatten(grad))
    for bad, match in (
        ({"recurrent": [v1, v1]}, r"must list 1 matrices"),
        ({"recurrent": [[[1.0]]]}, r"recurrent\[0\]' has shape"),
        ({"kind": "feedforward", "input": [1.0, 0.0]}, r"only valid for kind 'lif'"),
    ):
        with pytest.raises(ValueError, match=match):
            network_from_spec({**spec, **bad})
