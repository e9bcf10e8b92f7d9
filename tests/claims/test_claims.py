"""Every registered claim (``proofs_numeric.claims()``) holds (one source of truth:
proofs_numeric). Claims too slow for the default suite at their quick profile are listed, with
the reason, in tests.helpers.SLOW_CLAIMS: their quick profile runs with ``--runslow`` (or
SGTHEORY_SLOW=1; ``sgtheory verify`` runs them all), and each of them has a stand-in in the
default suite, its ``tiny`` profile: the same criterion at a smaller size."""

import pytest

from proofs_numeric import claims
from proofs_numeric._registry import run_claim
from tests.helpers import SLOW_CLAIMS

REGISTERED = claims()


def test_slow_claims_are_registered():
    """A renamed or removed claim must not linger in the slow list."""
    assert set(SLOW_CLAIMS) <= set(REGISTERED), sorted(set(SLOW_CLAIMS) - set(REGISTERED))


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CLAIMS else n for n in REGISTERED]
)
def test_claim_quick(name):
    r = run_claim(REGISTERED[name], "quick")
    assert r.name == name
    assert r.details["profile"] == "quick"
    assert r.passed, r.details


@pytest.mark.parametrize("name", sorted(SLOW_CLAIMS))
def test_slow_claim_stand_in(name):
    """The default suite's stand-in for a slow claim: its own tiny size, same criterion."""
    c = REGISTERED[name]
    assert c.tiny, f"{name} is slow but declares no tiny stand-in (register(..., tiny=True))"
    r = run_claim(c, "tiny")
    assert r.details["profile"] == "tiny"
    assert r.passed, r.details
