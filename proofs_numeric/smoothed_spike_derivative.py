"""Claim: the derivative rule of the stochastic spike S ~ Ber(f(z)) (``bernoulli_spike``
with the default matched surrogate) is the smoothed straight-through stochastic derivative
dS/dz = f'(z) = d/dz E[S], whatever spike was sampled.

Gygax & Zenke 2025, sec. 4 (central result); Arya et al. (NeurIPS 2022).
Measured: jax.grad of z -> bernoulli_spike(key, z, noise) for many keys and z (both
sampled values S = 0 and S = 1 occur). Reference: jax.grad of z -> f(z) (the expected
output; ordinary AD of the CDF code, not the closed-form density). z is kept 1e-2/beta away
from the kinks of the piecewise families. Criterion: max relative error <= 1e-12 (float64).
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np

from proofs_numeric._foundation import random_neurons, rel_err
from proofs_numeric._registry import register, result

NAME = "smoothed_spike_derivative"
TOL = 1e-12


@partial(jax.jit, static_argnums=0)
def _derivatives(noises, keys, z):
    """Per noise: dS/dz through the custom rule, the sampled S, and jax.grad of f (one jit)."""
    from analysis import bernoulli_spike

    out = []
    for i, noise in enumerate(noises):
        d_spike = jax.vmap(jax.grad(lambda k, z_, noise=noise: bernoulli_spike(k, z_, noise), argnums=1))(
            keys[i], z[i]
        )
        spikes = jax.vmap(lambda k, z_, noise=noise: bernoulli_spike(k, z_, noise))(keys[i], z[i])
        out.append((d_spike, spikes, jax.vmap(jax.grad(noise.prob))(z[i])))
    return out


@register(
    NAME,
    "The custom rule of the Bernoulli spike gives dS/dz = f'(z) = jax.grad of E[S] = f "
    "for every sample (smoothed straight-through stochastic derivative).",
)
def check(profile: str = "quick"):
    from analysis.neuron import ESCAPE_NOISE_NAMES, escape_noise

    n = 256 if profile == "quick" else 20_000
    rng = np.random.default_rng(77)
    cases = [(fam, b) for fam in ESCAPE_NOISE_NAMES for b in (1.5, 40.0)]
    noises = tuple(escape_noise(fam, b, p0=0.3) for fam, b in cases)
    z = []
    for fam, b in cases:  # beta z in [-6, 6], off the kinks
        w, x, theta = random_neurons(rng, fam, b, n, 1, p0=0.3)
        z.append(np.sum(w * x, axis=1) - theta)
    keys = jax.random.split(jax.random.key(5), (len(cases), n))
    errs, counts = {}, {}
    for (fam, _), (d_spike, spikes, d_expect) in zip(
        cases, _derivatives(noises, keys, np.stack(z)), strict=True
    ):
        errs[fam] = max(errs.get(fam, 0.0), rel_err(d_spike, d_expect))
        c = counts.setdefault(fam, {"S=1": 0, "S=0": 0})
        c["S=1"] += int(spikes.sum())
        c["S=0"] += int(n - spikes.sum())
    worst = max(errs.values())
    both = all(c["S=1"] > 0 and c["S=0"] > 0 for c in counts.values())
    return result(
        NAME,
        worst,
        0.0,
        TOL,
        worst <= TOL and both,
        criterion="max relative error <= tol over families, betas (1.5, 40) and samples; "
        "both spike values sampled for every family",
        errors=errs,
        sampled_spikes=counts,
        n_per_beta=n,
    )
