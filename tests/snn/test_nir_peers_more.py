"""NIR exchange with snnTorch and spyx. Tested with nir 1.0.8, snntorch 1.0.0 (nirtorch 2.6,
torch 2.14.1), spyx 1.0.0 (flax nnx, jax 0.10.2).

snnTorch 1.0.0 ``Synaptic(alpha, beta, reset_mechanism="zero", reset_delay=False)`` steps
syn[n] = alpha syn[n-1] + x[n], mem[n] = beta mem[n-1] + syn[n], spk[n] = mem[n] > thr, then
mem[n] = 0 where spk[n]. Its NIR import and export both assume dt = 1e-4 s (hard-coded) and
forward Euler: alpha = 1 - dt/tau_syn, beta = 1 - dt/tau_mem, with w_in dt/tau_syn = 1 and
r dt/tau_mem = 1 (the current enters mem with gain 1). In terms of our recursion (module
docstring of analysis.snn._nir) syn[n] = I[n+1] and mem[n] = U[n+2] / (1 - lm): like Norse,
each layer is two bins ahead of ours, so snnTorch's output at step n equals ours at bin
n + 2 (number of layers, readout included).

* Here -> snnTorch (``snntorch.import_nir.import_from_nir``): export with dt = 1e-4,
  ``discretisation="euler"`` and ``readout="lif"`` (snnTorch has no CubaLI), then rescale
  each CubaLIF's voltage by 1 / (1 - a_mem) = tau_mem / dt (r -> r tau_mem / dt,
  v_threshold -> v_threshold tau_mem / dt: the same spikes, snnTorch's ``r`` convention;
  its importer asserts r = tau_mem / dt). Recurrent networks do not import: snnTorch 1.0.0
  wraps each cycle in a sub-graph that nirtorch 2.6's ``nir_to_torch`` rejects
  (AttributeError: 'GraphModule' object has no attribute 'items').
* snnTorch -> here: ``snn.export_nir.export_to_nir`` raises in nir 1.0.8's
  ``infer_types`` (its Input keeps the batch axis [1, N], and with ``ignore_dims=[0]`` its
  CubaLIF nodes carry an empty input type). The same call without the type inference,
  ``nirtorch.extract_nir_graph(net, snn.export_nir._extract_snntorch_module, sample,
  ignore_submodules_of=[snn.RLeaky, snn.RSynaptic])``, gives a graph that our
  ``from_nir(graph, dt=1e-4, discretisation="euler")`` reads unchanged (its r = tau_mem/dt is
  folded into the weights). Only neurons with ``reset_mechanism="zero", reset_delay=False``
  follow NIR (v -> v_reset right after the spike); snnTorch's defaults (subtract, delayed) are
  exported with v_reset = 0 all the same. Recurrent: snnTorch 1.0.0's ``RSynaptic`` with
  ``reset_delay=False`` fails in its own forward pass (spk is None), so it is not tested.
* Here -> spyx (``spyx.nir.from_nir(graph, x[T, B, N], dt)``; spyx 1.0.0 imports with jax
  0.10.2): spyx's CuBaLIF ignores r and w_in (gain 1, so the same voltage rescale as for
  snnTorch), reads its spike from the voltage *before* the step, spk[n] = V[n-1] > thr with
  I[n] = alpha I[n-1] + x[n], V[n] = beta V[n-1] + I[n], i.e. spk[n] = S[n+1]: one bin ahead
  per layer. It resets by subtraction (V -> V - thr), not to v_reset as NIR says, so the
  spike trains agree exactly only up to each neuron's first spike (tested on one layer);
  afterwards they differ. spyx -> here is not tested: spyx 1.0.0's ``to_nir`` writes a
  CuBaLIF as r = beta, w_in = 1 (gain r (1 - a_syn) w_in = beta (1 - alpha), where spyx's
  own V = beta V + I needs 1 / (1 - beta)) with NIR's reset-to-v_reset, so no NIR reader
  can reproduce its spikes.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

nir = pytest.importorskip("nir", reason="NIR exchange needs the optional nir package")

from analysis.snn import LIFParams, SNNConfig, from_nir, init_params, method, simulate, to_nir  # noqa: E402

T = 40
DT = 1e-4  # snnTorch's hard-coded NIR time step


def _ours(params, cfg, x):
    """Our output spikes [T, n_out] for x [T, 1, n_in]."""
    out = simulate(params, jnp.asarray(x.transpose(1, 0, 2)), cfg, method("deterministic")).output
    return np.asarray(out[0])


def _snntorch():
    """(torch, snntorch, nirtorch), or skip."""
    torch = pytest.importorskip("torch", reason="the snnTorch peer needs torch")
    snn = pytest.importorskip("snntorch", reason="peer test against snnTorch (pip install snntorch)")
    nirtorch = pytest.importorskip("nirtorch", reason="snnTorch's NIR bridge needs nirtorch")
    import snntorch.export_nir
    import snntorch.import_nir
    import snntorch.utils  # noqa: F401

    return torch, snn, nirtorch


def _unit_input_gain(graph):
    """Rescale each CubaLIF's voltage by tau_mem / dt (r and v_threshold): the current then
    enters v with gain 1 per bin (snnTorch's and spyx's convention), with the same spikes."""
    for node in graph.nodes.values():
        if isinstance(node, nir.CubaLIF):
            scale = node.tau_mem / DT
            node.r, node.v_threshold = node.r * scale, node.v_threshold * scale
    return graph


def _run_torch(net, x):
    torch, _, _ = _snntorch()
    outs = []
    with torch.no_grad():
        for t in range(len(x)):
            y = net(torch.from_numpy(x[t]))
            y = y[0] if isinstance(y, tuple) else y
            outs.append(y.numpy()[0])
    return np.stack(outs)


def test_network_exported_here_runs_in_snntorch_two_bins_ahead_per_layer():
    _, snn, _ = _snntorch()
    lif = LIFParams(tau_mem=1e-3, tau_syn=5e-4, dt=DT)
    cfg = SNNConfig(
        n_in=12, hidden=(10, 8), n_out=4, readout="lif", lif=lif, readout_lif=LIFParams(1e-3, 5e-4, DT, 0.5)
    )
    params = jax.tree.map(lambda a: 3 * a, init_params(jax.random.key(0), cfg, nu=20.0))
    net = snn.import_nir.import_from_nir(_unit_input_gain(to_nir(params, cfg, discretisation="euler")))
    x = (np.random.default_rng(1).random((T, 1, cfg.n_in)) < 0.3).astype(np.float32)
    ours, peer = _ours(params, cfg, x), _run_torch(net, x)
    shift = 2 * (len(cfg.hidden) + 1)
    assert ours.sum() > 10
    assert np.array_equal(peer[: T - shift], ours[shift:])
    assert not ours[:shift].any()


def test_snntorch_network_imported_here_two_bins_behind_per_layer():
    torch, snn, nirtorch = _snntorch()
    torch.manual_seed(0)
    neuron = dict(alpha=0.8, beta=0.9, init_hidden=True, reset_mechanism="zero", reset_delay=False)
    net = torch.nn.Sequential(
        torch.nn.Linear(12, 10, bias=False),
        snn.Synaptic(**neuron),
        torch.nn.Linear(10, 4, bias=False),
        snn.Synaptic(**neuron, threshold=0.5, output=True),
    )
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(3)
    with pytest.raises(ValueError, match="Type inference"):  # snnTorch 1.0.0 + nir 1.0.8
        snn.export_nir.export_to_nir(net, torch.zeros(1, 12))
    graph = nirtorch.extract_nir_graph(
        net,
        snn.export_nir._extract_snntorch_module,
        torch.zeros(1, 12),
        model_name="snntorch",
        ignore_submodules_of=[snn.RLeaky, snn.RSynaptic],
    )
    cfg, params = from_nir(graph, dt=DT, discretisation="euler")
    assert cfg.hidden == (10,) and cfg.readout == "lif" and cfg.out_lif.theta == 0.5
    np.testing.assert_allclose(cfg.lif.lambda_mem, 0.9, rtol=1e-6)
    np.testing.assert_allclose(cfg.lif.lambda_syn, 0.8, rtol=1e-6)
    x = (np.random.default_rng(1).random((T, 1, 12)) < 0.3).astype(np.float32)
    snn.utils.reset(net)
    ours, peer = _ours(params, cfg, x), _run_torch(net, x)
    shift = 2 * 2
    assert ours.sum() > 10
    assert np.array_equal(peer[: T - shift], ours[shift:])
    assert not ours[:shift].any()


def test_network_exported_here_runs_in_spyx_one_bin_ahead_until_first_spike():
    spyx_nir = pytest.importorskip("spyx.nir", reason="peer test against spyx (pip install spyx)")
    cfg = SNNConfig(n_in=12, hidden=(), n_out=6, readout="lif", lif=LIFParams(1e-3, 5e-4, DT, 0.5))
    params = jax.tree.map(lambda a: 3 * a, init_params(jax.random.key(0), cfg, nu=20.0))
    graph = _unit_input_gain(to_nir(params, cfg, discretisation="euler"))
    x = (np.random.default_rng(1).random((T, 1, cfg.n_in)) < 0.3).astype(np.float32)
    _, out = spyx_nir.from_nir(graph, jnp.asarray(x), dt=DT)
    peer, ours = np.asarray(out)[:, 0], _ours(params, cfg, x)
    spiking = [j for j in range(cfg.n_out) if ours[:, j].any()]
    assert len(spiking) >= 3
    for j in range(cfg.n_out):
        first = int(np.argmax(ours[:, j])) if ours[:, j].any() else T - 1
        assert np.array_equal(peer[:first, j], ours[1 : first + 1, j]), j  # through our first spike
    assert not np.array_equal(peer[: T - 1], ours[1:])  # the resets differ afterwards
