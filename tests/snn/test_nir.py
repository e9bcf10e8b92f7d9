"""NIR export / import (analysis.snn._nir): round trips are the identity (config, params and
simulated spikes); the graphs run in an independent NumPy interpreter of NIR's ODEs under the
discretisation rule the module states (one explicit step per bin, exponential or forward
Euler decay) and give our spikes and readout potentials; bad graphs are refused.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

nir = pytest.importorskip("nir", reason="NIR export/import needs the optional nir package")

from analysis.snn import LIFParams, SNNConfig, from_nir, init_params, method, simulate, to_nir, write_nir  # noqa: E402

B, T = 2, 30
_sim = jax.jit(simulate, static_argnames=("cfg", "method", "record"))
DET = method("deterministic")

CONFIGS = {
    "dense": SNNConfig(n_in=12, hidden=(10, 8), n_out=3),
    "dense_recurrent": SNNConfig(n_in=12, hidden=(10,), n_out=3, recurrent=True),
    "conv1d": SNNConfig(
        n_in=24,
        hidden=(4, 3),
        n_out=3,
        connectivity="conv1d",
        in_channels=2,
        kernel_size=(3, 2),
        stride=(2, 1),
    ),
    "conv1d_recurrent": SNNConfig(
        n_in=24,
        hidden=(4,),
        n_out=2,
        connectivity="conv1d",
        in_channels=2,
        kernel_size=3,
        recurrent=True,
        recurrent_kernel_size=3,
    ),
    "lif_readout": SNNConfig(
        n_in=12,
        hidden=(10,),
        n_out=4,
        readout="lif",
        readout_lif=LIFParams(tau_mem=20e-3, tau_syn=3e-3, theta=0.5),
    ),
    "li_readout": SNNConfig(
        n_in=12,
        hidden=(10,),
        n_out=4,
        lif=LIFParams(tau_mem=15e-3, tau_syn=4e-3, theta=0.8),
        readout_lif=LIFParams(tau_mem=30e-3, tau_syn=6e-3, theta=0.8),
    ),
}


def _inputs(cfg, key=1, p=0.3):
    return jnp.asarray(np.random.default_rng(key).random((B, T, cfg.n_in)) < p, jnp.float64)


def _params(cfg, key=0):
    # rate 200 Hz in the initialisation gives weights that make the layers spike
    return jax.tree.map(lambda a: 3 * a, init_params(jax.random.key(key), cfg, nu=20.0, dtype=jnp.float64))


# ---------------------------------------------------------------- NumPy reference of NIR


def _decay(tau, dt, rule):
    return np.exp(-dt / tau) if rule == "exp" else 1.0 - dt / tau


def _np_conv1d(x, w, stride, pad):
    """PyTorch-style Conv1d on x [C_in, L] with weight [C_out, C_in, K] (cross-correlation)."""
    x = np.pad(x, ((0, 0), (pad, pad)))
    c_out, _, k = w.shape
    n = (x.shape[1] - k) // stride + 1
    y = np.zeros((c_out, n))
    for o in range(c_out):
        for p in range(n):
            y[o, p] = np.sum(w[o] * x[:, p * stride : p * stride + k])
    return y


def nir_numpy_run(graph, x, dt, rule):
    """Run a chain-shaped NIR graph on x [T, *input shape] as one explicit ODE step per bin.

    Per bin t, every neuron node reads its state at the bin start: z[t] = (v[t] > v_th);
    v[t] -> v_reset where z[t]; then I[t+1] = a_syn I[t] + (1 - a_syn) w_in in[t],
    v[t+1] = v_leak + a_mem (v[t] - v_leak) + (1 - a_mem) r I[t] (CubaLIF / CubaLI), or
    v[t+1] = v_leak + a (v[t] - v_leak) + (1 - a) r in[t] (LIF / LI), where in[t] is the sum
    of the node's incoming projections of their sources' outputs at bin t (the outputs are
    z[t] for spiking nodes, v[t] for LI / CubaLI). Returns {node: [T, ...] outputs}.
    """
    nodes, edges = graph.nodes, graph.edges
    pred = {k: [a for a, b in edges if b == k] for k in nodes}
    state = {
        k: {"v": 0.0, "i": 0.0}
        for k, n in nodes.items()
        if type(n).__name__ in ("CubaLIF", "CubaLI", "LIF", "LI")
    }
    out = {k: [] for k in nodes}
    for t in range(x.shape[0]):
        val = {}
        for k in state:  # neuron outputs at the bin start
            n, s = nodes[k], state[k]
            if hasattr(n, "v_threshold"):
                z = (
                    (s["v"] > n.v_threshold).astype(float)
                    if np.ndim(s["v"])
                    else np.zeros(n.v_threshold.shape)
                )
                s["v"] = np.where(z > 0, n.v_reset, s["v"])
                val[k] = z
            else:
                val[k] = s["v"] * np.ones(n.r.shape)

        def value(k, val=val, t=t):
            if k in val:
                return val[k]
            n = nodes[k]
            name = type(n).__name__
            if name == "Input":
                val[k] = x[t]
            elif name == "Output":
                val[k] = value(pred[k][0], val, t)
            elif name == "Flatten":
                val[k] = value(pred[k][0], val, t).reshape(-1)
            elif name in ("Linear", "Affine"):
                val[k] = n.weight @ value(pred[k][0], val, t) + (n.bias if name == "Affine" else 0)
            elif name == "Conv1d":
                val[k] = _np_conv1d(value(pred[k][0], val, t), n.weight, int(n.stride), int(n.padding))
            return val[k]

        for k in list(state):  # one explicit step
            n, s = nodes[k], state[k]
            inp = sum(value(p) for p in pred[k])
            name = type(n).__name__
            if name in ("CubaLIF", "CubaLI"):
                a_s, a_m = _decay(n.tau_syn, dt, rule), _decay(n.tau_mem, dt, rule)
                i_old = s["i"]
                s["i"] = a_s * s["i"] + (1 - a_s) * n.w_in * inp
                s["v"] = n.v_leak + a_m * (s["v"] - n.v_leak) + (1 - a_m) * n.r * i_old
            else:
                a = _decay(n.tau, dt, rule)
                s["v"] = n.v_leak + a * (s["v"] - n.v_leak) + (1 - a) * n.r * inp
        for k in nodes:
            out[k].append(value(k) if k not in state else val[k])
    return {k: np.stack(v) for k, v in out.items() if v}


def _to_nir_layout(cfg, x):
    """Our input [T, n_in] (position-major for conv1d) as NIR's [T, C_in, L0]."""
    if cfg.connectivity == "conv1d":
        return np.asarray(x).reshape(x.shape[0], -1, cfg.in_channels).transpose(0, 2, 1)
    return np.asarray(x)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_round_trip_is_identity(name, tmp_path):
    cfg = CONFIGS[name]
    params = _params(cfg)
    path = tmp_path / "net.nir"
    write_nir(path, params, cfg)
    cfg2, params2 = from_nir(path)
    assert cfg2 == cfg
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(params2), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert jax.tree.structure(params) == jax.tree.structure(params2)
    x = _inputs(cfg)
    r1, r2 = _sim(params, x, cfg, DET), _sim(params2, x, cfg2, DET)
    assert sum(float(s.sum()) for s in r1.spikes) > 0
    for s1, s2 in zip(r1.spikes, r2.spikes, strict=True):
        assert np.array_equal(s1, s2)
    assert np.array_equal(r1.output, r2.output)


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("rule", ["exp", "euler"])
def test_graph_runs_as_stated_ode_step(name, rule):
    """Independent check of the rule: the exported graph, run by the NumPy NIR interpreter
    above, gives our hidden spikes and readout (potential or spikes) to 1e-12."""
    cfg = CONFIGS[name]
    params = _params(cfg)
    graph = to_nir(params, cfg, discretisation=rule)
    x = _inputs(cfg)
    res = _sim(params, x, cfg, DET, record="all")
    ref = nir_numpy_run(graph, _to_nir_layout(cfg, x[0]), cfg.lif.dt, rule)
    for l, s in enumerate(res.spikes):
        got = ref[f"lif{l}"]
        if cfg.connectivity == "conv1d":  # [T, C, L] -> position-major
            got = got.transpose(0, 2, 1).reshape(T, -1)
        assert np.array_equal(got, s[0]), l
    np.testing.assert_allclose(ref["output"], res.output[0], rtol=0, atol=1e-12)


def test_euler_round_trip_keeps_spikes():
    cfg = CONFIGS["dense_recurrent"]
    params = _params(cfg)
    graph = to_nir(params, cfg, discretisation="euler")
    lam = cfg.lif.lambda_mem
    assert graph.nodes["lif0"].tau_mem[0] == pytest.approx(cfg.lif.dt / (1 - lam), rel=1e-15)
    cfg2, params2 = from_nir(graph)
    assert cfg2.lif.tau_mem == pytest.approx(cfg.lif.tau_mem, rel=1e-12)
    assert cfg2.lif.tau_syn == pytest.approx(cfg.lif.tau_syn, rel=1e-12)
    x = _inputs(cfg)
    r1, r2 = _sim(params, x, cfg, DET), _sim(params2, x, cfg2, DET)
    assert np.array_equal(r1.spikes[0], r2.spikes[0])
    np.testing.assert_allclose(r1.output, r2.output, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- foreign graphs


def _cuba(n, tau_syn=5e-3, tau_mem=10e-3, r=1.0, w_in=1.0, thr=1.0, shape=None, spiking=True):
    shape = (n,) if shape is None else shape
    f = lambda v: np.full(shape, v, dtype=np.float64) if np.ndim(v) == 0 else np.asarray(v, np.float64)
    kw = dict(tau_syn=f(tau_syn), tau_mem=f(tau_mem), r=f(r), v_leak=f(0.0), w_in=f(w_in))
    return nir.CubaLIF(**kw, v_threshold=f(thr), v_reset=f(0.0)) if spiking else nir.CubaLI(**kw)


def _chain(w_hidden, hidden, w_out, readout, n_in):
    nodes = {
        "in": nir.Input(input_type={"input": np.array([n_in])}),
        "fc1": nir.Affine(weight=w_hidden, bias=np.zeros(w_hidden.shape[0])),
        "h": hidden,
        "fc2": nir.Linear(weight=w_out),
        "ro": readout,
        "out": nir.Output(output_type={"output": np.array([w_out.shape[0]])}),
    }
    edges = [("in", "fc1"), ("fc1", "h"), ("h", "fc2"), ("fc2", "ro"), ("ro", "out")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


@pytest.mark.parametrize("rule", ["exp", "euler"])
def test_foreign_cubalif_with_gains(rule):
    """A CubaLIF with per-neuron r and w_in (not ours) imports with the gains folded into the
    weights and matches the NumPy ODE step."""
    rng = np.random.default_rng(3)
    n_in, n, n_out, dt = 6, 5, 2, 1e-3
    w1, w2 = rng.normal(0, 1.5, (n, n_in)), rng.normal(0, 1, (n_out, n))
    hidden = _cuba(
        n, tau_syn=4e-3, tau_mem=8e-3, r=rng.uniform(0.5, 2, n), w_in=rng.uniform(1, 3, n), thr=0.7
    )
    ro = _cuba(n_out, tau_syn=6e-3, tau_mem=12e-3, r=np.array([1.5, 0.5]), w_in=2.0, spiking=False)
    graph = _chain(w1, hidden, w2, ro, n_in)
    cfg, params = from_nir(graph, dt=dt, discretisation=rule)
    assert cfg.lif.theta == 0.7 and cfg.readout == "integrator"
    x = (rng.random((T, n_in)) < 0.4).astype(np.float64)
    res = _sim(params, jnp.asarray(x[None]), cfg, DET, record="all")
    ref = nir_numpy_run(graph, x, dt, rule)
    assert ref["h"].sum() > 0
    assert np.array_equal(ref["h"], res.spikes[0][0])
    np.testing.assert_allclose(ref["out"], res.output[0], rtol=0, atol=1e-12)


def test_zero_d_parameters_are_broadcast():
    """Norse 1.1.0 writes 0-d arrays for some parameters: they apply to every neuron."""
    rng = np.random.default_rng(4)
    w1, w2 = rng.normal(0, 2, (5, 6)), rng.normal(0, 1, (2, 5))
    scalar = _chain(
        w1, _cuba(5, r=1.3, w_in=2.0, thr=0.9, shape=()), w2, _cuba(2, spiking=False, shape=()), 6
    )
    full = _chain(w1, _cuba(5, r=1.3, w_in=2.0, thr=0.9), w2, _cuba(2, spiking=False), 6)
    (c1, p1), (c2, p2) = from_nir(scalar, dt=1e-3), from_nir(full, dt=1e-3)
    assert c1 == c2 and c1.hidden == (5,) and c1.lif.theta == 0.9
    for a, b in zip(jax.tree.leaves(p1), jax.tree.leaves(p2), strict=True):
        assert np.array_equal(a, b)
    assert np.allclose(p1["hidden"][0]["w"], w1.T * 1.3 * 2.0 * (1 - math.exp(-1 / 5)), rtol=1e-14)


def test_lif_and_li_nodes_lag_one_bin_per_layer():
    """Nodes without a synaptic current import with lambda_syn = 0; each such layer then
    reads its input one bin later than NIR's step (module docstring)."""
    rng = np.random.default_rng(5)
    n_in, n, n_out, dt = 6, 5, 2, 1e-3
    f = lambda v, k=n: np.full(k, v)
    hidden = nir.LIF(tau=f(8e-3), r=f(1.2), v_leak=f(0.0), v_threshold=f(0.3), v_reset=f(0.0))
    ro = nir.LI(tau=f(12e-3, n_out), r=f(0.8, n_out), v_leak=f(0.0, n_out))
    graph = _chain(rng.normal(0, 2, (n, n_in)), hidden, rng.normal(0, 1, (n_out, n)), ro, n_in)
    cfg, params = from_nir(graph, dt=dt)
    assert cfg.lif.lambda_syn == 0.0 and cfg.out_lif.lambda_syn == 0.0
    x = (rng.random((T, n_in)) < 0.5).astype(np.float64)
    res = _sim(params, jnp.asarray(x[None]), cfg, DET, record="all")
    ref = nir_numpy_run(graph, x, dt, "exp")
    assert ref["h"].sum() > 0
    assert np.array_equal(ref["h"][:-1], res.spikes[0][0, 1:])  # hidden: one bin later
    assert not res.spikes[0][0, 0].any()
    np.testing.assert_allclose(ref["out"][:-2], res.output[0, 2:], rtol=0, atol=1e-12)  # two layers


def test_unsupported_node_is_refused_by_name():
    g = _chain(np.ones((3, 4)), _cuba(3), np.ones((2, 3)), _cuba(2, spiking=False), 4)
    g.nodes["sc"] = nir.Scale(scale=np.ones(3))
    g.nodes["thr"] = nir.Threshold(threshold=np.ones(3))
    with pytest.raises(
        ValueError, match=r"unsupported NIR node types: Scale \(node 'sc'\), Threshold \(node 'thr'\)"
    ):
        from_nir(g, dt=1e-3)


def test_bad_graphs_are_refused():
    w1, w2 = np.ones((3, 4)), np.ones((2, 3))
    with pytest.raises(ValueError, match="tau_mem varies across neurons"):
        from_nir(_chain(w1, _cuba(3, tau_mem=[1e-2, 1e-2, 2e-2]), w2, _cuba(2, spiking=False), 4), dt=1e-3)
    with pytest.raises(ValueError, match="pass dt"):
        from_nir(_chain(w1, _cuba(3), w2, _cuba(2, spiking=False), 4))
    g = _chain(w1, _cuba(3), w2, _cuba(2, spiking=False), 4)
    g.nodes["fc1"].bias = np.ones(3)
    with pytest.raises(ValueError, match="'fc1' has a nonzero bias"):
        from_nir(g, dt=1e-3)
    with pytest.raises(ValueError, match="discretisation"):
        from_nir(_chain(w1, _cuba(3), w2, _cuba(2, spiking=False), 4), dt=1e-3, discretisation="rk4")
    with pytest.raises(ValueError, match="hidden layers must be CubaLIF or LIF"):
        from_nir(_chain(w1, _cuba(3, spiking=False), w2, _cuba(2, spiking=False), 4), dt=1e-3)
    with pytest.raises(TypeError, match="graph_or_path"):
        from_nir(42, dt=1e-3)


def test_export_refuses_what_nir_cannot_express():
    cfg = SNNConfig(n_in=4, hidden=(3,), n_out=2)
    p = _params(cfg)
    for bad, field in [
        (SNNConfig(n_in=4, hidden=(3,), n_out=2, lif=LIFParams(reset_scope="update")), "reset_scope"),
        (SNNConfig(n_in=4, hidden=(3,), n_out=2, delay=1), "delay"),
        (SNNConfig(n_in=4, hidden=(3,), n_out=2, readout_u0=-1e-3), "readout_u0"),
    ]:
        with pytest.raises(ValueError, match=field):
            to_nir(p, bad)
    with pytest.raises(ValueError, match="params do not match"):
        to_nir({"hidden": [], "readout": {}}, cfg)
    with pytest.raises(ValueError, match="discretisation"):
        to_nir(p, cfg, discretisation="rk4")
    with pytest.raises(TypeError, match="cfg"):
        to_nir(p, "cfg")


def _norse_style_graph(rng, n_in, n_hid, n_out, dt, tau_mem, tau_syn, *, cuba=True):
    """A graph as norse.torch.to_nir (Norse 1.1.0) writes it: Affine (zero bias), 0-d
    parameters, time constants scaled by dt (tau_NIR = dt * tau), w_in = 1, no metadata."""
    w1 = rng.normal(0, 1.5, (n_hid, n_in)).astype(np.float32)
    w2 = rng.normal(0, 1.0, (n_out, n_hid)).astype(np.float32)
    one, zero = np.array(1.0, np.float32), np.array(0.0, np.float32)
    if cuba:
        hid = nir.CubaLIF(
            tau_mem=np.array(dt * tau_mem), tau_syn=np.array(dt * tau_syn), r=one, v_leak=zero,
            v_threshold=one, v_reset=zero, w_in=one,
        )  # fmt: skip
    else:
        hid = nir.LIF(tau=np.array(dt * tau_mem), r=one, v_leak=zero, v_threshold=one, v_reset=zero)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([n_in])}),
        "0": nir.Affine(weight=w1, bias=np.zeros(n_hid, np.float32)),
        "1": hid,
        "2": nir.Affine(weight=w2, bias=np.zeros(n_out, np.float32)),
        "3": nir.LI(tau=np.array(dt * tau_mem), r=one, v_leak=zero),
        "output": nir.Output(output_type={"output": np.array([n_out])}),
    }
    edges = [("input", "0"), ("0", "1"), ("1", "2"), ("2", "3"), ("3", "output")]
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
    return graph, w1.astype(np.float64), w2.astype(np.float64)


def _norse_loop(x, w1, w2, dt, tau_mem, tau_syn, cuba):
    """Naive NumPy loop of Norse 1.1.0's lif_feed_forward_step (cuba) / lif_box_feed_forward_step
    and li_box_feed_forward_step (forward Euler; spike read after the update, then reset)."""
    am, as_ = 1 - dt / tau_mem, 1 - dt / tau_syn
    v = np.zeros(w1.shape[0])
    i = np.zeros(w1.shape[0])
    vo = np.zeros(w2.shape[0])
    out = []
    for t in range(x.shape[0]):
        inp = w1 @ x[t]
        if cuba:
            i = i + inp
            v = am * v + (1 - am) * i
            i = as_ * i
        else:
            v = am * v + (1 - am) * inp
        z = (v > 1.0).astype(float)
        v = (1 - z) * v
        vo = am * vo + (1 - am) * (w2 @ z)
        out.append(vo.copy())
    return np.stack(out)


@pytest.mark.parametrize("cuba", [True, False])
def test_norse_source_reads_dt_scaled_taus_two_bins_ahead_per_layer(cuba):
    rng = np.random.default_rng(3)
    dt, tau_mem, tau_syn = 1e-3, 10e-3, 5e-3
    g, w1, w2 = _norse_style_graph(rng, 6, 5, 3, dt, tau_mem, tau_syn, cuba=cuba)
    cfg, params = from_nir(g, source="norse")  # dt defaults to Norse's 1e-3
    assert cfg.lif.dt == dt
    assert cfg.lif.lambda_mem == pytest.approx(1 - dt / tau_mem, rel=1e-12)
    assert cfg.lif.lambda_syn == (pytest.approx(1 - dt / tau_syn, rel=1e-12) if cuba else pytest.approx(0.0))
    np.testing.assert_array_equal(np.asarray(params["hidden"][0]["w"]), w1.T)  # gain r w_in = 1
    x = (rng.random((T, 6)) < 0.4).astype(np.float64)
    ours = np.asarray(_sim(params, jnp.asarray(x[None]), cfg, DET).output[0])
    ref = _norse_loop(x, w1, w2, dt, tau_mem, tau_syn, cuba)
    assert np.abs(ref).max() > 0.1
    np.testing.assert_allclose(ours[4:], ref[: T - 4], rtol=1e-5, atol=1e-6)  # 2 layers x 2 bins


def test_norse_source_refuses_exp_and_unknown_source_and_empty_nodes():
    g, _, _ = _norse_style_graph(np.random.default_rng(0), 4, 3, 2, 1e-3, 10e-3, 5e-3)
    with pytest.raises(ValueError, match="forward Euler"):
        from_nir(g, source="norse", discretisation="exp")
    with pytest.raises(ValueError, match="unknown source 'snntorch'"):
        from_nir(g, source="snntorch")
    g.nodes["3"] = None  # what Norse 1.1.0 writes for an LICell
    with pytest.raises(ValueError, match="LIBoxCell"):
        from_nir(g, source="norse")


def test_write_nir_graph_makes_zero_d_graphs_readable(tmp_path):
    from analysis.snn import write_nir_graph

    g, _, _ = _norse_style_graph(np.random.default_rng(1), 4, 3, 2, 1e-3, 10e-3, 5e-3)
    g.nodes["input"] = nir.Input(input_type={"input": np.array([1, 4])})  # Norse keeps the batch axis
    write_nir_graph(tmp_path / "m.nir", g)
    cfg_f, p_f = from_nir(tmp_path / "m.nir", source="norse")
    cfg_g, p_g = from_nir(g, source="norse")
    assert cfg_f == cfg_g
    jax.tree.map(np.testing.assert_array_equal, p_f, p_g)
    with pytest.raises(TypeError, match="graph must be a nir.NIRGraph"):
        write_nir_graph(tmp_path / "x.nir", {"nodes": {}})
