"""Claim: for a loss L of the output spike, the surrogate gradient (matched psi = f')
differs from the exact grad_w E[L] by exactly the predicted amount, sample by sample and in
expectation; the difference vanishes for linear L.

Gygax & Zenke 2025, sec. 3.1. For a sample S the SG is L'(S) f'(z) x while
grad_w E[L] = (L(1) - L(0)) f'(z) x, so SG - grad E[L] = (L'(S) - (L(1) - L(0))) f'(z) x
(``analysis.neuron._single_neuron.sg_loss_difference``). For the squared loss L = (S - t)^2 the
expected difference, derived by hand, is E[SG] - grad E[L] = (2 f(z) - 1) f'(z) x,
independent of t. Measured: SG through the custom rule (``surrogate_gradient(..., loss=L)``), its
expectation by exact enumeration over S in {0, 1} (spikes forced through
``bernoulli_spike_from_uniform`` with u = 0 and u = 1), and grad E[L] by jax.grad of
E[L] (``spm_gradient(..., loss=L)``). Errors are relative to the gradient scale f'(z) max|x|; tolerance 1e-12.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from proofs_numeric._foundation import random_neurons
from proofs_numeric._registry import register, result

NAME = "single_neuron_nonlinear_loss"
TOL = 1e-12
TARGET = 0.3


def _sq(s):
    return (s - TARGET) ** 2


def _lin(s):
    return 1.7 * s - 0.4


def _neuron(noise, loss, w, x, theta, keys):
    """(per-sample residual, expectation residual, |expected difference|, linear check) / scale."""
    import jax
    import jax.numpy as jnp

    from analysis.neuron import (
        bernoulli_spike,
        bernoulli_spike_from_uniform,
        spm_gradient,
        surrogate_gradient,
    )
    from analysis.neuron._single_neuron import membrane_distance, sg_loss_difference

    z = membrane_distance(w, x, theta)
    exact = spm_gradient(w, x, noise, theta, loss=loss)
    sg = jax.vmap(lambda k: surrogate_gradient(k, w, x, noise, theta, loss=loss))(keys)
    s = jax.vmap(lambda k: bernoulli_spike(k, z, noise))(keys)
    pred = jax.vmap(lambda s_: sg_loss_difference(s_, w, x, noise, loss, theta))(s)
    forced = lambda u: jax.grad(
        lambda w_: loss(
            bernoulli_spike_from_uniform(membrane_distance(w_, x, theta), jnp.asarray(u, z.dtype), noise)
        )
    )(w)
    f = noise.prob(z)
    expect_sg = f * forced(0.0) + (1 - f) * forced(1.0)
    scale = jnp.maximum(noise.deriv(z) * jnp.max(jnp.abs(x)), 1e-300)
    per_sample = jnp.max(jnp.abs(sg - exact - pred)) / scale
    return per_sample, expect_sg - exact, (2 * f - 1) * noise.deriv(z) * x, scale


@partial(jax.jit, static_argnums=0)
def _all_families(noises, w, x, theta, keys):
    """Normalised residuals per family (Python loop inside one jit: a single compilation)."""
    out = {"per_sample": [], "expectation": [], "linear": [], "bias": []}
    for i, noise in enumerate(noises):
        run = lambda loss, i=i, noise=noise: jax.vmap(partial(_neuron, noise, loss))(
            w[i], x[i], theta[i], keys[i]
        )
        ps, diff, pred, scale = run(_sq)
        ps_lin, diff_lin, _, _ = run(_lin)
        scale = scale[:, None]
        out["per_sample"].append(jnp.maximum(ps.max(), ps_lin.max()))
        out["expectation"].append(jnp.max(jnp.abs(diff - pred) / scale))
        out["linear"].append(jnp.max(jnp.abs(diff_lin) / scale))
        out["bias"].append(jnp.max(jnp.abs(pred) / scale))
    return {k: jnp.stack(v) for k, v in out.items()}


@register(
    NAME,
    "Single neuron, nonlinear loss: SG - grad E[L] = (L'(S) - (L(1) - L(0))) f'(z) x "
    "sample by sample, (2f - 1) f' x in expectation for L = (S - t)^2, 0 for linear L.",
)
def check(profile: str = "quick"):
    import jax

    from analysis import escape_noise
    from analysis.neuron import ESCAPE_NOISE_NAMES

    n_neurons, n_samples = (32, 64) if profile == "quick" else (100, 512)
    rng = np.random.default_rng(1234)
    noises = tuple(escape_noise(fam, 2.0, p0=0.3) for fam in ESCAPE_NOISE_NAMES)
    neurons = [random_neurons(rng, fam, 2.0, n_neurons, 4, p0=0.3) for fam in ESCAPE_NOISE_NAMES]
    w, x, theta = (np.stack(a) for a in zip(*neurons, strict=True))
    keys = jax.random.split(jax.random.key(0), (len(noises), n_neurons, n_samples))
    out = _all_families(noises, w, x, theta, keys)  # one compilation for all families
    worst = {k: float(np.max(v)) for k, v in out.items() if k != "bias"}
    largest_bias = float(np.max(out["bias"]))
    measured = max(worst.values())
    return result(
        NAME,
        measured,
        0.0,
        TOL,
        measured <= TOL and largest_bias > 0.1,
        criterion="max residual / (f'(z) max|x|) <= tol for per-sample, expectation and linear-loss "
        "checks; the expected difference is non-trivial (> 0.1 of the scale) somewhere",
        residuals=worst,
        largest_expected_difference_over_scale=largest_bias,
        neurons_per_family=n_neurons,
        samples_per_neuron=n_samples,
        loss=f"(S - {TARGET})^2",
    )
