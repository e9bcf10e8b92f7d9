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
