"""The paper's Typst sources hold no numbers: every number comes from the data file.

Section prose and ``main.typ`` may contain digits only in citation keys and labels, in the
names of values they show (``#val("loop.a.beta_sg")``) and, inside equations, the structural
constants 0, 1 and 2 (``1 - p``, ``2^K``, subscripts). The layout template may in addition
hold layout lengths (``11pt``, ``1fr``, ``40%``), grey levels (``luma(200)``) and numbering
patterns (``"1.1"``, ``"(1)"``, and ``"A.1"`` with the reset ``counter(heading).update(0)``
for the appendices), the paper size, heading levels and the header row (``y == 0``)."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import REPO_ROOT

PAPER = REPO_ROOT / "paper"
PROSE = sorted((PAPER / "sections").glob("*.typ")) + [PAPER / "main.typ"]

_COMMENT = re.compile(r"//[^\n]*")
_NAMED = re.compile(r'(?:val|fig|claims-table|include|bibliography|json|image)\(?\s*"[^"\n]*"')
_REF = re.compile(r"@[A-Za-z][\w-]*|<[A-Za-z][\w-]*>|#include\s+\"[^\"]*\"")
_MATH = re.compile(r"\$[^$]*\$")
_LAYOUT = re.compile(
    r"\b\d+(?:\.\d+)?(?:pt|em|cm|mm|fr|%)|luma\(\d+\)|\"\(?1(?:\.1)?\)?\""
    r"|\"a4\"|\"A\.1\"|counter\(heading\)\.update\(0\)|level: [12]\b|depth: 2\b|y == 0\b"
)


def numbers_in_prose(text: str) -> list[str]:
    """The digits left in ``text`` once the allowed places are removed (see module doc)."""
    text = _REF.sub(" ", _NAMED.sub(" ", _COMMENT.sub(" ", text)))
    found = []
    for m in _MATH.finditer(text):
        found += [d for d in re.findall(r"\d+(?:\.\d+)?", m.group()) if d not in ("0", "1", "2")]
    return found + re.findall(r"\d+(?:\.\d+)?", _MATH.sub(" ", text))


@pytest.mark.parametrize("path", PROSE, ids=lambda p: p.name)
def test_section_prose_has_no_numbers(path):
    assert numbers_in_prose(path.read_text()) == [], path


def test_template_holds_layout_numbers_only():
    text = _LAYOUT.sub(" ", (PAPER / "template.typ").read_text())
    assert numbers_in_prose(text) == []


@pytest.mark.parametrize(
    "text, bad",
    [
        ("accuracy of 0.95 on SHD", ["0.95"]),
        ('a gap of #val("randman.gap") @gygax2025 <sec-x>', []),
        ("$ 2^K $ and $ x_3 $", ["3"]),
        ("in 2025 they", ["2025"]),
        ("#text(size: 9pt)[x]", ["9"]),
    ],
)
def test_number_scanner(text, bad):
    assert numbers_in_prose(text) == bad


def test_published_rows_name_a_source_for_every_number():
    spec = json.loads((PAPER / "published.json").read_text())
    for row in spec["rows"]:
        assert {"id", "quantity", "source", "published", "number_source", "statement", "values"} <= set(row)
        assert (row["published"] is None) == (row["number_source"] is None), row["id"]
