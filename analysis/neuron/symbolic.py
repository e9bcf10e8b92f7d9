"""Symbolic (sympy) derivations: escape-noise CDFs, their densities, surrogate factors.

Everything here is an *independent transcription* of the formulas in
:mod:`analysis.neuron._escape_noise` and :mod:`analysis.neuron._surrogates` (written from the maths, not
generated from the code), so that comparing the two checks both.

* :func:`family_report` -- for an escape-noise family f (a CDF, piecewise where needed):
  f' = df/dz piece by piece, f(-inf) = 0, f(+inf) = 1, integral of f' over R = 1, and f
  continuous at the breakpoints.
* :func:`surrogate_factor` -- for a registered surrogate psi with matched family f, the
  constant c with psi = c f' (Gygax & Zenke 2025, sec. 4: a surrogate "matches" the escape
  noise whose density it is proportional to). On every piece c = psi / f' must be free of
  z and psi - c f' must simplify to 0; straight-through (psi = 1) is reported as not a
  density.
* :func:`code_agreement` -- lambdified sympy vs the JAX implementation (float64).
* :func:`spm_gradient_symbolic` -- single neuron (Gygax & Zenke 2025, sec. 3): E[S] = f(w.x - theta),
  grad_w E[S] = f'(z) x, E[L] = f L(1) + (1 - f) L(0), grad_w E[L] = (L(1) - L(0)) f'(z) x,
  derived by differentiating with respect to symbolic weights.

Symbols: z real, beta > 0, p0 in (0, 1]; x = beta z. Derivations are cached (lru_cache)
and avoid a global ``simplify`` of piecewise expressions: pieces are handled one by one.

Example
-------
>>> from analysis.neuron.symbolic import surrogate_factor
>>> str(surrogate_factor("superspike").c)
'2/beta'
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import sympy as sp

__all__ = [
    "Z",
    "BETA",
    "P0",
    "Phi",
    "cdf_expr",
    "pdf_expr",
    "diff_cdf",
    "surrogate_expr",
    "family_report",
    "surrogate_factor",
    "code_agreement",
    "spm_gradient_symbolic",
    "spm_gradient_numeric",
    "FamilyReport",
    "FactorReport",
    "SPMGradient",
]

Z = sp.Symbol("z", real=True)
BETA = sp.Symbol("beta", positive=True)
P0 = sp.Symbol("p0", positive=True)
_X = BETA * Z
_HALF = sp.Rational(1, 2)


class Phi(sp.Function):
    """Standard normal CDF, kept unevaluated so that it lambdifies to ``scipy.special.ndtr``.

    (sympy rewrites erfc(-y) as 2 - erfc(y), which cancels catastrophically in the lower tail.)
    """

    def fdiff(self, argindex=1):
        y = self.args[0]
        return sp.exp(-(y**2) / 2) / sp.sqrt(2 * sp.pi)

    def _eval_rewrite_as_erfc(self, y, **kwargs):
        return sp.erfc(-y / sp.sqrt(2)) / 2


def _cdfs():
    x = _X
    return {
        "sigmoid": 1 / (1 + sp.exp(-x)),
        "exponential": sp.Piecewise((P0 * sp.exp(x), x < -sp.log(P0)), (1, True)),
        "probit": Phi(x),
        "fast_sigmoid": sp.Piecewise((_HALF + x / (2 * (1 - x)), x < 0), (_HALF + x / (2 * (1 + x)), True)),
        "arctan": _HALF + sp.atan(x) / sp.pi,
        "triangle": sp.Piecewise(
            (0, x < -1), ((1 + x) ** 2 / 2, x < 0), (1 - (1 - x) ** 2 / 2, x < 1), (1, True)
        ),
        "laplace": sp.Piecewise((sp.exp(x) / 2, x < 0), (1 - sp.exp(-x) / 2, True)),
    }


def _pdfs():
    """Densities as written in the escape_noise docstring table (not sympy's derivative)."""
    x = _X
    sig = lambda t: 1 / (1 + sp.exp(-t))
    return {
        "sigmoid": BETA * sig(x) * sig(-x),
        "exponential": sp.Piecewise((BETA * P0 * sp.exp(x), x < -sp.log(P0)), (0, True)),
        "probit": BETA * sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi),
        "fast_sigmoid": sp.Piecewise((BETA / (2 * (1 - x) ** 2), x < 0), (BETA / (2 * (1 + x) ** 2), True)),
        "arctan": BETA / (sp.pi * (1 + x**2)),
        "triangle": sp.Piecewise((0, x < -1), (BETA * (1 + x), x < 0), (BETA * (1 - x), x < 1), (0, True)),
        "laplace": sp.Piecewise((BETA * sp.exp(x) / 2, x < 0), (BETA * sp.exp(-x) / 2, True)),
    }


def _surrogates():
    """Surrogates as in the surrogates docstring table (x = beta z)."""
    x = _X
    sig = lambda t: 1 / (1 + sp.exp(-t))
    return {
        "superspike": sp.Piecewise((1 / (1 - x) ** 2, x < 0), (1 / (1 + x) ** 2, True)),
        "sigmoid_prime": BETA * sig(x) * sig(-x),
        "scaled_sigmoid": sig(x) * sig(-x),
        "arctan": 1 / (1 + x**2),
        "triangle": sp.Piecewise((0, x < -1), (1 + x, x < 0), (1 - x, x < 1), (0, True)),
        "gaussian": sp.exp(-(x**2) / 2),
        "exponential": sp.Piecewise((BETA * P0 * sp.exp(x), x < -sp.log(P0)), (0, True)),
        "laplace": sp.Piecewise((sp.exp(x), x < 0), (sp.exp(-x), True)),
        "straight_through": sp.Integer(1),
    }


# Breakpoints in x = beta z where a family's formula changes.
_BREAKS = {
    "sigmoid": (),
    "probit": (),
    "arctan": (),
    "exponential": (-sp.log(P0),),
    "fast_sigmoid": (0,),
    "triangle": (-1, 0, 1),
    "laplace": (0,),
}


@cache
def cdf_expr(family: str) -> sp.Expr:
    """Sympy expression of the escape-noise CDF f(z) (symbols Z, BETA, P0)."""
    table = _cdfs()
    if family not in table:
        raise ValueError(f"unknown escape noise {family!r}; valid names: {', '.join(table)}")
    return table[family]


@cache
def pdf_expr(family: str) -> sp.Expr:
    """Transcribed density f'(z) of ``family`` (checked against diff(f) in family_report)."""
    cdf_expr(family)
    return _pdfs()[family]


@cache
def surrogate_expr(name: str) -> sp.Expr:
    """Sympy psi(z) for a registered surrogate name or ``matched:<family>``."""
    if name.startswith("matched:"):
        return pdf_expr(name.split(":", 1)[1])
    table = _surrogates()
    if name not in table:
        raise ValueError(f"unknown surrogate {name!r}; valid names: {', '.join(table)}")
    return table[name]


def _pieces(family: str):
    """[(lo, hi, sample_z)] intervals in z between breakpoints, with a point inside each."""
    br = [sp.sympify(b) for b in _BREAKS[family]]
    xs = [sp.sympify(0)] if not br else [br[0] - 1] + [(a + b) / 2 for a, b in pairwise(br)] + [br[-1] + 1]
    edges = [-sp.oo] + [b / BETA for b in br] + [sp.oo]
    return [(edges[i], edges[i + 1], xs[i] / BETA) for i in range(len(xs))]


def _branch(expr: sp.Expr, z_at) -> sp.Expr:
    """The formula of (piecewise) ``expr`` valid on the piece containing ``z_at``."""
    expr = sp.piecewise_fold(expr)
    if not isinstance(expr, sp.Piecewise):
        return expr
    for e, cond in expr.args:
        truth = sp.simplify(cond.subs(Z, z_at)) if cond is not sp.true else sp.true
        if truth is sp.true:
            return _branch(e, z_at)
        if truth is not sp.false:
            raise RuntimeError(f"cannot decide {cond} at z = {z_at}")
    raise RuntimeError("no branch holds")


def _is_zero(e: sp.Expr) -> bool:
    """Exact symbolic zero test: cheap normal forms first, ``simplify`` only as a fallback."""
    e = sp.expand(e)
    if e == 0 or sp.cancel(sp.together(e)) == 0:
        return True
    return sp.simplify(e) == 0


class FamilyReport(NamedTuple):
    """Symbolic facts about one escape-noise family (all booleans should be True)."""

    family: str
    pieces: tuple  # ((lo, hi, f_piece, f'_piece), ...) in z
    limit_minus_inf: sp.Expr  # f(-inf), must be 0
    limit_plus_inf: sp.Expr  # f(+inf), must be 1
    integral: sp.Expr  # integral of f' over R (sympy integrate, piece by piece), must be 1
    continuous: bool  # f continuous at every breakpoint, and the integral equals the telescoped f
    pdf_matches: bool  # diff(f) equals the transcribed density on every piece
    nonnegative: bool  # f' >= 0 at the sample point of every piece

    @property
    def ok(self) -> bool:
        return (
            self.limit_minus_inf == 0
            and self.limit_plus_inf == 1
            and self.integral == 1
            and self.continuous
            and self.pdf_matches
            and self.nonnegative
        )


@cache
def family_report(family: str) -> FamilyReport:
    """Differentiate f piece by piece and check that it is a CDF with density f'."""
    f, pdf = cdf_expr(family).rewrite(sp.erfc), pdf_expr(family)
    pieces, integral, matches, nonneg = [], sp.Integer(0), True, True
    for lo, hi, at in _pieces(family):
        fb = _branch(f, at)
        d = sp.diff(fb, Z)
        pieces.append((lo, hi, fb, d))
        matches &= _is_zero(d - _branch(pdf, at))
        nonneg &= bool(sp.simplify(d.subs(Z, at)) >= 0)
        # Fundamental theorem on the piece: limits of the antiderivative f at the ends.
        integral += _end(fb, hi, -1) - _end(fb, lo, +1)
    cont = all(_is_zero(_end(a[2], a[1], -1) - _end(b[2], b[0], +1)) for a, b in pairwise(pieces))
    lim_lo = sp.simplify(_end(pieces[0][2], -sp.oo, +1))
    lim_hi = sp.simplify(_end(pieces[-1][2], sp.oo, -1))
    # Direct integration of f' (independent of the antiderivative used above).
    direct = sp.simplify(sum(sp.integrate(d, (Z, lo, hi)) for lo, hi, _, d in pieces))
    cont &= _is_zero(direct - integral)
    return FamilyReport(family, tuple(pieces), lim_lo, lim_hi, direct, cont, matches, nonneg)


def _end(expr, point, side):
    """Value of ``expr`` at an interval end (a limit at +-oo, a substitution otherwise)."""
    if point in (sp.oo, -sp.oo):
        return sp.limit(expr, Z, point)
    return expr.subs(Z, point)


class FactorReport(NamedTuple):
    """psi = c f' for a surrogate and its matched family (c None: not a density)."""

    surrogate: str
    family: str | None
    c: sp.Expr | None
    residual_zero: bool  # psi - c f' simplifies to 0 on every piece
    note: str = ""


@cache
def surrogate_factor(name: str) -> FactorReport:
    """Derive c with psi = c f' (f the matched family), piece by piece."""
    from analysis.neuron._surrogates import MATCHED_NOISE  # registry names only (no maths)

    family = name.split(":", 1)[1] if name.startswith("matched:") else MATCHED_NOISE.get(name, "?")
    psi = surrogate_expr(name)
    if family is None:
        return FactorReport(name, None, None, False, "psi = 1 is not integrable on R: not a density")
    cs, ok = set(), True
    for lo, hi, _f_piece, d in family_report(family).pieces:
        p = _branch(psi, hi / 2 + lo / 2 if lo.is_finite and hi.is_finite else _mid(lo, hi))
        if _is_zero(d):
            ok &= _is_zero(p)
            continue
        c = sp.simplify(p / d)
        ok &= Z not in c.free_symbols and _is_zero(p - c * d)
        cs.add(c)
    ok &= len(cs) == 1
    return FactorReport(name, family, cs.pop() if len(cs) == 1 else None, ok)


def _mid(lo, hi):
    if lo == -sp.oo and hi == sp.oo:
        return sp.Integer(0)
    return hi - 1 / BETA if lo == -sp.oo else lo + 1 / BETA


@cache
def _lambdified(expr: sp.Expr):
    from scipy.special import ndtr

    return sp.lambdify((Z, BETA, P0), expr, modules=[{"Phi": ndtr}, "scipy", "numpy"])


def _numeric(expr: sp.Expr, beta: float, p0: float):
    """float64 NumPy function z -> expr (Piecewise -> numpy.select, Phi -> scipy ndtr)."""
    fn = _lambdified(expr)
    return lambda z: np.broadcast_to(np.asarray(fn(z, beta, p0), dtype=np.float64), np.shape(z))


def _rel_err(code, ref) -> float:
    """max |code - ref| / |ref| (absolute where ref == 0)."""
    code, ref = np.asarray(code, np.float64), np.asarray(ref, np.float64)
    scale = np.where(ref == 0, 1.0, np.abs(ref))
    return float(np.max(np.abs(code - ref) / scale))


def code_agreement(z_over_beta: np.ndarray | None = None, betas=(0.5, 3.0, 40.0), p0s=(0.3, 1.0)) -> dict:
    """Max relative error between lambdified sympy and the JAX code (needs jax x64).

    Compares f and f' of every escape-noise family and psi of every registered surrogate
    at x = beta z on ``z_over_beta`` (default: 2001 points in [-25, 25] shifted off the
    kinks by an irrational offset). Returns {"prob:<fam>"|"deriv:<fam>"|"psi:<name>": err}.
    """
    import jax.numpy as jnp

    from analysis.neuron._escape_noise import ESCAPE_NOISE_NAMES, escape_noise
    from analysis.neuron._surrogates import SURROGATE_NAMES, surrogate

    xs = np.linspace(-25, 25, 2001) + np.sqrt(2) * 1e-3 if z_over_beta is None else np.asarray(z_over_beta)
    errs: dict[str, float] = {}
    for b in betas:
        for p in p0s:
            z = xs / b
            zj = jnp.asarray(z, dtype=jnp.float64)
            for fam in ESCAPE_NOISE_NAMES:
                noise = escape_noise(fam, b, p0=p)
                for key, code, ref in (
                    ("prob", noise.prob, cdf_expr(fam)),
                    ("deriv", noise.deriv, diff_cdf(fam)),
                ):
                    e = _rel_err(code(zj), _numeric(ref, b, p)(z))
                    errs[f"{key}:{fam}"] = max(errs.get(f"{key}:{fam}", 0.0), e)
            for name in SURROGATE_NAMES:
                e = _rel_err(surrogate(name, b, p0=p)(zj), _numeric(surrogate_expr(name), b, p)(z))
                errs[f"psi:{name}"] = max(errs.get(f"psi:{name}", 0.0), e)
    return errs


@cache
def diff_cdf(family: str) -> sp.Expr:
    """sympy's derivative df/dz of the transcribed CDF (Piecewise kept piecewise)."""
    return sp.piecewise_fold(sp.diff(cdf_expr(family).rewrite(sp.erfc), Z))


class SPMGradient(NamedTuple):
    """Single-neuron SPM derived with symbolic weights w_1..w_n (Gygax & Zenke 2025, sec. 3)."""

    expected_output: sp.Expr  # E[S] = f(w.x - theta)
    gradient: tuple  # (dE[S]/dw_i)_i
    expected_loss: sp.Expr  # E[L] = f L(1) + (1 - f) L(0), with symbols L1, L0
    loss_gradient: tuple  # (dE[L]/dw_i)_i
    matches_sg: bool  # dE[S]/dw_i - f'(z) x_i == 0 and dE[L]/dw_i - (L1 - L0) f'(z) x_i == 0


@cache
def spm_gradient_symbolic(family: str, n: int = 3) -> SPMGradient:
    """Differentiate E[S] and E[L] w.r.t. symbolic weights; compare with f'(z) x (per piece).

    The result expresses the SG of the stochastic neuron with psi = f' (for any sample S)
    and the secant form (L(1) - L(0)) f'(z) x of the loss gradient.
    """
    w, x = sp.symbols(f"w1:{n + 1}", real=True), sp.symbols(f"x1:{n + 1}", real=True)
    theta, l1, l0 = sp.symbols("theta L1 L0", real=True)
    zsum = sum(wi * xi for wi, xi in zip(w, x, strict=True)) - theta
    ok = True
    for _, _, fb, d in family_report(family).pieces:  # piece by piece: no Piecewise simplify
        es = fb.subs(Z, zsum)
        el = es * l1 + (1 - es) * l0
        fprime = d.subs(Z, zsum)
        ok &= all(_is_zero(sp.diff(es, wi) - fprime * xi) for wi, xi in zip(w, x, strict=True))
        ok &= all(_is_zero(sp.diff(el, wi) - (l1 - l0) * fprime * xi) for wi, xi in zip(w, x, strict=True))
    es = cdf_expr(family).subs(Z, zsum)
    el = es * l1 + (1 - es) * l0
    return SPMGradient(es, tuple(sp.diff(es, wi) for wi in w), el, tuple(sp.diff(el, wi) for wi in w), ok)


def spm_gradient_numeric(family: str, beta: float, w, x, theta=1.0, p0: float = 0.5, *, z=None):
    """grad_w E[S] = f'(w.x - theta) x with f' = sympy's diff of f, in float64 NumPy.

    ``w``, ``x``: arrays of shape (..., n); returns shape (..., n). An independent
    reference for the JAX single-neuron code. ``z`` (shape (...,)) overrides w.x - theta,
    so that code and reference can be compared at bit-identical membrane distances (the
    summation order of w.x changes z by rounding, and f' amplifies that near kinks).
    """
    w, x = np.asarray(w, np.float64), np.asarray(x, np.float64)
    if w.shape != x.shape:
        raise ValueError(f"w has shape {w.shape} but x has shape {x.shape}; they must match")
    z = np.sum(w * x, axis=-1) - theta if z is None else np.asarray(z, np.float64)
    return _numeric(diff_cdf(family), beta, p0)(z)[..., None] * x
