"""One module per claim of the theory; ``sgtheory verify`` runs them.

>>> from proofs_numeric import claims, run_claim
>>> sorted(claims())[:1]  # doctest: +SKIP
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
