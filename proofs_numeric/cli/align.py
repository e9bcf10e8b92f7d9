"""``sgtheory align --profile quick|full``: SG alignment with an unbiased stochastic-AD
reference in analysis.snn LIF networks too large to enumerate (analysis.stochastic._alignment);
``sgtheory align --run DIR``: the same along a training run kept with ``--save-every``
(analysis.training.run_alignment); ``sgtheory align --nir FILE --data NPZ``: the same for an
imported NIR network, e.g. one exported by Norse (analysis.training.nir_alignment)."""

from __future__ import annotations

X64 = True
HELP = (
    "cosine / sign agreement of SGs with the unbiased coupled-flip reference vs depth, width, "
    "steps, beta, or along a training run (--run)"
)

_COLS = (
    "depth",
    "width",
    "steps",
    "beta",
    "K",
    "ref_snr",
    "ceiling",
    "n_ref",
    "ref_seconds",
    "seconds",
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
        default=None,
        help="the sweep's sizes: quick (default; minutes on a CPU) or full (widths to 512 and 200 "
        "steps; a DisARM reference sized for split-half ceiling 0.95); not with --run (the run's "
        "record sets the network)",
    )
    parser.add_argument("--json", metavar="OUT", help="write all rows as JSON")
    parser.add_argument("--figure", metavar="DIR", help="also draw figure 8 from these rows into DIR")
    parser.add_argument(
        "--run",
        metavar="DIR",
        help="a run folder of sgtheory train --save-every K: alignment at each kept epoch "
        "(the run's SG and the matched stochastic SG) on a fixed batch of its training data",
    )
    for opt, default, what in _RUN_ONLY:
        parser.add_argument(opt, type=int, default=None, help=f"--run, --nir: {what} (default {default})")
    parser.add_argument(
        "--shd-path", default=None, help="--run of an shd run: the SHD data (default data/shd)"
    )
    parser.add_argument(
        "--nir",
        metavar="FILE",
        help='a NIR file (needs pip install "sgtheory[nir]"): alignment of its network\'s SG and the '
        "matched stochastic SG on the inputs of --data (loss: max-over-time CE with labels y, "
        "else the readout's mean)",
    )
    parser.add_argument(
        "--data", metavar="NPZ", help="--nir: an .npz with x [B, T, n_in] and optional integer labels y [B]"
    )
    parser.add_argument(
        "--beta", type=float, default=None, help="--nir: hidden sigmoid escape-noise steepness (default 10)"
    )
    parser.add_argument(
        "--source",
        choices=("nir", "norse"),
        default=None,
        help="--nir: 'norse' for a norse.torch.to_nir export (dt-scaled time constants; default nir)",
    )
    parser.add_argument("--dt", type=float, default=None, help="--nir: seconds per bin (default: the file's)")


# options of --run only: (option, default, help); None on the command line means "not given"
_RUN_ONLY = (
    ("--n-ref", 1000, "reference samples"),
    ("--n-flips", 8, "flips per reference sample"),
    ("--n-sg", 128, "samples of stochastic SGs"),
    ("--batch", 8, "training samples of a classification run"),
    ("--seed", 0, "key of the samples"),
)


def _given(args, opt: str):
    return getattr(args, opt[2:].replace("-", "_"))


def _fmt(v):
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _show_sweep_row(r) -> None:
    """One table line: wall times (the reference's ``ref_seconds``, pilot included, and the
    row's ``seconds``) to 0.1 s, other floats to 0.001."""
    cells = (f"{r[c]:.1f}" if c.endswith("seconds") else _fmt(r[c]) for c in _COLS)
    print("  ".join(f"{v:>12s}" for v in cells), flush=True)


_RUN_COLS = (
    "epoch",
    "cos_trained",
    "sign_trained",
    "cos_stoch_matched",
    "sign_stoch_matched",
    "ref_snr",
    "ceiling",
)


def _run_row(r) -> str:
    cells = []
    for c in _RUN_COLS:
        se = r.get(c.replace("cos_", "cos_se_")) if c.startswith("cos_") else None
        cells.append(f"{r[c]:.3f}+-{se:.3f}" if se is not None else _fmt(r[c]))
    return "  ".join(f"{v:>16s}" for v in cells)


def _run_alignment(args) -> int:
    from analysis.runtime import write_json
    from analysis.training import RunAlignmentConfig, run_alignment

    if args.figure is not None:
        raise ValueError(
            "--figure draws the sweep (figure 8); with --run use --json (figure 9: sgtheory figures fig9)"
        )
    if args.profile is not None:
        raise ValueError("--profile sets the sizes of the sweep; with --run the run's own record sets them")
    n = {opt: (default if _given(args, opt) is None else _given(args, opt)) for opt, default, _ in _RUN_ONLY}
    header = ["  ".join(f"{c:>16s}" for c in _RUN_COLS)]  # printed with the first row (after the checks)

    def show(r):
        while header:
            print(header.pop())
        print(_run_row(r), flush=True)

    config = RunAlignmentConfig(
        n_ref=n["--n-ref"],
        n_flips=n["--n-flips"],
        n_sg=n["--n-sg"],
        batch=args.batch,  # None: the default, refused only when given for a spike-train run
        seed=n["--seed"],
        shd_path=args.shd_path,
    )
    res = run_alignment(args.run, config, progress=show)
    if args.json is not None:
        print(f"wrote {write_json(args.json, res, seeds=[n['--seed']])}")
    return 0


_NIR_ONLY = ("--data", "--beta", "--source", "--dt")


def _nir_alignment(args) -> int:
    import os

    import numpy as np

    from analysis.runtime import write_json
    from analysis.training import RunAlignmentConfig, nir_alignment

    for opt, what in (("--figure", "the sweep"), ("--profile", "the sweep"), ("--run", "a run folder")):
        if _given(args, opt) is not None:
            raise ValueError(f"{opt} applies to {what}, not to --nir")
    if args.data is None:
        raise ValueError("--nir needs --data NPZ (x [B, T, n_in], optional labels y [B])")
    for path, opt in ((args.nir, "--nir"), (args.data, "--data")):
        if not os.path.isfile(path):
            folder = " (it is a folder)" if os.path.isdir(path) else ""
            raise ValueError(f"{opt} {path} does not exist{folder}")
    try:
        import nir  # noqa: F401
    except ImportError:
        raise ValueError('--nir needs the nir package: pip install "sgtheory[nir]"') from None
    try:
        with np.load(args.data) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"--data {args.data} is not a readable .npz ({exc})") from None
    if "x" not in arrays:
        raise ValueError(f"--data {args.data} has no array x (it has {', '.join(sorted(arrays)) or 'none'})")
    n = {opt: (default if _given(args, opt) is None else _given(args, opt)) for opt, default, _ in _RUN_ONLY}
    config = RunAlignmentConfig(
        n_ref=n["--n-ref"], n_flips=n["--n-flips"], n_sg=n["--n-sg"], batch=args.batch, seed=n["--seed"]
    )
    from analysis.snn import from_nir

    try:
        network = from_nir(args.nir, args.dt, source=args.source or "nir")
    except (OSError, KeyError) as exc:  # a damaged NIR file
        raise ValueError(f"--nir {args.nir} is not a readable NIR file ({exc!r})") from None
    beta = 10.0 if args.beta is None else args.beta
    res = nir_alignment(network, arrays["x"], arrays.get("y"), config, beta=beta)
    cfg = res["cfg"]
    print(
        f"network: n_in {cfg.n_in}, hidden {list(cfg.hidden)}, n_out {cfg.n_out}, readout {cfg.readout}; "
        f"batch {res['batch']}, T {np.shape(arrays['x'])[1]}, loss {res['loss']}, beta {res['beta']:g}"
    )
    print("  ".join(f"{c:>16s}" for c in _RUN_COLS))
    print(_run_row({"epoch": "-", **res["row"]}), flush=True)
    if args.json is not None:
        out = {k: v for k, v in res.items() if k != "cfg"} | {"nir": str(args.nir), "data": str(args.data)}
        print(f"wrote {write_json(args.json, out, seeds=[n['--seed']])}")
    return 0


def run(args) -> int:
    from analysis.runtime._paths import check_output_dir, check_output_file
    from analysis.stochastic import alignment_sweep
    from analysis.stochastic._alignment_sweep import PROFILES

    if args.json is not None:
        check_output_file(args.json, "--json")
    if args.nir is not None:
        if args.shd_path is not None:
            raise ValueError("--shd-path applies to --run DIR only")
        return _nir_alignment(args)
    nir_given = [opt for opt in _NIR_ONLY if _given(args, opt) is not None]
    if nir_given:
        verb = "applies" if len(nir_given) == 1 else "apply"
        raise ValueError(f"{', '.join(nir_given)} {verb} to --nir FILE only")
    if args.run is not None:
        return _run_alignment(args)
    given = [opt for opt, _, _ in _RUN_ONLY if _given(args, opt) is not None]
    given += ["--shd-path"] if args.shd_path is not None else []
    if given:
        raise ValueError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to --run DIR only")
    args.profile = args.profile or "quick"
    if args.figure is not None:
        check_output_dir(args.figure, "--figure")
    print("  ".join(f"{c[:12]:>12s}" for c in _COLS))
    rows = alignment_sweep(args.profile, progress=_show_sweep_row)
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
