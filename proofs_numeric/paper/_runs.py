"""Run, or reuse, the three result sets the paper is built from.

A result file is reused when it parses, carries a ``meta`` block written by the same
toolkit version and profile, is at most ``max_age_days`` old and passes the checks of
:mod:`proofs_numeric.paper._check` (every claim present and well-formed; a bench file with
speed ratios; a figure's data with the keys the paper reads and an image that can be
drawn); anything else is rerun (and the reason printed). ``rerun=True`` reruns everything.
``sgtheory paper --from DIR`` applies the same rule to DIR (:func:`input_problems`) and
refuses what fails it, unless ``--preview``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

PROFILES = ("quick", "full")


def stale_reason(path: Path, profile: str, max_age_days: float) -> str | None:
    """Why the result file at ``path`` cannot be reused (None when it can)."""
    from analysis import __version__

    if not path.is_file():
        return "missing"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return f"not readable JSON ({' '.join(str(exc).split())[:200]})"
    meta = doc.get("meta") if isinstance(doc, dict) else None
    if not isinstance(meta, dict):
        return "no provenance block"
    if meta.get("profile") != profile:
        return f"profile {meta.get('profile')!r}, not {profile!r}"
    if meta.get("version") != __version__:
        return f"written by version {meta.get('version')}, this is {__version__}"
    try:
        written = datetime.fromisoformat(str(meta.get("time_utc")))
    except ValueError:
        return "no valid time stamp"
    if written.tzinfo is None:  # time_utc: UTC even when the zone is not written
        written = written.replace(tzinfo=UTC)
    age = (datetime.now(UTC) - written).total_seconds() / 86400
    if age < -1:
        return f"time stamp {meta.get('time_utc')} is in the future"
    return f"{age:.1f} days old (limit {max_age_days:g})" if age > max_age_days else None


def _claims_reason(path: Path, profile: str, max_age_days: float) -> str | None:
    from proofs_numeric._registry import claims
    from proofs_numeric.paper._check import claim_entries
    from proofs_numeric.paper._errors import PaperError

    reason = stale_reason(path, profile, max_age_days)
    if reason is None:
        try:
            names = set(claim_entries(json.loads(path.read_text(encoding="utf-8")), path))
        except PaperError as exc:  # the message names the file: input_problems names it too
            return str(exc).removeprefix(f"{path}: ")
        missing = sorted(set(claims()) - names)
        if missing:
            reason = f"lacks claim(s) {', '.join(missing)}"
    return reason


def _bench_reason(path: Path, profile: str, max_age_days: float) -> str | None:
    from proofs_numeric.paper._build import _bench_rows
    from proofs_numeric.paper._check import bench_problem

    reason = stale_reason(path, profile, max_age_days)
    if reason is None:
        doc = json.loads(path.read_text(encoding="utf-8"))
        problem = bench_problem(doc, _bench_rows(doc))
        reason = None if problem is None else f"damaged: {problem}"
    return reason


def _figure_reason(fig_dir: Path, name: str, stem: str, profile: str, max_age_days: float) -> str | None:
    """Why figure ``name`` cannot be reused (its data file stale, or lacking keys; its
    image missing or damaged: the reason then names the image)."""
    from proofs_numeric.paper._build import FIGURE_FORMATS
    from proofs_numeric.paper._check import image_problem
    from proofs_numeric.paper._keys import FIGURE_KEYS

    reason = stale_reason(fig_dir / f"{stem}.json", profile, max_age_days)
    if reason is not None:
        return reason
    doc = json.loads((fig_dir / f"{stem}.json").read_text(encoding="utf-8"))
    lacking = [k for k in FIGURE_KEYS.get(name, ()) if k not in doc]
    if lacking:
        return f"data lacks key(s) {', '.join(lacking)}"
    images = [fig_dir / f"{stem}.{e}" for e in FIGURE_FORMATS if (fig_dir / f"{stem}.{e}").is_file()]
    if not images:
        return "no image"
    return image_problem(images[0])


def input_problems(results: Path, profile: str, max_age_days: float) -> list[str]:
    """Why the result files in ``results`` cannot be used for a paper of ``profile``
    (each ``file: reason``; empty when all are fresh): the rule :func:`prepare` reuses
    files by, applied to every input (claims, bench, each figure's data and image)."""
    from proofs_numeric.paper._build import figure_names

    results = Path(results)
    out = []
    for rel, reason in [
        ("claims.json", _claims_reason(results / "claims.json", profile, max_age_days)),
        ("bench.json", _bench_reason(results / "bench.json", profile, max_age_days)),
        *(
            (f"figures/{stem}.json", _figure_reason(results / "figures", name, stem, profile, max_age_days))
            for name, stem in figure_names().items()
        ),
    ]:
        if reason is not None:
            out.append(reason if reason.startswith("figure image ") else f"{results / rel}: {reason}")
    return out


def prepare(
    out_dir: Path,
    profile: str = "quick",
    *,
    rerun: bool = False,
    max_age_days: float = 7.0,
    log: Callable[[str], None] = print,
) -> None:
    """Make sure ``out_dir`` holds ``claims.json``, ``figures/`` and ``bench.json`` of
    ``profile``: reuse what is fresh, run the rest (in this process)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    if not max_age_days > 0:
        raise ValueError(f"max_age_days must be > 0, got {max_age_days}")
    from analysis.runtime._paths import check_output_dir

    out_dir = Path(out_dir)
    check_output_dir(out_dir, "--out")
    out_dir.mkdir(parents=True, exist_ok=True)
    _claims(out_dir / "claims.json", profile, rerun, max_age_days, log)
    _figures(out_dir / "figures", profile, rerun, max_age_days, log)
    _bench(out_dir / "bench.json", profile, rerun, max_age_days, log)


def _claims(path: Path, profile: str, rerun: bool, max_age: float, log) -> None:
    from proofs_numeric._registry import run_claims

    reason = "--rerun" if rerun else _claims_reason(path, profile, max_age)
    if reason is None:
        log(f"reusing {path}")
        return
    log(f"verify ({reason}): all claims, profile {profile} -> {path}")
    results = run_claims(None, profile, json_path=path, progress=True)
    log(f"  {sum(r.passed for r in results)}/{len(results)} claims passed")


def _figures(fig_dir: Path, profile: str, rerun: bool, max_age: float, log) -> None:
    from figures import make_figures
    from proofs_numeric.paper._build import figure_names

    todo = []
    for name, stem in figure_names().items():
        reason = "--rerun" if rerun else _figure_reason(fig_dir, name, stem, profile, max_age)
        if reason is None:
            log(f"reusing {fig_dir / stem}.*")
        else:
            log(f"figure {name} ({reason})")
            todo.append(name)
    if todo:
        log(f"figures {' '.join(todo)}, profile {profile} -> {fig_dir}")
        make_figures(todo, fig_dir, profile)


def _bench(path: Path, profile: str, rerun: bool, max_age: float, log) -> None:
    import jax

    from proofs_numeric.bench import run_benchmarks

    reason = "--rerun" if rerun else _bench_reason(path, profile, max_age)
    if reason is None:
        log(f"reusing {path}")
        return
    log(f"bench ({reason}): all benchmarks, profile {profile} -> {path}")
    previous = bool(jax.config.read("jax_enable_x64"))
    jax.config.update("jax_enable_x64", False)  # as `sgtheory bench` runs them
    try:
        run_benchmarks(None, path, profile)
    finally:
        jax.config.update("jax_enable_x64", previous)
