"""Event-driven synaptic input (analysis.snn._event) against the dense product."""

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.snn import Method, SNNConfig, event_backend, init_params, simulate
from analysis.snn._event import active_indices, event_matmul


def test_active_indices_match_numpy_nonzero():
    s = np.random.default_rng(0).random((5, 17)) < 0.3
    idx, count = active_indices(jnp.asarray(s, jnp.float32), 17)
    for b in range(5):
        nz = np.nonzero(s[b])[0]
        assert int(count[b]) == len(nz)
        np.testing.assert_array_equal(np.asarray(idx[b, : len(nz)]), nz)
        assert np.all(np.asarray(idx[b, len(nz) :]) == 17)


@pytest.mark.parametrize("budget", [0, 4, pytest.param(40, marks=pytest.mark.slow)])
def test_event_matmul_value_and_grads(budget):
    """XLA backend: budget 4 overflows (dense fallback), 0 and 40 use the gather path;
    values need not be binary. Reference: the dense product and its gradients (float64, exact up to
    summation order)."""
    rng = np.random.default_rng(1)
    s = jnp.asarray((rng.random((6, 40)) < 0.15) * rng.normal(size=(6, 40)))
    w = jnp.asarray(rng.normal(size=(40, 9)))
    g = jnp.asarray(rng.normal(size=(6, 9)))
    y = event_matmul(s, w, budget, "xla")
    np.testing.assert_allclose(np.asarray(y), np.asarray(s @ w), rtol=1e-12, atol=1e-12)
    f_e = lambda s, w: jnp.sum(event_matmul(s, w, budget, "xla") * g)
    f_d = lambda s, w: jnp.sum((s @ w) * g)
    for a, b in zip(jax.grad(f_e, (0, 1))(s, w), jax.grad(f_d, (0, 1))(s, w), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(n_in=30, hidden=(20,), n_out=4, recurrent=True), "stochastic"),
        (dict(n_in=30, hidden=(20, 16), n_out=4, readout="lif"), "deterministic"),
    ],
    ids=["recurrent-stochastic", "two-layer-lif-deterministic"],
)
def test_event_network_gradients_equal_dense_float32(kw, name):
    dense, event = SNNConfig(**kw), SNNConfig(**kw, event_driven=True)
    params = init_params(jax.random.key(0), dense, nu=60.0)
    x = jnp.asarray(np.random.default_rng(2).random((3, 30, 30)) < 0.1, jnp.float32)
    c = jnp.asarray(np.random.default_rng(3).normal(size=(3, 30, 4)), jnp.float32)

    def loss(p, cfg):
        r = simulate(p, x, cfg, Method(name), key=jax.random.key(3))
        return jnp.sum(r.output * c) + sum(jnp.sum(s) for s in r.spikes)

    grad = jax.jit(jax.grad(loss), static_argnums=1)
    gd, ge = grad(params, dense), grad(params, event)
    for a, b in zip(jax.tree_util.tree_leaves(gd), jax.tree_util.tree_leaves(ge), strict=True):
        assert a.dtype == jnp.float32
        scale = float(jnp.abs(a).max())
        assert scale > 0
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-5 * scale)


def test_event_driven_conv_rejected():
    with pytest.raises(ValueError, match="event_driven"):
        SNNConfig(n_in=8, hidden=(2,), connectivity="conv1d", kernel_size=3, event_driven=True)


def _bound(terms_abs, n_terms, dtype):
    """Rounding bound for comparing two summation orders of the same n terms.

    Each order's result lies within gamma_n sum |terms| of the exact sum, gamma_n ~ n u
    (u = eps / 2, first order), so two orders differ by at most n eps sum |terms|; doubled
    for the rounding of the products and the final cast.
    """
    return 2 * n_terms * np.finfo(dtype).eps * terms_abs + np.finfo(dtype).tiny


def _sparse_operands(seed, dtype, rows=203, n_in=67, n_out=45):
    """S [rows, n_in] with per-row densities from 0 to 1 (incl. empty and fully dense rows),
    non-binary values; W; cotangent G."""
    rng = np.random.default_rng(seed)
    density = rng.choice([0.0, 0.01, 0.05, 0.2, 1.0], size=(rows, 1))
    s = (rng.random((rows, n_in)) < density) * rng.normal(size=(rows, n_in))
    s[0], s[1] = 0.0, rng.normal(size=n_in)
    w, g = rng.normal(size=(n_in, n_out)), rng.normal(size=(rows, n_out))
    return tuple(jnp.asarray(a, dtype) for a in (s, w, g))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_numba_event_matmul_equals_dense(dtype):
    """Numba backend: value (jit) and both gradients (jax.grad under jit) against the dense
    products, for an R that is not a multiple of the thread count or the 8-row groups."""
    pytest.importorskip("numba")
    if jax.default_backend() != "cpu":
        pytest.skip("the numba backend runs on the CPU backend only")
    s, w, g = _sparse_operands(4, dtype)
    sa, wa, ga = (np.abs(np.asarray(a, np.float64)) for a in (s, w, g))
    y = jax.jit(lambda s, w: event_matmul(s, w, 0, "numba"))(s, w)
    assert y.dtype == dtype
    assert np.all(
        np.abs(np.asarray(y, np.float64) - np.asarray(s, np.float64) @ np.asarray(w, np.float64))
        <= _bound(sa @ wa, s.shape[1], dtype)
    )
    f_e = lambda s, w: jnp.sum(event_matmul(s, w, 0, "numba") * g)
    ds, dw = jax.jit(jax.grad(f_e, (0, 1)))(s, w)
    assert ds.dtype == dw.dtype == dtype
    s64, w64, g64 = (np.asarray(a, np.float64) for a in (s, w, g))
    assert np.all(np.abs(np.asarray(dw, np.float64) - s64.T @ g64) <= _bound(sa.T @ ga, s.shape[0], dtype))
    assert np.all(np.abs(np.asarray(ds, np.float64) - g64 @ w64.T) <= _bound(ga @ wa.T, w.shape[1], dtype))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_numba_and_xla_backends_agree(dtype):
    """The two backends give the same value and gradients up to summation order."""
    pytest.importorskip("numba")
    if jax.default_backend() != "cpu":
        pytest.skip("the numba backend runs on the CPU backend only")
    s, w, g = _sparse_operands(5, dtype, rows=97)
    sa, wa, ga = (np.abs(np.asarray(a, np.float64)) for a in (s, w, g))

    def vg(backend):
        f = lambda s, w: jnp.sum(event_matmul(s, w, 0, backend) * g)
        return (event_matmul(s, w, 0, backend), *jax.grad(f, (0, 1))(s, w))

    bounds = (
        _bound(sa @ wa, s.shape[1], dtype),
        _bound(ga @ wa.T, w.shape[1], dtype),
        _bound(sa.T @ ga, s.shape[0], dtype),
    )
    for a, b, tol in zip(vg("numba"), vg("xla"), bounds, strict=True):
        assert np.all(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) <= tol)


def test_numba_event_matmul_vmap_and_mixed_dtypes():
    """Under vmap (batched S with shared W, batched W) and with a bool S."""
    pytest.importorskip("numba")
    if jax.default_backend() != "cpu":
        pytest.skip("the numba backend runs on the CPU backend only")
    s, w, _ = _sparse_operands(6, jnp.float32, rows=31)
    sb = jnp.stack([s, 2 * s, s[::-1]])
    wb = jnp.stack([w, -w])
    tol = 1e-4
    np.testing.assert_allclose(
        jax.vmap(lambda s: event_matmul(s, w, 0, "numba"))(sb), sb @ w, rtol=tol, atol=tol
    )
    np.testing.assert_allclose(
        jax.vmap(lambda w: event_matmul(s, w, 0, "numba"))(wb), s @ wb, rtol=tol, atol=tol
    )
    loss = lambda f: lambda s, w: jnp.sum(f(s, w) ** 2)
    ge = jax.vmap(jax.grad(loss(lambda s, w: event_matmul(s, w, 0, "numba")), (0, 1)), (0, None))(sb, w)
    gd = jax.vmap(jax.grad(loss(lambda s, w: s @ w), (0, 1)), (0, None))(sb, w)
    for a, b in zip(ge, gd, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * float(jnp.abs(b).max()))
    sbool = s != 0
    np.testing.assert_allclose(
        event_matmul(sbool, w, 0, "numba"), sbool.astype(jnp.float32) @ w, rtol=tol, atol=tol
    )


def test_event_backend_selection():
    """Automatic choice: numba on the CPU backend when importable and the operands apply."""
    numba_ok = importlib.util.find_spec("numba") is not None and jax.default_backend() == "cpu"
    f32 = jax.ShapeDtypeStruct((4, 3), jnp.float32)
    assert event_backend() == ("numba" if numba_ok else "xla")
    assert event_backend(f32, jax.ShapeDtypeStruct((3, 2), jnp.float32)) == event_backend()
    f16 = jax.ShapeDtypeStruct((4, 3), jnp.float16)
    assert event_backend(f16, jax.ShapeDtypeStruct((3, 2), jnp.float16)) == "xla"
    assert (
        event_backend(jax.ShapeDtypeStruct((2, 4, 3), jnp.float32), jax.ShapeDtypeStruct((3, 2), jnp.float32))
        == "xla"
    )
    with pytest.raises(ValueError, match="backend"):
        event_matmul(jnp.ones((2, 3)), jnp.ones((3, 2)), 0, "cuda")


def test_break_even_density_interpolates_in_log_density():
    """Closed form: speedups 2 at 0.01 and 0.5 at 0.04 cross 1 at f = 2/3 of the log
    interval, i.e. at 0.01 * 4**(2/3); no crossing -> None; the first downward crossing wins."""
    from proofs_numeric.bench.snn import break_even_density

    assert break_even_density((0.04, 0.01), (0.5, 2.0)) == pytest.approx(0.01 * 4 ** (2 / 3), rel=1e-12)
    assert break_even_density((0.01, 0.1), (1.0, 0.5)) == pytest.approx(0.01, rel=1e-12)
    assert break_even_density((0.01, 0.1, 0.2), (3.0, 2.0, 1.5)) is None
    assert break_even_density((0.01, 0.1), (0.9, 0.8)) is None
    assert break_even_density((0.01, 0.02, 0.04, 0.08), (2.0, 0.5, 2.0, 0.5)) == pytest.approx(
        0.01 * 2 ** (2 / 3), rel=1e-12
    )


@pytest.mark.parametrize("rows", [1, 2, 3])
def test_numba_event_matmul_few_rows(rows):
    """Fewer rows than row blocks would need threads (1 to 3 rows), and an all-zero S:
    value and weight gradient against the dense float64 products (exact up to summation
    order; bound as in :func:`_bound`)."""
    pytest.importorskip("numba")
    if jax.default_backend() != "cpu":
        pytest.skip("the numba backend runs on the CPU backend only")
    rng = np.random.default_rng(7)
    s = jnp.asarray((rng.random((rows, 19)) < 0.3) * rng.normal(size=(rows, 19)))
    w, g = jnp.asarray(rng.normal(size=(19, 11))), jnp.asarray(rng.normal(size=(rows, 11)))
    assert np.any(np.asarray(s))
    for s_case in (s, jnp.zeros_like(s)):
        sa, wa, ga = (np.abs(np.asarray(a)) for a in (s_case, w, g))
        y, vjp = jax.vjp(lambda w, s_case=s_case: event_matmul(s_case, w, 0, "numba"), w)
        (dw,) = vjp(g)
        assert np.all(
            np.abs(np.asarray(y) - np.asarray(s_case) @ np.asarray(w)) <= _bound(sa @ wa, 19, np.float64)
        )
        ref = np.asarray(s_case).T @ np.asarray(g)
        assert np.all(np.abs(np.asarray(dw) - ref) <= _bound(sa.T @ ga, rows, np.float64))
    assert not np.any(np.asarray(event_matmul(jnp.zeros_like(s), w, 0, "numba")))


def test_bench_event_report_lines(capsys):
    """The bench's event lines from a synthetic result: speedups, the interpolated
    break-even (2x at 0.01, 0.5x at 0.04 -> 0.01 * 4**(2/3) = 0.0252) and the free-gather
    bound (dense 1.0 s, free 0.4 s -> 60 % replaced, at most 2.50x; event 0.5 s -> 2.00x)."""
    from proofs_numeric.bench.snn import _print_event

    row = lambda sp: {
        "dense_s": 1.0,
        "event_s": 1.0 / sp,
        "speedup": sp,
        "hidden_density": [0.03],
        "output_density": 0.01,
    }
    event = {
        "0.01": row(2.0),
        "0.04": row(0.5),
        "densities": [0.01, 0.04],
        "backend": "numba",
        "break_even_density": 0.01 * 4 ** (2 / 3),
        "free_gather": {
            "density": 0.01,
            "dense_s": 1.0,
            "free_s": 0.4,
            "event_s": 0.5,
            "speedup_bound": 2.5,
            "replaced_share": 0.6,
        },
        "products": {"0.01": {"speedup": 3.0}, "0.04": {"speedup": 1.5}},
        "products_break_even_density": None,
    }
    _print_event(event)
    out = capsys.readouterr().out
    assert "input density 0.01: 2.00x dense (1000 -> 500 ms" in out
    assert "input density 0.04: 0.50x dense (1000 -> 2000 ms" in out
    assert "break-even input density (network): 0.0252" in out
    assert "0.01: 3.00x, 0.04: 1.50x; break-even density not bracketed in [0.01, 0.04]" in out
    assert "60 % of the dense fwd+bwd" in out and "at most 2.50x dense (measured event: 2.00x" in out
