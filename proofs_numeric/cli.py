"""The ``sgtheory`` command line.

Built-in subcommands: ``verify`` (claims), ``figures``, ``bench``. Further subcommands are
modules ``proofs_numeric/cli_<name>.py`` defining ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``; they are picked up automatically (``compare``, ``loop``, ...).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path


def _enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


def _cmd_verify(args) -> int:
    from tqdm import tqdm

    from analysis.runtime._io import write_json
    from proofs_numeric._core import format_table, run_claim, select

    if args.list:
        for c in select(None):
            print(f"{c.name:40s} {c.statement}")
        return 0
    chosen = select(args.names)
    results = []
    bar = tqdm(chosen, desc="claims", unit="claim", disable=args.quiet)
    for c in bar:
        bar.set_postfix_str(c.name)
        results.append(run_claim(c, args.profile))
    print(format_table(results))
    for r in results:
        if not r.passed and "error" in r.details:
            print(f"\n{r.name} raised:\n{r.details['traceback']}", file=sys.stderr)
    if args.json:
        import jax

        meta = {"profile": args.profile, "jax": jax.__version__, "backend": jax.default_backend()}
        path = write_json(args.json, {"meta": meta, "claims": results})
        print(f"wrote {path}")
    return 0 if all(r.passed for r in results) else 1


def _cmd_figures(args) -> int:
    from figures import make_figures

    paths = make_figures(args.names, Path(args.out), args.profile)
    for p in paths:
        print(p)
    return 0


def _cmd_bench(args) -> int:
    from proofs_numeric.bench import run_benchmarks

    run_benchmarks(args.names, args.json, args.profile)
    return 0


def _plugins():
    import proofs_numeric

    for mod in pkgutil.iter_modules(proofs_numeric.__path__):
        if mod.name.startswith("cli_"):
            yield mod.name[4:], importlib.import_module(f"proofs_numeric.{mod.name}")


_MALLOC_TUNED = ("train", "bench")  # long CPU runs: reuse freed buffers (analysis.runtime._host_memory)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sgtheory", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("verify", help="check the theory's claims and print a table")
    v.add_argument("names", nargs="*", help="claim names (default: all); see --list")
    v.add_argument("--profile", choices=("quick", "full"), default="quick")
    v.add_argument("--json", metavar="FILE", help="write the results as JSON")
    v.add_argument("--list", action="store_true", help="list claim names and exit")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(func=_cmd_verify)

    f = sub.add_parser("figures", help="make the paper's figures (PNG, PDF and JSON data)")
    f.add_argument("names", nargs="*", help="figure names such as fig1 fig3 (default: all)")
    f.add_argument("--out", default="out/figures", help="output folder (default out/figures)")
    f.add_argument("--profile", choices=("quick", "full"), default="quick")
    f.set_defaults(func=_cmd_figures)

    b = sub.add_parser("bench", help="speed benchmarks, reported as ratios")
    b.add_argument("names", nargs="*", help="benchmark names (default: all)")
    b.add_argument("--json", metavar="FILE", help="write the measurements as JSON")
    b.add_argument("--profile", choices=("quick", "full"), default="quick")
    b.set_defaults(func=_cmd_bench)

    for name, mod in _plugins():
        sp = sub.add_parser(name, help=getattr(mod, "HELP", None))
        mod.add_arguments(sp)
        sp.set_defaults(func=mod.run)
    for name in _MALLOC_TUNED:
        sub.choices[name].add_argument(
            "--default-malloc", action="store_true",
            help="keep glibc's default malloc settings (by default freed host memory is kept "
                 "for reuse, which saves page faults; see analysis.runtime._host_memory)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in _MALLOC_TUNED:
        if not args.default_malloc:
            from analysis.runtime._host_memory import keep_freed_memory

            keep_freed_memory()
    else:
        _enable_x64()
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, TypeError) as exc:
        print(f"sgtheory {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
