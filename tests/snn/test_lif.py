"""LIF neuron model: parameters, PSP kernel, fluctuation-driven initialisation.

Independent references: the closed-form PSP kernel of the two-exponential recursion and
its geometric-series energy; Campbell's theorem for the free membrane second moment.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.snn import (
    LIFParams,
    Method,
    SNNConfig,
    fluctuation_sigma_w,
    init_params,
    psp_kernel,
    simulate,
)
from analysis.snn._lif import epsilon_hat


def _closed_form_kappa(p, n):
    lm, ls = p.lambda_mem, p.lambda_syn
    t = np.arange(n)
    k = (1 - lm) * (lm ** (t - 1.0) - ls ** (t - 1.0)) / (lm - ls)
    k[:2] = 0.0  # input at t=0 reaches I[1], hence U[2] first
    return k


@pytest.mark.parametrize("tm,ts", [(10e-3, 5e-3), (20e-3, 10e-3), (5e-3, 30e-3)])
def test_psp_kernel_closed_form(tm, ts):
    p = LIFParams(tau_mem=tm, tau_syn=ts)
    np.testing.assert_allclose(psp_kernel(p, 300), _closed_form_kappa(p, 300), rtol=1e-12, atol=1e-15)
    lm, ls = p.lambda_mem, p.lambda_syn
    series = 1 / (1 - lm**2) - 2 / (1 - lm * ls) + 1 / (1 - ls**2)
    exact = p.dt * (1 - lm) ** 2 / (lm - ls) ** 2 * series
    assert math.isclose(epsilon_hat(p), exact, rel_tol=1e-10)


def test_sigma_w_formula():
    p = LIFParams(tau_mem=20e-3, tau_syn=10e-3)
    sw = fluctuation_sigma_w(p, n_in=300, nu=15.0, sigma_u=0.7)
    assert math.isclose(300 * 15.0 * epsilon_hat(p) * sw**2, 0.49, rel_tol=1e-12)


def test_free_membrane_second_moment_campbell():
    """E[U_i^2] of the free membrane under Bernoulli(p) inputs equals
    p (1-p) sum(kappa^2) sum_j w_ij^2 + p^2 (sum kappa)^2 (sum_j w_ij)^2  (Campbell).

    Averaged over 64 neurons and 200 bins after a burn-in; the standard error comes from
    the 64 independent input samples (neurons of one sample share inputs); tolerance 5 SE
    (+ atol): false-failure rate < 1e-6 under a normal approximation.
    """
    lif = LIFParams(tau_mem=10e-3, tau_syn=5e-3, theta=1e9)  # never spikes
    n_in, nu, b, t_len = 100, 50.0, 64, 300
    cfg = SNNConfig(n_in=n_in, hidden=(64,), n_out=1, lif=lif)
    params = init_params(jax.random.key(3), cfg, nu=nu, sigma_u=1.0, dtype=jnp.float64)
    p_in = nu * lif.dt
    x = (jax.random.uniform(jax.random.key(4), (b, t_len, n_in)) < p_in).astype(jnp.float64)
    u = np.asarray(simulate(params, x, cfg, Method("deterministic"), record="all").membranes[0])
    per_sample = (u[:, 100:, :] ** 2).mean(axis=(1, 2))  # [B], independent
    w = np.asarray(params["hidden"][0]["w"])
    kappa = psp_kernel(lif, 400)
    fluct = (w**2).sum(0) * p_in * (1 - p_in) * (kappa**2).sum()
    exact = (fluct + (w.sum(0) * p_in * kappa.sum()) ** 2).mean()
    se = per_sample.std(ddof=1) / math.sqrt(b)
    assert abs(per_sample.mean() - exact) <= 5 * se + 1e-9
    # the fluctuation part is what the init targets: sigma_U^2 (1 - p) up to weight sampling
    assert abs(fluct.mean() / (1 - p_in) - 1.0) < 0.05


def test_weight_init_std():
    cfg = SNNConfig(n_in=400, hidden=(300,), n_out=50)
    params = init_params(jax.random.key(0), cfg, nu=5.0, sigma_u=1.0)
    w = np.asarray(params["hidden"][0]["w"])
    sw = fluctuation_sigma_w(cfg.lif, 400, 5.0)
    # relative SE of a sample std over n = 120000 entries is 1/sqrt(2n) = 0.002; 5 SE
    assert abs(w.std() / sw - 1) < 5 * 0.002 + 1e-3
    assert w.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(tau_mem=0.0), "tau_mem"),
        (dict(tau_syn=-1.0), "tau_syn"),
        (dict(dt=float("nan")), "dt"),
        (dict(theta=0.0), "theta"),
        (dict(reset="soft"), "reset"),
    ],
)
def test_bad_lif_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LIFParams(**kwargs)


def test_bad_sigma_args():
    p = LIFParams()
    with pytest.raises(ValueError, match="nu"):
        fluctuation_sigma_w(p, 10, 0.0)
    with pytest.raises(ValueError, match="n_in"):
        fluctuation_sigma_w(p, 0, 5.0)


def test_naive_lif_reference_gives_the_psp_kernel():
    """The shared naive reference of tests.helpers against the closed-form PSP kernel: one
    input spike at t = 0 into a neuron that never spikes."""
    from tests.helpers import naive_lif

    p = LIFParams(tau_mem=10e-3, tau_syn=5e-3)
    x = np.zeros((1, 40, 1))
    x[0, 0, 0] = 1.0
    never = lambda z, l, t: 0.0 * z
    _, u = naive_lif(x, [np.ones((1, 1))], never, lif=[(p.lambda_mem, p.lambda_syn, 1.0)])
    np.testing.assert_allclose(np.stack(u[0], 1)[0, :, 0], _closed_form_kappa(p, 40), rtol=1e-12, atol=1e-15)
