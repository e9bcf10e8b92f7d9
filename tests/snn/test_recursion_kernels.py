"""The numba kernels of a LIF layer's time recursion (analysis.snn._lif_numba, backend
"numba") against the ``lax`` loop (backend "xla", the path a GPU runs): the same spikes and
potentials bit for bit, the same input gradients to rounding, for every training method,
reset mode and scope, layout, with and without cotangents on the potentials, under vmap;
and how the backend is chosen."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.snn import LIFParams, Method
from analysis.snn._layerwise import _lif_layer, _lif_layer_fwd, recursion_backend

pytestmark = pytest.mark.skipif(recursion_backend() != "numba", reason="numba kernels not available here")

_TAU = dict(tau_mem=10e-3, tau_syn=5e-3)


def _drive(shape, dtype, seed=0):
    # mean 0.3, sd 1: every unit crosses threshold now and then (about 5 % of bins)
    return jnp.asarray(np.random.default_rng(seed).normal(0.3, 1.0, shape), dtype)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("scope", ["leak", "update"])
@pytest.mark.parametrize("axis", [0, 1])
def test_forward_is_bit_identical_to_the_lax_loop(dtype, scope, axis):
    lif = LIFParams(**_TAU, reset_scope=scope)
    d = _drive((9, 40, 33), dtype)  # odd sizes: the vector loop's remainder is exercised
    if axis == 0:
        d = jnp.swapaxes(d, 0, 1)
    layer = lambda d, b: _lif_layer_fwd(d, None, lif, Method(), False, True, axis, b)[0]
    s_n, u_n = jax.jit(lambda d: layer(d, "numba"))(d)
    # XLA contracts a * b + c into fused multiply-adds only when it optimises (level 2, its
    # default; the suite compiles at level 0, tests/conftest.py), as the kernels always do
    xla = jax.jit(lambda d: layer(d, "xla")).lower(d).compile({"xla_backend_optimization_level": 2})
    s_x, u_x = xla(d)
    assert 0.01 < float(s_x.mean()) < 0.2
    np.testing.assert_array_equal(np.asarray(s_n), np.asarray(s_x))
    np.testing.assert_array_equal(np.asarray(u_n), np.asarray(u_x))


_CASES = [
    (name, reset, scope)
    for name in ("deterministic", "stochastic", "multilayer_spiker")
    for reset, scope in (("detached", "leak"), ("detached", "update"), ("differentiable", "leak"))
]


@pytest.mark.parametrize(("name", "reset", "scope"), _CASES)
@pytest.mark.parametrize("with_u", [False, True])
@pytest.mark.parametrize("axis", [0, 1])
def test_backward_matches_the_lax_loop(name, reset, scope, with_u, axis):
    """float64 input gradients of both backends for random cotangents on the spikes (and the
    potentials); the two sum the same terms in a different order."""
    lif = LIFParams(**_TAU, reset=reset, reset_scope=scope)
    m = Method(name)
    d = _drive((5, 30, 17), jnp.float64, seed=1)
    if axis == 0:
        d = jnp.swapaxes(d, 0, 1)
    kd = None if name == "deterministic" else jax.random.key_data(jax.random.key(3))
    rng = np.random.default_rng(2)
    g = tuple(jnp.asarray(rng.normal(size=d.shape)) for _ in range(2 if with_u else 1))
    g = g if with_u else g[0]
    for output in (False, True):
        grads = {}
        for b in ("numba", "xla"):
            layer = lambda d, b=b, o=output: _lif_layer(d, kd, lif, m, o, with_u, axis, b)
            out, vjp = jax.vjp(layer, d)
            grads[b] = np.asarray(jax.jit(vjp)(g)[0])
        assert np.abs(grads["xla"]).max() > 0.1
        np.testing.assert_allclose(grads["numba"], grads["xla"], rtol=1e-11, atol=1e-13)


def test_vmap_batched_and_shared_operands():
    """vmap adds a leading axis to the callbacks' buffers: batched drives give the stacked
    single results; a cotangent shared by every batch element (in_axes None) is broadcast."""
    lif = LIFParams(**_TAU)
    d = _drive((3, 4, 25, 6), jnp.float64, seed=4)
    g = jnp.asarray(np.random.default_rng(5).normal(size=d.shape[1:]))

    def grad(d, g, b):
        out, vjp = jax.vjp(lambda d: _lif_layer(d, None, lif, Method(), False, False, 1, b), d)
        return out, vjp(g)[0]

    s_v, gd_v = jax.jit(jax.vmap(lambda d, g: grad(d, g, "numba"), in_axes=(0, None)))(d, g)
    for k in range(d.shape[0]):
        s_k, gd_k = jax.jit(lambda d, g: grad(d, g, "xla"))(d[k], g)
        np.testing.assert_array_equal(np.asarray(s_v[k]), np.asarray(s_k))
        np.testing.assert_allclose(np.asarray(gd_v[k]), np.asarray(gd_k), rtol=1e-11, atol=1e-13)


def test_backend_choice(monkeypatch):
    assert recursion_backend(jnp.float32) == recursion_backend(jnp.float64) == "numba"
    assert recursion_backend(jnp.float16) == "xla"
    monkeypatch.setenv("SGTHEORY_RECURSION_BACKEND", "xla")
    assert recursion_backend(jnp.float32) == "xla"
    monkeypatch.setenv("SGTHEORY_RECURSION_BACKEND", "gpu")
    with pytest.raises(ValueError, match="auto, numba, xla"):
        recursion_backend()


@pytest.mark.parametrize("reset", ["detached", "differentiable"])
def test_derivatives_of_the_gradient_match(reset):
    """A Hessian-vector product through the layer (forward mode over reverse mode) and the
    gradient of a gradient norm: the kernels carry the derivative of their lax versions."""
    lif = LIFParams(**_TAU, reset=reset)
    d = _drive((4, 25, 7), jnp.float64, seed=6)
    w = jnp.asarray(np.random.default_rng(7).normal(size=d.shape))

    def loss(d, b):
        s, u = _lif_layer(d, None, lif, Method(), False, True, 1, b)
        return jnp.sum(jnp.sin(u) * w) + jnp.sum(s * w**2)

    out = {}
    for b in ("numba", "xla"):
        g = jax.grad(lambda d, b=b: loss(d, b))
        hvp = jax.jvp(g, (d,), (w,))[1]
        gg = jax.grad(lambda d, g=g: jnp.sum(g(d) ** 2))(d)
        out[b] = np.asarray(hvp), np.asarray(gg)
    for a, b in zip(out["numba"], out["xla"], strict=True):
        assert np.abs(b).max() > 0.1
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_export_needs_the_lax_loop(monkeypatch):
    """jax.export refuses the kernels' host callbacks; with the lax loop forced (read at
    tracing: a new function, since JAX caches traces per function) the same layer exports,
    and the exported program gives the lax loop's spikes."""
    from jax import export

    lif = LIFParams(**_TAU)
    d = _drive((3, 20, 8), jnp.float32, seed=8)
    layer = lambda: lambda d: _lif_layer(d, None, lif, Method(), False, False, 1)

    with pytest.raises(NotImplementedError, match="host_callbacks"):
        export.export(jax.jit(layer()))(d)
    monkeypatch.setenv("SGTHEORY_RECURSION_BACKEND", "xla")
    s = export.export(jax.jit(layer()))(d).call(d)
    assert 0 < float(s.mean()) < 0.5
    np.testing.assert_array_equal(np.asarray(s), np.asarray(jax.jit(layer())(d)))
