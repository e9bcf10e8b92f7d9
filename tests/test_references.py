"""Every file the sources mention is in the repository, and nothing cites what a clone lacks.

Scanned: the ``.py``, ``.md``, ``.typ``, ``.json`` and ``.toml`` files under analysis/,
proofs_numeric/, figures/, paper/ and tests/ (test fixtures excepted: they hold recorded run
output), README.md and pyproject.toml. Checked:

* no reference to the internal notes a clone does not have (the theory and design notes
  and the shared folder next to the checkout: see ``_NOTES``); the theory is cited from the
  published paper (Gygax & Zenke 2025) or from the reproduction paper's appendix, paper/sections/theory.typ;
* every path written in the text whose first folder is one of the repository's own
  (``analysis/...``, ``tests/...``, ``paper/...``, ...) and every upper-case ``NAME.md``
  exists (relative to the repository root, to the mentioning file's folder or, for Typst
  sources, to paper/); paths of run output (``out/...``, ``DIR/...``) are not the
  repository's and are not checked;
* no issue-tracker numbers ("issue 11", "(issue 6, part 4)") in analysis/, proofs_numeric/
  and figures/: a reader of the code has no access to the tracker.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

SCANNED_DIRS = ("analysis", "proofs_numeric", "figures", "paper", "tests")
SUFFIXES = (".py", ".md", ".typ", ".json", ".toml")
CODE_DIRS = ("analysis", "proofs_numeric", "figures")
OWN_FOLDERS = ("analysis", "proofs_numeric", "figures", "paper", "tests", ".ci", "sections")

# spelled in parts so that this scanner does not itself mention the notes it refuses
_THEORY, _DESIGN, _SHARED = "THEORY" + ".md", "DESIGN" + ".md", ".." + "/shared"
_NOTES = (_THEORY, _DESIGN, _SHARED, "/work" + "/shared")
_FORBIDDEN = re.compile("|".join(re.escape(n) for n in _NOTES))
_PATH = re.compile(
    r"(?<![\w./-])((?:\.\.?/)*(?:[\w.-]+/)+[\w.-]+\.(?:md|py|typ|json|npz|toml|bib)|[A-Z][A-Z_]*\.md)\b"
)
_ISSUE = re.compile(r"\bissues?\s*(?:#|no\.\s*)?\d+|\(issue\b", re.IGNORECASE)


_SOURCE_SUFFIXES = (".py", ".md", ".typ", ".toml")
_OUTPUT_SUFFIXES = (".json", ".svg", ".png", ".pdf", ".npz")


def scanned_files(root: Path = REPO_ROOT) -> list[Path]:
    files = [root / "README.md", root / "pyproject.toml"]
    for d in SCANNED_DIRS:
        files += [
            p
            for p in sorted((root / d).rglob("*"))
            if p.suffix in SUFFIXES and p.is_file() and "fixtures" not in p.relative_to(root).parts
        ]
    return files


def forbidden_references(text: str) -> list[str]:
    """The mentions of notes that are not in the repository."""
    return _FORBIDDEN.findall(text)


def missing_paths(text: str, where: Path, root: Path = REPO_ROOT) -> list[str]:
    """Paths mentioned in ``text`` (a file in folder ``where``) that should be in the
    repository and are not."""
    missing = []
    for m in _PATH.finditer(text):
        path = m.group(1)
        first = path.lstrip("./").split("/")[0]
        upper_md = "/" not in path
        suffix = Path(path).suffix
        if path.startswith("../"):
            if suffix in _SOURCE_SUFFIXES:
                missing.append(path)  # a source outside the repository
            continue  # a data file relative to a run folder
        if not (upper_md or first in OWN_FOLDERS):
            continue  # run output (out/..., DIR/...), not the repository's
        if first == "figures" and suffix in _OUTPUT_SUFFIXES:
            continue  # what `sgtheory figures` writes into <out>/figures/ (the repo's hold scripts)
        candidates = [root / path, where / path, root / "paper" / path]
        if not any(c.exists() for c in candidates):
            missing.append(path)
    return missing


def issue_numbers(text: str) -> list[str]:
    return _ISSUE.findall(text)


def _rel(p: Path) -> str:
    return p.relative_to(REPO_ROOT).as_posix()


def test_no_reference_to_notes_outside_the_repository():
    found = {}
    for p in scanned_files():
        if p == Path(__file__).resolve():
            continue
        if refs := forbidden_references(p.read_text(errors="replace")):
            found[_rel(p)] = refs
    assert found == {}


def test_every_mentioned_repository_file_exists():
    found = {}
    for p in scanned_files():
        if p == Path(__file__).resolve():
            continue
        if bad := missing_paths(p.read_text(errors="replace"), p.parent):
            found[_rel(p)] = bad
    assert found == {}


def test_no_issue_numbers_in_the_code():
    found = {}
    for p in scanned_files():
        if _rel(p).split("/")[0] in CODE_DIRS:
            if hits := issue_numbers(p.read_text(errors="replace")):
                found[_rel(p)] = hits
    assert found == {}


def test_the_scan_covers_the_sources():
    names = {_rel(p) for p in scanned_files()}
    assert {"README.md", "paper/main.typ", "paper/sections/theory.typ", "analysis/_validate.py"} <= names
    assert "paper/published.json" in names and not any("fixtures" in n for n in names)


@pytest.mark.parametrize(
    "text, forbidden, missing",
    [
        (f"see {_THEORY} sec. 4", [_THEORY], [_THEORY]),
        ("as DESIGN.md says", ["DESIGN.md"], ["DESIGN.md"]),
        (f"from {_SHARED}/notes.md", [_SHARED], [f"{_SHARED}/notes.md"]),
        ("the schema in analysis/stochastic/_netspec.py", [], []),
        ("the schema in analysis/stochastic/_nospec.py", [], ["analysis/stochastic/_nospec.py"]),
        ("tests/cli/test_lazy_imports.py checks it", [], ["tests/cli/test_lazy_imports.py"]),
        ('#include "sections/theory.typ"', [], []),
        ('#include "sections/nothing.typ"', [], ["sections/nothing.typ"]),
        ("writes out/claims.json and DIR/build/data.json", [], []),
        ("README.md and CHANGES.md", [], ["CHANGES.md"]),
    ],
)
def test_scanner_catches_planted_references(text, forbidden, missing):
    assert forbidden_references(text) == forbidden
    assert missing_paths(text, REPO_ROOT / "paper") == missing


@pytest.mark.parametrize(
    "text, hits",
    [
        ("Recurrent part (issue 11): the", True),
        ('"""Claim (issue 6, part 4): in', True),
        ("Benchmark (issue 4, Speed).", True),
        ("fixed in issue #12", True),
        ("see issues 3 and 4", True),
        ("the issue's network", False),
        ("no issue here; a tissue 5", False),
    ],
)
def test_issue_scanner_catches_planted_numbers(text, hits):
    assert bool(issue_numbers(text)) == hits
