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

PROFILES = ("tiny", "quick", "full")
"""Claim profiles. ``quick`` is what ``sgtheory verify`` runs by default (minutes for all),
``full`` the paper-size versions. ``tiny`` is the stand-in profile of the default test suite:
the same criterion at a smaller size, seconds per claim. A claim that does not declare
``tiny`` (``register(..., tiny=False)``, the default) runs its quick profile under ``tiny``."""


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
    tiny: bool = False


_REGISTRY: dict[str, Claim] = {}
_DISCOVERED = False


def register(name: str, statement: str, *, tiny: bool = False):
    """Decorator: register ``check(profile='quick') -> ClaimResult`` as claim ``name``.

    ``tiny=True`` declares that ``check`` has its own ``"tiny"`` size (a stand-in with the same
    criterion, seconds to run); otherwise ``check`` is only ever called with quick or full."""

    def deco(fn):
        if name in _REGISTRY and _REGISTRY[name].module != fn.__module__:
            raise ValueError(f"claim {name!r} registered twice")
        _REGISTRY[name] = Claim(name, statement, fn, fn.__module__, tiny)
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
        from analysis.runtime._paths import check_output_file

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
    ``details["x64"]``. ``details["profile"]`` records the size that ran: ``tiny`` runs the
    quick size of a claim that has no stand-in of its own.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    size = "quick" if profile == "tiny" and not c.tiny else profile
    with _float64() as x64:
        t0 = time.perf_counter()
        try:
            r = c.check(size)
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
    r.details["profile"] = size
    return r


def format_value(v, digits: int = 4, max_items: int = 6) -> str:
    """A claim value for people: floats to ``digits`` significant digits (``1.229e-05``,
    ``0.8783``, ``1e-06``), integers and booleans as they are, sequences as ``[a, b, ...]`` (at most
    ``max_items`` shown, then ``... (n values)``), dicts as ``key = value`` lists, None as
    ``-``. Used by ``sgtheory verify``'s table and by the reproduction paper."""
    import numpy as np

    if v is None:
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.{digits}g}"
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, dict):
        items = list(v.items())
        body = ", ".join(f"{k} = {format_value(x, digits, max_items)}" for k, x in items[:max_items])
        return body + (f", ... ({len(items)} entries)" if len(items) > max_items else "")
    if isinstance(v, (list, tuple)):
        body = ", ".join(format_value(x, digits, max_items) for x in v[:max_items])
        return "[" + body + (f", ... ({len(v)} values)]" if len(v) > max_items else "]")
    return str(v)


def criterion(details: dict) -> str:
    """A claim's pass criterion in words, from its result's ``details`` (a ClaimResult's, or
    the same dict read back from JSON): ``details['criterion']`` when the claim states one,
    else ``|measured - reference| <= tolerance``."""
    return str(details.get("criterion") or "|measured - reference| <= tolerance")


def format_table(results: list[ClaimResult]) -> str:
    """A plain-text table: claim, pass/FAIL, measured, reference, tolerance, seconds."""
    head = ("claim", "ok", "measured", "reference", "tolerance", "s")
    rows = [
        (
            r.name,
            "pass" if r.passed else "FAIL",
            format_value(r.measured, 3, 3),
            format_value(r.reference, 3, 3),
            format_value(r.tolerance, 3, 3),
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
