"""The command-line parser (proofs_numeric.cli): options offered only where they apply."""

import pytest


def test_default_malloc_flag_only_on_long_running_commands():
    from proofs_numeric.cli import build_parser

    p = build_parser()
    assert p.parse_args(["bench", "--default-malloc"]).default_malloc
    assert not p.parse_args(["train", "randman"]).default_malloc
    with pytest.raises(SystemExit):
        p.parse_args(["verify", "--default-malloc"])


def test_help_imports_no_jax():
    """``sgtheory --help`` and every command's ``--help`` parse without importing JAX or the
    library (which imports JAX): the answer comes in a tenth of a second, not in seconds."""
    import subprocess
    import sys

    from tests.helpers import REPO_ROOT

    code = (
        "import sys, contextlib, io\n"
        "from proofs_numeric.cli import COMMANDS, build_parser\n"
        "p = build_parser()\n"
        "for argv in [['--help']] + [[c, '--help'] for c in COMMANDS]:\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        p.parse_args(argv)\n"
        "print(sorted(m for m in ('jax', 'analysis', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", out


def test_spelled_out_choices_match_the_library():
    from analysis import __version__
    from analysis.training._run import TASKS
    from proofs_numeric.cli import _version
    from proofs_numeric.cli import train as train_cmd

    assert train_cmd.TASKS == TASKS
    assert _version() == __version__


def test_a_bug_keeps_its_traceback(monkeypatch):
    """User errors (ValueError, FileNotFoundError) are one line; a TypeError raised by a bug
    propagates with its traceback instead of being reported as bad input."""
    from proofs_numeric.cli import main
    from proofs_numeric.cli import verify as verify_cmd

    def buggy(args):
        return len(None)  # a TypeError: a bug, not bad input

    monkeypatch.setattr(verify_cmd, "run", buggy)
    with pytest.raises(TypeError):
        main(["verify", "--list"])


def test_a_user_error_is_one_line(monkeypatch, capsys):
    from analysis._validate import InputTypeError, integer
    from proofs_numeric.cli import main
    from proofs_numeric.cli import verify as verify_cmd

    def bad_input(args):
        integer("three", "--count", 0, 9)  # wrong type of input: a user error

    monkeypatch.setattr(verify_cmd, "run", bad_input)
    assert main(["verify", "--list"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["sgtheory verify: error: --count must be an integer, got 'three'"]
    assert issubclass(InputTypeError, TypeError)  # Python callers still see a TypeError
