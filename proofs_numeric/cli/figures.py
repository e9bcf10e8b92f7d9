"""``sgtheory figures``: the paper's figures (SVG, PDF, PNG and the plotted data: JSON + npz).

``sgtheory figures fig7 --profile paper`` is the published classification experiment (3
seeds x deterministic / stochastic, ``randman_preset("paper")``, float32): every run trained
in its own resumable run folder under ``--runs`` (default ``out/fig7-paper``), a progress
bar over the epochs of all runs, then the figure drawn from the saved results. Run again
after an interruption, it reads the finished runs and resumes the interrupted one. Where JAX
has no accelerator (``jax.default_backend() == "cpu"``) it first measures one training step
per method, prints the extrapolated time of what is left, and refuses (exit 2) without
``--yes``.
"""

from __future__ import annotations

import sys

HELP = "make the paper's figures (SVG, PDF, PNG and JSON + npz data)"
X64 = True


def add_arguments(p) -> None:
    p.add_argument("names", nargs="*", help="figure names such as fig1 fig3 (default: all)")
    p.add_argument("--out", default="out/figures", help="output folder (default out/figures)")
    p.add_argument(
        "--profile",
        choices=("quick", "full", "paper"),
        default="quick",
        help="quick (default) | full | paper (fig7 only: the published experiment, 6 runs of 200 "
        "epochs, resumable; a GPU run)",
    )
    p.add_argument(
        "--runs",
        default=None,
        help="fig7 --profile paper: folder of the run folders <method>-seed<k> (default out/fig7-paper)",
    )
    p.add_argument("--yes", action="store_true", help="fig7 --profile paper: train on a CPU too")
    p.add_argument("--quiet", action="store_true", help="fig7 --profile paper: no progress bar")


def run(args) -> int:
    from pathlib import Path

    from analysis.runtime._paths import check_output_dir

    check_output_dir(args.out, "--out")
    if args.profile == "paper":
        return _paper(args)
    if args.runs is not None or args.yes:
        raise ValueError("--runs and --yes belong to fig7 --profile paper")
    from figures import make_figures

    for p in make_figures(args.names, Path(args.out), args.profile):
        print(p)
    return 0


def _hours(seconds: float) -> str:
    return (
        f"{seconds / 3600:.1f} h ({seconds / 86400:.1f} days)"
        if seconds >= 3600
        else f"{seconds / 60:.0f} min"
    )


def _paper(args) -> int:
    """fig7 --profile paper: estimate on a CPU (refuse without --yes), train, draw."""
    if list(args.names) != ["fig7"]:
        raise ValueError(
            "--profile paper is fig7's published experiment: sgtheory figures fig7 --profile paper"
        )
    import jax

    with jax.enable_x64(False):  # float32 training, as sgtheory train
        return _paper_float32(args)


def _paper_float32(args) -> int:
    from pathlib import Path

    import jax

    import figures.fig7_classification as fig7
    from analysis.runtime._paths import check_output_dir

    runs = check_output_dir(args.runs if args.runs is not None else fig7.PAPER_RUNS, "--runs")
    left = fig7.pending_epochs(runs, "paper")
    if jax.default_backend() == "cpu" and sum(left.values()) > 0:
        print("fig7 --profile paper: no GPU; measuring one training step per method ...", flush=True)
        est = fig7.estimate_seconds("paper")
        total = sum(left[m] * est["epoch_s"][m] for m in left)
        steps = ", ".join(f"{m} {s:.2f} s" for m, s in est["step_s"].items())
        epochs = ", ".join(f"{m} {s:.0f} s" for m, s in est["epoch_s"].items())
        print(f"one training step at batch {est['batch_size']}: {steps}")
        print(f"one epoch ({est['steps_per_epoch']} steps + validation): {epochs}")
        runs_left = ", ".join(f"{m} {n}" for m, n in left.items())
        print(f"epochs left over the {est['runs']} runs: {runs_left}; estimated: {_hours(total)} on this CPU")
        if not args.yes:
            print(
                f"sgtheory figures: refusing to train fig7 --profile paper on a CPU (about {_hours(total)}); "
                f"pass --yes to run anyway",
                file=sys.stderr,
            )
            return 2
    for p in fig7.make(Path(args.out), "paper", runs_dir=Path(runs), progress=not args.quiet):
        print(p)
    return 0
