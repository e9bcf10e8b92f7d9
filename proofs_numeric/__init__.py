"""One module per claim of the theory; ``sgtheory verify`` runs them.

:func:`claims` lists the registered claims by name; :func:`run_claim` runs one in float64
(switched on for the check and restored afterwards) and returns a :class:`ClaimResult`.

>>> from proofs_numeric import claims, run_claim
>>> "fields_stokes" in claims() and "symbolic_surrogate_pairs" in claims()
True
>>> r = run_claim(claims()["fields_sign_flip"])  # about a second
>>> r.passed, r.details["x64"]
(True, True)
"""

from proofs_numeric._registry import (
    PROFILES,
    Claim,
    ClaimResult,
    claims,
    format_table,
    register,
    result,
    run_claim,
    select,
)

__all__ = [
    "PROFILES",
    "Claim",
    "ClaimResult",
    "claims",
    "format_table",
    "register",
    "result",
    "run_claim",
    "select",
]
