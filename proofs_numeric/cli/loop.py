"""``sgtheory loop``: closed-loop line integral of a surrogate-gradient field.

Default: the paper's five-weight network and circle (Gygax & Zenke 2025, sec. 5): centre 0,
directions d1, d2 (normalised), radius 1.8, clockwise from (0, r), beta = 10000,
beta_SG = 5. ``--spec layout.json`` ({"sizes": [...], "x": [...], optional "center", "d1",
"d2"}) selects another layout; missing directions are drawn at random (``--seed``).
"""

from __future__ import annotations

X64 = True
HELP = "loop integral, its quadrature error and the curl norm of an SG field"


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.replace(",", " ").split()]


def add_arguments(p) -> None:
    p.add_argument("--center", type=_floats, help="centre theta0 (comma/space separated); default 0")
    p.add_argument("--d1", type=_floats, help="first direction (normalised); default paper's d1")
    p.add_argument("--d2", type=_floats, help="second direction (normalised); default paper's d2")
    p.add_argument("--radius", type=float, default=1.8, help="circle radius (default 1.8)")
    p.add_argument("--points", type=int, default=20000, help="quadrature points, even >= 8 (default 20000)")
    p.add_argument("--beta", type=float, default=10000.0, help="forward steepness; 'inf' = Heaviside")
    p.add_argument("--beta-sg", type=float, default=5.0, help="surrogate steepness beta_SG (default 5)")
    p.add_argument("--orientation", choices=("clockwise", "counterclockwise"), default="clockwise")
    p.add_argument("--spec", help="JSON layout spec for a network other than the five-weight one")
    p.add_argument("--seed", type=int, default=0, help="seed for random directions with --spec")
    p.add_argument("--json", metavar="OUT", help="write the result (with the cumulative integral) as JSON")


def _setup(args):
    import numpy as np

    from analysis import fields

    spec = {}
    layout = fields.FIVE_WEIGHT
    if args.spec:
        layout, spec = fields.load_layout(args.spec)
    n = layout.n_params
    center = args.center or spec.get("center") or [0.0] * n
    if args.spec and not (args.d1 or spec.get("d1")):
        q, _ = np.linalg.qr(np.random.default_rng(args.seed).normal(size=(n, 2)))
        d1, d2 = q[:, 0], q[:, 1]
    else:
        d1 = args.d1 or spec.get("d1") or list(fields.PAPER_D1)
        d2 = args.d2 or spec.get("d2") or list(fields.PAPER_D2)
    for name, v in (("center", center), ("d1", d1), ("d2", d2)):
        if len(v) != n:
            raise ValueError(f"--{name} has {len(v)} entries but the network has {n} parameters")
    d1, d2 = (np.asarray(d, float) / np.linalg.norm(d) for d in (d1, d2))
    from analysis.fields import Plane

    return layout, Plane(center, d1, d2)


def run(args) -> int:
    from analysis import fields
    from analysis.runtime import write_json

    layout, plane = _setup(args)
    g = fields.sg_field(layout, args.beta, args.beta_sg)
    res = fields.loop_integral(g, plane, args.radius, args.points, args.orientation)
    curl_n = float(fields.curl_norm(g, plane.center))
    pc = float(fields.plane_curl(g, plane))
    print(f"network {layout.name} sizes={list(layout.sizes)}  beta={args.beta:g}  beta_SG={args.beta_sg:g}")
    print(f"loop integral      {res.value:+.10e}  ({args.orientation}, r={args.radius:g}, N={args.points})")
    print(f"quadrature error   {res.error:.3e}   (|I_N - I_N/2|)")
    print(f"relative to |g|ds  {abs(res.value) / res.abs_path:.3e}")
    print(f"curl norm centre   {curl_n:.6e}   (||(J - J^T)/2||_F)")
    print(f"planar curl centre {pc:+.6e}   (dg_b/da - dg_a/db)")
    if args.json:
        out = {
            "layout": layout,
            "plane": plane,
            "radius": args.radius,
            "points": args.points,
            "beta": args.beta,
            "beta_sg": args.beta_sg,
            "orientation": args.orientation,
            "loop_integral": res.value,
            "quad_error": res.error,
            "abs_path": res.abs_path,
            "curl_norm_center": curl_n,
            "plane_curl_center": pc,
            "angle": res.t,
            "cumulative": res.cumulative,
            "cumulative_error": res.cumulative_error,
        }
        print(f"wrote {write_json(args.json, out)}")
    return 0
