"""Closed-form dynamics of a current-based LIF neuron between events.

Between events (time s since the last one, no input, no threshold),

    tau_syn dI/ds = -I,   tau_mem dV/ds = -V + I,

so I(s) = I0 e^{-s/tau_syn} and V(s) = V0 e^{-s/tau_mem} + I0 g(s) with the PSP kernel

    g(s) = tau_syn / (tau_syn - tau_mem) (e^{-s/tau_syn} - e^{-s/tau_mem})   (tau_mem != tau_syn)
    g(s) = (s / tau) e^{-s/tau}                                              (tau_mem = tau_syn = tau).

V has at most one critical point s_c (V' is a sum of two exponentials): e^{s (1/tau_syn -
1/tau_mem)} = A tau_mem / ((A - V0) tau_syn) with A = I0 tau_syn / (tau_syn - tau_mem) (and
s_c = tau (I0 - V0) / I0 for equal constants). A crossing of theta > 0 from V0 < theta
therefore needs I0 > 0 and V'(0) > 0 (I0 > V0), and then happens in (0, s_c] iff V(s_c) >=
theta, where V is increasing: a bracket for a guarded Newton iteration. For tau_mem =
2 tau_syn, x = e^{-s/tau_mem} turns V(s) = (V0 + I0) x - I0 x^2 into a quadratic, and the
first crossing is its larger root x+ = ((V0 + I0) + sqrt((V0 + I0)^2 - 4 I0 theta)) / (2 I0).

The root finder's derivative is the implicit function theorem at the crossing,
ds*/dp = -(dV(s*)/dp) / V'(s*) (a ``jax.custom_jvp``), so ``jax.grad`` through the
simulator differentiates the exact spike times.

The adjoint (lambda_V, lambda_I) = (dL/dV(s), dL/dI(s)) of these dynamics obeys, backwards
over a gap Delta, lambda_V <- lambda_V e^{-Delta/tau_mem}, lambda_I <- lambda_I
e^{-Delta/tau_syn} + lambda_V g(Delta) (:func:`adjoint_back`).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

NEWTON_STEPS = 48


def is_special(tau_mem: float, tau_syn: float) -> bool:
    """True when tau_mem = 2 tau_syn (to 1e-12 relative): the closed-form crossing applies."""
    return abs(tau_mem - 2.0 * tau_syn) <= 1e-12 * tau_mem


def kernel(s, tau_mem: float, tau_syn: float):
    """The PSP kernel g(s): V(s) for V0 = 0, I0 = 1."""
    em = jnp.exp(-s / tau_mem)
    if tau_mem == tau_syn:
        return (s / tau_mem) * em
    return tau_syn / (tau_syn - tau_mem) * (jnp.exp(-s / tau_syn) - em)


def advance(v, i, s, tau_mem: float, tau_syn: float):
    """(V(s), I(s)) from (V0, I0) = (v, i) after a gap s >= 0 without events."""
    return v * jnp.exp(-s / tau_mem) + i * kernel(s, tau_mem, tau_syn), i * jnp.exp(-s / tau_syn)


def adjoint_back(lam_v, lam_i, s, tau_mem: float, tau_syn: float):
    """(lambda_V, lambda_I) a gap s earlier (the adjoint of :func:`advance`)."""
    return lam_v * jnp.exp(-s / tau_mem), lam_i * jnp.exp(-s / tau_syn) + lam_v * kernel(s, tau_mem, tau_syn)


def critical_point(v, i, tau_mem: float, tau_syn: float):
    """(s_c, ok): the zero of V'(s) and whether it exists (ok False: V' keeps its sign)."""
    if tau_mem == tau_syn:
        ok = i != 0
        return tau_mem * (i - v) / jnp.where(ok, i, 1.0), ok
    a = i * tau_syn / (tau_syn - tau_mem)
    den = (a - v) * tau_syn
    r = a * tau_mem / jnp.where(den != 0, den, 1.0)
    ok = (den != 0) & (r > 0)
    return jnp.log(jnp.where(ok, r, 1.0)) / (1.0 / tau_syn - 1.0 / tau_mem), ok


def _closed_form(v, i, tau_mem, theta):
    b = v + i
    disc = b * b - 4.0 * i * theta
    ok = (i > 0) & (i > v) & (b > 0) & (disc >= 0) & (v < theta)
    safe_i = jnp.where(ok, i, 1.0)
    x = (jnp.where(ok, b, 1.0) + jnp.sqrt(jnp.where(ok, disc, 1.0))) / (2.0 * safe_i)
    s = -tau_mem * jnp.log(jnp.where(ok, x, 1.0))
    return jnp.where(v >= theta, 0.0, jnp.where(ok, s, jnp.inf))


def _bracket(v, i, tau_mem, tau_syn, theta):
    s_c, has_c = critical_point(v, i, tau_mem, tau_syn)
    rising = (i > 0) & (i > v) & (v < theta) & has_c & (s_c > 0)
    s_c = jnp.where(rising, s_c, 1.0)
    v_c, _ = advance(v, i, s_c, tau_mem, tau_syn)
    return rising & (v_c >= theta), s_c


@partial(jax.custom_jvp, nondiff_argnums=(2, 3, 4))
def _newton(v, i, tau_mem, tau_syn, theta):
    ok, hi = _bracket(v, i, tau_mem, tau_syn, theta)

    def body(_, state):
        lo, hi, s = state
        vs, i_s = advance(v, i, s, tau_mem, tau_syn)
        f = vs - theta
        lo, hi = jnp.where(f < 0, s, lo), jnp.where(f < 0, hi, s)
        slope = (i_s - vs) / tau_mem
        step = s - f / jnp.where(slope > 0, slope, 1.0)
        inside = (slope > 0) & (step > lo) & (step < hi)
        return lo, hi, jnp.where(inside, step, 0.5 * (lo + hi))

    # a fixed number of steps: an early exit (while_loop on the step size) left ~1e-12
    # relative noise in s under XLA's backend optimisation level 0 (the test suite's)
    _, _, s = jax.lax.fori_loop(0, NEWTON_STEPS, body, (jnp.zeros_like(hi), hi, 0.5 * hi))
    return jnp.where(v >= theta, 0.0, jnp.where(ok, s, jnp.inf))


@_newton.defjvp
def _newton_jvp(tau_mem, tau_syn, theta, primals, tangents):
    v, i = primals
    dv, di = tangents
    s = _newton(v, i, tau_mem, tau_syn, theta)
    fin = jnp.isfinite(s) & (s > 0)
    s_safe = jnp.where(fin, s, 0.0)
    slope = (i * jnp.exp(-s_safe / tau_syn) - theta) / tau_mem
    dvds = dv * jnp.exp(-s_safe / tau_mem) + di * kernel(s_safe, tau_mem, tau_syn)
    ds = jnp.where(fin & (slope > 0), -dvds / jnp.where(slope > 0, slope, 1.0), 0.0)
    return s, ds


def crossing_time(v, i, tau_mem: float, tau_syn: float, theta: float, *, method: str = "auto"):
    """Time s* >= 0 until V first reaches ``theta`` from (V0, I0) = (v, i) without events.

    +inf where it never does; 0 where v >= theta already. ``method``: ``"closed"`` (needs
    tau_mem = 2 tau_syn), ``"newton"`` (a guarded Newton iteration on the bracket (0, s_c],
    48 steps: machine precision), ``"auto"`` (closed when it applies). Differentiable in v
    and i (the implicit function theorem at the crossing; zero where there is none).
    """
    if method == "auto":
        method = "closed" if is_special(tau_mem, tau_syn) else "newton"
    if method == "closed":
        if not is_special(tau_mem, tau_syn):
            raise ValueError(f"method='closed' needs tau_mem = 2 tau_syn, got {tau_mem} and {tau_syn}")
        return _closed_form(v, i, tau_mem, theta)
    if method != "newton":
        raise ValueError(f"unknown method {method!r}; valid: auto, closed, newton")
    return _newton(v, i, float(tau_mem), float(tau_syn), float(theta))
