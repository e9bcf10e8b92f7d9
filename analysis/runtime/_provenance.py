"""Provenance of a result: the ``meta`` block that every JSON file of the toolkit carries."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _git_commit() -> str | None:
    """Commit of the checkout this package runs from (``+dirty`` with local changes), or None
    when it runs from an installed copy or git is unavailable."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        run = lambda *a: subprocess.run(
            ["git", *a], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        commit = run("rev-parse", "HEAD")
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def provenance(*, seeds: Any = None, profile: str | None = None) -> dict:
    """The ``meta`` block of a result file.

    Keys: ``version`` (of the installed ``sgtheory``), ``commit`` (git commit when run from a
    checkout, else None), ``time_utc`` (ISO 8601), ``seeds``, ``profile``, ``x64`` (whether
    JAX computes in float64), ``jax``, ``backend`` and ``device_count``.

    >>> meta = provenance(seeds=[0], profile="quick")
    >>> sorted(meta)
    ['backend', 'commit', 'device_count', 'jax', 'profile', 'seeds', 'time_utc', 'version', 'x64']
    """
    import jax

    from analysis import __version__

    return {
        "version": __version__,
        "commit": _git_commit(),
        "time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeds": seeds,
        "profile": profile,
        "x64": bool(jax.config.read("jax_enable_x64")),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "device_count": jax.device_count(),
    }
