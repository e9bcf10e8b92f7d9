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
    """Run the named benchmarks (all when empty), print them, optionally write JSON."""
    avail = available()
    names = list(names) if names else avail
    unknown = [n for n in names if n not in avail]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(avail)}")
    results = {n: importlib.import_module(f"proofs_numeric.bench.{n}").run(profile) for n in names}
    if json_path:
        from analysis.runtime import write_json

        print(f"wrote {write_json(json_path, results)}")
    return results
