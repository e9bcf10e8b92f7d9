"""Checks of the paper's inputs, run before anything is computed or typeset.

Every check names the file (and the field) it refuses, in one line:

* :func:`check_sources`: the Typst sources (``main.typ`` and every file it includes,
  ``template.typ``, ``refs.bib``, ``published.json``), and that every value the prose
  shows (``#val("...")``) is one the builder writes;
* :func:`claim_entries`: ``claims.json`` entry by entry (a name, ``passed`` a real boolean,
  ``details`` an object, an ``error`` a string);
* :func:`bench_problem`: ``bench.json`` holds benchmarks and speed ratios;
* :func:`image_problem`: a figure's image parses (SVG as XML, PNG and PDF complete) and
  Typst can draw it.

A crashed claim (``passed: false`` with ``details.error``, as ``sgtheory verify`` records
an exception) is valid input: the paper shows it as a failed row with its error.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from proofs_numeric.paper._errors import PaperError

#: the files the sources need besides those main.typ includes
SOURCE_FILES = ("main.typ", "template.typ", "refs.bib", "published.json")
_INCLUDE = re.compile(r'#include\s+"([^"\n]+)"|bibliography\(\s*"([^"\n]+)"|json\(\s*"([^"\n]+)"')
_VAL = re.compile(r'\bval\("([^"\n]+)"\)')
#: longest error text of a crashed claim shown in its row
MAX_ERROR_CHARS = 300


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(v: Any) -> str:
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "a list"}.get(
        type(v), "null" if v is None else "an object" if isinstance(v, dict) else type(v).__name__
    )


def _resolve(sources: Path, here: Path, name: str) -> Path:
    return sources / name.lstrip("/") if name.startswith("/") else here.parent / name


def check_sources(sources: Path, value_names: set[str] | None = None) -> None:
    """PaperError naming what is missing or unknown in the Typst sources at ``sources``:
    the files of :data:`SOURCE_FILES`, every file reached by ``#include`` or
    ``bibliography(...)`` from ``main.typ``, ``published.json`` (parsed, and its rows
    matched with the verdict rules) and, given ``value_names``, the names of the values
    the sources show."""
    from proofs_numeric.paper._published import published_rows

    sources = Path(sources)
    missing = [name for name in SOURCE_FILES if not (sources / name).is_file()]
    if missing:
        raise PaperError(
            f"Typst sources missing in {sources}: {', '.join(missing)} "
            "(run from the root of a checkout of the repository)"
        )
    seen: set[Path] = set()
    todo = [sources / "main.typ"]
    shown: dict[str, Path] = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PaperError(f"Typst source {path} is not readable ({_one_line(exc)})") from None
        for name in _VAL.findall(text):
            shown.setdefault(name, path)
        for m in _INCLUDE.finditer(text):
            target = _resolve(sources, path, next(g for g in m.groups() if g))
            if target.name == "data.json":  # written by the builder
                continue
            if not target.is_file():
                raise PaperError(f"Typst source {target} missing (named in {path})")
            if target.suffix == ".typ":
                todo.append(target)
    try:
        spec = json.loads((sources / "published.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PaperError(f"{sources / 'published.json'} is not readable JSON ({_one_line(exc)})") from None
    if not isinstance(spec, dict):
        raise PaperError(f"{sources / 'published.json'} must hold an object with a 'rows' list")
    if value_names is not None:
        unknown = sorted(n for n in shown if n not in value_names)
        if unknown:
            raise PaperError(
                f"Typst source {shown[unknown[0]]} shows value(s) the builder does not write: "
                f"{', '.join(unknown)} (add them in proofs_numeric/paper/_keys.py)"
            )
        try:
            rows = published_rows(spec, dict.fromkeys(value_names))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PaperError(f"{sources / 'published.json'}: {_one_line(exc)}") from None
        for r in rows:
            bad = [k for k in ("quantity", "source", "statement") if not isinstance(r.get(k), str)]
            if bad:
                raise PaperError(
                    f"{sources / 'published.json'} row {r.get('id')!r}: {bad[0]} must be a string"
                )


def claim_entries(doc: dict, path: Path | str = "claims.json") -> dict[str, dict]:
    """The entries of a claims file by name, after checking each one: a PaperError names
    the file, the entry and the field that is wrong. A claim that crashed (``passed``
    false, ``details.error`` a string) is valid."""
    claims = doc.get("claims")
    if not isinstance(claims, list):
        raise PaperError(f"{path}: 'claims' must be a list of claim results (write it with sgtheory verify)")
    out: dict[str, dict] = {}
    for i, c in enumerate(claims):
        where = f"{path}: claims[{i}]"
        if not isinstance(c, dict):
            raise PaperError(f"{where} must be an object, got {_kind(c)}")
        name = c.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PaperError(f"{where}.name must be a non-empty string, got {name!r}")
        where = f"{path}: claim {name!r}"
        if name in out:
            raise PaperError(f"{where} is listed twice")
        passed = c.get("passed")
        if "passed" not in c:
            raise PaperError(f"{where}: field 'passed' missing")
        if not isinstance(passed, bool):
            raise PaperError(
                f"{where}: field 'passed' must be true or false, got {passed!r} ({_kind(passed)})"
            )
        details = c.get("details", {})
        if details is not None and not isinstance(details, dict):
            raise PaperError(f"{where}: field 'details' must be an object, got {_kind(details)}")
        error = (details or {}).get("error")
        if error is not None and not isinstance(error, str):
            raise PaperError(f"{where}: field 'details.error' must be a string, got {_kind(error)}")
        if passed and error:
            raise PaperError(f"{where} has passed true and an error ({_one_line(error, 120)})")
        for key in ("statement",):
            if c.get(key) is not None and not isinstance(c.get(key), str):
                raise PaperError(f"{where}: field {key!r} must be a string, got {_kind(c.get(key))}")
        seconds = c.get("seconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))):
            raise PaperError(f"{where}: field 'seconds' must be a number, got {_kind(seconds)}")
        out[name] = c
    return out


def missing_claim(name: str, statement: str) -> dict:
    """A failed stand-in for a claim the claims file lacks (shown with --preview)."""
    return {
        "name": name,
        "statement": statement,
        "measured": None,
        "reference": None,
        "tolerance": None,
        "passed": False,
        "details": {"error": "not in claims.json (this claim was not run)"},
    }


def bench_problem(doc: dict, rows: list[dict]) -> str | None:
    """Why a bench file (read, ``rows``: its speed ratios) cannot be shown."""
    bad = [k for k, v in doc.items() if k != "meta" and not isinstance(v, dict)]
    if bad:
        return f"entry {bad[0]!r} is {_kind(doc[bad[0]])}, not a benchmark's results (an object)"
    if not rows:
        return "holds no speed ratios (write it with sgtheory bench --json FILE)"
    return None


def _structure_problem(path: Path) -> str | None:
    data = path.read_bytes()
    ext = path.suffix.lower()
    if not data:
        return "is empty"
    if ext == ".svg":
        import xml.etree.ElementTree as ET

        try:
            root = ET.fromstring(data)
        except ET.ParseError as exc:
            return f"is not valid SVG ({exc})"
        if root.tag.rsplit("}", 1)[-1] != "svg":
            return f"is not SVG (its root element is <{root.tag}>)"
    elif ext == ".png":
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            return "is not a PNG image"
        if b"IEND" not in data[-12:]:
            return "is a truncated PNG image (no IEND chunk at its end)"
    elif ext == ".pdf":
        if not data.startswith(b"%PDF-"):
            return "is not a PDF file"
        if b"%%EOF" not in data[-1024:]:
            return "is a truncated PDF file (no %%EOF at its end)"
    return None


def image_problem(path: Path) -> str | None:
    """Why the figure image at ``path`` cannot be drawn (None when it can): it does not
    parse, or Typst fails on it (a tiny document with only the image is compiled; skipped
    when typst is not installed)."""
    try:
        problem = _structure_problem(path)
    except OSError as exc:
        problem = f"is not readable ({_one_line(exc)})"
    try:
        import typst
    except ImportError:  # structure checked; typst itself is checked before any build
        return None if problem is None else f"figure image {path} {problem}"
    if problem is None:
        with tempfile.TemporaryDirectory() as tmp:
            img = Path(tmp) / f"image{path.suffix.lower()}"
            img.write_bytes(path.read_bytes())
            (Path(tmp) / "main.typ").write_text(f'#image("{img.name}", width: 10cm)\n')
            try:
                typst.compile(str(Path(tmp) / "main.typ"), root=tmp)
            except Exception as exc:  # any Typst failure on the image is the image's problem
                message = _one_line(exc, 200).replace(tmp, str(path.parent))
                problem = f"cannot be drawn by Typst ({message})"
    return None if problem is None else f"figure image {path} {problem}"
