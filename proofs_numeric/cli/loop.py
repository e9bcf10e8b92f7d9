"""``sgtheory loop``: closed-loop line integral of a surrogate-gradient field.

Default: the paper's five-weight network and circle (Gygax & Zenke 2025, sec. 5): centre 0,
directions d1, d2 (normalised), radius 1.8, clockwise from (0, r), beta = 10000,
beta_SG = 5. ``--spec layout.json`` ({"sizes": [...], "x": [...], optional "name", "center",
"d1", "d2"}) selects another layout; missing directions are drawn at random (``--seed``).
Everything is computed and validated by :func:`analysis.fields.loop_report`.
"""

from __future__ import annotations

X64 = True
HELP = "loop integral, its quadrature error and the curl norm of an SG field"


def add_arguments(p) -> None:
    p.add_argument("--center", help="centre theta0 (comma/space separated numbers); default 0")
    p.add_argument("--d1", help="first direction (normalised); default the paper's d1")
    p.add_argument("--d2", help="second direction (normalised); default the paper's d2")
    p.add_argument("--radius", type=float, default=1.8, help="circle radius (default 1.8)")
    p.add_argument("--points", type=int, default=20000, help="quadrature points, even >= 8 (default 20000)")
    p.add_argument("--beta", type=float, default=10000.0, help="forward steepness; 'inf' = Heaviside")
    p.add_argument("--beta-sg", type=float, default=5.0, help="surrogate steepness beta_SG (default 5)")
    p.add_argument("--orientation", choices=("clockwise", "counterclockwise"), default="clockwise")
    p.add_argument("--spec", help="JSON layout spec for a network other than the five-weight one")
    p.add_argument("--seed", type=int, default=0, help="seed for random directions with --spec")
    p.add_argument(
        "--max-memory-gib",
        type=float,
        default=None,
        help="refuse layouts/point counts estimated to need more memory than this (default 4 GiB)",
    )
    p.add_argument("--json", metavar="OUT", help="write the result (with the cumulative integral) as JSON")


def run(args) -> int:
    from analysis._validate import DEFAULT_MAX_MEMORY_GIB
    from analysis.fields import loop_report
    from analysis.runtime import write_json
    from analysis.runtime._paths import check_output_file

    if args.json is not None:
        check_output_file(args.json, "--json")
    report = loop_report(
        args.spec,
        center=args.center,
        d1=args.d1,
        d2=args.d2,
        radius=args.radius,
        points=args.points,
        beta=args.beta,
        beta_sg=args.beta_sg,
        orientation=args.orientation,
        seed=args.seed,
        max_memory_gib=DEFAULT_MAX_MEMORY_GIB if args.max_memory_gib is None else args.max_memory_gib,
    )
    print("\n".join(report.lines()))
    if args.json is not None:
        print(f"wrote {write_json(args.json, report.to_dict(), seeds=[args.seed], profile=None)}")
    return 0
