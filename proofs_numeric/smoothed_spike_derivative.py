"""Claim: the derivative rule of the stochastic spike S ~ Ber(f(z)) (``bernoulli_spike``
with the default matched surrogate) is the smoothed straight-through stochastic derivative
dS/dz = f'(z) = d/dz E[S], whatever spike was sampled.

THEORY.md sec. 4 (central result); Gygax & Zenke 2025, sec. 4; Arya et al. (NeurIPS 2022).
Measured: jax.grad of z -> bernoulli_spike(key, z, noise) for many keys and z (both
sampled values S = 0 and S = 1 occur). Reference: jax.grad of z -> f(z) (the expected
output; ordinary AD of the CDF code, not the closed-form density). z is kept 1e-2/beta away
from the kinks of the piecewise families. Criterion: max relative error <= 1e-12 (float64).
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._core import register, result
from proofs_numeric._foundation import rel_err

NAME = "smoothed_spike_derivative"
TOL = 1e-12


def _family(family, beta, n, seed):
    import jax
    import jax.numpy as jnp

    from analysis import bernoulli_spike, escape_noise
    from proofs_numeric._foundation import random_neurons

    noise = escape_noise(family, beta, p0=0.3)
    w, x, theta = random_neurons(np.random.default_rng(seed), family, beta, n, 1, p0=0.3)
    z = jnp.asarray(np.sum(w * x, axis=1) - theta)  # beta z in [-6, 6], off the kinks
    keys = jax.random.split(jax.random.key(seed), n)
    d_spike = jax.vmap(jax.grad(lambda k, z_: bernoulli_spike(k, z_, noise), argnums=1))(keys, z)
    spikes = jax.vmap(lambda k, z_: bernoulli_spike(k, z_, noise))(keys, z)
    d_expect = jax.vmap(jax.grad(noise.prob))(z)
    return rel_err(d_spike, d_expect), int(spikes.sum()), int(n - spikes.sum())


@register(NAME, "The custom rule of the Bernoulli spike gives dS/dz = f'(z) = jax.grad of E[S] = f "
                "for every sample (smoothed straight-through stochastic derivative).")
def check(profile: str = "quick"):
    from analysis.escape_noise import ESCAPE_NOISE_NAMES

    n = 256 if profile == "quick" else 20_000
    errs, counts = {}, {}
    for i, fam in enumerate(ESCAPE_NOISE_NAMES):
        e1, ones1, zeros1 = _family(fam, 1.5, n, 7 + i)
        e2, ones2, zeros2 = _family(fam, 40.0, n, 70 + i)
        errs[fam], counts[fam] = max(e1, e2), {"S=1": ones1 + ones2, "S=0": zeros1 + zeros2}
    worst = max(errs.values())
    both = all(c["S=1"] > 0 and c["S=0"] > 0 for c in counts.values())
    return result(NAME, worst, 0.0, TOL, worst <= TOL and both,
                  criterion="max relative error <= tol over families, betas (1.5, 40) and samples; "
                            "both spike values sampled for every family",
                  errors=errs, sampled_spikes=counts, n_per_beta=n)
