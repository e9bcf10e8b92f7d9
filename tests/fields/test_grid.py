"""Tests of analysis.fields._grid (the five-weight net's output on a plane, Fig. 4) against
the independent NumPy reference analysis.fields._reference.five_weight_output_np, and of
loop_figure_data against loop_integral."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from analysis import fields
from analysis.fields import _grid
from analysis.fields import _toy as tn
from analysis.fields._reference import five_weight_output_np, five_weight_sg_np

BETAS = (1.0, 5.0, 20.0, 10000.0)
N, TILE = 256, 8  # 32 x 32 tiles: at beta = 10000 most are saturated, so the tile path runs


def _setup(n=N, extent=2.5):
    plane = tn.paper_plane()
    ab = np.linspace(-extent, extent, n)
    c, d1, d2 = (np.asarray(v) for v in (plane.center, plane.d1, plane.d2))
    return plane, ab, c, d1, d2


def _thetas(ab, c, d1, d2, dtype):
    """theta[i, j] rounded as the bench's NumPy side does: fl(fl(c + fl(a d1)) + fl(b d2))."""
    a, c, d1, d2 = (x.astype(dtype) for x in (ab, c, d1, d2))
    return c + a[:, None, None] * d1 + a[None, :, None] * d2


def _tile_fraction(ab, c, d1, d2, beta, dtype):
    P, Q = c + ab[:, None] * d1, ab[:, None] * d2
    thr = _grid.saturation_threshold(beta, float(np.abs(P).max() + np.abs(Q).max()), dtype)
    return len(_grid.exact_tiles(P, Q, beta, TILE, thr)) / (N // TILE) ** 2


def test_float32_grids_match_the_numpy_reference():
    """Smooth beta: at least as accurate as NumPy float32 (error vs float64 <= 2x NumPy's own
    + 1e-7). beta = 10000: equal to NumPy float32 within 1e-6 at every point (both round
    theta identically, so even points next to the steps agree)."""
    plane, ab, c, d1, d2 = _setup()
    assert _tile_fraction(ab, c, d1, d2, 10000.0, jnp.float32) < 0.5  # the tile path is exercised
    got = _grid.five_weight_grids(c, d1, d2, ab, ab, BETAS, jnp.float32, tile=TILE)
    th32, th64 = _thetas(ab, c, d1, d2, np.float32), _thetas(ab, c, d1, d2, np.float64)
    for y, beta in zip(got, BETAS, strict=True):
        assert y.shape == (N, N) and y.dtype == np.float32
        r32 = five_weight_output_np(th32, beta, dtype=np.float32)
        r64 = five_weight_output_np(th64, beta)
        if beta < 100:
            own = np.abs(r32 - r64).max()
            assert np.abs(y - r64).max() <= 2 * own + 1e-7, beta
        np.testing.assert_allclose(y, r32, rtol=0, atol=1e-6, err_msg=f"beta={beta}")


def test_float64_grids_match_the_numpy_reference():
    _, ab, c, d1, d2 = _setup(96)
    got = _grid.five_weight_grids(c, d1, d2, ab, ab, BETAS[:3], jnp.float64, tile=TILE)
    th = _thetas(ab, c, d1, d2, np.float64)
    for y, beta in zip(got, BETAS[:3], strict=True):
        np.testing.assert_allclose(y, five_weight_output_np(th, beta), rtol=0, atol=1e-13)


def _rounding_bound(th, beta, eps, pq_scale):
    """Bound on |y_1 - y_2| for two float evaluations (precision eps) at theta ``th``.

    Each may (a) round every weight P_k + Q_k (or fold the sum into later products) with an
    absolute error eps |pq_scale_k| = eps (|P_k| + |Q_k|), which cancellation makes large
    relative to small weights, and (b) perturb every sigmoid argument x_l (beta w,
    beta v_i g, beta zy) by a relative 4 eps. Linearised and doubled (two evaluations):
    2 eps sum_k |dy/dtheta_k| pq_scale_k + 8 eps sum_l |dy/dx_l| |x_l| + 4 eps, with the
    exact derivatives in float64 (dy/dtheta from the NumPy reference chain rule).
    """
    w, v1, v2, u1, u2 = np.moveaxis(th, -1, 0)
    s = lambda x: 0.5 * (1.0 + np.tanh(0.5 * x))
    g = s(beta * w)
    h1, h2 = s(beta * v1 * g), s(beta * v2 * g)
    xy = beta * (u1 * h1 + u2 * h2)
    dy = s(xy) * (1 - s(xy))
    d1, d2 = dy * beta * u1 * h1 * (1 - h1), dy * beta * u2 * h2 * (1 - h2)
    dg = (d1 * beta * v1 + d2 * beta * v2) * g * (1 - g)
    terms = dy * abs(xy) + d1 * abs(beta * v1 * g) + d2 * abs(beta * v2 * g) + dg * abs(beta * w)
    grad = np.abs(five_weight_sg_np(th, beta, beta))
    return 2 * eps * np.sum(grad * pq_scale, axis=-1) + 8 * eps * terms + 4 * eps


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_tile_path_equals_dense_evaluation(dtype):
    """Skipped (saturated) tiles: within eps^2 of evaluating them with exponentials (module
    doc). Evaluated tiles: the same formula compiled in another shape, so equal up to
    rounding times the condition number (:func:`_rounding_bound`)."""
    _, ab, c, d1, d2 = _setup()
    betas = (10000.0, 3e5)
    tiled = _grid.five_weight_grids(c, d1, d2, ab, ab, betas, dtype, tile=TILE)
    P64, Q64 = c + ab[:, None] * d1, ab[:, None] * d2
    P, Q = (jnp.asarray(x.astype(dtype).T) for x in (P64, Q64))
    dense = _grid._grids(P, Q, (None, None), betas, (False, False), TILE, _grid._limits(dtype)[1])
    eps = float(jnp.finfo(dtype).eps)
    th = _thetas(ab, c, d1, d2, np.float64)
    scale = float(np.abs(P64).max() + np.abs(Q64).max())
    for t, d, beta in zip(tiled, dense, betas, strict=True):
        diff = np.abs(t - np.asarray(d))
        exact = np.zeros((N, N), bool)
        for i, j in _grid.exact_tiles(P64, Q64, beta, TILE, _grid.saturation_threshold(beta, scale, dtype)):
            exact[i : i + TILE, j : j + TILE] = True
        assert 0 < exact.mean() < 0.5
        assert diff[~exact].max() <= eps**2
        pq = np.abs(P64)[:, None, :] + np.abs(Q64)[None, :, :]
        assert (diff <= _rounding_bound(th, beta, eps, pq)).all()


def test_saturated_tiles_are_saturated_at_every_point():
    """Brute force in float64: on every tile exact_tiles skips, every unit's |beta z| exceeds
    the threshold at every grid point (the corner argument, checked point by point)."""
    _, ab, c, d1, d2 = _setup()
    beta = 10000.0
    P, Q = c + ab[:, None] * d1, ab[:, None] * d2
    thr = _grid.saturation_threshold(beta, float(np.abs(P).max() + np.abs(Q).max()), jnp.float64)
    exact = np.zeros((N, N), bool)
    for i, j in _grid.exact_tiles(P, Q, beta, TILE, thr):
        exact[i : i + TILE, j : j + TILE] = True
    w, v1, v2, u1, u2 = np.moveaxis(P[:, None, :] + Q[None, :, :], -1, 0)
    g = w > 0
    h1, h2 = np.where(g, v1 > 0, 0.5), np.where(g, v2 > 0, 0.5)
    ok = (np.abs(beta * w) > thr) & (~g | ((np.abs(beta * v1) > thr) & (np.abs(beta * v2) > thr)))
    ok &= np.abs(beta * (u1 * h1 + u2 * h2)) > thr
    assert ok[~exact].all()
    assert 0.5 < (~exact).mean() and exact.any()  # both paths are used


def test_paper_grid_mostly_saturated_at_beta_10000():
    """At the paper's 2000 x 2000 grid and default tile, >= 75 % of tiles skip exponentials."""
    plane, ab, c, d1, d2 = _setup(2000)
    P, Q = c + ab[:, None] * d1, ab[:, None] * d2
    thr = _grid.saturation_threshold(1e4, float(np.abs(P).max() + np.abs(Q).max()), jnp.float32)
    n_tiles = len(_grid._origins(2000, _grid.TILE)) ** 2
    assert len(_grid.exact_tiles(P, Q, 1e4, _grid.TILE, thr)) / n_tiles < 0.25


def test_loop_figure_data_equals_loop_integral_and_reference():
    d = fields.loop_figure_data(64, 64, grid_betas=(5.0, 10000.0), beta_sgs=(1.0, 20.0))
    plane = tn.paper_plane()
    c, d1, d2 = (np.asarray(v) for v in (plane.center, plane.d1, plane.d2))
    th = _thetas(d["a"], c, d1, d2, np.float64)
    pq = np.abs(c + d["a"][:, None, None] * d1) + np.abs(d["a"][None, :, None] * d2)
    for beta in (5.0, 10000.0):
        got, ref = d["grids"][beta], five_weight_output_np(th, beta)
        assert (np.abs(got - ref) <= _rounding_bound(th, beta, 2.0**-52, pq) + 1e-13).all()
    for bs in (1.0, 20.0):
        for got, field in (
            (d["sg_loops"][bs], tn.sg_field(tn.FIVE_WEIGHT, 10000.0, bs)),
            (d["exact_loops"][bs], tn.exact_field(tn.FIVE_WEIGHT, bs)),
        ):
            ref = fields.loop_integral(field, plane, fields.PAPER_RADIUS, 64)
            np.testing.assert_allclose(got.cumulative, ref.cumulative, rtol=0, atol=1e-14)
            assert got.error == pytest.approx(ref.error, abs=1e-14)
            assert got.abs_path == pytest.approx(ref.abs_path, rel=1e-14)


def test_bad_input():
    _, ab, c, d1, d2 = _setup(16)
    with pytest.raises(ValueError, match="a must"):
        _grid.five_weight_grids(c, d1, d2, np.ones((2, 2)), ab, (1.0,))
    with pytest.raises(ValueError, match="b must"):
        _grid.five_weight_grids(c, d1, d2, ab, [np.nan], (1.0,))
    with pytest.raises(ValueError, match="grid beta"):
        _grid.five_weight_grids(c, d1, d2, ab, ab, (math.inf,))
    with pytest.raises(TypeError, match="dtype"):
        _grid.five_weight_grids(c, d1, d2, ab, ab, (1.0,), jnp.int32)
    with pytest.raises(ValueError, match="d1"):
        _grid.five_weight_grids(c, d1[:4], d2, ab, ab, (1.0,))
    with pytest.raises(ValueError, match="grid_n"):
        fields.loop_figure_data(0)
    with pytest.raises(ValueError, match="beta_sg"):
        fields.loop_figure_data(8, 16, beta_sgs=(-1.0,))
    with pytest.raises(ValueError, match="beta"):
        fields.loop_figure_data(8, 16, grid_betas=(0.0,))


def test_wide_vector_compilation_changes_no_value():
    """_grids' CPU option (512-bit vectors preferred) gives the same values bit for bit as
    XLA's default compilation of the same function (float32 and float64)."""
    import jax

    _, ab, c, d1, d2 = _setup()
    for dtype in (jnp.float32, jnp.float64):
        P, Q = ((x.astype(dtype).T).copy() for x in (c + ab[:, None] * d1, ab[:, None] * d2))
        args = (P, Q, (None, None, None), (1.0, 5.0, 20.0), (True, True, True), TILE, _grid._limits(dtype)[1])
        plain = jax.jit(_grid._grids_fn, static_argnums=(3, 4, 5, 6))(*args)
        for a, b in zip(_grid._grids(*args), plain, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
