"""Autodiff through the escape-noise probability f(z) (analysis.neuron._escape_noise).

``jax.grad`` of ``f.prob`` is the closed-form density ``f.deriv`` for every family, at z = 0,
+-tiny, +-1 and far in both tails, in float32 and float64 (f.prob carries a custom JVP; before
it, autodiff of fast_sigmoid's sign(z) form gave 0 at z = 0 instead of beta / 2). Values are
checked against sympy's derivative of the transcribed CDF evaluated by mpmath at 60 digits.
Also: the lower tails of fast_sigmoid and arctan keep their relative precision, the rule works
under jit / vmap / jvp-of-jvp and keeps float32, and ``sgtheory compare`` on a one-weight
network exactly at threshold reports dE/dw = f'(0) x.
"""

import json

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import sympy as sp

from analysis import ESCAPE_NOISE_NAMES, escape_noise
from analysis.neuron.symbolic import BETA, P0, Z, cdf_expr, diff_cdf
from tests.helpers import run_cli

BETA_VALUE, P0_VALUE = 2.5, 0.5
# z = 0, +-tiny, +-1 and both tails (heavy-tailed families keep non-zero values out to 1e30).
POINTS = (0.0, 1e-30, -1e-30, 1.0, -1.0, 8.0, -8.0, 1e6, -1e6, 1e30, -1e30)
DTYPES = (np.float32, np.float64)


def _mp_fn(expr):
    # Phi (probit) as mpmath's normal CDF: sympy's erfc form is 1 - erfc(.)/2, which cancels.
    fn = sp.lambdify((Z, BETA, P0), expr, modules=[{"Phi": mpmath.ncdf}, "mpmath"])
    return lambda z: fn(mpmath.mpf(z), mpmath.mpf(BETA_VALUE), mpmath.mpf(P0_VALUE))


def _reference(expr, z):
    """(value, relative condition number |x d ln g / dx|) of ``expr`` at the float z, 60 digits."""
    with mpmath.workdps(60):
        val = _mp_fn(expr)(z)
        if val == 0 or z == 0:
            return val, mpmath.mpf(0)
        slope = _mp_fn(sp.piecewise_fold(sp.diff(expr, Z)))(z)
        return val, abs(mpmath.mpf(z) * slope / val)


def _close(got, ref, cond, dtype) -> bool:
    """Within (cond + 8) eps relative plus the dtype's smallest subnormal absolute. Origin:
    x = beta z is rounded once (relative eps / 2, amplified by the condition number of the
    formula in x), then a handful of correctly rounded operations (< 8 eps together); values
    below the dtype's range round to 0 (or the smallest subnormal)."""
    info = np.finfo(dtype)
    tol = (float(cond) + 8.0) * float(info.eps) * abs(float(ref)) + float(info.smallest_subnormal)
    return abs(float(got) - float(ref)) <= tol


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ESCAPE_NOISE_NAMES)
def test_grad_of_prob_is_the_closed_form_density(name, dtype):
    f = escape_noise(name, BETA_VALUE, p0=P0_VALUE)
    zs = np.asarray(POINTS, dtype)
    grads = jax.vmap(jax.grad(f.prob))(jnp.asarray(zs))
    assert grads.dtype == zs.dtype
    # the custom JVP is the density times the tangent 1: identical to f.deriv, bit for bit
    np.testing.assert_array_equal(np.asarray(grads), np.asarray(f.deriv(jnp.asarray(zs))))
    bad = []
    for z, g in zip(zs, np.asarray(grads), strict=True):
        ref, cond = _reference(diff_cdf(name), float(z))
        if not _close(g, ref, cond, dtype):
            bad.append((float(z), float(g), float(ref)))
    assert not bad, bad


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ESCAPE_NOISE_NAMES)
def test_prob_matches_the_cdf_in_both_tails(name, dtype):
    """f itself, relative to the exact CDF: the lower tails of fast_sigmoid and arctan were
    computed as 1/2 - (1/2 - tail) (0 instead of 5e-31 at z = -1e30; 1.3 % and 3 % off at
    beta z = -1e6 in float32)."""
    f = escape_noise(name, BETA_VALUE, p0=P0_VALUE)
    zs = np.asarray(POINTS, dtype)
    probs = np.asarray(f.prob(jnp.asarray(zs)))
    bad = []
    for z, p in zip(zs, probs, strict=True):
        ref, cond = _reference(cdf_expr(name), float(z))
        if not _close(p, ref, cond, dtype):
            bad.append((float(z), float(p), float(ref)))
    assert not bad, bad


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ["fast_sigmoid", "arctan"])
def test_heavy_lower_tails_are_not_cancelled(name, dtype):
    """f(-1e30) > 0 and f at beta z = -1e6 within 4 eps (relative; a division, an arctan and
    a division by pi, each correctly rounded or within 1 ulp) of 0.5 / (1 + |x|) (fast
    sigmoid) or arctan(1 / |x|) / pi (arctan), computed by mpmath."""
    f = escape_noise(name, 1.0)
    assert float(f.prob(jnp.asarray(-1e30, dtype))) > 0
    got = float(f.prob(jnp.asarray(-1e6, dtype)))
    x = mpmath.mpf(1e6)
    want = float(0.5 / (1 + x) if name == "fast_sigmoid" else mpmath.atan(1 / x) / mpmath.pi)
    assert abs(got - want) <= 4 * float(np.finfo(dtype).eps) * want


@pytest.mark.parametrize("name", ESCAPE_NOISE_NAMES)
def test_custom_rule_composes_with_jit_vmap_and_second_derivatives(name):
    """jit(vmap(grad)) equals deriv to 4 ulp (XLA may fuse the compiled density differently
    from the eager one: 1 ulp seen); the second derivative (jvp of jvp) is the derivative of
    the density (central difference of f.deriv in float64 off the kinks: step 1e-6, truncation
    error ~1e-12 relative, round-off ~1e-10; tolerance 1e-6 relative)."""
    f = escape_noise(name, 1.7)
    z = jnp.asarray([-2.3, -0.61, 0.37, 1.9], jnp.float64)  # no kinks (0, +-1/beta, -log(p0)/beta)
    compiled = jax.jit(jax.vmap(jax.grad(f.prob)))(z)
    np.testing.assert_allclose(np.asarray(compiled), np.asarray(f.deriv(z)), rtol=4 * 2.0**-52, atol=0)
    second = jax.vmap(jax.grad(jax.grad(f.prob)))(z)
    h = 1e-6
    fd = (f.deriv(z + h) - f.deriv(z - h)) / (2 * h)
    np.testing.assert_allclose(np.asarray(second), np.asarray(fd), rtol=1e-6, atol=1e-9)
    _, tangent = jax.jvp(f.prob, (z.astype(jnp.float32),), (jnp.ones(4, jnp.float32),))
    assert tangent.dtype == jnp.float32


def test_compare_on_a_one_weight_network_at_threshold(tmp_path, capsys):
    """``sgtheory compare``: one neuron, w x = theta exactly, loss = its spike. E[L] = f(wx -
    theta) = f(0) = 1/2, so dE/dw = f'(0) x = beta / 2 * x = 1 for fast_sigmoid beta 2, x 1
    (it used to report 0). The exact value is a float64 enumeration: tolerance 1e-12."""
    spec = {
        "kind": "feedforward",
        "weights": [[[1.0]]],
        "input": [1.0],
        "threshold": 1.0,
        "escape_noise": {"name": "fast_sigmoid", "beta": 2.0},
        "surrogate": None,
        "loss": {"name": "mean"},
    }
    path, out = tmp_path / "one.json", tmp_path / "out.json"
    path.write_text(json.dumps(spec))
    rc, stdout, err = run_cli(capsys, ["compare", path, "--samples", "50", "--json", out])
    assert rc == 0, err
    data = json.loads(out.read_text())
    assert data["exact_value"] == pytest.approx(0.5, abs=1e-12)
    assert data["exact_grad"] == pytest.approx([1.0], abs=1e-12)
