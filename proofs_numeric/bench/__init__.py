"""Speed benchmarks behind ``sgtheory bench``: each module ``<name>.py`` defines
``run(profile) -> dict`` that times variants in interleaved rounds in one process and
reports medians and ratios (see :func:`proofs_numeric.bench._timing.interleaved`).
"""

from __future__ import annotations

import importlib
import pkgutil


def available() -> list[str]:
    import proofs_numeric.bench as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def run_benchmarks(names, json_path=None, profile="quick") -> dict:
    """Run the named benchmarks (all when empty), print them, optionally write JSON (with
    the provenance ``meta`` block). Names, profile and ``json_path`` are checked first."""
    avail = available()
    names = list(names) if names else avail
    unknown = [n if n else "''" for n in names if n not in avail]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(avail)}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"benchmark {', '.join(twice)} named twice")
    if profile not in ("quick", "full"):
        raise ValueError(f"unknown profile {profile!r}; valid: quick, full")
    if json_path is not None:
        from analysis.runtime._paths import check_output_file

        check_output_file(json_path, "json_path")
    results = {n: importlib.import_module(f"proofs_numeric.bench.{n}").run(profile) for n in names}
    if json_path is not None:
        from analysis.runtime import write_json

        print(f"wrote {write_json(json_path, results, profile=profile)}")
    return results
