"""``sgtheory figures``: the paper's figures (SVG, PDF, PNG and the plotted data: JSON + npz)."""

from __future__ import annotations

HELP = "make the paper's figures (SVG, PDF, PNG and JSON + npz data)"
X64 = True


def add_arguments(p) -> None:
    p.add_argument("names", nargs="*", help="figure names such as fig1 fig3 (default: all)")
    p.add_argument("--out", default="out/figures", help="output folder (default out/figures)")
    p.add_argument("--profile", choices=("quick", "full"), default="quick")


def run(args) -> int:
    from pathlib import Path

    from analysis.runtime._paths import check_output_dir
    from figures import make_figures

    check_output_dir(args.out, "--out")
    for p in make_figures(args.names, Path(args.out), args.profile):
        print(p)
    return 0
