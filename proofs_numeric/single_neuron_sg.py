"""Claim: for one escape-noise neuron the surrogate gradient with the matched surrogate
equals the exact gradient of the smoothed probabilistic model, grad_w E[S] = f'(z) x.

THEORY.md sec. 2; Gygax & Zenke 2025, sec. 3.1. Measured: SG through the custom rules
(stochastic ``bernoulli_spike`` and deterministic ``heaviside_spike``, both with psi = f',
via ``analysis.single_neuron.surrogate_gradient``). References: jax.grad of f
(``spm_gradient``) and the sympy formula (``analysis.symbolic.spm_gradient_numeric``),
plus the symbolic derivation itself (``spm_gradient_symbolic``). Neurons are sampled with
beta z in [-6, 6] at least 0.01 away from the kinks of the piecewise families (triangle,
exponential clip), where f' is ambiguous. Criterion: max relative error <= 1e-12 (float64).
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._core import register, result
from proofs_numeric._foundation import random_neurons, rel_err

NAME = "single_neuron_sg"
TOL = 1e-12
BETAS = {"quick": (0.5, 20.0), "full": (0.3, 2.0, 10.0, 50.0)}


def _family_errors(family, beta, n_neurons, n_inputs, rng, seed):
    import jax
    import jax.numpy as jnp

    from analysis import escape_noise
    from analysis.single_neuron import spm_gradient, surrogate_gradient
    from analysis.symbolic import spm_gradient_numeric

    p0 = 0.3
    noise = escape_noise(family, beta, p0=p0)
    w, x, theta = random_neurons(rng, family, beta, n_neurons, n_inputs, p0=p0)
    keys = jax.random.split(jax.random.key(seed), n_neurons)
    sg = lambda k, w_, x_, t, st: surrogate_gradient(k, w_, x_, noise, None, t, stochastic=st)
    sg_sto = jax.vmap(lambda k, a, b, t: sg(k, a, b, t, True))(keys, w, x, theta)
    sg_det = jax.vmap(lambda k, a, b, t: sg(k, a, b, t, False))(keys, w, x, theta)
    exact = jax.vmap(lambda a, b, t: spm_gradient(a, b, noise, t))(w, x, theta)
    sym = spm_gradient_numeric(family, beta, w, x, theta, p0=p0)
    return {
        "stochastic_vs_jaxgrad": rel_err(sg_sto, exact), "stochastic_vs_sympy": rel_err(sg_sto, sym),
        "deterministic_vs_jaxgrad": rel_err(sg_det, exact), "deterministic_vs_sympy": rel_err(sg_det, sym),
    }


@register(NAME, "Single neuron: the SG with matched psi = f' (stochastic and deterministic) equals "
                "grad_w E[S] = f'(z) x (jax.grad of f and sympy) to 1e-12 for all noise families.")
def check(profile: str = "quick"):
    from analysis.escape_noise import ESCAPE_NOISE_NAMES
    from analysis.symbolic import spm_gradient_symbolic

    n_neurons = 64 if profile == "quick" else 4096
    rng = np.random.default_rng(20250403)
    errors, symbolic_ok = {}, {}
    for i, fam in enumerate(ESCAPE_NOISE_NAMES):
        symbolic_ok[fam] = spm_gradient_symbolic(fam).matches_sg
        per_beta = [_family_errors(fam, b, n_neurons, 5, rng, 100 * i + j) for j, b in enumerate(BETAS[profile])]
        errors[fam] = {k: max(d[k] for d in per_beta) for k in per_beta[0]}
    worst = max(max(d.values()) for d in errors.values())
    passed = worst <= TOL and all(symbolic_ok.values())
    return result(NAME, worst, 0.0, TOL, passed,
                  criterion="max relative error over neurons, components, betas, families <= tol; "
                            "sympy derivation dE[S]/dw = f'(z) x holds on every piece",
                  n_neurons_per_family=n_neurons * len(BETAS[profile]), betas=BETAS[profile],
                  errors=errors, symbolic_derivation_ok=symbolic_ok)
