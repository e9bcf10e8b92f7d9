"""NIR exchange with real peers. Tested with nir 1.0.8, norse 1.1.0 (nirtorch 2.6, torch 2.14).

Norse 1.1.0 imports a CubaLIF node as w_in x -> LIBoxCell (forward Euler, emits the *updated*
current) -> r I -> LIFBoxCell (forward Euler, spike read *after* the update, then reset). With
our ``discretisation="euler"`` export (a = 1 - dt/tau, r (1 - a_syn) w_in = 1) its step n is
I_N[n] = I[n+1], v_N[n] = U[n+2], z_N[n] = S[n+2] in terms of our recursion (module docstring
of analysis.snn._nir): each CubaLIF layer is two bins ahead of ours, so Norse's output at step
n equals our output at bin n + 2 (number of CubaLIF layers, readout included). Our S[0] =
S[1] = 0 always, so nothing is lost at the start.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("nir", reason="NIR exchange needs the optional nir package")
torch = pytest.importorskip("torch", reason="the Norse peer needs torch")
norse_torch = pytest.importorskip("norse.torch", reason="peer test against Norse (pip install norse)")

from analysis.snn import LIFParams, SNNConfig, init_params, method, simulate, to_nir  # noqa: E402

T = 40


def test_network_exported_here_runs_in_norse_two_bins_ahead_per_layer():
    cfg = SNNConfig(n_in=12, hidden=(10, 8), n_out=4, readout="lif", readout_lif=LIFParams(theta=0.5))
    params = jax.tree.map(lambda a: 3 * a, init_params(jax.random.key(0), cfg, nu=20.0, dtype=jnp.float64))
    module = norse_torch.from_nir(to_nir(params, cfg, discretisation="euler"), dt=cfg.lif.dt)
    x = (np.random.default_rng(1).random((T, 1, cfg.n_in)) < 0.3).astype(np.float32)
    ours = np.asarray(
        simulate(params, jnp.asarray(x.transpose(1, 0, 2), jnp.float64), cfg, method("deterministic")).output[
            0
        ]
    )
    state, outs = None, []
    with torch.no_grad():
        for t in range(T):
            y, state = module(torch.from_numpy(x[t]), state)
            outs.append(y.numpy()[0])
    norse_out = np.stack(outs)
    shift = 2 * (len(cfg.hidden) + 1)
    assert ours.sum() > 10
    assert np.array_equal(norse_out[: T - shift], ours[shift:])
    assert not ours[:shift].any()


def _norse_model(readout, gain=6.0, box=False):
    """Linear (weights x 10; x 25 for box) -> LIFCell (tau_mem 10 ms, tau_syn 5 ms) or LIFBoxCell
    (box; tau_mem 10 ms) -> Linear (x gain) -> readout."""
    torch.manual_seed(0)
    lif = norse_torch.LIFParameters(tau_mem_inv=torch.tensor(100.0), tau_syn_inv=torch.tensor(200.0))
    model = norse_torch.SequentialState(
        torch.nn.Linear(12, 10, bias=False),
        norse_torch.LIFBoxCell(norse_torch.LIFBoxParameters(tau_mem_inv=torch.tensor(100.0)))
        if box
        else norse_torch.LIFCell(lif),
        torch.nn.Linear(10, 4, bias=False),
        readout,
    )  # fmt: skip
    with torch.no_grad():
        model[0].weight.mul_(25.0 if box else 10.0)
        model[2].weight.mul_(gain)
    return model


def _run_norse(model, x):
    state, outs = None, []
    with torch.no_grad():
        for t in range(x.shape[0]):
            y, state = model(torch.from_numpy(x[t]), state)
            outs.append(y.numpy()[0])
    return np.stack(outs)


@pytest.mark.parametrize("via_file, box", [(False, False), (True, False), (False, True)])
def test_network_exported_by_norse_runs_here_two_bins_behind_per_layer(via_file, box, tmp_path):
    """Norse 1.1.0 to_nir -> from_nir(source="norse"): spike-exact with Norse's output at step n
    = ours at bin n + 4 (two neuron layers); an LIBoxCell readout's potential to float32 rounding."""
    from analysis.snn import from_nir, write_nir_graph

    x = (np.random.default_rng(2).random((T, 1, 12)) < 0.3).astype(np.float32)
    for readout in (norse_torch.LIFBoxCell(), norse_torch.LIBoxCell()):
        model = _norse_model(readout, 120.0 if isinstance(readout, norse_torch.LIFBoxCell) else 6.0, box)
        graph = norse_torch.to_nir(model, torch.zeros(1, 12))
        if via_file:
            write_nir_graph(tmp_path / "norse.nir", graph)
            graph = tmp_path / "norse.nir"
        cfg, params = from_nir(graph, source="norse")
        ours = simulate(params, jnp.asarray(x.transpose(1, 0, 2), jnp.float64), cfg, method("deterministic"))
        out = np.asarray(ours.output[0])
        norse_out = _run_norse(model, x)
        assert float(np.asarray(ours.spikes[0]).mean()) > 0.05
        if isinstance(readout, norse_torch.LIFBoxCell):
            assert cfg.readout == "lif" and out.sum() > 5
            assert np.array_equal(norse_out[: T - 4], out[4:])
        else:
            assert cfg.readout == "integrator" and np.abs(out).max() > 0.1
            np.testing.assert_allclose(norse_out[: T - 4], out[4:], rtol=1e-5, atol=1e-6)
        assert not out[:4].any()


def test_norse_licell_readout_is_refused_with_the_fix():
    from analysis.snn import from_nir

    graph = norse_torch.to_nir(_norse_model(norse_torch.LICell()), torch.zeros(1, 12))
    with pytest.raises(ValueError, match="empty .None.*LIBoxCell"):
        from_nir(graph, source="norse")
