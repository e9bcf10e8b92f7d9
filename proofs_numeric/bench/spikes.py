"""``sgtheory bench spikes``: the toolkit's spike functions vs hand-written equivalents.

Workload: one step of a 3-layer, 512-unit dense spiking network over a batch of
256 (float32), forward + backward (jax.grad of a squared-error loss w.r.t. the three weight
matrices), jitted. Each layer computes h = spike(h_prev @ W - theta).

Variants, timed in interleaved rounds in one process (medians; shared machine: differences
below ~10 % are noise):

* ``toolkit_heaviside``  -- :func:`analysis.heaviside_spike` with the SuperSpike surrogate;
* ``hand_custom_jvp``    -- ``jnp.where(z > 0, 1, 0)`` with a hand-written ``jax.custom_jvp``
  whose tangent is 1/(1 + beta |z|)^2 dz (the reference for the ratio);
* ``hand_straight_through`` -- the stop-gradient trick
  ``s(z) + stop_gradient(where(z > 0, 1, 0) - s(z))`` with s'(z) the SuperSpike surrogate;
* ``toolkit_bernoulli``  -- :func:`analysis.bernoulli_spike` (sigmoid escape noise, matched
  surrogate, uniforms from a key) vs ``hand_bernoulli``: ``jnp.where(u < sigmoid(beta z))``
  with a hand-written custom_jvp of tangent beta sigma(1 - sigma) dz.

Target: toolkit / hand-written <= 1.1 for both the deterministic and the stochastic spike.
"""

from __future__ import annotations

import re
from functools import partial

import jax
import jax.numpy as jnp

from analysis import bernoulli_spike, escape_noise, heaviside_spike, surrogate
from proofs_numeric.bench._timing import interleaved, ratio_table

WIDTH, BATCH, LAYERS, BETA, THETA = 512, 256, 3, 10.0, 0.5
PROFILES = {"quick": dict(rounds=15, inner=5), "full": dict(rounds=41, inner=20)}


@jax.custom_jvp
def _hand_heaviside(z):
    return jnp.where(z > 0, 1.0, 0.0).astype(z.dtype)


@_hand_heaviside.defjvp
def _hand_heaviside_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    a = 1.0 + jnp.abs(BETA * z)
    return _hand_heaviside(z), dz / (a * a)


def _hand_straight_through(z):
    # s(z) = x / (1 + |x|) / beta has derivative 1 / (1 + |x|)^2 (x = beta z).
    x = BETA * z
    smooth = x / (1.0 + jnp.abs(x)) / BETA
    return smooth + jax.lax.stop_gradient(jnp.where(z > 0, 1.0, 0.0).astype(z.dtype) - smooth)


@jax.custom_jvp
def _hand_bernoulli(z, u):
    return jnp.where(u < jax.nn.sigmoid(BETA * z), 1.0, 0.0).astype(z.dtype)


@_hand_bernoulli.defjvp
def _hand_bernoulli_jvp(primals, tangents):
    (z, u), (dz, _) = primals, tangents
    s = jax.nn.sigmoid(BETA * z)
    return _hand_bernoulli(z, u), BETA * s * (1.0 - s) * dz


def _loss(spike, weights, x, target, key):
    h = x
    for i, w in enumerate(weights):
        h = spike(jax.random.fold_in(key, i), h @ w - THETA)
    return jnp.mean((h - target) ** 2)


def _variants():
    psi = surrogate("superspike", BETA)
    noise = escape_noise("sigmoid", BETA)

    def hand_bern(k, z):
        return _hand_bernoulli(z, jax.random.uniform(k, z.shape, z.dtype))

    spikes = {
        "hand_custom_jvp": lambda k, z: _hand_heaviside(z),
        "toolkit_heaviside": lambda k, z: heaviside_spike(z, psi),
        "hand_straight_through": lambda k, z: _hand_straight_through(z),
        "hand_bernoulli": hand_bern,
        "toolkit_bernoulli": lambda k, z: bernoulli_spike(k, z, noise),
    }
    return {name: jax.jit(jax.grad(partial(_loss, fn))) for name, fn in spikes.items()}


def _data():
    k = jax.random.split(jax.random.key(0), LAYERS + 3)
    scale = 2.0 / WIDTH**0.5
    weights = [scale * jax.random.normal(k[i], (WIDTH, WIDTH), jnp.float32) for i in range(LAYERS)]
    x = (jax.random.uniform(k[-3], (BATCH, WIDTH)) < 0.2).astype(jnp.float32)
    target = (jax.random.uniform(k[-2], (BATCH, WIDTH)) < 0.1).astype(jnp.float32)
    return weights, x, target, k[-1]


def _hlo_summary(fn, *args) -> dict:
    """Counts of fusions and dots in the optimised HLO: equal counts mean XLA compiled the
    toolkit and the hand-written version to the same program shape."""
    txt = fn.lower(*args).compile().as_text()
    ops = re.findall(r"= [^ ]+ (\w+)\(", txt)
    return {"fusion": ops.count("fusion"), "dot": ops.count("dot"), "instructions": len(ops)}


def run(profile: str = "quick") -> dict:
    """Time the variants; print and return medians and the toolkit / hand-written ratios."""
    cfg = PROFILES[profile]
    weights, x, target, key = _data()
    fns = _variants()
    grads = {n: f(weights, x, target, key) for n, f in fns.items()}
    same = all(
        bool(jnp.allclose(a, b, rtol=1e-5, atol=1e-7))
        for a, b in zip(grads["toolkit_heaviside"], grads["hand_custom_jvp"], strict=True)
    )
    same_b = all(
        bool(jnp.allclose(a, b, rtol=1e-5, atol=1e-7))
        for a, b in zip(grads["toolkit_bernoulli"], grads["hand_bernoulli"], strict=True)
    )
    res = interleaved(
        {n: partial(f, weights, x, target, key) for n, f in fns.items()},
        rounds=cfg["rounds"],
        inner=cfg["inner"],
    )
    hlo = {n: _hlo_summary(f, weights, x, target, key) for n, f in fns.items()}
    ratio_det = res["toolkit_heaviside"]["median_s"] / res["hand_custom_jvp"]["median_s"]
    ratio_sto = res["toolkit_bernoulli"]["median_s"] / res["hand_bernoulli"]["median_s"]
    print(
        f"spikes: 3 x {WIDTH} units, batch {BATCH}, float32, jit(grad) on {jax.default_backend()} "
        f"(shared machine: < 10 % is noise)"
    )
    print(ratio_table(res, "hand_custom_jvp"))
    print(f"  ratio toolkit_heaviside / hand_custom_jvp  = {ratio_det:.3f} (target <= 1.1)")
    print(f"  ratio toolkit_bernoulli / hand_bernoulli   = {ratio_sto:.3f} (target <= 1.1)")
    print(f"  gradients agree with the hand-written versions: heaviside {same}, bernoulli {same_b}")
    for n, h in hlo.items():
        print(
            f"  optimised HLO {n:24s} fusions {h['fusion']:3d}  dots {h['dot']:2d}  "
            f"instructions {h['instructions']}"
        )
    return {
        "medians_s": {n: r["median_s"] for n, r in res.items()},
        "ratio_heaviside": ratio_det,
        "ratio_bernoulli": ratio_sto,
        "gradients_agree": {"heaviside": same, "bernoulli": same_b},
        "hlo": hlo,
        "target": 1.1,
        "backend": jax.default_backend(),
        "profile": profile,
    }
