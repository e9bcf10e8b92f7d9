"""Assemble the paper's data file from the result files and typeset it with Typst.

Nothing here computes a result: claim values are read from ``claims.json`` (written by
``sgtheory verify --json``), figure data from ``figures/<name>.json`` (``sgtheory
figures``), speed ratios from ``bench.json`` (``sgtheory bench --json``). Every number the
paper shows is formatted here (:func:`proofs_numeric._registry.format_value`) and handed to
Typst in one file, ``data.json``; the Typst sources in ``paper/`` contain no numbers.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from proofs_numeric._registry import format_value
from proofs_numeric.paper._check import (
    MAX_ERROR_CHARS,
    bench_problem,
    check_sources,
    claim_entries,
    image_problem,
    missing_claim,
)
from proofs_numeric.paper._errors import PaperError
from proofs_numeric.paper._keys import CLAIM_VALUES, FIGURE_KEYS, SECTIONS, describe, dig, error_note
from proofs_numeric.paper._published import published_rows


def _sources() -> Path:
    """The Typst sources (main.typ, template.typ, sections/, refs.bib, published.json): the
    checkout's ``paper/`` next to this package, else ``./paper`` (an installed package run
    from the repository root)."""
    for base in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (base / "paper" / "main.typ").is_file():
            return base / "paper"
    return Path.cwd() / "paper"


SOURCES = _sources()
#: vector first; PNG is the fallback
FIGURE_FORMATS = ("svg", "pdf", "png")
_SOURCE_FILES = ("main.typ", "template.typ", "refs.bib")


def typst_module():
    """The ``typst`` module, or a PaperError saying how to install it."""
    try:
        import typst
    except ImportError as exc:
        raise PaperError('typst is not installed: pip install ".[paper]" (Python package typst)') from exc
    return typst


def read_json(path: Path, what: str) -> dict:
    """A result file as a dict with a ``meta`` block; clear errors when missing or damaged."""
    if path.is_dir():
        raise PaperError(f"{what} {path} is a folder, not a JSON file")
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PaperError(f"{what} {path} is not readable JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("meta"), dict):
        raise PaperError(f"{what} {path} has no provenance 'meta' block (not written by sgtheory)")
    return doc


def figure_names() -> dict[str, str]:
    """Figure name -> file stem (``fig4`` -> ``fig4_loops``)."""
    from figures import available

    return {name: module.split(".", 1)[1] for name, module in available().items()}


def figure_files(fig_dir: Path) -> dict[str, Path | None]:
    """Figure name -> its image (SVG, else PDF, else PNG) in ``fig_dir``, None when absent."""
    out: dict[str, Path | None] = {}
    for name, stem in figure_names().items():
        found = [fig_dir / f"{stem}.{ext}" for ext in FIGURE_FORMATS if (fig_dir / f"{stem}.{ext}").is_file()]
        out[name] = found[0] if found else None
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, list) and len(v) == 1:
        v = v[0]
    if isinstance(v, list) and not v:
        return "none"
    return format_value(v)


def claim_values(claims: dict[str, dict]) -> dict[str, Any]:
    """Raw values named in :data:`CLAIM_VALUES` (None where absent)."""
    return {key: dig(claims.get(name, {}), path) for key, (name, path) in CLAIM_VALUES.items()}


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _derived(raw: dict, figs: dict[str, dict]) -> dict[str, Any]:
    """A few counts and means the prose shows, computed from values read above. Every key
    is always there (None where its inputs are missing or of the wrong kind), so that the
    sources never name a value the data file lacks."""
    out: dict[str, Any] = {}
    seeds = raw.get("randman.seeds")
    out["randman.n_seeds"] = len(seeds) if isinstance(seeds, list) else None
    rows = raw.get("align.rows")
    rows = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else None
    out["align.n_networks"] = len(rows) if rows is not None else None
    ks = [r.get("K") for r in rows or [] if isinstance(r.get("K"), int) and not isinstance(r.get("K"), bool)]
    out["align.max_K"] = max(ks) if ks else None
    cos = [r.get("cos_stoch_matched") for r in rows or [] if isinstance(r.get("cos_stoch_matched"), float)]
    out["align.min_cos_matched"] = min(cos) if cos else None
    for name, keys in FIGURE_KEYS.items():
        for key in keys:
            if key != "caption":  # the caption data goes to the figure entry (error_note)
                out[f"{name}.{key}"] = figs.get(name, {}).get(key)
    seeds7 = figs.get("fig7", {}).get("seeds")
    out["fig7.n_seeds"] = len(seeds7) if isinstance(seeds7, list) else None
    sweeps5 = figs.get("fig5", {}).get("claim_numbers")
    beta_b = raw.get("flip.b.beta_sg")
    out["fig5.same_as_claim"] = None
    if isinstance(sweeps5, dict) and _number(beta_b):
        sweep = sweeps5.get(str(float(beta_b)))
        drawn = sweep.get("sg_zero_crossings") if isinstance(sweep, dict) else None
        claimed = raw.get("flip.b.sg_zero_crossings")
        if isinstance(drawn, list) and isinstance(claimed, list) and all(map(_number, drawn + claimed)):
            out["fig5.same_as_claim"] = len(drawn) == len(claimed) and all(
                abs(a - b) < 1e-9 for a, b in zip(drawn, claimed, strict=True)
            )
    align9 = figs.get("fig9", {}).get("align")
    out["fig9.n_ref"] = align9.get("n_ref") if isinstance(align9, dict) else None
    return out


def value_names() -> set[str]:
    """The names of every value the data file holds (``#val("...")`` in the sources)."""
    return set(CLAIM_VALUES) | set(_derived({}, {}))


_RATIO_WORDS = {"ratio", "ratios", "speedup", "over", "vs"}


def _is_ratio(path: list[str]) -> bool:
    """A speed ratio: the key (or its parent's) has a word ratio / speedup / over / vs."""
    words = lambda key: set(re.split(r"[_\s]+", key.lower()))
    return bool(words(path[-1]) & _RATIO_WORDS) or (len(path) > 1 and "ratios" in words(path[-2]))


def _bench_rows(bench: dict) -> list[dict]:
    """Speed ratios of each benchmark (see :func:`_is_ratio`), formatted."""
    rows: list[dict] = []

    def walk(name: str, obj: Any, path: list[str]) -> None:
        if isinstance(obj, dict) and len(path) < 3:
            for k, v in obj.items():
                walk(name, v, [*path, str(k)])
        elif isinstance(obj, (int, float)) and not isinstance(obj, bool) and path and _is_ratio(path):
            rows.append({"benchmark": name, "quantity": " / ".join(path), "value": format_value(obj, 3)})

    for name, res in bench.items():
        if name != "meta":
            walk(name, res, [])
    return rows


def _claim_row(c: dict) -> dict:
    from proofs_numeric._registry import criterion

    details = c.get("details") or {}
    error = " ".join(str(details.get("error") or "").split())
    if len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 3] + "..."
    return {
        "name": c["name"],
        "statement": c.get("statement") or "",
        "criterion": criterion(details),
        "measured": format_value(c.get("measured")),
        "reference": format_value(c.get("reference")),
        "tolerance": format_value(c.get("tolerance")),
        "passed": c["passed"] is True,
        "seconds": format_value(c.get("seconds"), 2),
        "error": error,
    }


def _provenance(meta: dict, metas: dict[str, dict | None], *, preview: bool, omitted: list[str]) -> dict:
    commit = meta.get("commit")
    return {
        "version": str(meta.get("version")),
        "commit": str(commit)[:12] if commit else "unknown (not run from a git checkout)",
        "date": str(meta.get("time_utc")),
        "profile": str(meta.get("profile")),
        "machine": f"JAX {meta.get('jax')}, backend {meta.get('backend')}, "
        f"{meta.get('device_count')} device(s)",
        "double": "on" if meta.get("x64") else "off",
        "preview": preview,
        "omitted": omitted,
        "sources": [
            {
                "file": what,
                "version": str(m.get("version")),
                "commit": str(m.get("commit") or "unknown")[:12],
                "date": str(m.get("time_utc")),
                "profile": str(m.get("profile")),
                "machine": f"{m.get('backend')} x {m.get('device_count')}",
                "double": "on" if m.get("x64") else "off",
            }
            for what, m in metas.items()
            if m is not None
        ],
    }


def _claims(claims_doc: dict, preview: bool, label: str) -> dict[str, dict]:
    """The checked claim entries by name; a registered claim the file lacks is an error,
    or with ``preview`` a failed row saying it was not run."""
    from proofs_numeric._registry import claims as registered

    claims = claim_entries(claims_doc, label)
    lacking = [c for name, c in registered().items() if name not in claims]
    if lacking and not preview:
        raise PaperError(
            f"{label} lacks claim(s) {', '.join(c.name for c in lacking)}: run sgtheory verify --json FILE "
            "(or build a preview that shows them as not run: --preview)"
        )
    return claims | {c.name: missing_claim(c.name, c.statement) for c in lacking}


def _figures(fig_dir: Path, metas: dict, preview: bool) -> tuple[dict[str, Path | None], dict, dict]:
    """Each figure's image (None: drawn as a placeholder), data and why it is omitted; a
    missing or damaged figure is an error unless ``preview``."""
    files = figure_files(fig_dir)
    missing = [n for n, p in files.items() if p is None]
    if missing and not preview:
        raise PaperError(
            f"figure(s) {', '.join(missing)} missing in {fig_dir}: run sgtheory figures --out {fig_dir} "
            "(or build a preview with placeholders: --preview)"
        )
    figs: dict[str, dict] = {}
    omitted: dict[str, str | None] = dict.fromkeys(missing)
    for name, stem in figure_names().items():
        p = fig_dir / f"{stem}.json"
        problem = None
        if p.is_file():
            try:
                doc = read_json(p, f"figure data {name}")
            except PaperError as exc:
                problem = str(exc)
            else:
                lacking = [k for k in FIGURE_KEYS.get(name, ()) if k not in doc]
                if lacking:
                    keys = ", ".join(lacking)
                    problem = f"figure data {name} {p} lacks key(s) {keys} (written by another version?)"
                figs[name] = doc
                metas[f"figures/{stem}.json"] = doc["meta"]
        elif not preview:
            raise PaperError(f"figure data {p} missing: run sgtheory figures --out {fig_dir}")
        image = files[name]
        if problem is None and image is not None:
            problem = image_problem(image)
        if problem is not None:
            if not preview:
                raise PaperError(f"{problem}: run sgtheory figures {name} --out {fig_dir} (or --preview)")
            omitted[name] = problem
            files[name] = None
    return files, figs, omitted


def assemble(
    claims_doc: dict,
    bench_doc: dict | None,
    fig_dir: Path,
    *,
    preview: bool = False,
    sources: Path = SOURCES,
    results: Path | None = None,
) -> dict:
    """The paper's data file (a dict of formatted strings, lists and flags), from inputs
    checked first (:mod:`proofs_numeric.paper._check`): a PaperError names the file and
    field that is wrong. A claim that crashed is shown as a failed row with its error.

    Missing or damaged figures, a missing bench file and claims the claims file lacks raise
    a PaperError unless ``preview`` (figures are then listed in ``provenance.omitted`` and
    drawn as labelled placeholders, absent claims shown as failed rows). ``results``: the
    folder the claims and bench files were read from (named in the messages)."""
    check_sources(sources, value_names())
    label = lambda name: str(Path(results) / name) if results is not None else name
    claims = _claims(claims_doc, preview, label("claims.json"))
    if bench_doc is None and not preview:
        raise PaperError("bench results missing: run sgtheory bench --json FILE (or --preview)")
    bench = _bench_rows(bench_doc or {})
    if bench_doc is not None and (problem := bench_problem(bench_doc, bench)) is not None:
        raise PaperError(f"{label('bench.json')} {problem}")
    metas: dict[str, dict | None] = {
        "claims.json": claims_doc["meta"],
        "bench.json": (bench_doc or {}).get("meta"),
    }
    files, figs, omitted = _figures(fig_dir, metas, preview)
    values = claim_values(claims)
    raw = values | _derived(values, figs)
    spec = json.loads((sources / "published.json").read_text(encoding="utf-8"))
    sections = {sec: [_claim_row(claims[n]) for n in names if n in claims] for sec, names in SECTIONS.items()}
    listed = {n for names in SECTIONS.values() for n in names}
    sections["other"] = [_claim_row(c) for n, c in claims.items() if n not in listed]
    failed = [n for n, c in claims.items() if c["passed"] is not True]
    omitted_text = [n if omitted[n] is None else f"{n} ({omitted[n]})" for n in files if n in omitted]
    return {
        "provenance": _provenance(claims_doc["meta"], metas, preview=preview, omitted=omitted_text),
        "summary": {
            "passed": str(len(claims) - len(failed)),
            "total": str(len(claims)),
            "failed": failed,
        },
        "sections": sections,
        "values": {k: _fmt(v) for k, v in raw.items()},
        "figures": {
            n: {
                "file": f"figures/{p.name}" if p else None,
                "label": n,
                "errors": error_note(figs.get(n, {}).get("caption")),
            }
            for n, p in files.items()
        },
        "bench": bench,
        "published": published_rows(spec, raw),
        "read_from": {k: describe(name, path) for k, (name, path) in CLAIM_VALUES.items()},
    }


def typeset(data: dict, fig_dir: Path, out_pdf: Path, *, sources: Path = SOURCES) -> Path:
    """Write ``data.json`` and the sources into ``<out_pdf folder>/build``, copy the figures
    there and compile ``out_pdf`` with Typst. Returns ``out_pdf``."""
    typst = typst_module()
    check_sources(sources)
    build = Path(out_pdf).parent / "build"
    if build.exists():
        shutil.rmtree(build)
    (build / "figures").mkdir(parents=True)
    for name in _SOURCE_FILES:
        shutil.copy2(sources / name, build / name)
    shutil.copytree(sources / "sections", build / "sections")
    for entry in data["figures"].values():
        if entry["file"]:
            shutil.copy2(fig_dir / Path(entry["file"]).name, build / entry["file"])
    (build / "data.json").write_text(json.dumps(data, indent=1))
    out_pdf = Path(out_pdf)
    tmp = out_pdf.with_name(out_pdf.name + ".part")
    try:
        typst.compile(str(build / "main.typ"), output=str(tmp), root=str(build))
    except Exception as exc:  # Typst's own errors (typst.TypstError, ...): one line, no traceback
        tmp.unlink(missing_ok=True)
        message = " ".join(str(exc).split())[:500]
        raise PaperError(f"Typst failed on {build / 'main.typ'}: {message}") from None
    tmp.replace(out_pdf)
    return out_pdf


def build_paper(
    results: Path, out_pdf: Path | None = None, *, preview: bool = False, sources: Path = SOURCES
) -> Path:
    """Typeset ``results/paper.pdf`` (or ``out_pdf``) from ``results/claims.json``,
    ``results/bench.json`` and ``results/figures/``. See :func:`assemble` for ``preview``."""
    results = Path(results)
    typst_module()
    check_sources(sources, value_names())
    claims_doc = read_json(results / "claims.json", "claims file")
    bench_path = results / "bench.json"
    bench_doc = read_json(bench_path, "bench file") if (bench_path.is_file() or not preview) else None
    data = assemble(
        claims_doc, bench_doc, results / "figures", preview=preview, sources=sources, results=results
    )
    return typeset(
        data, results / "figures", Path(out_pdf) if out_pdf else results / "paper.pdf", sources=sources
    )
