"""Claim: every registered surrogate is c times the density f' of its matched escape
noise, symbolically, and the JAX code agrees with the sympy formulas.

Reference: sympy (:mod:`analysis.neuron.symbolic`), an independent transcription of the
formulas; Gygax & Zenke 2025, sec. 4 (matching surrogate and escape noise).
Criterion: every family is a CDF (f(-inf) = 0, f(inf) = 1, integral of f' = 1, continuous,
diff(f) = the transcribed density), every surrogate except straight-through has
psi - c f' = 0 on every piece with c free of z, and max relative error code vs sympy
(float64, 3 betas x 2 p0 x 1001-2001 points, |beta z| <= 25) <= 1e-12.
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._registry import register, result

NAME = "symbolic_surrogate_pairs"
TOL = 1e-12


@register(
    NAME,
    "Every surrogate psi equals c*f' of its matched escape noise (sympy, per piece), "
    "every f is a CDF, and the JAX f, f', psi match sympy to 1e-12 (float64).",
)
def check(profile: str = "quick"):
    from analysis.neuron import ESCAPE_NOISE_NAMES, SURROGATE_NAMES
    from analysis.neuron.symbolic import code_agreement, family_report, surrogate_factor

    families = {f: family_report(f) for f in ESCAPE_NOISE_NAMES}
    factors = {s: surrogate_factor(s) for s in SURROGATE_NAMES}
    pairs_ok = all(r.residual_zero for s, r in factors.items() if r.family is not None)
    not_density = [s for s, r in factors.items() if r.family is None]
    n = 1001 if profile == "quick" else 20001
    errs = code_agreement(np.linspace(-25, 25, n) + np.sqrt(2) * 1e-3)
    worst = max(errs, key=errs.get)
    passed = pairs_ok and all(r.ok for r in families.values()) and errs[worst] <= TOL
    return result(
        NAME,
        errs[worst],
        0.0,
        TOL,
        passed,
        criterion="all families are CDFs and all psi = c f' hold symbolically; "
        "max rel err code vs sympy <= tol",
        factors={s: (str(r.c) if r.c is not None else r.note) for s, r in factors.items()},
        matched_family={s: r.family for s, r in factors.items()},
        families_ok={f: r.ok for f, r in families.items()},
        not_a_density=not_density,
        worst_code_error=worst,
        code_errors=errs,
    )
