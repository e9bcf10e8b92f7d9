"""README.md stays true: every ```python block runs (float64 on, as in the CLI).

Each block runs in its own fresh namespace, in order, so every example must be
self-contained (imports included) and short.
"""

import re
from pathlib import Path

import jax
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_readme_has_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_block_runs(i, capsys):
    jax.config.update("jax_enable_x64", True)
    code = compile(BLOCKS[i], f"README.md python block {i + 1}", "exec")
    exec(code, {"__name__": f"readme_block_{i + 1}"})
