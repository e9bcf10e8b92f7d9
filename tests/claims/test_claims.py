"""Every registered claim (``proofs_numeric.claims()``) holds (one source of truth:
proofs_numeric). Claims too slow for the default suite at their quick profile are listed, with
the reason, in tests.helpers.SLOW_CLAIMS: their quick profile runs with ``--runslow`` (or
SGTHEORY_SLOW=1; ``sgtheory verify`` runs them all), and each of them has a stand-in, its
``tiny`` profile: the same criterion at a smaller size, in the default suite unless the
stand-in is itself slow (tests.helpers.SLOW_STAND_INS). A claim whose quick profile fails its
criterion is listed in tests.helpers.KNOWN_QUICK_FAILURES and its failure asserted."""

import pytest

from proofs_numeric import claims
from proofs_numeric._registry import run_claim
from tests.helpers import KNOWN_QUICK_FAILURES, SLOW_CLAIMS, SLOW_STAND_INS

REGISTERED = claims()


def test_slow_claims_are_registered():
    """A renamed or removed claim must not linger in the slow list."""
    assert set(SLOW_CLAIMS) <= set(REGISTERED), sorted(set(SLOW_CLAIMS) - set(REGISTERED))


def _quick_marks(name):
    marks = [pytest.mark.slow] if name in SLOW_CLAIMS else []
    if name in KNOWN_QUICK_FAILURES:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_QUICK_FAILURES[name]))
    return marks


def test_slow_lists_name_registered_slow_claims():
    assert set(SLOW_STAND_INS) <= set(SLOW_CLAIMS) and set(KNOWN_QUICK_FAILURES) <= set(REGISTERED)


@pytest.mark.parametrize("name", [pytest.param(n, marks=_quick_marks(n)) for n in REGISTERED])
def test_claim_quick(name):
    r = run_claim(REGISTERED[name], "quick")
    assert r.name == name
    assert r.details["profile"] == "quick"
    assert r.passed, r.details


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW_STAND_INS else []) for n in sorted(SLOW_CLAIMS)],
)
def test_slow_claim_stand_in(name):
    """The default suite's stand-in for a slow claim: its own tiny size, same criterion."""
    c = REGISTERED[name]
    assert c.tiny, f"{name} is slow but declares no tiny stand-in (register(..., tiny=True))"
    r = run_claim(c, "tiny")
    assert r.details["profile"] == "tiny"
    assert r.passed, r.details
