"""Gradient alignment at scale: surrogate gradients against an unbiased stochastic-AD reference.

For LIF networks too large to enumerate, the reference for grad E[L] of the stochastic
network is the mean of the subsampled unbiased coupled-flip estimator (M importance-sampled
flips per sample; Arya et al., NeurIPS 2022; THEORY.md sec. 4) with its per-coordinate
standard error. Against it we measure the cosine similarity and the sign agreement (over the
coordinates where the reference is significant, |mean| > 2 SE) of

* ``stoch_matched``    -- E[SG] of the stochastic network with psi = f' (smoothed stochAD),
* ``stoch_mismatched`` -- E[SG] of the stochastic network with a SuperSpike surrogate,
* ``det_matched`` / ``det_mismatched`` -- the SG of the deterministic network (Theta
  forward) with the same two surrogates,

(Gygax & Zenke 2025, secs. 4-5). The reference is noisy, which lowers every cosine; the
``ceiling`` column is the cosine between the means of two independent halves of the
reference samples, and ``cos_se`` a jackknife standard error of each cosine over reference
batches, so that differences between methods can be judged.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from analysis.neuron import escape_noise, surrogate
from analysis.stochastic._compare import cosine
from analysis.stochastic._estimators import draw_uniforms, estimate_from_uniforms
from analysis.stochastic._network import Network, random_instance

METHODS = ("stoch_matched", "stoch_mismatched", "det_matched", "det_mismatched")


@dataclass(frozen=True)
class AlignmentConfig:
    """One LIF network and sampling budget. beta: sigmoid escape-noise steepness; the
    mismatched surrogate is SuperSpike with steepness ``beta_mismatch``."""

    depth: int = 2
    width: int = 16
    steps: int = 30
    beta: float = 5.0
    beta_mismatch: float = 20.0
    n_ref: int = 2000
    n_flips: int = 8
    n_sg: int = 256
    chunk: int = 250
    input_rate: float = 0.2
    weight_scale: float = 3.0
    theta: float = 0.5
    seed: int = 0


def _network(cfg: AlignmentConfig) -> Network:
    sizes = (cfg.width,) * (cfg.depth + 1)
    target = tuple(float(v) for v in np.linspace(0.05, 0.3, cfg.width))
    return Network(
        "lif",
        sizes,
        escape_noise("sigmoid", cfg.beta),
        theta=cfg.theta,
        steps=cfg.steps,
        loss="mse",
        target=target,
        tau_mem=10.0,
        tau_syn=5.0,
    )


_JACKKNIFE_BATCHES = 10


def _segments(n):
    """Segment id of each sample: jackknife batches (np.array_split of 0..n-1 into 10)
    and halves ([0, n//2), [n//2, n)) as ids 10 and 11 of a second labelling."""
    sizes = [len(a) for a in np.array_split(np.arange(n), _JACKKNIFE_BATCHES)]
    batch = np.repeat(np.arange(_JACKKNIFE_BATCHES), sizes)
    half = _JACKKNIFE_BATCHES + (np.arange(n) >= n // 2)
    return batch, half


def _batched(name, net, params, x, key, n, chunk, n_flips=0):
    """Moments of estimator ``name`` over n samples drawn in chunks of ``chunk``.

    Returns (segment sums [12, P], sum of squares [P]): rows 0-9 are the sums over the
    10 jackknife batches, rows 10-11 over the two halves. Only these are kept, so memory is
    O(P) whatever n (the per-sample gradients of a chunk live on the device only).
    """
    batch, half = _segments(n)
    n_seg = _JACKKNIFE_BATCHES + 2

    @jax.jit
    def moments(p, u, v, ids_b, ids_h, valid):
        g = flatten_jnp(estimate_from_uniforms(name, net, p, x, u, v)) * valid[:, None]
        sums = jax.ops.segment_sum(g, ids_b, n_seg) + jax.ops.segment_sum(g, ids_h, n_seg)
        return sums, jnp.sum(g * g, axis=0)

    sums = sumsq = 0.0
    for c in range(max(1, math.ceil(n / chunk))):
        u, v = draw_uniforms(jax.random.fold_in(key, c), net, chunk, n_flips, x.dtype)
        idx = np.arange(c * chunk, (c + 1) * chunk)
        valid = idx < n  # the last chunk is drawn whole and its tail masked
        idx = np.minimum(idx, n - 1)
        s, q = moments(params, u, v, batch[idx], half[idx], jnp.asarray(valid, x.dtype))
        sums, sumsq = sums + np.asarray(s), sumsq + np.asarray(q)
    return sums, sumsq


def flatten_jnp(tree):
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.concatenate([v.reshape(v.shape[0], -1) for v in leaves], axis=1)


def _jackknife_cos(g, batch_sums, batch_sizes):
    """Jackknife SE of cosine(g, reference mean) over the reference's batches."""
    total, n = batch_sums.sum(0), batch_sizes.sum()
    cs = [cosine(g, (total - s) / (n - m)) for s, m in zip(batch_sums, batch_sizes, strict=True)]
    b = len(cs)
    return float(np.sqrt((b - 1) / b * np.sum((np.array(cs) - np.mean(cs)) ** 2)))


def alignment_point(cfg: AlignmentConfig) -> dict:
    """Measure alignment of the four SG methods with the coupled-flip reference for ``cfg``."""
    net = _network(cfg)
    params, x = random_instance(jax.random.key(cfg.seed), net, cfg.weight_scale, cfg.input_rate)
    key = jax.random.key(cfg.seed + 1)
    t0 = time.perf_counter()
    sums, sumsq = _batched("coupled_flip_sub", net, params, x, key, cfg.n_ref, cfg.chunk, cfg.n_flips)
    ref_seconds = time.perf_counter() - t0
    n = cfg.n_ref
    batch_sums, batch_sizes = sums[:_JACKKNIFE_BATCHES], np.bincount(_segments(n)[0])
    ref = sums[:_JACKKNIFE_BATCHES].sum(0) / n
    var = np.maximum(sumsq - n * ref**2, 0.0) / (n - 1)  # sample variance (ddof 1)
    se = np.sqrt(var / n)
    first, second = sums[_JACKKNIFE_BATCHES] / (n // 2), sums[_JACKKNIFE_BATCHES + 1] / (n - n // 2)
    sig = np.abs(ref) > 2 * se
    mism = surrogate("superspike", cfg.beta_mismatch)
    variants = {
        "stoch_matched": (net, "sg_stochastic"),
        "stoch_mismatched": (dataclasses.replace(net, surrogate=mism), "sg_stochastic"),
        "det_matched": (net, "sg_deterministic"),
        "det_mismatched": (dataclasses.replace(net, surrogate=mism), "sg_deterministic"),
    }
    row = {
        "depth": cfg.depth,
        "width": cfg.width,
        "steps": cfg.steps,
        "beta": cfg.beta,
        "K": net.n_spikes,
        "n_ref": cfg.n_ref,
        "n_flips": cfg.n_flips,
        "ref_seconds": ref_seconds,
        "ref_snr": float(np.linalg.norm(ref) / np.sqrt(np.sum(se**2))),
        "significant_fraction": float(sig.mean()),
        "ceiling": cosine(first, second),
        "rate": float(jax.jit(lambda p: _rate(net, p, x))(params)),
    }
    for name, (m, est) in variants.items():
        n_s = cfg.n_sg if est == "sg_stochastic" else 1
        g = (
            _batched(est, m, params, x, jax.random.fold_in(key, 99), n_s, min(cfg.chunk, n_s))[0][
                :_JACKKNIFE_BATCHES
            ].sum(0)
            / n_s
        )
        row[f"cos_{name}"] = cosine(g, ref)
        row[f"cos_se_{name}"] = _jackknife_cos(g, batch_sums, batch_sizes)
        row[f"sign_{name}"] = (
            float(np.mean(np.sign(g[sig]) == np.sign(ref[sig]))) if sig.any() else float("nan")
        )
    return row


def _rate(net, params, x):
    from analysis.stochastic._network import simulate

    return simulate(net, params, x, "bernoulli", u=jnp.full((net.n_spikes,), 0.5, x.dtype))[1].mean()


PROFILES: dict[str, dict] = {
    "quick": dict(
        base=AlignmentConfig(depth=2, width=16, steps=30, n_ref=2000, n_sg=256),
        axes={"depth": (1, 2, 3, 4), "width": (8, 32, 64), "steps": (15, 60), "beta": (2.0, 10.0)},
    ),
    "full": dict(
        base=AlignmentConfig(depth=2, width=64, steps=100, n_ref=20000, n_sg=2048, chunk=500),
        axes={"depth": (1, 2, 3, 4), "width": (16, 128, 512), "steps": (25, 200), "beta": (2.0, 10.0)},
    ),
}


def alignment_sweep(
    profile: str = "quick",
    progress: Callable[[dict], object] | None = None,
    base: AlignmentConfig | None = None,
    axes: dict | None = None,
) -> list[dict]:
    """Rows of :func:`alignment_point`: the base network, then one axis varied at a time.

    ``base`` / ``axes`` ({field: values}) override the profile's grid.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {tuple(PROFILES)}, got {profile!r}")
    base = base or PROFILES[profile]["base"]
    axes = PROFILES[profile]["axes"] if axes is None else axes
    bad = [a for a in axes if a not in AlignmentConfig.__dataclass_fields__]
    if bad:
        raise ValueError(f"unknown axis {bad}; valid: {', '.join(AlignmentConfig.__dataclass_fields__)}")
    cfgs = [base] + [
        dataclasses.replace(base, **{a: v}) for a, vals in axes.items() for v in vals if getattr(base, a) != v
    ]
    rows = []
    for cfg in cfgs:
        rows.append(alignment_point(cfg))
        if progress:
            progress(rows[-1])
    return rows
