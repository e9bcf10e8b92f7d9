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
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from analysis.runtime._host_memory import is_kept
from analysis.snn import LIFParams, Method, SNNConfig, event_backend, init_params, simulate
from analysis.snn._event import event_matmul
from analysis.snn._layerwise import RECURSION_ENV, recursion_backend
from proofs_numeric.bench._timing import interleaved, ratio_table

WIDTH = 512
PROFILES = {
    "quick": dict(batch=64, steps=100, rounds=7),
    "full": dict(batch=256, steps=200, rounds=5),
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


def _traced_with_lax_loop(fn):
    """``fn`` (a jitted call) traced and compiled once with the layers' time recursion as a
    ``lax`` loop (``SGTHEORY_RECURSION_BACKEND=xla``, read at tracing), then returned."""
    old = os.environ.get(RECURSION_ENV)
    os.environ[RECURSION_ENV] = "xla"
    try:
        jax.block_until_ready(fn())
    finally:
        if old is None:
            del os.environ[RECURSION_ENV]
        else:
            os.environ[RECURSION_ENV] = old
    return fn


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
    if recursion_backend() == "numba":  # the same network with the lax loop (GPU's path)
        variants["sgtheory fwd+bwd, lax recursion"] = _traced_with_lax_loop(_snn_fns(cfg, params, x, c)[1])
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


EVENT_DENSITIES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def break_even_density(densities, speedups) -> float | None:
    """Density (input of the network, or spikes of one product) at which the event/dense
    speedup falls to 1, linear in log density between the two measured densities that
    bracket it (the first crossing from above, scanning upwards); None when no measured
    pair brackets 1 (always faster, or never)."""
    pts = sorted(zip(densities, speedups, strict=True))
    for (d0, s0), (d1, s1) in zip(pts, pts[1:], strict=False):
        if s0 >= 1.0 > s1:
            f = (s0 - 1.0) / (s0 - s1)
            return float(np.exp(np.log(d0) + f * (np.log(d1) - np.log(d0))))
    return None


@jax.custom_vjp
def _free_gather(s, w):
    """Stand-in for the event path's sparse products that costs one elementwise pass:
    drive S + w[0] (needs N_in = N_out), weight 'gradient' the first N_in rows of the
    cotangent (keeps the layer's backward alive; needs B T >= N_in), input gradient the
    dense g W^T exactly as in the event path."""
    return s + w[0]


_free_gather.defvjp(lambda s, w: (s + w[0], w), lambda w, g: ((g @ w.T).astype(g.dtype), g[: w.shape[0]]))


def _free_gather_fn(params, x, c):
    """fwd+bwd of the event-driven network with :func:`_free_gather` in place of
    :func:`analysis.snn._event.event_matmul` (patched while tracing; compiled here)."""
    import analysis.snn._currents as currents

    calls = []

    def stand_in(s, w, max_active=0, backend=None):
        calls.append(s.shape)
        return _free_gather(s, w)

    cfg = _config(event_driven=True, max_active=1)  # a distinct static config: no cached trace reused
    _, fn = _snn_fns(cfg, params, x, c)
    orig = currents.event_matmul
    currents.event_matmul = stand_in
    try:
        jax.block_until_ready(fn())
    finally:
        currents.event_matmul = orig
    if not calls:
        raise RuntimeError("the free-gather stand-in was not traced: analysis.snn._currents changed")
    return fn


def _product_section(rows, densities, rounds):
    """The replaced products alone: drive S @ W and weight gradient S^T g of one layer
    ([rows, 512] spikes of uniform density, jitted value and vjp w.r.t. W), event
    (:func:`analysis.snn._event.event_matmul`) vs dense, interleaved per density."""
    w = jax.random.normal(jax.random.key(5), (WIDTH, WIDTH), jnp.float32)
    g = jax.random.normal(jax.random.key(6), (rows, WIDTH), jnp.float32)

    def fn(matmul):
        def f(s, w, g):
            y, vjp = jax.vjp(lambda w: matmul(s, w), w)
            return y, vjp(g)[0]

        return jax.jit(f)

    dense_f, event_f = fn(lambda s, w: s @ w), fn(event_matmul)
    out = {}
    for d in densities:
        s = (jax.random.uniform(jax.random.key(7), (rows, WIDTH)) < d).astype(jnp.float32)
        res = interleaved(
            {"dense": lambda s=s: dense_f(s, w, g), "event": lambda s=s: event_f(s, w, g)},
            rounds=rounds,
            warmup=1,
        )
        out[f"{d:g}"] = {
            "dense_s": res["dense"]["median_s"],
            "event_s": res["event"]["median_s"],
            "speedup": res["dense"]["median_s"] / res["event"]["median_s"],
        }
    return out


def _event_section(batch, steps, rounds, densities, cap_density=0.05):
    """Event-driven vs dense fwd+bwd at several input densities (hidden rates reported).

    Per density, the two paths are timed interleaved in one run. At ``cap_density`` the run
    also times the event path with its sparse products replaced by a free stand-in
    (:func:`_free_gather`): dense / free is the largest speedup any gather and scatter could
    give here (the LIF recursions, the dense input gradients g W^T and the copies remain),
    and 1 - free / dense the share of the dense total spent in the replaced products.
    """
    per = {}
    cap = None
    for d in densities:
        x = _inputs(jax.random.key(3), batch, steps, d)
        c = jax.random.normal(jax.random.key(4), (batch, steps, WIDTH), jnp.float32)
        params = init_params(jax.random.key(0), _config(), nu=d / 1e-3)
        _, dense = _snn_fns(_config(), params, x, c)
        _, event = _snn_fns(_config(event_driven=True), params, x, c)
        variants = {"dense": dense, "event": event}
        if d == cap_density:
            variants["free"] = _free_gather_fn(params, x, c)
        res = interleaved(variants, rounds=rounds, warmup=1)
        sim = simulate(params, x, _config(), Method(), record="spikes")
        per[f"{d:g}"] = {
            "dense_s": res["dense"]["median_s"],
            "event_s": res["event"]["median_s"],
            "speedup": res["dense"]["median_s"] / res["event"]["median_s"],
            "hidden_density": [float(s.mean()) for s in sim.spikes],
            "output_density": float(sim.output.mean()),
        }
        if "free" in res:
            dense_s, free_s = res["dense"]["median_s"], res["free"]["median_s"]
            cap = {
                "density": d,
                "dense_s": dense_s,
                "free_s": free_s,
                "event_s": res["event"]["median_s"],
                "speedup_bound": dense_s / free_s,
                "replaced_share": 1.0 - free_s / dense_s,
            }
    speed = [per[f"{d:g}"]["speedup"] for d in densities]
    prod = _product_section(batch * steps, densities, max(rounds, 5))
    prod_speed = [prod[f"{d:g}"]["speedup"] for d in densities]
    return {
        **per,  # per density at the top level: the paper's table lists their speedups
        "densities": list(densities),
        "backend": event_backend(),
        "break_even_density": break_even_density(densities, speed),
        "free_gather": cap,
        "products": prod,
        "products_break_even_density": break_even_density(densities, prod_speed),
    }


def _print_event(event):
    """The event section's lines (per density, break-even, free-gather cap)."""
    dens = event["densities"]
    for d in dens:
        e = event[f"{d:g}"]
        print(
            f"  event-driven ({event['backend']}), input density {d:g}: {e['speedup']:.2f}x dense "
            f"({e['dense_s'] * 1e3:.0f} -> {e['event_s'] * 1e3:.0f} ms; hidden densities "
            f"{[round(h, 3) for h in e['hidden_density']]}, output {e['output_density']:.3f})"
        )
    span = f"not bracketed in [{min(dens):g}, {max(dens):g}]"
    be = event["break_even_density"]
    print(f"  event/dense break-even input density (network): {span if be is None else f'{be:.3g}'}")
    prod = ", ".join(f"{d}: {e['speedup']:.2f}x" for d, e in event["products"].items())
    be = event["products_break_even_density"]
    print(
        f"  S @ W + S^T g alone (uniform spike density; event/dense): {prod}; "
        f"break-even density {span if be is None else f'{be:.3g}'}"
    )
    cap = event["free_gather"]
    if cap is not None:
        print(
            f"  free-gather bound at density {cap['density']:g}: the replaced products are "
            f"{100 * cap['replaced_share']:.0f} % of the dense fwd+bwd, so a gather/scatter of "
            f"zero cost gives at most {cap['speedup_bound']:.2f}x dense (measured event: "
            f"{cap['dense_s'] / cap['event_s']:.2f}x; target >= 2x at <= 5 % input)"
        )


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
        f"{jax.devices()[0].platform}, freed host memory kept: {is_kept()}, "
        f"recursion backend: {recursion_backend()}); "
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
    event = _event_section(pr["batch"], pr["steps"], pr["rounds"], EVENT_DENSITIES)
    _print_event(event)
    out = {
        "profile": profile,
        "malloc_kept": is_kept(),
        "recursion_backend": recursion_backend(),
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
