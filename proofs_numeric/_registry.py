"""Claim results, the claim registry and the runner behind ``sgtheory verify``.

Every module of :mod:`proofs_numeric` (not starting with ``_``; the subpackages ``cli`` and
``bench`` hold the command line and the benchmarks) states one
claim of the theory and registers a ``check(profile)`` that measures it against an
independent reference and returns a :class:`ClaimResult`.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

PROFILES = ("quick", "full")


@dataclass
class ClaimResult:
    """Outcome of one claim check.

    measured / reference: the headline numbers compared; tolerance: the allowed gap (or
    threshold) in the claim's own terms, stated in ``details['criterion']`` when it is not
    |measured - reference| <= tolerance.
    """

    name: str
    statement: str
    measured: Any
    reference: Any
    tolerance: Any
    passed: bool
    details: dict = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Claim:
    name: str
    statement: str
    check: Callable[[str], ClaimResult]
    module: str


_REGISTRY: dict[str, Claim] = {}
_DISCOVERED = False


def register(name: str, statement: str):
    """Decorator: register ``check(profile='quick') -> ClaimResult`` as claim ``name``."""

    def deco(fn):
        if name in _REGISTRY and _REGISTRY[name].module != fn.__module__:
            raise ValueError(f"claim {name!r} registered twice")
        _REGISTRY[name] = Claim(name, statement, fn, fn.__module__)
        return fn

    return deco


def result(name: str, measured, reference, tolerance, passed, **details) -> ClaimResult:
    """Build a ClaimResult for a registered claim (statement taken from the registry)."""
    statement = _REGISTRY[name].statement if name in _REGISTRY else ""
    return ClaimResult(name, statement, measured, reference, tolerance, bool(passed), details)


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    import proofs_numeric

    for mod in pkgutil.iter_modules(proofs_numeric.__path__):
        if not (mod.ispkg or mod.name.startswith("_")):
            importlib.import_module(f"proofs_numeric.{mod.name}")
    _DISCOVERED = True


def claims() -> dict[str, Claim]:
    """All registered claims by name (importing every claim module once)."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def select(names: list[str] | None) -> list[Claim]:
    """Claims named in ``names`` (all when empty); unknown names raise a ValueError."""
    available = claims()
    if not names:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(
            f"unknown claim name(s): {', '.join(map(repr_if_empty, unknown))}; "
            f"valid names: {', '.join(available)} (see sgtheory verify --list)"
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"claim {', '.join(twice)} named twice")
    return [available[n] for n in names]


@contextlib.contextmanager
def _float64() -> Iterator[bool]:
    """Switch jax's float64 (``jax_enable_x64``) on for the block, then restore the previous
    setting; yields the setting in force inside the block (True)."""
    import jax

    previous = bool(jax.config.read("jax_enable_x64"))
    jax.config.update("jax_enable_x64", True)
    try:
        yield bool(jax.config.read("jax_enable_x64"))
    finally:
        jax.config.update("jax_enable_x64", previous)


def repr_if_empty(name: str) -> str:
    """A name as typed, or '' quoted when it is empty (so that it shows in a message)."""
    return name if name else "''"


def run_claims(names: list[str] | None, profile: str = "quick", *, json_path=None, progress: bool = False):
    """Run the named claims (all when empty) under ``profile``; with ``json_path`` write
    {meta, claims} there (path checked before any claim runs). Returns the ClaimResults."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
    chosen = select(names)
    if json_path is not None:
        from analysis.runtime import check_output_file

        check_output_file(json_path, "json_path")
    from tqdm import tqdm

    results = []
    bar = tqdm(chosen, desc="claims", unit="claim", disable=not progress)
    for c in bar:
        bar.set_postfix_str(c.name)
        results.append(run_claim(c, profile))
    if json_path is not None:
        from analysis.runtime import write_json

        write_json(json_path, {"claims": results}, seeds=_seeds(results), profile=profile)
    return results


def _seeds(results) -> list:
    """Seeds recorded by the claims in their details (``seed`` / ``seeds``), in order."""
    out: list = []
    for r in results:
        for key in ("seed", "seeds"):
            v = r.details.get(key)
            for s in v if isinstance(v, (list, tuple)) else ([] if v is None else [v]):
                if s not in out:
                    out.append(s)
    return out


def run_claim(c: Claim, profile: str = "quick") -> ClaimResult:
    """Run one claim in float64; an exception becomes a failed result carrying the traceback.

    Claims compare to tolerances down to 1e-12, so float64 is switched on for the duration of
    the check (whatever the caller's setting, which is restored afterwards) and recorded in
    ``details["x64"]``.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    with _float64() as x64:
        t0 = time.perf_counter()
        try:
            r = c.check(profile)
        except Exception as exc:  # any error is reported as a failed claim, not raised
            r = ClaimResult(
                c.name,
                c.statement,
                None,
                None,
                None,
                False,
                {"error": repr(exc), "traceback": traceback.format_exc()},
            )
        r.seconds = time.perf_counter() - t0
    r.statement = r.statement or c.statement
    r.details["x64"] = x64
    return r


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, (list, tuple)) and len(v) > 3:
        return f"[{len(v)} values]"
    return str(v)


def format_table(results: list[ClaimResult]) -> str:
    """A plain-text table: claim, pass/FAIL, measured, reference, tolerance, seconds."""
    head = ("claim", "ok", "measured", "reference", "tolerance", "s")
    rows = [
        (
            r.name,
            "pass" if r.passed else "FAIL",
            _fmt(r.measured),
            _fmt(r.reference),
            _fmt(r.tolerance),
            f"{r.seconds:.1f}",
        )
        for r in results
    ]
    widths = [min(48, max(len(str(x)) for x in col)) for col in zip(head, *rows, strict=True)]
    line = lambda row: "  ".join(str(x)[:w].ljust(w) for x, w in zip(row, widths, strict=True))
    out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    n_ok = sum(r.passed for r in results)
    out.append(f"\n{n_ok}/{len(results)} claims passed")
    return "\n".join(out)
