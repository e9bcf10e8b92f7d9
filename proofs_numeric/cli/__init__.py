"""The ``sgtheory`` command line.

One module per command in this package (``verify``, ``figures``, ``bench``, ``paper``, ``compare``,
``loop``, ``train``, ``align``), each defining ``HELP``, ``X64`` (whether the command runs
in float64), ``add_arguments(parser)`` and ``run(args) -> int``; a module may set
``MALLOC_TUNED = True`` for long CPU runs (freed host memory kept for reuse, see
:func:`analysis.runtime.keep_freed_memory`). Commands parse, call the library, print and
write; the numerics and the validation of inputs live in :mod:`analysis`.

Anticipated errors (bad input, missing or damaged files, options the parser rejects)
print one line and exit 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys

COMMANDS = ("verify", "figures", "bench", "paper", "compare", "loop", "train", "align")


def _commands():
    for name in COMMANDS:
        yield name, importlib.import_module(f"proofs_numeric.cli.{name}")


def _version() -> str:
    """The installed distribution's version, as :data:`analysis.__version__` reports it, read
    without importing :mod:`analysis` (which imports JAX): ``sgtheory --help`` stays fast."""
    from importlib import metadata

    try:
        return metadata.version("sgtheory")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``sgtheory CMD: error: ...``), like
    the errors of the commands themselves, with a pointer to ``--help`` instead of the
    usage block. Abbreviated options are refused (``--epoch`` is a typo, not ``--epochs``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="sgtheory",
        description="Numerical checks of the theory of surrogate-gradient learning in spiking networks.",
    )
    p.add_argument("--version", action="version", version=f"sgtheory {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, mod in _commands():
        sp = sub.add_parser(name, help=mod.HELP)
        mod.add_arguments(sp)
        if getattr(mod, "MALLOC_TUNED", False):
            sp.add_argument(
                "--default-malloc",
                action="store_true",
                help="keep glibc's default malloc settings (by default freed host memory is kept "
                "for reuse, which saves page faults; see analysis.runtime.keep_freed_memory)",
            )
        sp.set_defaults(func=mod.run, module=mod)
    return p


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)"
_NUMBER_LIST = re.compile(rf"-(?:{_NUMBER})(?:[,\s]+(?:{_NUMBER}))*[,\s]*", re.IGNORECASE)


def _attach_negative_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``--d2 -1,0,0`` -> ``--d2=-1,0,0``: a token that looks like a (list of) number(s) and
    starts with '-' is attached to the option before it when that option takes a value
    (argparse would otherwise read it as an unknown option)."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    command = next((t for t in argv if t in sub.choices), None)
    if command is None:
        return argv
    options = sub.choices[command]._option_string_actions
    out: list[str] = []
    for tok in argv:
        prev = out[-1] if out else ""
        action = options.get(prev) if prev.startswith("--") and "=" not in prev else None
        if action is not None and action.nargs is None and _NUMBER_LIST.fullmatch(tok):
            out[-1] = f"{prev}={tok}"
        else:
            out.append(tok)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_attach_negative_values(parser, argv))
    mod = args.module
    if getattr(mod, "MALLOC_TUNED", False) and not args.default_malloc:
        from analysis.runtime import keep_freed_memory

        keep_freed_memory()
    if mod.X64:
        import jax

        jax.config.update("jax_enable_x64", True)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:  # user errors; a TypeError is a bug (traceback)
        print(f"sgtheory {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
