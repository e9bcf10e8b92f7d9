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
    from analysis.runtime import write_json
    from analysis.stochastic import alignment_sweep

    print("  ".join(f"{c[:12]:>12s}" for c in _COLS))
    rows = alignment_sweep(
        args.profile, progress=lambda r: print("  ".join(f"{_fmt(r[c]):>12s}" for c in _COLS), flush=True)
    )
    if args.json:
        print(f"wrote {write_json(args.json, {'profile': args.profile, 'rows': rows})}")
    if args.figure:
        from pathlib import Path

        from analysis.stochastic import PROFILES
        from figures.fig8_alignment import plot

        prof = PROFILES[args.profile]
        for path in plot(rows, prof["base"], prof["axes"], Path(args.figure)):
            print(f"wrote {path}")
    return 0
