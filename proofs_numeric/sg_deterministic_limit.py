"""Claim: with the backward surrogate fixed (psi at beta_SG), the surrogate gradient of the
stochastic network with forward escape-noise steepness beta_fwd converges to the SG of the
deterministic network as beta_fwd -> infinity (Gygax & Zenke 2025, sec. 4, deterministic networks as a limit:
deterministic SG training is the mismatched limit of stochastic SG training).

Measured: err(beta) = || E[SG_stoch(beta)] - SG_det ||, with E[SG_stoch] exact by
enumeration (sum of P(S) SG(S)); the fitted slope of log err against beta. Reference rate
(independent, from the deterministic trajectory only): for sigmoid noise P(flip k alone)
= sigma(-beta |z_k|) ~ exp(-beta |z_k|), so the leading term decays as exp(-beta m) with m
the smallest margin |z_k| among variables whose flip changes the SG; the predicted slope
is -m. Tolerance: 5% of m (sub-leading terms are O(exp(-beta m2)) smaller).
"""

from __future__ import annotations

from proofs_numeric._registry import register, result

NAME = "sg_deterministic_limit"


def _setup():
    import jax

    from analysis import escape_noise, surrogate
    from analysis.stochastic import Network, random_instance

    base = Network(
        "feedforward",
        (3, 3, 2),
        escape_noise("sigmoid", 1.0),
        surrogate("superspike", 5.0),
        theta=0.3,
        loss="mse",
        target=(1.0, 0.0),
    )
    params, x = random_instance(jax.random.key(5), base, weight_scale=1.5)
    assert base.noise.name == "sigmoid"  # predicted_margin reads z = logit(p) / beta
    return base, params, x


def predicted_margin(net, params, x):
    """Smallest |z_k| on the deterministic trajectory among flips that change the SG."""
    import jax
    import numpy as np

    from analysis.stochastic import Heaviside, flatten, sg_given_spikes, trace_program

    program = net.program()
    _, tr = trace_program(program, params, x, Heaviside(program.sites), record=("probs", "spikes"))
    s = {k: np.asarray(v) for k, v in tr.spikes.items()}
    # z = logit(p) for the unit-steepness sigmoid noise of _setup
    z = {k: np.asarray(jax.scipy.special.logit(v)) / net.noise.beta for k, v in tr.probs.items()}
    g0 = flatten(sg_given_spikes(program, params, x, s))
    margins = []
    for name, arr in s.items():
        for idx in np.ndindex(arr.shape):
            flipped = dict(s)
            flipped[name] = arr.copy()
            flipped[name][idx] = 1.0 - arr[idx]
            if np.max(np.abs(flatten(sg_given_spikes(program, params, x, flipped)) - g0)) > 1e-12:
                margins.append(abs(float(z[name][idx])))
    return min(margins), g0


@register(
    NAME,
    "With beta_SG fixed, the stochastic network's mean SG converges to the deterministic "
    "network's SG as beta_fwd -> inf, at the rate exp(-beta m) predicted by the smallest margin m.",
)
def check(profile: str = "quick"):
    import dataclasses

    import numpy as np

    from analysis import escape_noise
    from analysis.stochastic import exact_sg_mean, flatten

    base, params, x = _setup()
    m, g_det = predicted_margin(base, params, x)
    n_beta = 4 if profile == "quick" else 12
    betas = np.linspace(8.0 / m, 24.0 / m, n_beta)
    nets = [dataclasses.replace(base, noise=escape_noise("sigmoid", float(b))) for b in betas]
    means = exact_sg_mean(base, params, x, weights=nets)  # SG(S) does not depend on beta_fwd
    errs = [float(np.linalg.norm(flatten(e) - g_det)) for e in means]
    slope = float(np.polyfit(betas[1:], np.log(errs[1:]), 1)[0])
    passed = abs(slope + m) <= 0.05 * m and errs[-1] < errs[0] * 1e-6
    return result(
        NAME,
        -slope,
        m,
        0.05 * m,
        passed,
        betas=betas.tolist(),
        errors=errs,
        fitted_log_slope=slope,
        margin=m,
        criterion="|fitted rate - m| <= 0.05 m (rate = -d log err / d beta, points 2..n)",
    )
