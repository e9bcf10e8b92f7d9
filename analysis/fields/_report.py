"""One closed-loop experiment as a result object: what ``sgtheory loop`` prints and writes.

:func:`loop_report` takes a layout (the paper's five-weight network by default, a
:class:`~analysis.fields.Layout`, or a JSON layout spec), the loop plane (centre and
directions, with the defaults of Gygax & Zenke 2025 sec. 5 for the five-weight net and
random orthonormal directions otherwise), and returns a :class:`LoopReport`: the loop
integral of the SG field with its quadrature error, int |g| ds, the curl norm and the
planar curl at the centre. Every input is validated and the memory is estimated before
anything is computed.

Example
-------
>>> from analysis.fields import loop_report
>>> r = loop_report(points=512, beta=3.0, beta_sg=3.0)   # exact gradient field: conservative
>>> bool(abs(r.integral.value) < 1e-5), r.layout.name  # float32 or float64
(True, 'five_weight')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis import _validate
from analysis.fields import _loops as lp
from analysis.fields import _toy as tn


@dataclass(frozen=True, eq=False)
class LoopReport:
    """Result of :func:`loop_report` (``integral`` is the :class:`LoopIntegral`)."""

    layout: tn.Layout
    plane: lp.Plane
    radius: float
    points: int
    beta: float
    beta_sg: float
    orientation: str
    integral: lp.LoopIntegral
    curl_norm_center: float
    plane_curl_center: float

    def lines(self) -> list[str]:
        res = self.integral
        return [
            f"network {self.layout.name} sizes={list(self.layout.sizes)}  beta={self.beta:g}  "
            f"beta_SG={self.beta_sg:g}",
            f"loop integral      {res.value:+.10e}  ({self.orientation}, r={self.radius:g}, N={self.points})",
            f"quadrature error   {res.error:.3e}   (|I_N - I_N/2|)",
            f"relative to |g|ds  {abs(res.value) / res.abs_path:.3e}"
            if res.abs_path > 0
            else "relative to |g|ds  undefined (the field vanishes on the loop)",
            f"curl norm centre   {self.curl_norm_center:.6e}   (||(J - J^T)/2||_F)",
            f"planar curl centre {self.plane_curl_center:+.6e}   (dg_b/da - dg_a/db)",
        ]

    def to_dict(self) -> dict:
        res = self.integral
        return {
            "layout": self.layout,
            "plane": self.plane,
            "radius": self.radius,
            "points": self.points,
            "beta": self.beta,
            "beta_sg": self.beta_sg,
            "orientation": self.orientation,
            "loop_integral": res.value,
            "quad_error": res.error,
            "abs_path": res.abs_path,
            "curl_norm_center": self.curl_norm_center,
            "plane_curl_center": self.plane_curl_center,
            "angle": res.t,
            "cumulative": res.cumulative,
            "cumulative_error": res.cumulative_error,
        }


def _layout(layout):
    if layout is None:
        return tn.FIVE_WEIGHT, {}
    if isinstance(layout, tn.Layout):
        return layout, {}
    if isinstance(layout, dict):
        return tn.layout_from_spec(layout), layout
    if isinstance(layout, (str, Path)):
        return tn.load_layout(layout)
    raise TypeError(f"layout must be None, a Layout, a spec dict or a JSON path, got {type(layout).__name__}")


def _direction(v, name, n):
    d = np.asarray(_validate.float_vector(v, name, n))
    norm = np.linalg.norm(d)
    if norm == 0:
        raise ValueError(f"{name} is the zero vector; it gives no direction")
    return d / norm


def _plane(layout, spec, center, d1, d2, seed):
    n = layout.n_params
    center = spec.get("center") if center is None else center
    c = (0.0,) * n if center is None else _validate.float_vector(center, "center", n)
    d1 = spec.get("d1") if d1 is None else d1
    d2 = spec.get("d2") if d2 is None else d2
    if layout == tn.FIVE_WEIGHT:
        d1 = tn.PAPER_D1 if d1 is None else d1
        d2 = tn.PAPER_D2 if d2 is None else d2
    if d1 is None or d2 is None:  # random orthonormal directions (completing a given one)
        q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, 2)))
        u1 = q[:, 0] if d1 is None else _direction(d1, "d1", n)
        u2 = q[:, 1] if d2 is None else _direction(d2, "d2", n)
        if d1 is None and d2 is not None:
            p = lp.Plane.from_directions(c, u2, u1)  # keep the given d2, orthogonalise d1
            return lp.Plane(c, p.d2, p.d1)
        return lp.Plane.from_directions(c, u1, u2)
    return lp.Plane(c, _direction(d1, "d1", n), _direction(d2, "d2", n))


def _potential_bound(layout, plane, radius) -> None:
    """Refuse loops on which a unit's input could overflow float64 (giving inf - inf = NaN or
    a wrong saturated value): |z| <= n_in * max|input| * max|theta| with max|theta| <=
    max|centre| + radius, activations of hidden layers in [0, 1]."""
    w = max(abs(v) for v in plane.center) + radius
    with np.errstate(over="ignore"):
        ins = [max(abs(v) for v in layout.x)] + [1.0] * (len(layout.sizes) - 2)
        bound = max(n * a * w for n, a in zip(layout.sizes[:-1], ins, strict=True))
    if not bound <= 1e300:
        raise ValueError(
            f"unit inputs can reach {bound:.3g} on this loop, where float64 overflows; use a smaller "
            "input x, centre or radius"
        )


def _loop_options(seed, radius, points, orientation) -> tuple[int, float, int]:
    """Validated (seed, radius, points); ``orientation`` is checked too."""
    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    radius = _validate.positive_scalar(radius, "radius")
    points = _validate.integer(points, "points", 8, 2**62)
    if points % 2:
        raise ValueError(f"points must be an even integer >= 8 (the error estimate halves it), got {points}")
    lp._orientation(orientation)
    return seed, radius, points


def _memory_guard(layout, points, max_memory_gib) -> None:
    """Refuse (ValueError with the estimate) loops whose points and centre Jacobian exceed the limit."""
    n = layout.n_params
    _validate.memory_guard(
        lp.points_bytes(points, n) + 2 * lp.jacobian_bytes(1, n),
        f"the loop of {points} points and the Jacobian at the centre for {n} parameters "
        f"(layout sizes {list(layout.sizes)})",
        max_memory_gib,
    )


def _measure(field, plane, radius, points, orientation, max_memory_gib):
    """(loop integral, curl norm at the centre, planar curl at the centre); ValueError if not finite."""
    mem = dict(max_memory_gib=max_memory_gib)
    res = lp.loop_integral(field, plane, radius, points, orientation, **mem)
    curl_n = float(lp.curl_norm(field, np.asarray(plane.center), **mem))
    pc = float(lp.plane_curl(field, plane, **mem))
    if not all(math.isfinite(v) for v in (res.value, res.error, res.abs_path, curl_n, pc)):
        raise ValueError(
            "the loop integral or the curl is not finite (the field overflows on this loop): "
            "use a smaller radius, centre, input x, beta or beta_SG"
        )
    return res, curl_n, pc


def loop_report(
    layout=None,
    *,
    center=None,
    d1=None,
    d2=None,
    radius: float = 1.8,
    points: int = 20000,
    beta: float = 10000.0,
    beta_sg: float = 5.0,
    orientation: str = "clockwise",
    seed: int = 0,
    max_memory_gib: float = _validate.DEFAULT_MAX_MEMORY_GIB,
) -> LoopReport:
    """Loop integral, its quadrature error and the curl at the centre of an SG field.

    layout : None (the paper's five-weight net), a Layout, a layout spec dict or a path to a
        JSON layout spec (``{"sizes", "x"}``, optional ``"name"``, ``"center"``, ``"d1"``,
        ``"d2"``; other keys are refused).
    center, d1, d2 : sequences of n_params numbers or comma/space separated strings; they
        override the spec's. Defaults: centre 0; for the five-weight net the paper's
        directions, otherwise random orthonormal ones from ``seed`` (a missing second
        direction completes the given one). Directions are normalised; they must be
        orthogonal (to 1e-6).
    radius > 0, points (even, >= 8), beta in (0, inf] (inf: Heaviside), beta_sg > 0,
    orientation "clockwise" (the paper's) or "counterclockwise", seed in [0, 2^32).
    max_memory_gib : limit of the memory estimate (loop points and the Jacobian at the centre).

    Raises ValueError (or TypeError, FileNotFoundError) before computing for any bad input,
    and ValueError if the result is not finite (overflow of the field) instead of reporting NaN.
    """
    lay, spec = _layout(layout)
    seed, radius, points = _loop_options(seed, radius, points, orientation)
    field = tn.sg_field(lay, beta, beta_sg)  # validates beta, beta_sg
    _memory_guard(lay, points, max_memory_gib)
    plane = _plane(lay, spec, center, d1, d2, seed)
    _potential_bound(lay, plane, radius)
    res, curl_n, pc = _measure(field, plane, radius, points, orientation, max_memory_gib)
    b, bsg = field.keywords["beta"], field.keywords["beta_sg"]  # type: ignore[attr-defined]  # a partial
    return LoopReport(lay, plane, radius, points, b, bsg, orientation, res, curl_n, pc)
