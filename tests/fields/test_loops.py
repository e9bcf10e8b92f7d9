"""Tests of analysis.fields._loops (loop integrals, curl, Stokes); the fields claims are in
tests/claims/, the loop command in tests/cli/test_loop.py."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import fields
from analysis.fields import _toy as tn
from analysis.fields._loops import jacobian_asymmetry
from analysis.fields._numerics import fit_order
from tests.helpers import LAYOUTS


def _random_plane(rng, n):
    q, _ = np.linalg.qr(rng.normal(size=(n, 2)))
    return fields.Plane(rng.normal(size=n), q[:, 0], q[:, 1])


@settings(max_examples=6)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 6), r=st.floats(0.05, 3.0))
def test_linear_field_closed_form(seed, n, r):
    """g = M theta: ccw loop = pi r^2 (d2.M d1 - d1.M d2) exactly (trig. polynomial, N = 16)."""
    rng = np.random.default_rng(seed)
    M, plane = rng.normal(size=(n, n)), _random_plane(rng, n)
    field = lambda t: jnp.asarray(M) @ t
    d1, d2 = np.asarray(plane.d1), np.asarray(plane.d2)
    curl_ab = d2 @ M @ d1 - d1 @ M @ d2
    ccw = fields.loop_integral(field, plane, r, 16, "counterclockwise")
    cw = fields.loop_integral(field, plane, r, 16, "clockwise")
    assert ccw.value == pytest.approx(math.pi * r * r * curl_ab, abs=1e-12 * (1 + r * r))
    assert cw.value == pytest.approx(-ccw.value, abs=1e-12 * (1 + r * r))
    assert float(fields.plane_curl(field, plane)) == pytest.approx(curl_ab, abs=1e-12)
    A = np.asarray(fields.curl(field, plane.center))
    np.testing.assert_allclose(A, 0.5 * (M - M.T), atol=1e-14)
    assert -2 * d1 @ A @ d2 == pytest.approx(curl_ab, abs=1e-12)


@settings(max_examples=8)
@given(
    seed=st.integers(0, 2**31 - 1),
    which=st.integers(0, len(LAYOUTS) - 1),
    beta=st.floats(0.5, 6.0),
    radius=st.floats(0.1, 2.0),
)
def test_exact_fields_conservative_on_random_layouts_and_planes(seed, which, beta, radius):
    rng = np.random.default_rng(seed)
    layout = LAYOUTS[which]
    g = tn.exact_field(layout, beta)
    res = fields.loop_integral(g, _random_plane(rng, layout.n_params), radius, 256)
    assert abs(res.value) < 1e-8 * res.abs_path
    a, s = jacobian_asymmetry(g, rng.normal(size=layout.n_params))
    assert float(a) <= 1e-10 * max(1.0, float(s))
    # ... while the SG field of the same net (beta_SG != beta) is not conservative
    if len(layout.sizes) > 2:
        a_sg, s_sg = jacobian_asymmetry(
            tn.sg_field(layout, beta, 0.3 * beta), rng.normal(size=layout.n_params)
        )
        assert float(a_sg) > 1e-6 * float(s_sg)


def test_periodic_trapezoid_is_spectral_and_error_estimate_honest():
    """Smooth SG field: the error falls faster than any power of N, and |I_N - I| <= estimate."""
    g, plane = tn.sg_field(tn.FIVE_WEIGHT, 3.0, 1.0), tn.paper_plane()
    exact = fields.loop_integral(g, plane, 1.8, 512).value
    ns = [16, 24, 32, 48]
    res = [fields.loop_integral(g, plane, 1.8, n) for n in ns]
    errs = np.array([abs(r.value - exact) for r in res])
    assert all(abs(r.value - exact) <= r.error + 1e-15 for r in res)
    # algebraic order p would give errs[0]/errs[-1] = 3^p; spectral gives far more than p = 8
    assert errs[0] / max(errs[-1], 1e-300) > 3.0**8


def test_cumulative_integral_order_two_and_richardson():
    ns = np.array([65, 129, 257, 513])
    errs, rich = [], []
    for n in ns:
        x = np.linspace(0.0, 2.0, n)
        F, R, est = fields.cumulative_integral(x, np.cos(3 * x))
        ref = np.sin(3 * x) / 3
        errs.append(np.max(np.abs(F - ref)))
        rich.append(np.max(np.abs(R[::2] - ref[::2])))
        assert errs[-1] <= 1.5 * est  # the estimate is of the right size
    assert fit_order(2.0 / (ns - 1), errs) == pytest.approx(2.0, abs=0.05)
    assert fit_order(2.0 / (ns - 1), rich) > 3.5  # Richardson: O(h^4)


def test_polygon_gauss_legendre_matches_green():
    """Polygon loop of a linear field: ccw integral = area * curl_ab (Green), any polygon."""
    rng = np.random.default_rng(3)
    M, plane = rng.normal(size=(4, 4)), _random_plane(rng, 4)
    field = lambda t: jnp.asarray(M) @ t
    d1, d2 = np.asarray(plane.d1), np.asarray(plane.d2)
    verts = np.array([[0.0, 0.0], [2.0, 0.0], [2.5, 1.0], [0.5, 1.5]])
    x, y = verts.T
    area = 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    res = fields.polygon_integral(field, plane, verts, 8)
    assert res.value == pytest.approx(area * (d2 @ M @ d1 - d1 @ M @ d2), abs=1e-12)
    assert res.cumulative.shape == (5,)


def test_surface_integral_independent_of_orientation_sign_convention():
    g, plane = tn.sg_field(tn.FIVE_WEIGHT, 2.0, 5.0), tn.paper_plane()
    cw, _ = fields.surface_integral(g, plane, 1.0, 12, 48, "clockwise")
    ccw, _ = fields.surface_integral(g, plane, 1.0, 12, 48, "counterclockwise")
    assert cw == pytest.approx(-ccw, abs=1e-14) and abs(cw) > 1e-3


def test_bad_input():
    P = tn.paper_plane()
    f = tn.sg_field(tn.FIVE_WEIGHT, 3.0, 1.0)
    with pytest.raises(ValueError, match="orthonormal"):
        fields.Plane(np.zeros(3), [1.0, 0, 0], [1.0, 1.0, 0])
    with pytest.raises(ValueError, match="orthonormal"):
        fields.Plane(np.zeros(3), [2.0, 0, 0], [0, 1.0, 0])
    with pytest.raises(ValueError, match="parallel"):
        fields.Plane.from_directions(np.zeros(3), [1.0, 0, 0], [2.0, 0, 0])
    with pytest.raises(ValueError, match="length"):
        fields.Plane(np.zeros(3), [1.0, 0], [0, 1.0])
    for r in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="radius"):
            fields.loop_integral(f, P, r, 64)
    for n in (4, 7, 0):
        with pytest.raises(ValueError, match="n_points"):
            fields.loop_integral(f, P, 1.0, n)
    with pytest.raises(ValueError, match="orientation"):
        fields.loop_integral(f, P, 1.0, 64, "left")
    with pytest.raises(ValueError, match="vertices"):
        fields.polygon_integral(f, P, [[0, 0], [1, 0]])
    with pytest.raises(ValueError, match="odd"):
        fields.cumulative_integral(np.arange(6.0), np.arange(6.0))
    with pytest.raises(ValueError, match="uniformly"):
        fields.cumulative_integral(np.array([0, 1, 3, 4, 5.0]), np.ones(5))
