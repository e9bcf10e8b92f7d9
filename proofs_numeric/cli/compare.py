"""``sgtheory compare SPEC.json``: exact value and gradient of a small network, and every
estimator's mean, standard error, bias, alignment and cost (analysis.stochastic.compare_spec)."""

from __future__ import annotations

X64 = True
HELP = "exact E[L], grad E[L] and gradient estimators for a network given as JSON"


def add_arguments(parser) -> None:
    parser.add_argument(
        "spec", help="network spec (JSON; schema in the README and analysis/stochastic/_netspec.py)"
    )
    parser.add_argument("--samples", type=int, default=2000, help="samples per estimator (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed in [0, 2^32) (default 0)")
    parser.add_argument(
        "--max-memory-gib",
        type=float,
        default=None,
        help="refuse estimators estimated to need more memory than this (default 4 GiB)",
    )
    parser.add_argument("--json", metavar="OUT", help="write exact values and estimator rows as JSON")
    parser.add_argument("--csv", metavar="OUT", help="write the estimator table as CSV")


def run(args) -> int:
    from analysis._validate import DEFAULT_MAX_MEMORY_GIB
    from analysis.runtime import write_json
    from analysis.runtime._paths import check_output_file
    from analysis.stochastic import compare_spec
    from analysis.stochastic._compare import write_csv

    for path, name in ((args.json, "--json"), (args.csv, "--csv")):
        if path is not None:
            check_output_file(path, name)
    mem = DEFAULT_MAX_MEMORY_GIB if args.max_memory_gib is None else args.max_memory_gib
    report = compare_spec(args.spec, samples=args.samples, seed=args.seed, max_memory_gib=mem)
    print("\n".join(report.lines()))
    if args.json is not None:
        print(f"wrote {write_json(args.json, report.to_dict(), seeds=[args.seed], profile=None)}")
    if args.csv is not None:
        print(f"wrote {write_csv(list(report.rows), args.csv)}")
    return 0
