"""Benchmark ``sgtheory bench exact`` (speed of exact enumeration).

1. Enumeration at K = 20: the vectorised, chunked exact gradient (analysis.stochastic._exact) against a
   straightforward Python loop over configurations (one jitted log-prob/loss gradient call
   per configuration; timed on a subsample and extrapolated to 2^K). Target >= 100x.
2. Coupled-flip estimator cost relative to one SG gradient evaluation on the same network
   (LIF, K spike variables, batch of samples): full (K flips) and subsampled (M flips);
   target: subsampled <= (M + 2) SG evaluations.
Runs in the default dtype (float32 under ``sgtheory bench``). Timings: medians of interleaved
rounds in one process (proofs_numeric.bench._timing); the machine is
shared, so differences below ~10% are noise.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

from analysis import escape_noise
from analysis.stochastic import Network, exact_value_and_grad, log_prob_and_loss, random_instance
from analysis.stochastic._estimators import estimate_from_uniforms
from proofs_numeric.bench._timing import interleaved, ratio_table


def _loop_seconds_per_config(net, params, x, n_sub):
    program = net.program()

    def weighted(p, s):
        lp, loss = log_prob_and_loss(program, p, x, s)
        return jnp.exp(lp) * loss

    step = jax.jit(jax.grad(weighted))
    sizes = [(name, shape) for name, shape in program.sites]

    def config(c):
        bits, out, off = [(c >> k) & 1 for k in range(program.K)], {}, 0
        for name, shape in sizes:
            size = int(jnp.prod(jnp.array(shape)))
            out[name] = jnp.array(bits[off : off + size], dtype=x.dtype).reshape(shape)
            off += size
        return out

    configs = [config(c) for c in range(n_sub)]
    jax.block_until_ready(step(params, configs[0]))
    t0 = time.perf_counter()
    acc = jax.tree_util.tree_map(jnp.zeros_like, params)
    for s in configs:
        acc = jax.tree_util.tree_map(jnp.add, acc, step(params, s))
    jax.block_until_ready(acc)
    return (time.perf_counter() - t0) / n_sub


def _enumeration(profile):
    net = Network(
        "feedforward",
        (4, 8, 8, 4),
        escape_noise("sigmoid", 2.0),
        theta=0.3,
        loss="mse",
        target=(1.0, 0.0, 1.0, 0.0),
    )
    params, x = random_instance(jax.random.key(0), net)
    res = interleaved(
        {"vectorised": lambda: exact_value_and_grad(net, params, x)[1]},
        rounds=3 if profile == "quick" else 5,
        warmup=1,
    )
    per = _loop_seconds_per_config(net, params, x, 300 if profile == "quick" else 2000)
    loop = per * 2**net.n_spikes
    vec = res["vectorised"]["median_s"]
    print(
        f"exact gradient, K = {net.n_spikes}: vectorised {vec:.3f} s; Python loop {per * 1e6:.1f} us/config "
        f"-> {loop:.1f} s extrapolated; speed-up {loop / vec:.0f}x (target >= 100x)"
    )
    return {
        "K": net.n_spikes,
        "vectorised_s": vec,
        "loop_s_per_config": per,
        "loop_extrapolated_s": loop,
        "speedup": loop / vec,
        "target": 100.0,
    }


def _coupled_flip_cost(profile):
    net = Network(
        "lif",
        (8, 8, 4),
        escape_noise("sigmoid", 4.0),
        theta=0.3,
        steps=20,
        loss="mse",
        target=(0.2, 0.1, 0.3, 0.2),
        tau_mem=5.0,
        tau_syn=2.0,
    )
    params, x = random_instance(jax.random.key(1), net, weight_scale=2.0)
    n, m = 64, 4
    program = net.program()
    u, k = program.draw_uniforms(jax.random.key(2), n), jax.random.key(3)
    fns = {
        name: jax.jit(
            lambda p, u, k, name=name: estimate_from_uniforms(name, program, p, x, u, flip_key=k, n_flips=m)
        )
        for name in ("sg_stochastic", "coupled_flip_sub", "coupled_flip")
    }
    res = interleaved(
        {name: (lambda f=f: f(params, u, k)) for name, f in fns.items()},
        rounds=5 if profile == "quick" else 9,
        warmup=1,
    )
    print(f"coupled-flip cost, LIF K = {net.n_spikes}, {n} samples, M = {m}:")
    print(ratio_table(res, "sg_stochastic"))
    sg = res["sg_stochastic"]["median_s"]
    sub, full = res["coupled_flip_sub"]["median_s"] / sg, res["coupled_flip"]["median_s"] / sg
    print(
        f"  subsampled / SG = {sub:.2f} (target <= M + 2 = {m + 2}); "
        f"full / SG = {full:.1f} (K = {net.n_spikes})"
    )
    return {
        "K": net.n_spikes,
        "M": m,
        "samples": n,
        "sg_s": sg,
        "subsampled_over_sg": sub,
        "full_over_sg": full,
        "target_subsampled": m + 2,
    }


def run(profile: str = "quick") -> dict:
    return {"enumeration": _enumeration(profile), "coupled_flip": _coupled_flip_cost(profile)}
