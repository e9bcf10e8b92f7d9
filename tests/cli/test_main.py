"""The command-line parser (proofs_numeric.cli): options offered only where they apply."""

import pytest


def test_default_malloc_flag_only_on_long_running_commands():
    from proofs_numeric.cli import build_parser

    p = build_parser()
    assert p.parse_args(["bench", "--default-malloc"]).default_malloc
    assert not p.parse_args(["train", "randman"]).default_malloc
    with pytest.raises(SystemExit):
        p.parse_args(["verify", "--default-malloc"])
