"""``sgtheory bench``: speed benchmarks, reported as ratios against a reference run in the
same process (:mod:`proofs_numeric.bench`)."""

from __future__ import annotations

HELP = "speed benchmarks, reported as ratios"
X64 = False
MALLOC_TUNED = True


def add_arguments(p) -> None:
    p.add_argument("names", nargs="*", help="benchmark names (default: all)")
    p.add_argument("--json", metavar="FILE", help="write the measurements as JSON")
    p.add_argument(
        "--profile",
        choices=("quick", "full", "gpu"),
        default="quick",
        help="gpu: snn only, on a GPU (refused when JAX sees none)",
    )
    p.add_argument(
        "--breakdown",
        action="store_true",
        help="snn only: time each stage of the dense network (matmuls, recursions, layouts, loss), "
        "isolated and as prefix increments of the forward; on CPU also in process CPU time",
    )


def run(args) -> int:
    from analysis.runtime._paths import check_output_file
    from proofs_numeric.bench import run_benchmarks

    if args.json is not None:
        check_output_file(args.json, "--json")
    run_benchmarks(args.names, args.json, args.profile, breakdown=args.breakdown)
    return 0
