"""Is a vector field on parameter space a gradient? Loop integrals, curl and Stokes.

Field-agnostic: a *field* is any JAX-traceable callable g: theta (n,) -> (n,) (a surrogate
gradient, an exact gradient, an estimator's mean). g is conservative (a gradient of some
scalar) iff its line integral around every closed loop vanishes, equivalently (smooth g)
iff its Jacobian J_ij = dg_i/dtheta_j is symmetric (Gygax & Zenke 2025, sec. 5).

Loops lie in the plane theta(a, b) = c + a d1 + b d2 (orthonormal d1, d2; :class:`Plane`).
The paper's circle runs clockwise from (a, b) = (0, r): a = r sin(phi), b = r cos(phi).
The loop integral int_0^{2 pi} g(theta(phi)) . theta'(phi) dphi is computed with the
periodic trapezoid rule, exponentially convergent for smooth (analytic) periodic
integrands; its error estimate is |I_N - I_{N/2}| (the N/2-point rule reuses every second
node), a conservative bound once the rule has converged.

Curl: A = (J - J^T) / 2 (``jax.jacfwd``). The planar curl is
    curl_ab = dg_b/da - dg_a/db = d2^T J d1 - d1^T J d2 = -2 d1^T A d2,
with g_a = d1 . g, g_b = d2 . g. Stokes: the counterclockwise loop integral equals the
integral of curl_ab over the disk; the paper's clockwise one equals minus it, i.e.
2 * int d1^T A d2. :func:`surface_integral` returns the value matching the orientation.

Example
-------
In float64 (``jax_enable_x64``, as in the test suite); float32 agrees to about 1e-7.

>>> import jax.numpy as jnp
>>> from analysis.fields._loops import Plane, loop_integral, plane_curl
>>> rot = lambda t: jnp.array([-t[1], t[0], 0.0])      # curl_ab = 2 in the (e1, e2) plane
>>> P = Plane((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
>>> res = loop_integral(rot, P, radius=1.0, n_points=16, orientation="counterclockwise")
>>> round(float(res.value), 10), float(plane_curl(rot, P))   # 2 * pi r^2
(6.2831853072, 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from analysis import _validate
from analysis.fields._numerics import compiled

ORIENTATIONS = ("clockwise", "counterclockwise")
_ORTHO_TOL = 1e-6
_MEM = _validate.DEFAULT_MAX_MEMORY_GIB


def points_bytes(n_points: int, dim: int) -> int:
    """Estimated memory (bytes) of evaluating a field at ``n_points`` points of dimension ``dim``:
    points, tangents, values and the vmapped work of the field, taken as ~8 arrays of
    (n_points, dim) float64 (a field whose work per point is O(dim), like an SG field)."""
    return 8 * 8 * int(n_points) * int(dim)


def jacobian_bytes(n_points: int, dim: int) -> int:
    """Estimated memory (bytes) of forward-mode Jacobians (dim x dim, dim tangents each doing
    O(dim) work) at ``n_points`` points: ~4 arrays of (n_points, dim, dim) float64."""
    return 8 * 4 * int(n_points) * int(dim) ** 2


def _check_field(field, plane=None):
    if not callable(field):
        raise TypeError(f"field must be a callable theta (n,) -> (n,), got {type(field).__name__}")
    if plane is not None and not isinstance(plane, Plane):
        raise TypeError(f"plane must be a Plane, got {type(plane).__name__}")


@dataclass(frozen=True)
class Plane:
    """Plane theta(a, b) = center + a d1 + b d2 with orthonormal d1, d2 (checked to 1e-6)."""

    center: tuple
    d1: tuple
    d2: tuple

    def __post_init__(self):
        c, d1, d2 = (
            _validate.float_vector(x, name)
            for x, name in ((self.center, "center"), (self.d1, "d1"), (self.d2, "d2"))
        )
        if not len(c) == len(d1) == len(d2) or len(c) < 2:
            raise ValueError(
                f"center, d1, d2 must have one equal length >= 2, got {len(c)}, {len(d1)}, {len(d2)}"
            )
        for name, v in (("center", c), ("d1", d1), ("d2", d2)):
            if not np.all(np.isfinite(v)):
                raise ValueError(f"{name} must be finite, got {v}")
        gram = np.array([[np.dot(d1, d1), np.dot(d1, d2)], [np.dot(d1, d2), np.dot(d2, d2)]])
        if np.abs(gram - np.eye(2)).max() > _ORTHO_TOL:
            raise ValueError(
                f"d1, d2 must be orthonormal (|d1|=|d2|=1, d1.d2=0 to {_ORTHO_TOL}); "
                f"got |d1|^2={gram[0, 0]:.6g}, |d2|^2={gram[1, 1]:.6g}, "
                f"d1.d2={gram[0, 1]:.3g}. Use Plane.from_directions to orthonormalise"
            )
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "d1", d1)
        object.__setattr__(self, "d2", d2)

    @classmethod
    def from_directions(cls, center, d1, d2) -> Plane:
        """Gram-Schmidt: d1 normalised, d2 made orthogonal to d1 and normalised."""
        d1, d2 = (np.asarray(_validate.float_vector(d, nm)) for d, nm in ((d1, "d1"), (d2, "d2")))
        if d1.shape != d2.shape:
            raise ValueError(f"d1 and d2 must have equal lengths, got {d1.size} and {d2.size}")
        if np.linalg.norm(d1) == 0:
            raise ValueError("d1 is the zero vector; it gives no direction")
        d1 = d1 / np.linalg.norm(d1)
        d2 = d2 - np.dot(d1, d2) * d1
        if np.linalg.norm(d2) < 1e-12:
            raise ValueError("d1 and d2 are parallel; they do not span a plane")
        return cls(center, d1, d2 / np.linalg.norm(d2))

    def point(self, a, b):
        """theta(a, b) for arrays a, b of one shape; result shape a.shape + (n,).

        NumPy in, NumPy out (no compilation); JAX arrays or tracers give JAX arrays.
        """
        xp = (
            np if isinstance(a, (np.ndarray, float, int)) and isinstance(b, (np.ndarray, float, int)) else jnp
        )
        c, d1, d2 = (xp.asarray(v) for v in (self.center, self.d1, self.d2))
        return c + xp.asarray(a)[..., None] * d1 + xp.asarray(b)[..., None] * d2


class LoopIntegral(NamedTuple):
    """Result of a closed-loop line integral (NumPy float64; the field runs in JAX's dtype).

    value: the loop integral; error: quadrature error estimate |I_N - I_{N/2}|;
    abs_path: int |g| ds along the loop (scale for relative checks); t: loop parameter
    (angle phi for a circle, 0..n_edges for a polygon), shape (M,); cumulative: int_0^t,
    shape (M,), last entry = value; cumulative_error: max |C_N - C_{N/2}| on shared nodes.
    """

    value: float
    error: float
    abs_path: float
    t: np.ndarray
    cumulative: np.ndarray
    cumulative_error: float


def _orientation(orientation: str) -> float:
    if not isinstance(orientation, str) or orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
    return 1.0 if orientation == "clockwise" else -1.0


def circle(
    plane: Plane, radius: float, n_points: int, orientation: str = "clockwise"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes phi_k = 2 pi k / N, points theta(phi_k) (N, n) and tangents dtheta/dphi (N, n).

    clockwise (paper): a = r sin phi, b = r cos phi; counterclockwise: a = r cos phi,
    b = r sin phi.
    """
    r = _validate.positive_scalar(radius, "radius")
    n = _validate.positive_int(n_points, "n_points")
    if n < 8 or n % 2:
        raise ValueError(f"n_points must be an even integer >= 8 (the error estimate halves it), got {n}")
    s = _orientation(orientation)
    phi = np.arange(n) * (2.0 * math.pi / n)
    a, b = (r * np.sin(phi), r * np.cos(phi)) if s > 0 else (r * np.cos(phi), r * np.sin(phi))
    da, db = (b, -a) if s > 0 else (-b, a)
    d1, d2 = np.asarray(plane.d1), np.asarray(plane.d2)
    return phi, plane.point(a, b), da[:, None] * d1 + db[:, None] * d2


def _eval(field: Callable, points) -> np.ndarray:
    return np.asarray(compiled("vmap", field, jax.vmap)(points))


def _curl_ab(field):
    def one(pt, d1, d2):
        J = jax.jacfwd(field)(pt)
        return d2 @ J @ d1 - d1 @ J @ d2

    return jax.vmap(one, in_axes=(0, None, None))


def _cumtrap(f, h):
    """Cumulative trapezoid of periodic samples f (N,) with step h: (N+1,), C_0 = 0."""
    f_closed = np.concatenate([f, f[:1]])
    return np.concatenate([[0.0], np.cumsum(0.5 * h * (f_closed[1:] + f_closed[:-1]))])


def loop_integral(
    field: Callable,
    plane: Plane,
    radius: float,
    n_points: int = 512,
    orientation: str = "clockwise",
    *,
    max_memory_gib: float = _MEM,
) -> LoopIntegral:
    """Line integral of ``field`` around the circle of ``radius`` in ``plane`` (see module doc).

    Refuses (ValueError with the estimate) when :func:`points_bytes` exceeds ``max_memory_gib``.
    """
    _check_field(field, plane)
    n = _validate.positive_int(n_points, "n_points")
    _validate.memory_guard(
        points_bytes(n, len(plane.center)),
        f"a loop integral with {n} points in {len(plane.center)} dimensions",
        max_memory_gib,
    )
    phi, pts, tan = circle(plane, radius, n_points, orientation)
    return circle_result(phi, _eval(field, pts), tan, radius)


def circle_result(phi: np.ndarray, g: np.ndarray, tan: np.ndarray, radius: float) -> LoopIntegral:
    """The :class:`LoopIntegral` from field values ``g`` (N, n) at the nodes of :func:`circle`
    (``phi`` (N,), tangents ``tan`` (N, n)): periodic trapezoid and its N/2-point check."""
    n_points = len(phi)
    g = np.asarray(g)
    f = np.sum(g * tan, axis=-1)
    h = 2.0 * math.pi / n_points
    cum, cum_half = _cumtrap(f, h), _cumtrap(f[::2], 2 * h)
    return LoopIntegral(
        value=cum[-1],
        error=abs(cum[-1] - cum_half[-1]),
        abs_path=h * float(radius) * np.sum(np.linalg.norm(g, axis=-1)),
        t=np.append(phi, 2.0 * math.pi),
        cumulative=cum,
        cumulative_error=np.max(np.abs(cum[::2] - cum_half)),
    )


def polygon_integral(
    field: Callable, plane: Plane, vertices: ArrayLike, n_per_edge: int = 32
) -> LoopIntegral:
    """Line integral around the closed polygon with (a, b) ``vertices`` (m, 2), in order.

    Each edge uses Gauss-Legendre with ``n_per_edge`` nodes; error estimate: difference to
    the rule with n_per_edge // 2 nodes. ``t`` and ``cumulative`` are given at the vertices
    (t = 0..m).
    """
    _check_field(field, plane)
    try:
        v = np.asarray(vertices, float)
    except (TypeError, ValueError):
        raise ValueError("vertices must be an (m, 2) array of numbers") from None
    if v.ndim != 2 or v.shape[1] != 2 or v.shape[0] < 3:
        raise ValueError(f"vertices must have shape (m, 2) with m >= 3, got {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError("vertices contain NaN or infinite values")
    n = _validate.positive_int(n_per_edge, "n_per_edge")
    if n < 4:
        raise ValueError(f"n_per_edge must be >= 4, got {n}")
    _validate.memory_guard(
        points_bytes(n * len(v), len(plane.center)),
        f"a polygon integral with {len(v)} edges x {n} nodes",
        _MEM,
    )
    edges = [_edge_integral(field, plane, v[i], v[(i + 1) % len(v)], n) for i in range(len(v))]
    vals, coarse, absp = (np.array(x) for x in zip(*edges, strict=True))
    cum = np.concatenate([[0.0], np.cumsum(vals)])
    cum_c = np.concatenate([[0.0], np.cumsum(coarse)])
    return LoopIntegral(
        cum[-1],
        abs(cum[-1] - cum_c[-1]),
        np.sum(absp),
        np.arange(len(v) + 1.0),
        cum,
        np.max(np.abs(cum - cum_c)),
    )


def _edge_integral(field, plane, p, q, n):
    out = []
    for m in (n, n // 2):
        x, w = np.polynomial.legendre.leggauss(m)
        t = 0.5 * (x + 1.0)
        pts = plane.point(p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
        g = _eval(field, pts)
        step = (q[0] - p[0]) * np.asarray(plane.d1) + (q[1] - p[1]) * np.asarray(plane.d2)
        out.append(
            (
                0.5 * np.sum(w * (g @ step)),
                0.5 * np.sum(w * np.linalg.norm(g, axis=-1)) * float(np.hypot(*(q - p))),
            )
        )
    return out[0][0], out[1][0], out[0][1]


def jacobian(field: Callable, theta: ArrayLike, *, max_memory_gib: float = _MEM) -> jax.Array:
    """J_ij = dg_i/dtheta_j at ``theta`` (n,), by forward-mode AD; shape (n, n).

    Refuses (ValueError with the estimate) when :func:`jacobian_bytes` exceeds ``max_memory_gib``.
    """
    _check_field(field)
    theta = jnp.asarray(theta)
    if theta.ndim != 1 or theta.size == 0:
        raise ValueError(f"theta must be a non-empty vector (n,), got shape {theta.shape}")
    if not jnp.issubdtype(theta.dtype, jnp.number) or jnp.issubdtype(theta.dtype, jnp.bool_):
        raise TypeError(f"theta must hold numbers, got dtype {theta.dtype}")
    _validate.finite(theta, "theta")
    _validate.memory_guard(
        jacobian_bytes(1, theta.size), f"a {theta.size} x {theta.size} Jacobian", max_memory_gib
    )
    theta = theta.astype(jnp.result_type(theta.dtype, float))
    return compiled("jacfwd", field, jax.jacfwd)(theta)


def curl(field: Callable, theta: ArrayLike, *, max_memory_gib: float = _MEM) -> jax.Array:
    """Antisymmetric part A = (J - J^T) / 2 of the field's Jacobian; shape (n, n)."""
    J = jacobian(field, theta, max_memory_gib=max_memory_gib)
    return 0.5 * (J - J.T)


def curl_norm(field: Callable, theta: ArrayLike, *, max_memory_gib: float = _MEM) -> jax.Array:
    """Frobenius norm ||A||_F of the curl at ``theta`` (0 iff J is symmetric)."""
    return jnp.linalg.norm(curl(field, theta, max_memory_gib=max_memory_gib))


def jacobian_asymmetry(
    field: Callable, theta: ArrayLike, *, max_memory_gib: float = _MEM
) -> tuple[jax.Array, jax.Array]:
    """(max|J - J^T|, max|J|) at ``theta``: absolute asymmetry and the Jacobian's scale."""
    J = jacobian(field, theta, max_memory_gib=max_memory_gib)
    return jnp.max(jnp.abs(J - J.T)), jnp.max(jnp.abs(J))


def plane_curl(
    field: Callable,
    plane: Plane,
    a: ArrayLike = 0.0,
    b: ArrayLike = 0.0,
    *,
    max_memory_gib: float = _MEM,
) -> np.ndarray:
    """Planar curl dg_b/da - dg_a/db = -2 d1^T A d2 at theta(a, b); arrays a, b broadcast.

    Refuses (ValueError with the estimate) when :func:`jacobian_bytes` exceeds ``max_memory_gib``.
    """
    _check_field(field, plane)
    try:
        a, b = np.asarray(a, float), np.asarray(b, float)
    except (TypeError, ValueError):
        raise TypeError("a and b must be numbers or arrays of numbers") from None
    m, dim = int(np.broadcast(a, b).size), len(plane.center)
    _validate.memory_guard(
        jacobian_bytes(m, dim), f"planar curls at {m} points in {dim} dimensions", max_memory_gib
    )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("a and b must be finite")
    pts = plane.point(a, b)
    flat = pts.reshape(-1, pts.shape[-1])
    fn = compiled("curl_ab", field, _curl_ab)
    return np.asarray(fn(flat, np.asarray(plane.d1), np.asarray(plane.d2))).reshape(pts.shape[:-1])


def surface_integral(
    field: Callable,
    plane: Plane,
    radius: float,
    n_radial: int = 16,
    n_angular: int = 64,
    orientation: str = "clockwise",
    *,
    max_memory_gib: float = _MEM,
) -> tuple[float, float]:
    """(value, error) of the disk integral of curl_ab, signed to equal the oriented loop integral.

    Polar coordinates: Gauss-Legendre in rho (n_radial) x periodic trapezoid in phi
    (n_angular); error estimate = difference to the rule with both counts halved. Refuses
    (ValueError with the estimate) when the Jacobians at all nodes exceed ``max_memory_gib``.
    """
    _check_field(field, plane)
    r = _validate.positive_scalar(radius, "radius")
    s = _orientation(orientation)
    nr0, na0 = _validate.positive_int(n_radial, "n_radial"), _validate.positive_int(n_angular, "n_angular")
    m, dim = nr0 * na0 + max(nr0 // 2, 1) * max(na0 // 2, 2), len(plane.center)
    _validate.memory_guard(
        jacobian_bytes(m, dim), f"a surface integral with {m} nodes in {dim} dimensions", max_memory_gib
    )
    rules = []
    for nr, na in ((n_radial, n_angular), (max(n_radial // 2, 1), max(n_angular // 2, 2))):
        x, w = np.polynomial.legendre.leggauss(_validate.positive_int(nr, "n_radial"))
        rho = 0.5 * r * (x + 1.0)
        phi = np.arange(_validate.positive_int(na, "n_angular")) * 2.0 * np.pi / na
        R, PHI = np.meshgrid(rho, phi, indexing="ij")
        rules.append((w, rho, na, R * np.cos(PHI), R * np.sin(PHI)))
    # one evaluation (one compilation) for the points of both rules
    c_all = plane_curl(
        field,
        plane,
        np.concatenate([q[3].ravel() for q in rules]),
        np.concatenate([q[4].ravel() for q in rules]),
        max_memory_gib=max_memory_gib,
    )
    vals, start = [], 0
    for w, rho, na, A, _ in rules:
        c = c_all[start : start + A.size].reshape(A.shape)
        start += A.size
        vals.append(-s * 0.5 * r * np.sum(w * rho * np.sum(c, axis=1) * (2.0 * np.pi / na)))
    return float(vals[0]), float(abs(vals[0] - vals[1]))


def shrinking_loops(
    field: Callable, plane: Plane, radii: ArrayLike, n_points: int = 64, orientation: str = "counterclockwise"
) -> tuple[np.ndarray, np.ndarray]:
    """Loop integral / (pi r^2) for each radius (array like ``radii``), and its error bounds."""
    out = [loop_integral(field, plane, r, n_points, orientation) for r in np.ravel(radii)]
    area = np.pi * np.ravel(radii) ** 2
    return (np.array([float(o.value) for o in out]) / area, np.array([float(o.error) for o in out]) / area)
