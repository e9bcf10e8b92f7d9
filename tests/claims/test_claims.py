"""Every registered claim (``proofs_numeric.claims()``) holds at its quick profile (one source
of truth: proofs_numeric). The few too slow for the default suite are listed, with the reason,
in tests.helpers.SLOW_CLAIMS and run with ``--runslow`` (``sgtheory verify`` runs them all)."""

import pytest

from proofs_numeric import claims
from tests.helpers import SLOW_CLAIMS

REGISTERED = claims()


def test_slow_claims_are_registered():
    """A renamed or removed claim must not linger in the slow list."""
    assert set(SLOW_CLAIMS) <= set(REGISTERED), sorted(set(SLOW_CLAIMS) - set(REGISTERED))


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CLAIMS else n for n in REGISTERED]
)
def test_claim_quick(name):
    r = REGISTERED[name].check("quick")
    assert r.name == name
    assert r.passed, r.details
