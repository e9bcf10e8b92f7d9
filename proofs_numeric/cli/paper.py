"""``sgtheory paper``: the reproduction paper (PDF, typeset with Typst) from the results of
``verify``, ``figures`` and ``bench``, run here or reused (:mod:`proofs_numeric.paper`).

The Typst sources are checked before anything runs, every result file before anything is
typeset (:mod:`proofs_numeric.paper._check`); a wrong input is one line naming the file and
field, a claim that crashed is a failed row of the paper."""

from __future__ import annotations

HELP = "typeset the reproduction paper (PDF) from verify, figures and bench results"
X64 = True
# it may run `bench`, whose ratios must be measured as `sgtheory bench` measures them (with
# freed host memory kept for reuse), and the figures' long CPU runs
MALLOC_TUNED = True


def add_arguments(p) -> None:
    from proofs_numeric.paper._runs import PROFILES

    p.add_argument("--profile", choices=PROFILES, default="quick", help="profile of the runs (default quick)")
    p.add_argument("--out", help="output folder (default out/paper-<profile>); paper.pdf is written there")
    p.add_argument(
        "--rerun", action="store_true", help="rerun verify, figures and bench even when fresh results exist"
    )
    p.add_argument(
        "--max-age-days",
        type=float,
        default=7.0,
        help="reuse result files at most this old (default 7; same version and profile required)",
    )
    p.add_argument(
        "--from",
        dest="results",
        metavar="DIR",
        help="build from the results in DIR (claims.json, bench.json, figures/) without running anything; "
        "without --preview every file must be as fresh as a reused one (same version and profile, "
        "--max-age-days, intact)",
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help="with --from: draw labelled placeholders for missing or damaged figures, show claims the "
        "claims file lacks as failed, and accept results of another version, profile or age (the title "
        "page says so); used for the committed test fixture",
    )


def run(args) -> int:
    import time
    from pathlib import Path

    from analysis.runtime._paths import check_output_dir
    from proofs_numeric.paper import build_paper, check_sources, prepare, typst_module
    from proofs_numeric.paper._build import SOURCES, value_names

    if args.preview and args.results is None:
        raise ValueError("--preview needs --from DIR (a preview never runs the claims)")
    if args.rerun and args.results is not None:
        raise ValueError("--rerun and --from exclude each other")
    if not args.max_age_days > 0:
        raise ValueError(f"--max-age-days must be > 0, got {args.max_age_days}")
    out = Path(args.out if args.out is not None else f"out/paper-{args.profile}")
    check_output_dir(out, "--out")
    # fail before hours of runs when typst or a Typst source is missing
    typst_module()
    check_sources(SOURCES, value_names())
    t0 = time.perf_counter()
    if args.results is None:
        prepare(out, args.profile, rerun=args.rerun, max_age_days=args.max_age_days)
        results = out
    else:
        results = Path(args.results)
        if not results.is_dir():
            raise FileNotFoundError(f"--from: folder {results} not found")
        if not args.preview:
            from proofs_numeric.paper._runs import input_problems

            problems = input_problems(results, args.profile, args.max_age_days)
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                raise ValueError(f"--from: {problems[0]}{more} (rerun, or use --preview)")
    print("typesetting ...")
    pdf = build_paper(results, out / "paper.pdf", preview=args.preview, sources=SOURCES)
    print(f"wrote {pdf} ({time.perf_counter() - t0:.1f} s)")
    return 0
