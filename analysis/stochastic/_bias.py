"""Exact alignment of surrogate gradients with the true gradient of E[L] (small networks).

:func:`sg_bias_table` computes cosine(E[SG], grad E[L]) exactly (both by enumeration:
:func:`~analysis.stochastic.exact_value_and_grad`, :func:`~analysis.stochastic.exact_sg_mean`)
over depth, backward steepness beta_SG and matched vs mismatched surrogate, for random
feedforward binary networks with sigmoid escape noise (Gygax & Zenke 2025, secs. 3-4: the
SG is the smoothed stochastic derivative; its bias is the gap between the secant and the
tangent of the downstream network).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

from analysis.neuron import escape_noise, surrogate
from analysis.stochastic._compare import cosine, flatten
from analysis.stochastic._estimators import exact_sg_mean
from analysis.stochastic._network import Network, random_instance
from analysis.stochastic._program import exact_value_and_grad

DEFAULT_SIZES = {1: (3, 3), 2: (3, 3, 2), 3: (3, 3, 3, 2)}


def sg_bias_table(
    n_nets: int = 2,
    depths: Sequence[int] = (1, 2, 3),
    betas: Sequence[float] = (0.5, 2.0, 8.0),
    noise_beta: float = 2.0,
    families: Sequence[str] = ("sigmoid_prime", "superspike"),
    seed: int = 40,
) -> list[dict]:
    """Rows {depth, surrogate, beta_SG, matched, cosine (mean over networks), cosines}.

    ``sigmoid_prime`` at beta_SG = noise_beta is the matched surrogate psi = f'; the loss is the
    mean output spike. One enumeration per network evaluates every surrogate variant.
    """
    rows = []
    for depth in depths:
        base = Network("feedforward", DEFAULT_SIZES[depth], escape_noise("sigmoid", noise_beta), theta=0.2)
        insts = [random_instance(jax.random.key(seed + j), base, weight_scale=1.5) for j in range(n_nets)]
        grads = [flatten(exact_value_and_grad(base, p, x)[1]) for p, x in insts]
        variants = [(name, b) for name in families for b in betas]
        sgs = [
            exact_sg_mean(base, p, x, surrogates=[surrogate(nm, b) for nm, b in variants]) for p, x in insts
        ]
        for i, (name, b) in enumerate(variants):
            cos = [cosine(flatten(sg[i]), g) for sg, g in zip(sgs, grads, strict=True)]
            rows.append(
                {
                    "depth": depth,
                    "surrogate": name,
                    "beta_SG": b,
                    "matched": name == "sigmoid_prime" and b == noise_beta,
                    "cosine": float(np.mean(cos)),
                    "cosines": cos,
                }
            )
    return rows
