"""``sgtheory align --profile quick|full``: SG alignment with an unbiased stochastic-AD
reference in LIF networks too large to enumerate (analysis.stochastic._alignment)."""

from __future__ import annotations

X64 = True
HELP = "cosine / sign agreement of SGs with the unbiased coupled-flip reference vs depth, width, steps, beta"

_COLS = (
    "depth",
    "width",
    "steps",
    "beta",
    "K",
    "ref_snr",
    "ceiling",
    "cos_stoch_matched",
    "cos_stoch_mismatched",
    "cos_det_matched",
    "cos_det_mismatched",
    "sign_stoch_matched",
    "sign_det_matched",
)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--profile",
        choices=("quick", "full"),
        default="quick",
        help="quick: minutes on a CPU; full: widths to 512 and 200 steps (meant for a GPU)",
    )
    parser.add_argument("--json", metavar="OUT", help="write all rows as JSON")
    parser.add_argument("--figure", metavar="DIR", help="also draw figure 8 from these rows into DIR")


def _fmt(v):
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def run(args) -> int:
    from analysis.runtime import check_output_dir, check_output_file
    from analysis.stochastic import PROFILES, alignment_sweep

    if args.json is not None:
        check_output_file(args.json, "--json")
    if args.figure is not None:
        check_output_dir(args.figure, "--figure")
    print("  ".join(f"{c[:12]:>12s}" for c in _COLS))
    rows = alignment_sweep(
        args.profile, progress=lambda r: print("  ".join(f"{_fmt(r[c]):>12s}" for c in _COLS), flush=True)
    )
    base = PROFILES[args.profile]["base"]
    if args.json is not None:
        from analysis.runtime import write_json

        obj = {"profile": args.profile, "rows": rows}
        print(f"wrote {write_json(args.json, obj, seeds=[base.seed], profile=args.profile)}")
    if args.figure is not None:
        from pathlib import Path

        from figures.fig8_alignment import plot

        for path in plot(rows, base, PROFILES[args.profile]["axes"], Path(args.figure), profile=args.profile):
            print(f"wrote {path}")
    return 0
