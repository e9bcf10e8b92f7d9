"""Hostile inputs for ``sgtheory loop`` and the public API of analysis.fields: each bad
input gets one clear line (command line: exit 2, no traceback) or exception before anything
is computed; extreme but legal inputs give finite values checked against a reference.

Tables: LOOP_SPECS (a layout spec file with one defect), LOOP_ARGS (bad options or paths),
API_ERRORS (library calls), and the extreme-but-legal checks at the end.
"""

from __future__ import annotations

import json
import math

import jax.numpy as jnp
import numpy as np
import pytest

from analysis import fields
from analysis.fields import (
    FIVE_WEIGHT,
    Layout,
    Plane,
    cumulative_integral,
    descend,
    load_layout,
    loop_integral,
    loop_report,
    paper_plane,
    plane_curl,
    polygon_integral,
    sg_field,
    surface_integral,
)
from analysis.fields._loops import curl_norm, jacobian
from analysis.fields._numerics import fit_order, on_grid
from analysis.fields._reference import five_weight_sg_np
from analysis.fields._toy import layout_from_spec, sg_sigmoid, unflatten
from proofs_numeric.cli import main
from tests.helpers import assert_one_line_error, run_cli

NAN, INF = float("nan"), float("inf")
SMALL = {"sizes": [2, 2, 1], "x": [1.0, -0.5]}  # 6 parameters


def small(**changes):
    return {**SMALL, **changes}


# (id, layout spec (dict, or raw text), regex of the one-line error)
LOOP_SPECS = [
    # NaN / inf
    ("x-nan", small(x=[NAN, 1.0]), r"x contains NaN or infinite values"),
    ("x-inf", small(x=[INF, 1.0]), r"x contains NaN or infinite values"),
    ("center-nan", small(center=[NAN] + [0.0] * 5), r"'center': center contains NaN"),
    ("d1-inf", small(d1=[INF] + [0.0] * 5), r"'d1': d1 contains NaN or infinite"),
    # typo keys
    (
        "typo-D1",
        small(D1=[1, 0, 0, 0, 0, 0]),
        r"unknown key\(s\) \['D1'\] in the layout spec; valid keys: sizes, x",
    ),
    ("typo-d_1", small(d_1=[1, 0, 0, 0, 0, 0]), r"\['d_1'\]"),
    ("typo-centre", small(centre=[0] * 6), r"\['centre'\].*center"),
    ("typo-sizes", {"size": [2, 2, 1], "x": [1.0, -0.5]}, r"\['size'\]"),
    # missing / wrong types
    ("no-sizes", {"x": [1.0]}, r"has no 'sizes'"),
    ("no-x", {"sizes": [1, 1]}, r"has no 'x'"),
    ("sizes-float", small(sizes=[2, 2.5, 1]), r"'sizes' must be a list of positive integers"),
    ("sizes-string", small(sizes="2,2,1"), r"'sizes' must be a list of positive integers"),
    ("sizes-bool", small(sizes=[2, True, 1]), r"'sizes' must be a list of positive integers"),
    ("x-strings", small(x=["a", 1.0]), r"x must contain numbers only"),
    ("x-bool", small(x=[True, 1.0]), r"x must contain numbers only"),
    ("x-nested", small(x=[[1.0, 2.0]]), r"x must be a flat list"),
    ("x-number", small(x=1.0), r"x must be a list of numbers"),
    ("name-int", small(name=5), r"'name' must be a string"),
    ("center-string-list", small(center=["0"] * 6), r"center must contain numbers only"),
    # sizes / lengths / memory
    ("sizes-zero", small(sizes=[2, 0, 1]), r"sizes entry must be a positive integer, got 0"),
    ("sizes-negative", small(sizes=[2, -1, 1]), r"sizes entry must be a positive integer, got -1"),
    ("sizes-one", {"sizes": [2], "x": [1.0, 2.0]}, r"at least input and output sizes"),
    ("sizes-empty", {"sizes": [], "x": []}, r"x is empty"),
    ("x-length", small(x=[1.0]), r"x has 1 entries but sizes\[0\] = 2"),
    ("center-length", small(center=[0.0] * 5), r"'center': center has 5 entries; it must have 6"),
    ("d2-empty", small(d2=[]), r"'d2': d2 is empty"),
    ("d1-zero", small(d1=[0.0] * 6), r"d1 is the zero vector"),
    ("d1-parallel-d2", small(d1=[1, 0, 0, 0, 0, 0], d2=[2, 0, 0, 0, 0, 0]), r"orthonormal"),
    (
        "huge-layout",
        {"sizes": [2, 3000, 3000, 1], "x": [1.0, 1.0]},
        r"9009000 parameters .* GiB.*--max-memory-gib",
    ),
    # malformed files
    ("top-level-list", "[1, 2]", r"must be a JSON object \(dict\), got list"),
    ("malformed", '{"sizes": [1, 1], ', r"is not valid JSON"),
    ("empty", "", r"is not valid JSON"),
    ("not-utf8", b"\xff\xfe{", r"not a UTF-8 text file"),
]


@pytest.mark.parametrize("spec, pattern", [c[1:] for c in LOOP_SPECS], ids=[c[0] for c in LOOP_SPECS])
def test_loop_rejects_bad_layout_spec(tmp_path, capsys, spec, pattern):
    path = tmp_path / "net.json"
    if isinstance(spec, bytes):
        path.write_bytes(spec)
    else:
        path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
    out_json = tmp_path / "out.json"
    rc, out, err = run_cli(capsys, ["loop", "--spec", path, "--points", "64", "--json", out_json])
    assert_one_line_error(rc, out, err, pattern)
    assert not out_json.exists()


def _folder(t):
    (t / "d").mkdir()
    return t / "d"


def _file(t):
    (t / "f").write_text("x")
    return t / "f"


# (id, argv after "loop" given tmp_path, regex, argparse error?)
LOOP_ARGS = [
    (
        "spec-missing",
        lambda t: ["--spec", t / "nope.json"],
        r"layout spec .*nope\.json does not exist",
        False,
    ),
    ("spec-folder", lambda t: ["--spec", _folder(t)], r"layout spec .* is a folder", False),
    ("spec-empty-path", lambda t: ["--spec", ""], r"layout spec must be a file path", False),
    ("points-huge", lambda t: ["--points", "1000000000"], r"1000000000 points .* 298 GiB", False),
    ("points-odd", lambda t: ["--points", "7"], r"points must lie in \[8, ", False),
    ("points-odd-big", lambda t: ["--points", "65"], r"points must be an even integer", False),
    ("points-zero", lambda t: ["--points", "0"], r"points must lie in \[8, ", False),
    ("points-negative", lambda t: ["--points", "-2"], r"points must lie in \[8, ", False),
    ("points-text", lambda t: ["--points", "many"], r"invalid int value", True),
    ("radius-zero", lambda t: ["--radius", "0"], r"radius must be a finite number > 0", False),
    ("radius-negative", lambda t: ["--radius", "-1"], r"radius must be a finite number > 0", False),
    ("radius-nan", lambda t: ["--radius", "nan"], r"radius must be a finite number > 0", False),
    ("radius-inf", lambda t: ["--radius", "inf"], r"radius must be a finite number > 0", False),
    ("beta-nan", lambda t: ["--beta", "nan"], r"beta must be > 0", False),
    ("beta-zero", lambda t: ["--beta", "0"], r"beta must be > 0", False),
    ("beta-negative", lambda t: ["--beta", "-3"], r"beta must be > 0", False),
    ("beta-sg-inf", lambda t: ["--beta-sg", "inf"], r"beta_sg must be a finite number > 0", False),
    ("beta-sg-zero", lambda t: ["--beta-sg", "0"], r"beta_sg must be a finite number > 0", False),
    ("beta-sg-nan", lambda t: ["--beta-sg", "nan"], r"beta_sg must be a finite number > 0", False),
    ("center-empty", lambda t: ["--center", ""], r"center is empty; give 5 number\(s\)", False),
    (
        "center-text",
        lambda t: ["--center", "a,b,c,d,e"],
        r"center must be numbers separated by commas",
        False,
    ),
    ("center-short", lambda t: ["--center", "1,2"], r"center has 2 entries; it must have 5", False),
    ("center-nan", lambda t: ["--center", "nan,0,0,0,0"], r"center contains NaN or infinite", False),
    ("d1-zero", lambda t: ["--d1", "0,0,0,0,0"], r"d1 is the zero vector", False),
    ("d1-negative-zero", lambda t: ["--d1", "-0,0,0,0,0"], r"d1 is the zero vector", False),
    ("d1-not-orthogonal", lambda t: ["--d1", "1,0,0,0,0", "--d2", "1,1,0,0,0"], r"orthonormal", False),
    ("d2-long", lambda t: ["--d2", "-1,0,0,0,0,0"], r"d2 has 6 entries; it must have 5", False),
    (
        "seed-negative",
        lambda t: ["--spec", _small(t), "--seed", "-1"],
        r"seed must lie in \[0, 4294967295\]",
        False,
    ),
    (
        "max-mem-zero",
        lambda t: ["--max-memory-gib", "0"],
        r"max_memory_gib must be a finite number > 0",
        False,
    ),
    (
        "max-mem-negative",
        lambda t: ["--max-memory-gib", "-4"],
        r"max_memory_gib must be a finite number > 0",
        False,
    ),
    (
        "max-mem-tiny",
        lambda t: ["--max-memory-gib", "1e-6"],
        r"above the limit max_memory_gib = 1e-06",
        False,
    ),
    ("json-folder", lambda t: ["--json", _folder(t)], r"--json: .* is a folder", False),
    ("json-under-file", lambda t: ["--json", _file(t) / "out.json"], r"--json: ", False),
    ("json-empty", lambda t: ["--json", ""], r"--json: empty path", False),
    ("orientation", lambda t: ["--orientation", "left"], r"invalid choice: 'left'", True),
    ("unknown-option", lambda t: ["--radios", "1"], r"unrecognized arguments", True),
]


def _small(t):
    p = t / "small.json"
    p.write_text(json.dumps(SMALL))
    return p


@pytest.mark.parametrize(
    "make, pattern, argparse_error", [c[1:] for c in LOOP_ARGS], ids=[c[0] for c in LOOP_ARGS]
)
def test_loop_rejects_bad_arguments(tmp_path, capsys, make, pattern, argparse_error):
    rc, out, err = run_cli(capsys, ["loop", *make(tmp_path)])
    assert_one_line_error(rc, out, err, pattern, argparse_error)


def _identity(t):
    return t


PLANE3 = Plane((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0))


def _rot(t):
    return jnp.array([-t[1], t[0], 0.0])


# (id, thunk, exception type, regex)
API_ERRORS = [
    # Layout / specs
    ("layout-sizes-short", lambda: Layout((2,), (1.0, 1.0)), ValueError, r"at least input and output"),
    (
        "layout-sizes-zero",
        lambda: Layout((1, 0, 1), (1.0,)),
        ValueError,
        r"sizes entry must be a positive integer",
    ),
    ("layout-sizes-float", lambda: Layout((1, 1.5), (1.0,)), ValueError, r"got 1.5"),
    ("layout-sizes-type", lambda: Layout(3, (1.0,)), TypeError, r"sizes must be a list"),
    ("layout-x-nan", lambda: Layout((1, 1), (NAN,)), ValueError, r"x contains NaN"),
    ("layout-x-len", lambda: Layout((2, 1), (1.0,)), ValueError, r"x has 1 entries but sizes\[0\] = 2"),
    ("layout-x-str", lambda: Layout((1, 1), "abc"), ValueError, r"x must be numbers separated"),
    ("layout-name", lambda: Layout((1, 1), (1.0,), name=None), TypeError, r"name must be a str"),
    ("spec-list", lambda: layout_from_spec([1, 2]), ValueError, r"must be a JSON object"),
    ("spec-typo", lambda: layout_from_spec(small(dd1=[0] * 6)), ValueError, r"unknown key\(s\) \['dd1'\]"),
    (
        "spec-d1-len",
        lambda: layout_from_spec(small(d1=[1.0])),
        ValueError,
        r"d1 has 1 entries; it must have 6",
    ),
    ("load-missing", lambda: load_layout("/nonexistent/net.json"), FileNotFoundError, r"does not exist"),
    ("load-type", lambda: load_layout(None), TypeError, r"layout spec must be a file path"),
    # fields and betas
    ("sg-field-layout", lambda: sg_field("five", 1.0, 1.0), TypeError, r"layout must be a Layout"),
    ("sg-field-beta-nan", lambda: sg_field(FIVE_WEIGHT, NAN, 1.0), ValueError, r"beta must be > 0"),
    ("sg-field-beta-str", lambda: sg_field(FIVE_WEIGHT, "10", 1.0), TypeError, r"beta must be a number"),
    ("sg-field-beta-bool", lambda: sg_field(FIVE_WEIGHT, True, 1.0), TypeError, r"beta must be a number"),
    ("sg-field-bsg-inf", lambda: sg_field(FIVE_WEIGHT, 1.0, INF), ValueError, r"beta_sg must be a finite"),
    ("sg-field-bsg-neg", lambda: sg_field(FIVE_WEIGHT, 1.0, -1.0), ValueError, r"beta_sg must be a finite"),
    ("exact-field-inf", lambda: fields.exact_field(FIVE_WEIGHT, INF), ValueError, r"beta must be finite"),
    ("sg-sigmoid-bsg", lambda: sg_sigmoid(jnp.zeros(2), 1.0, 0.0), ValueError, r"beta_sg"),
    (
        "unflatten-shape",
        lambda: unflatten(FIVE_WEIGHT, jnp.zeros(4)),
        ValueError,
        r"theta must have shape \(5,\)",
    ),
    # Plane
    (
        "plane-lengths",
        lambda: Plane((0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
        ValueError,
        r"one equal length",
    ),
    ("plane-1d", lambda: Plane((0.0,), (1.0,), (1.0,)), ValueError, r"one equal length >= 2"),
    (
        "plane-center-nan",
        lambda: Plane((NAN, 0.0), (1.0, 0.0), (0.0, 1.0)),
        ValueError,
        r"center contains NaN",
    ),
    ("plane-not-ortho", lambda: Plane((0.0, 0.0), (1.0, 0.0), (1.0, 0.0)), ValueError, r"orthonormal"),
    (
        "plane-strings",
        lambda: Plane(("a", 0.0), (1.0, 0.0), (0.0, 1.0)),
        TypeError,
        r"center must contain numbers",
    ),
    ("plane-empty", lambda: Plane((), (), ()), ValueError, r"center is empty"),
    (
        "from-dirs-zero",
        lambda: Plane.from_directions((0.0, 0.0), (0.0, 0.0), (0.0, 1.0)),
        ValueError,
        r"zero vector",
    ),
    (
        "from-dirs-parallel",
        lambda: Plane.from_directions((0.0, 0.0), (1.0, 0.0), (2.0, 0.0)),
        ValueError,
        r"parallel",
    ),
    # loop / polygon / surface integrals
    ("loop-field", lambda: loop_integral("g", PLANE3, 1.0, 64), TypeError, r"field must be a callable"),
    ("loop-plane", lambda: loop_integral(_rot, (0, 0, 0), 1.0, 64), TypeError, r"plane must be a Plane"),
    ("loop-radius-nan", lambda: loop_integral(_rot, PLANE3, NAN, 64), ValueError, r"radius must be a finite"),
    ("loop-points-odd", lambda: loop_integral(_rot, PLANE3, 1.0, 9), ValueError, r"even integer >= 8"),
    (
        "loop-points-float",
        lambda: loop_integral(_rot, PLANE3, 1.0, 64.5),
        ValueError,
        r"n_points must be a positive",
    ),
    (
        "loop-points-huge",
        lambda: loop_integral(_rot, PLANE3, 1.0, 10**10),
        ValueError,
        r"10000000000 points in 3 dim.*GiB",
    ),
    (
        "loop-orientation",
        lambda: loop_integral(_rot, PLANE3, 1.0, 64, "left"),
        ValueError,
        r"orientation must be one of",
    ),
    ("loop-orientation-type", lambda: loop_integral(_rot, PLANE3, 1.0, 64, None), ValueError, r"orientation"),
    ("poly-two", lambda: polygon_integral(_rot, PLANE3, [[0, 0], [1, 0]]), ValueError, r"m >= 3"),
    ("poly-nan", lambda: polygon_integral(_rot, PLANE3, [[0, 0], [1, NAN], [0, 1]]), ValueError, r"NaN"),
    (
        "poly-text",
        lambda: polygon_integral(_rot, PLANE3, [["a", 0], [1, 0], [0, 1]]),
        ValueError,
        r"array of numbers",
    ),
    (
        "poly-nodes",
        lambda: polygon_integral(_rot, PLANE3, [[0, 0], [1, 0], [0, 1]], 2),
        ValueError,
        r"n_per_edge",
    ),
    (
        "surf-radial-zero",
        lambda: surface_integral(_rot, PLANE3, 1.0, 0),
        ValueError,
        r"n_radial must be a positive",
    ),
    (
        "surf-huge",
        lambda: surface_integral(_rot, PLANE3, 1.0, 10**5, 10**5),
        ValueError,
        r"surface integral .* GiB",
    ),
    ("surf-radius", lambda: surface_integral(_rot, PLANE3, -1.0), ValueError, r"radius must be a finite"),
    # Jacobians / curls
    (
        "jac-2d",
        lambda: jacobian(_identity, jnp.zeros((2, 2))),
        ValueError,
        r"theta must be a non-empty vector",
    ),
    ("jac-empty", lambda: jacobian(_identity, jnp.zeros(0)), ValueError, r"non-empty vector"),
    ("jac-nan", lambda: jacobian(_identity, jnp.array([0.0, NAN])), ValueError, r"theta contains NaN"),
    (
        "jac-bool",
        lambda: jacobian(_identity, jnp.array([True, False])),
        TypeError,
        r"theta must hold numbers",
    ),
    (
        "jac-huge",
        lambda: curl_norm(_identity, jnp.zeros(100_000)),
        ValueError,
        r"100000 x 100000 Jacobian .* GiB",
    ),
    ("plane-curl-nan", lambda: plane_curl(_rot, PLANE3, NAN, 0.0), ValueError, r"a and b must be finite"),
    ("plane-curl-huge", lambda: plane_curl(_rot, PLANE3, np.zeros(10**9), 0.0), ValueError, r"GiB"),
    # loop_report
    ("report-layout-type", lambda: loop_report(42), TypeError, r"layout must be None, a Layout"),
    ("report-points-bool", lambda: loop_report(points=True), TypeError, r"points must be an integer"),
    ("report-points-float", lambda: loop_report(points=64.0), TypeError, r"points must be an integer"),
    ("report-seed", lambda: loop_report(SMALL, seed=2**33), ValueError, r"seed must lie in"),
    ("report-orientation", lambda: loop_report(orientation="cw"), ValueError, r"orientation must be one of"),
    (
        "report-center-len",
        lambda: loop_report(center=[0.0] * 4),
        ValueError,
        r"center has 4 entries; it must have 5",
    ),
    ("report-d1-nan", lambda: loop_report(d1=[NAN] * 5), ValueError, r"d1 contains NaN"),
    ("report-d2-type", lambda: loop_report(d2=5), TypeError, r"d2 must be a list of numbers"),
    ("report-memory", lambda: loop_report(points=64, max_memory_gib=1e-9), ValueError, r"above the limit"),
    ("report-max-mem-nan", lambda: loop_report(points=64, max_memory_gib=NAN), ValueError, r"max_memory_gib"),
    # numerics helpers
    ("cumint-even", lambda: cumulative_integral(np.arange(6.0), np.arange(6.0)), ValueError, r"odd length"),
    ("fit-order-neg", lambda: fit_order([1.0, 2.0], [-1.0, 1.0]), ValueError, r"positive arrays"),
    ("descend-lr-nan", lambda: descend(_identity, jnp.zeros(2), NAN, 3), ValueError, r"lr must be a finite"),
    (
        "descend-steps",
        lambda: descend(_identity, jnp.zeros(2), 0.1, 0),
        ValueError,
        r"n_steps must be a positive",
    ),
    (
        "on-grid-batch",
        lambda: on_grid(_identity, jnp.zeros((4, 2)), batch=0),
        ValueError,
        r"batch must be a positive",
    ),
]


@pytest.mark.parametrize("thunk, exc, pattern", [c[1:] for c in API_ERRORS], ids=[c[0] for c in API_ERRORS])
def test_api_rejects_bad_input(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


# --- extreme but legal: finite and correct ----------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sg_sigmoid_finite_at_beta_z_1e6(dtype):
    z = jnp.asarray([-1e3, 1e3, 0.0], dtype)
    v = np.asarray(sg_sigmoid(z, 1e3, 1e3), float)
    assert v.tolist() == [0.0, 1.0, 0.5]
    g = np.asarray(jacobian(lambda t: sg_sigmoid(t, 1e3, 1e3), z), float)
    assert np.isfinite(g).all() and np.diag(g).tolist() == pytest.approx([0.0, 0.0, 250.0])


def test_negative_vector_after_option_equals_attached_form(capsys):
    d2 = "-0.14934348,0.25011492,0.26179737,-0.78792286,-0.47516188"  # the paper's d2
    assert main(["loop", "--points", "16", "--d2", d2]) == 0
    spaced = capsys.readouterr().out
    assert main(["loop", "--points", "16", f"--d2={d2}"]) == 0
    attached = capsys.readouterr().out
    assert main(["loop", "--points", "16"]) == 0
    assert spaced == attached == capsys.readouterr().out


def test_heaviside_forward_beta_inf_is_finite_and_conservative_check():
    """beta = inf (Heaviside forward, beta_SG = 5): finite and equal to the periodic trapezoid
    rule of the independent NumPy SG (analysis.fields._reference.five_weight_sg_np) on the same nodes."""
    r = loop_report(points=64, beta=INF)
    assert math.isfinite(r.integral.value) and r.curl_norm_center == 0.0
    phi = 2 * np.pi * np.arange(64) / 64
    a, b = 1.8 * np.sin(phi), 1.8 * np.cos(phi)
    theta = r.plane.point(a, b)
    tangent = np.outer(b, r.plane.d1) - np.outer(a, r.plane.d2)  # d theta / d phi (clockwise)
    g = five_weight_sg_np(theta, np.inf, 5.0)
    assert r.integral.value == pytest.approx(np.sum(g * tangent) * 2 * np.pi / 64, rel=1e-10)


def test_huge_beta_curl_overflow_is_an_error_not_nan():
    """beta = 1e300: the curl at the centre (z = 0) needs beta^2 = inf; refused, not NaN."""
    with pytest.raises(ValueError, match="not finite"):
        loop_report(points=16, beta=1e300)


def test_tiny_loop_matches_stokes():
    """radius 1e-4: loop integral / (pi r^2) -> -planar curl at the centre (clockwise)."""
    r = loop_report(points=64, radius=1e-4, beta=3.0, beta_sg=1.0)
    ratio = r.integral.value / (math.pi * 1e-8)
    assert ratio == pytest.approx(-r.plane_curl_center, rel=1e-6)


def test_loop_overflowing_inputs_are_refused():
    """x = 1e308 on a loop of radius 1.8: w x overflows float64 (the curl came out 3e290)."""
    with pytest.raises(ValueError, match=r"unit inputs can reach inf on this loop, where float64 overflows"):
        loop_report(small(x=[1e308, 1e308]), points=16)


def test_given_d2_is_kept_and_d1_completed():
    spec = small(d2=[0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    r = loop_report(spec, points=16)
    assert r.plane.d2 == (0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    assert abs(np.dot(r.plane.d1, r.plane.d2)) < 1e-12 and np.linalg.norm(r.plane.d1) == pytest.approx(1.0)


def test_paper_plane_defaults_unchanged():
    r = loop_report(points=64)
    assert r.plane == paper_plane()
    assert r.layout == FIVE_WEIGHT
