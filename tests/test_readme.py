"""README.md stays true: every ```python block runs (float64 on, as in the CLI), and every
value a block's comments say it prints is what it prints.

Each block runs in its own fresh namespace, in order, so every example must be
self-contained (imports included) and short.

The convention for stated values: a comment whose text contains ``-> `` on a ``print(...)``
call (on any of its lines, or alone on the line after it) states what that call prints:
``print(x)  # remark -> TEXT``, or ``print(x)  # remark`` followed by a line ``# -> TEXT``.
In TEXT, ``...`` stands for any text, a run of spaces for any whitespace, and a number for a
printed number that agrees with it to the digits shown (half a unit of its last digit:
``-1.2292`` accepts [-1.22925, -1.22915], ``4e-05`` accepts [3.5e-05, 4.5e-05], ``60``
only 60) or to an explicit tolerance, ``0.6 +- 0.01`` or ``0.6 ± 0.01``; all other text
must be printed as written. A print that runs several times (in a loop) must match every
time, and one that never runs fails.
"""

from __future__ import annotations

import ast
import io
import math
import re
import sys
import tokenize
from pathlib import Path

import jax
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)

_NUM = r"[-+−]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_STATED = re.compile(rf"(?<![\w.])(?P<num>{_NUM})(?:\s*(?:\+-|±)\s*(?P<tol>{_NUM}))?(?![\w])")
_PRINTED = r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan)\s*"


def _value(text: str) -> float:
    return float(text.replace("−", "-"))


def _half_unit(text: str) -> float:
    """Half a unit of the last digit of a stated number: 1.25 -> 0.005, 4e-05 -> 5e-06."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def stated_pattern(expected: str) -> tuple[re.Pattern, list[tuple[str, float, float]]]:
    """(regex of the printed text, [(stated number, value, tolerance)] in order) for TEXT."""
    parts, numbers, pos = [], [], 0

    def literal(chunk: str) -> str:
        pieces = re.split(r"(\s*\.\.\.\s*)", chunk)
        out = []
        for p in pieces:
            if "..." in p:
                out.append(".*?")
            else:
                out.append(r"\s+".join(re.escape(w) for w in re.split(r"\s+", p)))
        return "".join(out)

    for m in _STATED.finditer(expected):
        parts.append(literal(expected[pos : m.start()]))
        parts.append(_PRINTED)
        tol = _value(m["tol"]) if m["tol"] else _half_unit(m["num"].replace("−", "-"))
        numbers.append((m.group(0), _value(m["num"]), tol))
        pos = m.end()
    parts.append(literal(expected[pos:]))
    return re.compile("".join(parts), flags=re.S), numbers


def mismatches(expected: str, printed: str) -> list[str]:
    """Why ``printed`` does not show ``expected`` (empty when it does)."""
    pattern, numbers = stated_pattern(expected)
    m = pattern.fullmatch(printed.strip())
    if m is None:
        return [f"printed {printed.strip()!r} does not have the form {expected!r}"]
    out = []
    for (stated, value, tol), got in zip(numbers, m.groups(), strict=True):
        x = float(got)
        if not (math.isfinite(x) and abs(x - value) <= tol * (1 + 1e-9) + 1e-300):
            out.append(f"printed {got}, stated {stated} (|difference| <= {tol:g})")
    return out


def expectations(source: str) -> dict[tuple[int, int], str]:
    """{(first line, last line) of a print call: stated TEXT} from the ``# ... -> TEXT``
    comments of a block; such a comment neither on a print call nor on the line after one
    raises."""
    calls = [
        (n.lineno, n.end_lineno or n.lineno)
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
    ]
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT or "-> " not in tok.string:
            continue
        line = tok.start[0]
        around = [c for c in calls if c[0] <= line <= c[1]]
        if not around and tok.line.strip().startswith("#"):  # a comment line after the call
            around = [c for c in calls if c[1] == line - 1]
        if not around:
            raise AssertionError(f"line {line}: a stated value ({tok.string!r}) needs a print call")
        span = min(around, key=lambda c: c[1] - c[0])
        out[span] = tok.string.split("-> ", 1)[1].strip()
    return out


class _Recorder:
    """A ``print`` for the block's namespace: keeps what each call site printed (by line)."""

    def __init__(self, filename: str):
        self.filename, self.by_line = filename, {}

    def __call__(self, *args, sep=" ", end="\n", file=None, flush=False):
        text = sep.join(str(a) for a in args) + end
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.filename:
            frame = frame.f_back
        if frame is not None and file is None:
            self.by_line.setdefault(frame.f_lineno, []).append(text)
        print(*args, sep=sep, end=end, file=file, flush=flush)


def test_readme_has_examples_and_stated_values():
    assert len(BLOCKS) >= 5
    assert sum(len(expectations(b)) for b in BLOCKS) >= 15


@pytest.mark.parametrize(
    "expected, printed, ok",
    [
        ("-1.2292 4e-05 (96001,)", "-1.2291975864945635 4.298825942217199e-05 (96001,)", True),
        ("-1.2293 4e-05 (96001,)", "-1.2291975864945635 4.298825942217199e-05 (96001,)", False),
        ("-1.2292 4e-05 (96001,)", "-1.2291975864945635 5.298825942217199e-05 (96001,)", False),
        ("-1.2292 4e-05 (96001,)", "-1.2291975864945635 4.298825942217199e-05 (96000,)", False),
        ("[0.0083 1.0 0.0083] fast_sigmoid", "[0.00826446 1.         0.00826446] fast_sigmoid", True),
        ("[0.0083 1.0 0.0083] fast_sigmoid", "[0.00826446 1.         0.00826446] sigmoid", False),
        ("E[L] = 4.5910, dE/da = -5.6376", "E[L] = 4.5910, dE/da = -5.6376", True),
        ("E[L] = 4.5910, dE/da = -5.6376", "E[L] = 4.5911, dE/da = -5.6376", False),
        ("... MC mean 1.00 +- 0.02 ...", "left   MC mean 1.009  var 2.345", True),
        ("... MC mean 1.00 +- 0.02 ...", "left   MC mean 1.029  var 2.345", False),
        ("... 0.0 +- 0", "0.128 0.0", True),
        ("... 0.0 +- 0", "0.128 1e-9", False),
        ("sqrt(2)/beta", "sqrt(2)/beta", True),
        ("sqrt(2)/beta", "sqrt(3)/beta", False),
    ],
)
def test_stated_values_are_compared(expected, printed, ok):
    """The comparison itself: a wrong digit, tolerance, word or shape is caught."""
    assert (mismatches(expected, printed) == []) == ok, mismatches(expected, printed)


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_block_runs_and_prints_what_it_states(i, capsys):
    jax.config.update("jax_enable_x64", True)
    name = f"README.md python block {i + 1}"
    stated = expectations(BLOCKS[i])
    rec = _Recorder(name)
    exec(compile(BLOCKS[i], name, "exec"), {"__name__": f"readme_block_{i + 1}", "print": rec})
    problems = []
    for (first, last), text in stated.items():
        printed = [t for line, ts in rec.by_line.items() if first <= line <= last for t in ts]
        if not printed:
            problems.append(f"lines {first}-{last}: states {text!r} but printed nothing")
        for p in printed:
            problems += [f"lines {first}-{last}: {why}" for why in mismatches(text, p)]
    assert not problems, "\n".join(problems)


def test_stated_values_are_found_on_and_after_print_calls():
    src = "x = 2  # a value, not a statement\nprint(x)  # remark -> 2\n"
    src += "print(\n    x,\n)  # -> 2\nprint(x)\n# -> 2\n"
    assert expectations(src) == {(2, 2): "2", (3, 5): "2", (6, 6): "2"}
    with pytest.raises(AssertionError, match="needs a print call"):
        expectations("x = 2  # x -> 2\n")
    with pytest.raises(AssertionError, match="needs a print call"):
        expectations("x = 2\n# -> 2\n")
