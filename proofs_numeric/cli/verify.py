"""``sgtheory verify``: check the theory's claims (one module each in :mod:`proofs_numeric`)."""

from __future__ import annotations

import sys

HELP = "check the theory's claims and print a table"
X64 = True


def add_arguments(p) -> None:
    p.add_argument("names", nargs="*", help="claim names (default: all); see --list")
    from proofs_numeric._registry import PROFILES

    p.add_argument(
        "--profile",
        choices=PROFILES,
        default="quick",
        help="quick (default, minutes for all), full (paper sizes) or tiny (the test suite's "
        "stand-ins: same criteria at smaller sizes, seconds per claim)",
    )
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    p.add_argument("--list", action="store_true", help="list claim names and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from analysis.runtime._paths import check_output_file
    from proofs_numeric._registry import format_table, run_claims, select

    if args.list:
        for c in select(None):
            print(f"{c.name:40s} {c.statement}")
        return 0
    if args.json is not None:
        check_output_file(args.json, "--json")
    results = run_claims(args.names, args.profile, json_path=args.json, progress=not args.quiet)
    print(format_table(results))
    for r in results:
        if not r.passed and "error" in r.details:
            print(f"\n{r.name} raised:\n{r.details['traceback']}", file=sys.stderr)
    if args.json is not None:
        print(f"wrote {args.json}")
    return 0 if all(r.passed for r in results) else 1
