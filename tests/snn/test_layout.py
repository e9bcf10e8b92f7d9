"""Batch-major evaluation (analysis.snn._layerwise, ``axis=1``) against the time-major one
(``axis=0``, a ``lax.scan`` over transposed arrays): same spikes and potentials bit for bit,
same gradients to rounding; and the loop helper ``_scan_time`` against ``lax.scan``."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import analysis.snn._network as network
from analysis.snn import LIFParams, Method, SNNConfig, init_params, simulate
from analysis.snn._layerwise import _scan_time, time_axis


def _step(c, a, k):
    x, none, y = a
    assert none is None
    new = jnp.tanh(c * 0.7 + x) + y * k
    return new, (new * 2.0, c)


@partial(jax.jit, static_argnums=(3,))
def _both(init, xs, ys, reverse):
    """(_scan_time over axis 1, lax.scan over the transposed arrays)."""
    t = xs.shape[1]
    ours = _scan_time(_step, init, (xs, None, ys), t, axis=1, reverse=reverse)
    tm = lambda a: jnp.swapaxes(a, 0, 1)
    ref = lambda c, a: _step(c, (a[0], None, a[1]), a[2])
    c, (y1, y2) = lax.scan(ref, init, (tm(xs), tm(ys), jnp.arange(t, dtype=jnp.int32)), reverse=reverse)
    return ours, (c, (tm(y1), tm(y2)))


def test_scan_time_matches_lax_scan_both_directions():
    """A nonlinear step with two outputs and a None leaf; B = T = N = 1 included (one
    element to seed the output buffers from)."""
    for b, t, n in ((3, 7, 4), (1, 1, 1)):
        xs = jax.random.normal(jax.random.key(0), (b, t, n))
        ys = jax.random.normal(jax.random.key(1), (b, t, n))
        for reverse in (False, True):
            ours, ref = _both(jnp.full((b, n), 0.3), xs, ys, reverse)
            for a, r in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(ref), strict=True):
                np.testing.assert_array_equal(a, r)


_CONFIGS = {
    "dense_lif": SNNConfig(n_in=9, hidden=(8, 7), n_out=5, readout="lif"),
    "delay_integrator": SNNConfig(
        n_in=9, hidden=(8,), n_out=3, delay=1, readout_value="after", readout_u0=-0.1
    ),
    "conv_lif": SNNConfig(
        n_in=12, hidden=(3,), n_out=4, connectivity="conv1d", in_channels=2, kernel_size=3, readout="lif"
    ),
    "differentiable_reset": SNNConfig(
        n_in=9, hidden=(8,), n_out=4, readout="lif", lif=LIFParams(reset="differentiable")
    ),
}


_slow = pytest.mark.slow


@pytest.mark.parametrize(
    ("name", "meth"),
    [
        ("dense_lif", "deterministic"),
        ("delay_integrator", "stochastic"),
        pytest.param("conv_lif", "multilayer_spiker", marks=_slow),
        pytest.param("differentiable_reset", "stochastic", marks=_slow),
        pytest.param("dense_lif", "multilayer_spiker", marks=_slow),
    ],
)
def test_batch_major_equals_time_major(name, meth, monkeypatch):
    cfg = _CONFIGS[name]
    assert time_axis(cfg) == 1
    params = init_params(jax.random.key(4), cfg, nu=80.0, sigma_u=3.0, dtype=jnp.float64)
    x = jnp.asarray(np.random.default_rng(1).random((2, 15, cfg.n_in)) < 0.3, jnp.float64)
    m, key = Method(meth), jax.random.key(6)
    c = jax.random.normal(jax.random.key(7), (2, 15, cfg.n_out), jnp.float64)

    def run(p):
        r = simulate(p, x, cfg, m, key=key, record="all")
        hidden = sum(jnp.sum(jnp.sin(s) * u) for s, u in zip(r.spikes, r.membranes, strict=True))
        return r, jnp.sum(r.output * c) + hidden

    def both():  # one compiled program: the forward pass rides along as aux
        grad, fwd = jax.jit(jax.grad(lambda p: run(p)[::-1], has_aux=True))(params)
        return fwd, grad

    fwd_bm, grad_bm = both()
    monkeypatch.setattr(network, "time_axis", lambda cfg: 0)
    fwd_tm, grad_tm = both()
    for a, b in zip(jax.tree_util.tree_leaves(fwd_bm), jax.tree_util.tree_leaves(fwd_tm), strict=True):
        np.testing.assert_array_equal(a, b)
    assert sum(float(s.sum()) for s in fwd_bm.spikes) > 0  # layers spike: a nontrivial check
    for a, b in zip(jax.tree_util.tree_leaves(grad_bm), jax.tree_util.tree_leaves(grad_tm), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        assert float(jnp.abs(a).max()) > 0


def test_time_axis_choice():
    """Recurrence and a differentiable reset of the whole update (autodiff of the scan) run
    time-major; everything else batch-major."""
    assert time_axis(SNNConfig(n_in=4, hidden=(3,), recurrent=True)) == 0
    upd = LIFParams(reset="differentiable", reset_scope="update")
    assert time_axis(SNNConfig(n_in=4, hidden=(3,), lif=upd)) == 0
    assert time_axis(SNNConfig(n_in=4, hidden=(3,), readout="lif", readout_lif=upd)) == 0
    assert time_axis(SNNConfig(n_in=4, hidden=(3,), readout_lif=upd)) == 1  # integrator: not a LIF readout
    assert time_axis(SNNConfig(n_in=4, hidden=(3,), lif=LIFParams(reset_scope="update"))) == 1
