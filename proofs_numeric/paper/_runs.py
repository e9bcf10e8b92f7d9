"""Run, or reuse, the three result sets the paper is built from.

A result file is reused when it parses, carries a ``meta`` block written by the same
toolkit version and profile, and is at most ``max_age_days`` old; anything else is rerun
(and the reason printed). ``rerun=True`` reruns everything.
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
        meta = json.loads(path.read_text()).get("meta")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return "not readable"
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
    age = (datetime.now(UTC) - written).total_seconds() / 86400
    return f"{age:.1f} days old (limit {max_age_days:g})" if age > max_age_days else None


def _claims_reason(path: Path, profile: str, max_age_days: float) -> str | None:
    from proofs_numeric._registry import claims

    reason = stale_reason(path, profile, max_age_days)
    if reason is None:
        names = {c.get("name") for c in json.loads(path.read_text()).get("claims", []) if isinstance(c, dict)}
        missing = sorted(set(claims()) - names)
        if missing:
            reason = f"lacks claim(s) {', '.join(missing)}"
    return reason


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
    from analysis.runtime import check_output_dir

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
    from proofs_numeric.paper._build import FIGURE_FORMATS, figure_names

    todo = []
    for name, stem in figure_names().items():
        reason = "--rerun" if rerun else stale_reason(fig_dir / f"{stem}.json", profile, max_age)
        if reason is None and not any((fig_dir / f"{stem}.{e}").is_file() for e in FIGURE_FORMATS):
            reason = "no image"
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

    reason = "--rerun" if rerun else stale_reason(path, profile, max_age)
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
