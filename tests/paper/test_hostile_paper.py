"""Hostile inputs for ``sgtheory paper``: damaged, stale and foreign result files, and
missing or broken Typst sources.

Every case copies the committed fixture (tests/fixtures/paper) to a temporary folder,
damages it and runs ``sgtheory paper --from`` in-process (nothing is computed). A case
either builds (exit 0, a PDF, and the data file shows what was wrong: a crashed claim as a
failed row counted as failed, a damaged figure as a labelled placeholder) or is refused
(exit 2, one line naming the file and field, no traceback). None ends in a Typst or
Python traceback, and none builds a paper that shows a damaged input as fine.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, assert_one_line_error, run_cli

typst = pytest.importorskip("typst")

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "paper"
#: the claims that failed in the quick run the fixture was made from (in claims.json order)
FIXTURE_FAILED = [
    c["name"] for c in json.loads((FIXTURE / "claims.json").read_text())["claims"] if not c["passed"]
]
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'
#: what verify records for a claim that raised (with Typst markup characters in it)
ERROR = "RuntimeError('boom in fields_stokes: $x #f() @ref <l> [b] \\')"


def _stems() -> dict[str, str]:
    from proofs_numeric.paper._build import figure_names

    return figure_names()


def _edit(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _results(tmp_path: Path, fresh: bool) -> Path:
    """The fixture in tmp_path/res; ``fresh``: today's time stamps and an SVG per figure
    (everything a build without --preview accepts)."""
    res = tmp_path / "res"
    shutil.copytree(FIXTURE, res)
    if fresh:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for p in [res / "claims.json", res / "bench.json", *(res / "figures").glob("*.json")]:
            _edit(p, lambda d: d["meta"].update(time_utc=now))
        for stem in _stems().values():
            (res / "figures" / f"{stem}.svg").write_text(SVG)
    return res


def _claim(doc: dict, name: str = "fields_stokes") -> dict:
    return next(c for c in doc["claims"] if c["name"] == name)


# --- damage: each takes the results folder -----------------------------------------------


def crash(res: Path) -> None:
    """What sgtheory verify records when a claim raises."""

    def change(doc):
        _claim(doc).update(
            measured=None,
            reference=None,
            tolerance=None,
            passed=False,
            details={"error": ERROR, "traceback": "Traceback (most..."},
        )

    _edit(res / "claims.json", change)


def drop_claim(res: Path) -> None:
    _edit(res / "claims.json", lambda d: d["claims"].remove(_claim(d)))


def claim_field(field: str, value):
    return lambda res: _edit(res / "claims.json", lambda d: _claim(d).__setitem__(field, value))


def detail(field: str, value):
    return lambda res: _edit(res / "claims.json", lambda d: _claim(d)["details"].__setitem__(field, value))


def claims_doc(change):
    return lambda res: _edit(res / "claims.json", change)


def write(rel: str, text: str | bytes):
    def damage(res: Path) -> None:
        p = res / rel
        p.write_bytes(text) if isinstance(text, bytes) else p.write_text(text)

    return damage


def meta(rel: str, **fields):
    return lambda res: _edit(res / rel, lambda d: d["meta"].update(fields))


def fig_json(rel: str, change):
    return lambda res: _edit(res / "figures" / rel, change)


def remove(rel: str):
    return lambda res: (res / rel).unlink()


TRUNCATED_SVG = SVG[:30]
_PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"

# (id, damage, preview, regex of the one-line error)
REFUSED = [
    # claims.json: entries
    (
        "passed-string",
        claim_field("passed", "false"),
        True,
        r"'fields_stokes': field 'passed' .* 'false' \(a string\)",
    ),
    (
        "passed-string-true",
        claim_field("passed", "true"),
        False,
        r"--from: .*claims\.json: claim 'fields_stokes': field 'passed' .* got 'true'",
    ),
    (
        "passed-number",
        claim_field("passed", 1),
        True,
        r"field 'passed' must be true or false, got 1 \(a number\)",
    ),
    ("passed-null", claim_field("passed", None), True, r"field 'passed' .* got None \(null\)"),
    (
        "passed-absent",
        lambda r: _edit(r / "claims.json", lambda d: _claim(d).pop("passed")),
        True,
        r"'fields_stokes': field 'passed' missing",
    ),
    (
        "name-missing",
        claim_field("name", ""),
        True,
        r"claims\.json: claims\[\d+\]\.name must be a non-empty string",
    ),
    ("name-number", claims_doc(lambda d: d["claims"][0].update(name=3)), True, r"claims\[0\]\.name .* got 3"),
    (
        "name-twice",
        claims_doc(lambda d: d["claims"].append(dict(d["claims"][0]))),
        True,
        r"claim 'alignment_matched_surrogate' is listed twice",
    ),
    (
        "entry-not-object",
        claims_doc(lambda d: d["claims"].append("x")),
        True,
        r"claims\[\d+\] must be an object, got a string",
    ),
    ("claims-not-list", claims_doc(lambda d: d.update(claims={})), True, r"'claims' must be a list"),
    ("details-list", claim_field("details", [1]), True, r"field 'details' must be an object, got a list"),
    ("error-number", detail("error", 7), True, r"field 'details\.error' must be a string, got a number"),
    ("passed-with-error", detail("error", "ValueError('x')"), True, r"has passed true and an error"),
    ("statement-number", claim_field("statement", 5), True, r"field 'statement' must be a string"),
    ("seconds-text", claim_field("seconds", "fast"), True, r"field 'seconds' must be a number"),
    (
        "claim-missing",
        drop_claim,
        False,
        r"claims\.json: lacks claim\(s\) fields_stokes \(rerun, or use --preview\)",
    ),
    # claims.json: the file
    (
        "claims-truncated",
        write("claims.json", '{"meta": {'),
        True,
        r"claims file .*claims\.json is not readable JSON",
    ),
    ("claims-top-list", write("claims.json", "[]"), True, r"claims\.json has no provenance 'meta' block"),
    ("claims-nested", write("claims.json", "[" * 100_000), True, r"claims\.json is not readable JSON"),
    ("claims-binary", write("claims.json", b"\xff\xfe\x00"), True, r"claims\.json is not readable JSON"),
    ("claims-missing", remove("claims.json"), True, r"claims file not found: .*claims\.json"),
    (
        "claims-folder",
        lambda r: (remove("claims.json")(r), (r / "claims.json").mkdir()),
        True,
        r"claims file .*claims\.json is a folder, not a JSON file",
    ),
    (
        "claims-other-profile",
        meta("claims.json", profile="full"),
        False,
        r"claims\.json: profile 'full', not 'quick'",
    ),
    (
        "claims-old",
        meta("claims.json", time_utc="2020-01-01T00:00:00+00:00"),
        False,
        r"claims\.json: .* days old",
    ),
    (
        "claims-future",
        meta("claims.json", time_utc="2999-01-01T00:00:00"),
        False,
        r"claims\.json: .* in the future",
    ),
    (
        "claims-bad-time",
        meta("claims.json", time_utc="yesterday"),
        False,
        r"claims\.json: no valid time stamp",
    ),
    # bench.json
    (
        "bench-other-profile",
        meta("bench.json", profile="full"),
        False,
        r"bench\.json: profile 'full', not 'quick'",
    ),
    (
        "bench-other-version",
        meta("bench.json", version="0.0.1"),
        False,
        r"bench\.json: written by version 0\.0\.1",
    ),
    (
        "bench-old",
        meta("bench.json", time_utc="2001-01-01T00:00:00+00:00"),
        False,
        r"bench\.json: .* days old",
    ),
    ("bench-no-meta", write("bench.json", '{"snn": {}}'), False, r"bench\.json: no provenance block"),
    (
        "bench-truncated",
        write("bench.json", '{"meta": '),
        True,
        r"bench file .*bench\.json is not readable JSON",
    ),
    ("bench-missing", remove("bench.json"), False, r"bench\.json: missing"),
    (
        "bench-no-ratios",
        write("bench.json", '{"meta": {}, "snn": {"s": 1.0}}'),
        True,
        r"holds no speed ratios",
    ),
    (
        "bench-entry-list",
        fig_json("../bench.json", lambda d: d.update(snn=[1])),
        True,
        r"entry 'snn' is a list",
    ),
    # figures: stale, foreign, damaged (without --preview)
    (
        "fig-truncated-svg",
        write("figures/fig1_neuron.svg", TRUNCATED_SVG),
        False,
        r"fig1_neuron\.svg is not valid SVG",
    ),
    (
        "fig-svg-not-svg",
        write("figures/fig2_multilayer.svg", "<html/>"),
        False,
        r"is not SVG \(its root element",
    ),
    (
        "fig-svg-bad-link",
        write(
            "figures/fig3_bernoulli.svg",
            SVG.replace("<rect", '<image href="gone.png" width="2" height="2"/><rect'),
        ),
        False,
        r"fig3_bernoulli\.svg cannot be drawn by Typst \(.*res/figures/gone\.png",
    ),
    ("fig-empty-svg", write("figures/fig4_loops.svg", ""), False, r"fig4_loops\.svg is empty"),
    (
        "fig-truncated-png",
        lambda r: (remove("figures/fig5_bias.svg")(r), write("figures/fig5_bias.png", _PNG_HEAD)(r)),
        False,
        r"fig5_bias\.png is a truncated PNG",
    ),
    (
        "fig-truncated-pdf",
        lambda r: (
            remove("figures/fig6_spike_train.svg")(r),
            write("figures/fig6_spike_train.pdf", b"%PDF-1.7\n1 0")(r),
        ),
        False,
        r"fig6_spike_train\.pdf is a truncated PDF",
    ),
    (
        "fig-json-invalid",
        write("figures/fig7_classification.json", "{"),
        False,
        r"fig7_classification\.json: not readable",
    ),
    ("fig-json-missing", remove("figures/fig8_alignment.json"), False, r"fig8_alignment\.json: missing"),
    (
        "fig-image-missing",
        remove("figures/fig9_alignment_training.svg"),
        False,
        r"fig9_alignment_training\.json: no image",
    ),
    (
        "fig-other-profile",
        meta("figures/fig4_loops.json", profile="full"),
        False,
        r"fig4_loops\.json: profile 'full'",
    ),
    (
        "fig-other-version",
        meta("figures/fig4_loops.json", version="9.9"),
        False,
        r"fig4_loops\.json: written by version",
    ),
    ("fig-old", meta("figures/fig1_neuron.json", time_utc="2000-01-01T00:00:00+00:00"), False, r"days old"),
    (
        "fig-keys-missing",
        fig_json("fig3_bernoulli.json", lambda d: d.pop("n_samples")),
        False,
        r"lacks key\(s\) n_samples",
    ),
    # with --preview too: a damaged claims or bench file is never shown
    ("preview-bench-no-meta", write("bench.json", "{}"), True, r"bench file .* no provenance 'meta' block"),
]


def _run(tmp_path, capsys, res: Path, preview: bool):
    argv = ["paper", "--from", res, "--out", tmp_path / "out"] + (["--preview"] if preview else [])
    return run_cli(capsys, argv)


@pytest.mark.parametrize("damage, preview, pattern", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_damaged_inputs_are_refused_in_one_line(damage, preview, pattern, tmp_path, capsys):
    res = _results(tmp_path, fresh=not preview)
    damage(res)
    rc, out, err = _run(tmp_path, capsys, res, preview)
    assert_one_line_error(rc, out, err, pattern)
    assert not (tmp_path / "out" / "paper.pdf").exists()


def _built(tmp_path) -> dict:
    assert (tmp_path / "out" / "paper.pdf").read_bytes().startswith(b"%PDF")
    return json.loads((tmp_path / "out" / "build" / "data.json").read_text())


def _row(data: dict, name: str) -> dict:
    return next(r for rows in data["sections"].values() for r in rows if r["name"] == name)


@pytest.mark.parametrize("preview", [False, True], ids=["final", "preview"])
def test_crashed_claim_is_a_failed_row_with_its_error(preview, tmp_path, capsys):
    res = _results(tmp_path, fresh=not preview)
    crash(res)
    rc, out, err = _run(tmp_path, capsys, res, preview)
    assert rc == 0 and "Traceback" not in err, err
    data = _built(tmp_path)
    row = _row(data, "fields_stokes")
    assert row["passed"] is False and row["error"] == ERROR
    assert row["measured"] == "-"
    names = [c["name"] for c in json.loads((res / "claims.json").read_text())["claims"]]
    failed = [n for n in names if n in FIXTURE_FAILED or n == "fields_stokes"]
    total = len(names)
    assert data["summary"] == {"passed": str(total - len(failed)), "total": str(total), "failed": failed}
    assert data["values"]["stokes.worst"] == "n/a"
    tables = str(
        typst.query(
            str(tmp_path / "out" / "build" / "main.typ"), "table", root=str(tmp_path / "out" / "build")
        )
    )
    assert "boom in fields_stokes" in tables and "FAIL" in tables


def test_every_crashed_claim_still_typesets(tmp_path, capsys):
    """All claims crashed: every value the prose shows is n/a, and the paper still builds."""
    res = _results(tmp_path, fresh=False)
    _edit(
        res / "claims.json",
        lambda d: d.update(
            claims=[
                {"name": c["name"], "passed": False, "details": {"error": "KeyError('x')"}}
                for c in d["claims"]
            ]
        ),
    )
    rc, out, err = _run(tmp_path, capsys, res, preview=True)
    assert rc == 0, err
    data = _built(tmp_path)
    assert data["summary"]["passed"] == "0" and len(data["summary"]["failed"]) == int(
        data["summary"]["total"]
    )
    assert {r["verdict"] for r in data["published"]} == {"not run"}


def test_missing_claim_is_a_failed_row_in_a_preview(tmp_path, capsys):
    res = _results(tmp_path, fresh=False)
    drop_claim(res)
    rc, out, err = _run(tmp_path, capsys, res, preview=True)
    assert rc == 0, err
    data = _built(tmp_path)
    row = _row(data, "fields_stokes")
    assert row["passed"] is False and "not in claims.json" in row["error"]
    assert "fields_stokes" in data["summary"]["failed"]
    assert data["summary"]["total"] == str(len(json.loads((FIXTURE / "claims.json").read_text())["claims"]))


@pytest.mark.parametrize(
    "damage, figure, reason",
    [
        (write("figures/fig1_neuron.svg", TRUNCATED_SVG), "fig1", "is not valid SVG"),
        (write("figures/fig2_multilayer.json", "{"), "fig2", "is not readable JSON"),
        (fig_json("fig3_bernoulli.json", lambda d: d.pop("caption")), "fig3", "lacks key(s) caption"),
    ],
    ids=["truncated-svg", "invalid-json", "keys-missing"],
)
def test_damaged_figure_is_a_labelled_placeholder_in_a_preview(damage, figure, reason, tmp_path, capsys):
    res = _results(tmp_path, fresh=True)
    damage(res)
    rc, out, err = _run(tmp_path, capsys, res, preview=True)
    assert rc == 0, err
    data = _built(tmp_path)
    assert data["figures"][figure]["file"] is None
    assert [o for o in data["provenance"]["omitted"] if o.startswith(f"{figure} (") and reason in o]
    assert all(data["figures"][n]["file"] for n in data["figures"] if n != figure)


def test_fresh_results_build_without_preview(tmp_path, capsys):
    res = _results(tmp_path, fresh=True)
    rc, out, err = _run(tmp_path, capsys, res, preview=False)
    assert rc == 0, err
    data = _built(tmp_path)
    assert data["provenance"]["omitted"] == [] and data["summary"]["failed"] == FIXTURE_FAILED


def test_time_stamp_without_zone_is_read_as_utc(tmp_path):
    from proofs_numeric.paper._runs import stale_reason

    res = _results(tmp_path, fresh=False)
    naive = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    meta("claims.json", time_utc=naive)(res)
    assert stale_reason(res / "claims.json", "quick", 7) is None


# --- the Typst sources ---------------------------------------------------------------------


def _sources(tmp_path, monkeypatch) -> Path:
    """A copy of paper/ that the command uses instead of the checkout's."""
    import proofs_numeric.paper._build as build

    src = tmp_path / "src"
    shutil.copytree(REPO_ROOT / "paper", src)
    monkeypatch.setattr(build, "SOURCES", src)
    return src


def _section(src: Path) -> Path:
    return sorted((src / "sections").glob("*.typ"))[0]


@pytest.mark.parametrize(
    "damage, pattern",
    [
        (lambda s: (s / "template.typ").unlink(), r"Typst sources missing in .*src: template\.typ"),
        (lambda s: (s / "published.json").unlink(), r"Typst sources missing .*: published\.json"),
        (
            lambda s: _section(s).unlink(),
            r"Typst source .*sections/\S+\.typ missing \(named in .*main\.typ\)",
        ),
        (lambda s: (s / "refs.bib").unlink(), r"Typst sources missing .*refs\.bib"),
        (lambda s: (s / "published.json").write_text("{"), r"published\.json is not readable JSON"),
        (
            lambda s: (s / "published.json").write_text('{"rows": []}'),
            r"published\.json.* rows \[\] do not match the verdict rules",
        ),
        (
            lambda s: _section(s).write_text(_section(s).read_text() + '\n#val("no.such.value")\n'),
            r"shows value\(s\) the builder does not write: no\.such\.value",
        ),
    ],
    ids=["template", "published", "section", "refs", "published-invalid", "published-rows", "unknown-value"],
)
def test_broken_sources_are_found_before_any_run(damage, pattern, tmp_path, capsys, monkeypatch):
    import proofs_numeric.paper as paper

    damage(_sources(tmp_path, monkeypatch))
    ran: list = []
    monkeypatch.setattr(paper, "prepare", lambda *a, **k: ran.append(a))
    rc, out, err = run_cli(capsys, ["paper", "--out", tmp_path / "out"])
    assert_one_line_error(rc, out, err, pattern)
    assert ran == [], "verify, figures or bench ran before the sources were checked"


def test_typst_failure_is_one_line(tmp_path, capsys, monkeypatch):
    """Sources that pass the checks but that Typst rejects: one line with Typst's message."""
    src = _sources(tmp_path, monkeypatch)
    _section(src).write_text(_section(src).read_text() + "\n#let broken = (\n")
    res = _results(tmp_path, fresh=False)
    rc, out, err = _run(tmp_path, capsys, res, preview=True)
    assert_one_line_error(rc, out, err, r"Typst failed on .*main\.typ: .*")
    assert (
        not (tmp_path / "out" / "paper.pdf").exists() and not (tmp_path / "out" / "paper.pdf.part").exists()
    )


# --- values of the wrong kind inside well-formed files ------------------------------------

WRONG_KINDS = ["x", 5, True, None, [], ["a"], {"a": 1}, float("nan"), float("-inf"), [1, "a"], [[1]]]


def test_values_of_the_wrong_kind_show_as_values_or_not_run():
    """Each value the paper reads, in turn replaced by a value of another kind (the others as
    in the fixture): the data file is
    still made (the verdict rules see a missing value and say "not run"), never a crash."""
    from proofs_numeric.paper._build import _derived, _fmt, claim_values, value_names
    from proofs_numeric.paper._keys import CLAIM_VALUES
    from proofs_numeric.paper._published import published_rows

    spec = json.loads((REPO_ROOT / "paper" / "published.json").read_text())
    figs = {n: json.loads((FIXTURE / "figures" / f"{stem}.json").read_text()) for n, stem in _stems().items()}
    names = value_names()
    fixture = claim_values(
        {c["name"]: c for c in json.loads((FIXTURE / "claims.json").read_text())["claims"]}
    )
    crashed = []
    for key in CLAIM_VALUES:
        for wrong in WRONG_KINDS:
            values = fixture | {key: wrong}
            try:
                raw = values | _derived(values, figs)
                assert set(raw) == names
                [_fmt(v) for v in raw.values()]
                rows = published_rows(spec, raw)
            except Exception as exc:
                crashed.append(f"{key} = {wrong!r}: {exc!r}")
                continue
            assert {r["verdict"] for r in rows} <= {"not run", "agrees", "differs", "partly"}
    assert crashed == []
