"""``sgtheory bench snn``: LIF network speed against a matmul chain, spyx and snnTorch.

Network (profile ``full``, the reference setting): three dense LIF layers of 512 units
(two hidden + a spiking output layer), 512 Bernoulli(0.05) inputs, batch 256, 200 steps,
float32, forward + backward of a scalar loss. Reference in the same process: a jitted
chain of matmuls with the same FLOP count, [B*T, 512] @ W1 @ W2 @ W3, forward and
forward + backward (gradients w.r.t. the weights only, as in the network). spyx (JAX,
flax.nnx) and snnTorch (PyTorch CPU) run the same architecture when installed (the
``bench`` extra) and are skipped otherwise. The event-driven path is compared with the
dense one at several input densities. Peak memory of training 1000-step sequences with
and without checkpointing is measured in subprocesses
(:func:`analysis.runtime.peak_rss_gib`), with glibc's
default malloc and with freed memory kept (:mod:`analysis.runtime`; the kept heap
is never trimmed, so its high-water mark is higher).

Timings: medians of interleaved rounds (:func:`proofs_numeric.bench._timing.interleaved`);
on a shared machine differences below ~10 % are noise. Profile ``quick`` uses a smaller
batch and fewer steps. Profile ``gpu`` (batch 1024, 200 steps) times the dense network, the
chain and spyx on the first GPU JAX sees (inputs and weights placed there with
``jax.device_put``, every timed call ended by ``jax.block_until_ready``); snnTorch, the
event-driven comparison (CPU kernels) and host memory are left out. It is refused with
ValueError when JAX sees no GPU. ``breakdown=True`` adds the stage-by-stage timing of
:mod:`proofs_numeric.bench._snn_breakdown`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from analysis.runtime._host_memory import is_kept
from analysis.snn import LIFParams, Method, SNNConfig, init_params, simulate
from proofs_numeric.bench._timing import interleaved, ratio_table

WIDTH = 512
PROFILES = {
    "quick": dict(batch=64, steps=100, rounds=3),
    "full": dict(batch=256, steps=200, rounds=3),
    "gpu": dict(batch=1024, steps=200, rounds=7),
}


def check_gpu() -> jax.Device:
    """The first GPU JAX sees; ValueError (one line) when there is none."""
    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    if not gpus:
        found = sorted({d.platform for d in jax.devices()})
        raise ValueError(f"profile 'gpu' needs a GPU visible to JAX; found only {', '.join(found)} devices")
    return gpus[0]


def _config(event_driven=False, checkpoint=False, max_active=0):
    return SNNConfig(
        n_in=WIDTH,
        hidden=(WIDTH, WIDTH),
        n_out=WIDTH,
        readout="lif",
        lif=LIFParams(tau_mem=10e-3, tau_syn=5e-3),
        event_driven=event_driven,
        checkpoint=checkpoint,
        max_active=max_active,
    )


def _snn_fns(cfg, params, x, c):
    meth = Method("deterministic")

    def loss(p, x, c):  # data as arguments: closures would become folded constants
        return jnp.mean(simulate(p, x, cfg, meth, record="output").output * c)

    fwd = jax.jit(loss)
    fwdbwd = jax.jit(jax.value_and_grad(loss))
    return (lambda: fwd(params, x, c)), (lambda: fwdbwd(params, x, c))


def _chain_fns(x, ws):
    xf = x.reshape(-1, x.shape[-1])

    def loss(ws, h):
        for w in ws:
            h = h @ w
        return jnp.mean(h)

    fwd, fwdbwd = jax.jit(loss), jax.jit(jax.value_and_grad(loss))
    return (lambda: fwd(ws, xf)), (lambda: fwdbwd(ws, xf))


def _spyx_fn(x, c, lif):
    try:
        import spyx
        from flax import nnx
    except ImportError:
        return None
    rngs = nnx.Rngs(0)
    layers = []
    for _ in range(3):
        layers += [
            nnx.Linear(WIDTH, WIDTH, use_bias=False, rngs=rngs),
            spyx.nn.CuBaLIF((WIDTH,), alpha=lif.lambda_syn, beta=lif.lambda_mem, rngs=rngs),
        ]
    graph, state = nnx.split(spyx.nn.Sequential(*layers))

    def loss(state, x, c):
        out, _ = spyx.nn.run(nnx.merge(graph, state), x, batch_major=True)
        return jnp.mean(out * c)

    step = jax.jit(jax.value_and_grad(loss))
    return lambda: step(state, x, c)


def _snntorch_fn(x, c, lif):
    try:
        import snntorch
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    lins = [torch.nn.Linear(WIDTH, WIDTH, bias=False) for _ in range(3)]
    grad = snntorch.surrogate.fast_sigmoid()
    neurons = [
        snntorch.Synaptic(alpha=lif.lambda_syn, beta=lif.lambda_mem, spike_grad=grad) for _ in range(3)
    ]
    xt, ct = torch.from_numpy(np.array(x)), torch.from_numpy(np.array(c))

    def step():
        for lin in lins:
            lin.zero_grad()
        states = [n.init_synaptic() for n in neurons]
        total = 0.0
        for t in range(xt.shape[1]):
            h = xt[:, t]
            for l, (lin, n) in enumerate(zip(lins, neurons, strict=True)):
                h, syn, mem = n(lin(h), *states[l])
                states[l] = (syn, mem)
            total = total + (h * ct[:, t]).mean()
        loss = total / xt.shape[1]
        loss.backward()
        return float(loss.detach())

    return step


def _inputs(key, batch, steps, density, dtype=jnp.float32):
    return (jax.random.uniform(key, (batch, steps, WIDTH)) < density).astype(dtype)


def _dense_section(batch, steps, rounds, device=None):
    """Timings of the dense network, the chain, spyx and (on CPU) snnTorch; ``device``
    places inputs and weights there (default: JAX's default device)."""
    cfg = _config()
    lif = cfg.lif
    params = init_params(jax.random.key(0), cfg, nu=50.0)
    x = _inputs(jax.random.key(1), batch, steps, 0.05)
    c = jax.random.normal(jax.random.key(2), (batch, steps, WIDTH), jnp.float32)
    if device is not None:
        params, x, c = jax.device_put((params, x, c), device)
    ws = [params["hidden"][0]["w"], params["hidden"][1]["w"], params["readout"]["w"]]
    snn_fwd, snn_fb = _snn_fns(cfg, params, x, c)
    ch_fwd, ch_fb = _chain_fns(x, ws)
    variants = {
        "matmul_chain fwd+bwd": ch_fb,
        "sgtheory fwd+bwd": snn_fb,
        "matmul_chain fwd": ch_fwd,
        "sgtheory fwd": snn_fwd,
    }
    spyx = _spyx_fn(x, c, lif)
    if spyx is not None:
        variants["spyx fwd+bwd"] = spyx
    res = interleaved(variants, rounds=rounds, warmup=1)
    torch_fn = _snntorch_fn(x, c, lif) if device is None else None
    if torch_fn is not None:  # slow (Python loop over time): its own, shorter interleaved run
        tr = interleaved({"chain": ch_fb, "torch": torch_fn}, rounds=2, warmup=1)
        res["snntorch fwd+bwd"] = {
            **tr["torch"],
            "median_s": tr["torch"]["median_s"]
            * res["matmul_chain fwd+bwd"]["median_s"]
            / tr["chain"]["median_s"],
        }
    rates = [float(s.mean()) for s in simulate(params, x, cfg, Method()).spikes]
    return res, rates


def _event_section(batch, steps, rounds, densities):
    """Event-driven vs dense fwd+bwd at several input densities (hidden rates reported)."""
    out = {}
    for d in densities:
        x = _inputs(jax.random.key(3), batch, steps, d)
        c = jax.random.normal(jax.random.key(4), (batch, steps, WIDTH), jnp.float32)
        params = init_params(jax.random.key(0), _config(), nu=d / 1e-3)
        _, dense = _snn_fns(_config(), params, x, c)
        _, event = _snn_fns(_config(event_driven=True), params, x, c)
        res = interleaved({"dense": dense, "event": event}, rounds=rounds, warmup=1)
        hidden = [float(s.mean()) for s in simulate(params, x, _config(), Method()).spikes]
        out[f"{d:g}"] = {
            "dense_s": res["dense"]["median_s"],
            "event_s": res["event"]["median_s"],
            "speedup": res["dense"]["median_s"] / res["event"]["median_s"],
            "hidden_density": hidden,
        }
    return out


_MEM_SCRIPT = """
import sys
from analysis.runtime._host_memory import peak_rss_gib
if sys.argv[4] == "1":
    from analysis.runtime._host_memory import keep_freed_memory
    keep_freed_memory()
import jax, jax.numpy as jnp
from proofs_numeric.bench.snn import _config, _inputs
from analysis.snn._network import init_params, simulate
from analysis.snn._methods import Method
steps, ck, batch = int(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3])
cfg = _config(checkpoint=ck)
p = init_params(jax.random.key(0), cfg, nu=50.0)
x = _inputs(jax.random.key(1), batch, steps, 0.05)
loss = lambda p, x: jnp.mean(simulate(p, x, cfg, Method(), record="output").output)
jax.block_until_ready(jax.jit(jax.grad(loss))(p, x))
print(peak_rss_gib())
"""


def peak_memory_gib(steps: int, checkpoint: bool, batch: int = 256, keep_freed: bool | None = None) -> float:
    """Peak resident memory (GiB) of one jitted fwd+bwd in a fresh subprocess.

    ``keep_freed``: apply :func:`analysis.runtime.keep_freed_memory` there (default:
    as in this process).
    """
    keep = is_kept() if keep_freed is None else keep_freed
    args = [str(steps), "1" if checkpoint else "0", str(batch), "1" if keep else "0"]
    r = subprocess.run([sys.executable, "-c", _MEM_SCRIPT, *args], capture_output=True, text=True, check=True)
    return float(r.stdout.strip().splitlines()[-1])


def run(profile: str = "quick", breakdown: bool = False) -> dict:
    """Run the benchmark; prints ratio tables and returns the numbers as a dict.

    ``breakdown``: also time the dense network's stages (``out["breakdown"]``)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
    device = check_gpu() if profile == "gpu" else None
    pr = PROFILES[profile]
    res, rates = _dense_section(pr["batch"], pr["steps"], pr["rounds"], device)
    print(
        f"snn dense ({profile}: batch {pr['batch']}, {pr['steps']} steps, width {WIDTH}, "
        f"{jax.devices()[0].platform}, freed host memory kept: {is_kept()}); "
        f"layer spike densities {[round(r, 3) for r in rates]}"
    )
    print(ratio_table(res, "matmul_chain fwd+bwd"))
    if device is None:
        print("  (snnTorch timed against the chain in a separate 2-round run; shown rescaled)")
    ratio = {
        "fwdbwd_vs_chain": res["matmul_chain fwd+bwd"]["median_s"] / res["sgtheory fwd+bwd"]["median_s"],
        "fwd_vs_chain": res["matmul_chain fwd"]["median_s"] / res["sgtheory fwd"]["median_s"],
    }
    print(
        f"  throughput relative to the matmul chain: fwd+bwd {ratio['fwdbwd_vs_chain']:.3f}, "
        f"fwd {ratio['fwd_vs_chain']:.3f} (target fwd+bwd >= 0.85)"
    )
    bd = None
    if breakdown:
        from proofs_numeric.bench._snn_breakdown import breakdown as stage_times
        from proofs_numeric.bench._snn_breakdown import format_breakdown

        bd = stage_times(_config(), pr["batch"], pr["steps"], max(pr["rounds"], 5), device=device)
        print(format_breakdown(bd))
    if device is not None:
        return {
            "profile": profile,
            "device": str(device),
            "timings": {k: v["median_s"] for k, v in res.items()},
            "ratios": ratio,
            "densities": rates,
            **({"breakdown": bd} if bd else {}),
        }
    dens = (0.01, 0.05, 0.2) if profile == "quick" else (0.01, 0.03, 0.05, 0.1, 0.2)
    event = _event_section(pr["batch"], pr["steps"], pr["rounds"], dens)
    for d, e in event.items():
        print(
            f"  event-driven, input density {d}: {e['speedup']:.2f}x dense "
            f"(hidden densities {[round(h, 3) for h in e['hidden_density']]})"
        )
    out = {
        "profile": profile,
        "malloc_kept": is_kept(),
        "timings": {k: v["median_s"] for k, v in res.items()},
        "ratios": ratio,
        "densities": rates,
        "event_driven": event,
        **({"breakdown": bd} if bd else {}),
    }
    if profile == "full":
        out["peak_memory_gib"] = {
            f"T=1000 checkpoint={ck} malloc_kept={kf}": peak_memory_gib(1000, ck, keep_freed=kf)
            for ck in (True, False)
            for kf in (False, True)
        }
        print("  peak memory:", json.dumps(out["peak_memory_gib"]))
    return out
