"""Speed benchmarks behind ``sgtheory bench``: each module ``<name>.py`` defines
``run(profile) -> dict`` that times variants in interleaved rounds in one process and
reports medians and ratios (see :func:`proofs_numeric.bench._timing.interleaved`).
Profiles: ``quick``, ``full`` (all benchmarks) and ``gpu`` (``snn`` only, on a GPU).
"""

from __future__ import annotations

import importlib
import pkgutil


def available() -> list[str]:
    import proofs_numeric.bench as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


PROFILES = ("quick", "full", "gpu")
ONLY_SNN = "snn"  # the benchmark that takes profile "gpu" and ``breakdown``


def run_benchmarks(names, json_path=None, profile="quick", breakdown=False) -> dict:
    """Run the named benchmarks (all when empty), print them, optionally write JSON (with
    the provenance ``meta`` block). Names, profile and ``json_path`` are checked first.

    ``profile="gpu"`` and ``breakdown=True`` (a stage-by-stage timing of the dense network,
    :mod:`proofs_numeric.bench._snn_breakdown`) apply to ``snn`` alone, which must then be the
    only benchmark named; ``gpu`` raises ValueError when JAX sees no GPU."""
    avail = available()
    names = list(names) if names else avail
    unknown = [n if n else "''" for n in names if n not in avail]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(avail)}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"benchmark {', '.join(twice)} named twice")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
    if not isinstance(breakdown, bool):
        raise TypeError(f"breakdown must be a bool, got {breakdown!r}")
    for flag, on in ((f"profile {profile!r}", profile == "gpu"), ("breakdown", breakdown)):
        if on and names != [ONLY_SNN]:
            raise ValueError(
                f"{flag} applies to the {ONLY_SNN} benchmark only: name it alone, got {', '.join(names)}"
            )
    if profile == "gpu":
        from proofs_numeric.bench.snn import check_gpu

        check_gpu()
    if json_path is not None:
        from analysis.runtime._paths import check_output_file

        check_output_file(json_path, "json_path")
    kwargs = {"breakdown": True} if breakdown else {}
    results = {n: importlib.import_module(f"proofs_numeric.bench.{n}").run(profile, **kwargs) for n in names}
    if json_path is not None:
        from analysis.runtime import write_json

        print(f"wrote {write_json(json_path, results, profile=profile)}")
    return results
