"""Stage breakdown of the dense LIF network of ``sgtheory bench snn`` (``--breakdown``).

The network's jitted forward (``fwd``) and forward + backward (``fwd+bwd``) are timed
together with jitted sub-functions that each isolate one stage of
:func:`analysis.snn.simulate` (layer-by-layer path, :mod:`analysis.snn._layerwise`) on the
same shapes and the same data, all in one interleaved run
(:func:`proofs_numeric.bench._timing.interleaved`):

- ``layout in`` / ``layout out``: [B, T, n] <-> [T, B, n] swaps of the input, the output and
  (backward) the output's cotangent, made only where the network runs time-major
  (:func:`analysis.snn._layerwise.time_axis`; the feedforward network of ``bench snn`` runs
  batch-major and has none);
- ``matmul L<l>``: the feedforward drive S_{l-1} W_l of all T B rows; backward ``matmul
  grad L<l>``: dW_l = S_{l-1}^T dd_l and (l > 0) dS_{l-1} = dd_l W_l^T;
- ``recursion fwd L<l>``: the layer's scan over time (spikes; in ``fwd+bwd`` also the
  potentials kept for the backward pass); ``recursion bwd L<l>``: the hand-written adjoint
  scan, surrogate evaluation included;
- ``loss`` / ``loss grad``: mean(out * c) and its cotangent c / size;
- ``surrogate`` (reported, not summed: it runs inside ``recursion bwd``): psi(U - theta) of
  all bins as one elementwise pass.

Each stage and total is the fastest of its interleaved rounds (on a shared machine the
median of a few rounds moves by tens of percent between stages of one run; the minimum is
the least disturbed measurement). The stages' sum is printed against the measured total;
the rest (``other = total - sum``) is what XLA does besides (copies of loop carries,
buffer initialisation, fusion boundaries). ``hlo_ops`` lists the top-level operations of
the compiled program by kind, from :meth:`jax.stages.Compiled.as_text`.

Prefix-cumulative forward (``prefix=True``): jitted functions computing stages 1..k
composed (matmul L0; matmul L0 + recursion L0; ...; the whole forward with its loss) are
timed in the same rounds; their differences (``increments``) attribute to stage k whatever it
costs inside the composed program (reading a buffer the previous stage just wrote, fresh
output buffers) and sum to the whole forward's time by construction.

On CPU each call's process CPU time (:func:`time.process_time`) is recorded too. It does
not count the time the process waits while other processes hold the cores, so its sum and
total agree on a shared machine where wall times do not: in a run with two busy-looping
processes beside it on 2 cores (load 6; batch 256, 200 steps, width 512, 5 rounds), wall
times gave stages / total 1.09 and prefix increments of -241 to +592 ms, process CPU time
0.987 with increments 265, 38, 272, 36, 263, 34, 20 ms (the isolated stages: 272, 44,
270, 41, 274, 43, 12 ms). A quiet run (load 0.3) gives 1.02 in wall time, with prefix
increments within 30 ms of the isolated stages: the forward has no hidden remainder; a wall
time sum of 0.776 came from a contended run, where the fastest of 5 rounds of a 275 ms
stage more often falls between the other processes' bursts than that of a 1 s total. The
recursion stages run in whichever backend the network uses
(:func:`analysis.snn.recursion_backend`; numba kernels on a CPU, parallel over rows, so
process CPU time is up to twice the wall time on 2 cores).
"""

from __future__ import annotations

import re
from collections import Counter

import jax
import jax.numpy as jnp

from analysis.snn import Method, init_params
from analysis.snn._layerwise import _drive, _lif_layer, _lif_layer_bwd, time_axis
from proofs_numeric.bench._timing import interleaved


def _hlo_census(compiled_text: str) -> dict[str, int]:
    """Top-level operations of the ENTRY computation by kind: ``matmul`` (a dot, or a fusion
    whose computation holds one), ``while`` (the time loops), ``copy``, ``transpose``
    (transpose fusions), ``fusion`` (other fused elementwise work), and any other opcode."""
    bodies = dict(re.findall(r"\n%(\S+) \(.*?\n(.*?)\n}", compiled_text, flags=re.S))
    entry = compiled_text[compiled_text.index("\nENTRY ") :]
    entry = entry[: entry.index("\n}")]
    kinds: Counter = Counter()
    for line in entry.splitlines()[1:]:
        line = re.sub(r"/\*.*?\*/", "", line)
        m = re.match(r"\s*(?:ROOT )?%(\S+) = (?:\([^=]*?\)|\S+) ([\w-]+)\(", line)
        if m is None:
            continue
        name, op = m.groups()
        if op in ("parameter", "constant", "get-tuple-element", "tuple", "bitcast"):
            continue
        if op == "fusion":
            called = re.search(r"calls=%(\S+?)[,\s]", line + " ")
            body = bodies.get(called.group(1), "") if called else ""
            op = "matmul" if " dot(" in body else "transpose" if " transpose(" in body else "fusion"
        elif op == "dot":
            op = "matmul"
        kinds[op] += 1
    return dict(sorted(kinds.items()))


def _pieces(cfg, params, x, c):
    """Intermediates of one forward and backward pass computed stage by stage with the
    library's own pieces, in the layout :func:`simulate` uses for ``cfg`` (time on axis
    ``time_axis(cfg)``): (weights, layer inputs, drives, spikes, potentials, cotangents of
    each layer's spikes, of its drive, and dL/dW per layer)."""
    meth = Method("deterministic")
    lif = cfg.lif
    axis = time_axis(cfg)
    tm = (lambda a: a) if axis else (lambda a: jnp.swapaxes(a, 0, 1))
    ws = [layer["w"] for layer in params["hidden"]] + [params["readout"]["w"]]
    n_layers = len(ws)
    ins, drives, spikes, mems = [], [], [], []
    s = tm(x)
    for l, w in enumerate(ws):
        ins.append(s)
        d = _drive(cfg, l, w, s)
        s, u = _lif_layer(d, None, lif, meth, l == n_layers - 1, True, axis)
        drives.append(d)
        spikes.append(s)
        mems.append(u)
    cots: list = [None] * n_layers  # cotangent of each layer's spikes
    cots[-1] = tm(c / c.size)
    d_drive: list = [None] * n_layers
    d_w: list = [None] * n_layers
    for l in reversed(range(n_layers)):
        d_drive[l] = _lif_layer_bwd(lif, meth, l == n_layers - 1, False, axis, None, (mems[l],), cots[l])[0]
        rows, dd = ins[l].reshape(-1, ins[l].shape[-1]), d_drive[l].reshape(-1, ws[l].shape[1])
        d_w[l] = rows.T @ dd
        if l:
            cots[l - 1] = (dd @ ws[l].T).reshape(ins[l].shape)
    return ws, ins, drives, spikes, mems, cots, d_drive, d_w


def _stage_fns(cfg, params, x, c):
    """{stage name: zero-argument jitted callable} for the forward and the backward pass."""
    meth = Method("deterministic")
    lif = cfg.lif
    ws, ins, drives, spikes, mems, cots, d_drive, _ = jax.jit(_pieces, static_argnums=0)(cfg, params, x, c)
    n_layers = len(ws)
    axis = time_axis(cfg)
    out = jnp.swapaxes(spikes[-1], 0, 1) if axis == 0 else spikes[-1]

    def j(f, *args):
        fj = jax.jit(f)
        return lambda: fj(*args)

    # time-major layout (axis 0): transposes of the input, the output and its cotangent
    fwd = {"layout in": j(lambda x: jnp.swapaxes(x, 0, 1), x)} if axis == 0 else {}
    fb = dict(fwd)
    for l, w in enumerate(ws):
        out_l = l == n_layers - 1
        fwd[f"matmul L{l}"] = fb[f"matmul L{l}"] = j(lambda s, w, l=l: _drive(cfg, l, w, s), ins[l], w)
        fwd[f"recursion fwd L{l}"] = j(
            lambda d, o=out_l: _lif_layer(d, None, lif, meth, o, False, axis), drives[l]
        )
        fb[f"recursion fwd L{l}"] = j(
            lambda d, o=out_l: _lif_layer(d, None, lif, meth, o, True, axis), drives[l]
        )
    if axis == 0:
        fwd["layout out"] = fb["layout out"] = j(lambda s: jnp.swapaxes(s, 0, 1), spikes[-1])
    fwd["loss"] = fb["loss"] = j(lambda o, c: jnp.mean(o * c), out, c)
    if axis == 0:
        fb["loss grad + layout"] = j(lambda c: jnp.swapaxes(c / c.size, 0, 1), c)
    else:
        fb["loss grad"] = j(lambda c: c / c.size, c)
    for l in reversed(range(n_layers)):
        out_l = l == n_layers - 1
        fb[f"recursion bwd L{l}"] = j(
            lambda u, g, o=out_l: _lif_layer_bwd(lif, meth, o, False, axis, None, (u,), g)[0],
            mems[l],
            cots[l],
        )

        def grads(s_in, dd, w, l=l):
            rows = s_in.reshape(-1, s_in.shape[-1])
            dd2 = dd.reshape(-1, dd.shape[-1])
            return (rows.T @ dd2, (dd2 @ w.T).reshape(s_in.shape)) if l else rows.T @ dd2

        fb[f"matmul grad L{l}"] = j(grads, ins[l], d_drive[l], ws[l])
    psi = meth.spike_derivative(False)
    extra = {"surrogate": j(lambda u: psi(u - lif.theta, None), mems[0])}
    return fwd, fb, extra


def _forward_ops(cfg, n_layers: int) -> list:
    """The forward pass as an ordered list of (stage name, f(state, ws, c) -> state), the
    same stage names and order as the isolated ``fwd`` stages of :func:`_stage_fns`."""
    meth = Method("deterministic")
    lif = cfg.lif
    axis = time_axis(cfg)
    swap = lambda s, ws, c: jnp.swapaxes(s, 0, 1)
    ops: list = [("layout in", swap)] if axis == 0 else []
    for l in range(n_layers):
        ops.append((f"matmul L{l}", lambda s, ws, c, l=l: _drive(cfg, l, ws[l], s)))
        out_l = l == n_layers - 1
        ops.append(
            (
                f"recursion fwd L{l}",
                lambda s, ws, c, o=out_l: _lif_layer(s, None, lif, meth, o, False, axis),
            )
        )
    if axis == 0:
        ops.append(("layout out", swap))
    ops.append(("loss", lambda s, ws, c: jnp.mean(s * c)))
    return ops


def _prefix_fns(cfg, params, x, c) -> dict:
    """{stage name: zero-argument jitted callable computing the forward pass up to and
    including that stage}, in forward order; the last one is the whole forward (the loss)."""
    ws = [layer["w"] for layer in params["hidden"]] + [params["readout"]["w"]]
    ops = _forward_ops(cfg, len(ws))
    fns = {}
    for k in range(1, len(ops) + 1):

        def f(ws, x, c, k=k):
            s = x
            for _, op in ops[:k]:
                s = op(s, ws, c)
            return s

        fj = jax.jit(f)
        fns[ops[k - 1][0]] = lambda fj=fj: fj(ws, x, c)
    return fns


def increments(cumulative: dict[str, float]) -> dict[str, float]:
    """{stage: t_k - t_{k-1}} from the times t_k of the prefixes (stages 1..k composed, in
    dict order; t_0 = 0). The increments sum to the last prefix's time exactly (a
    telescoping sum); a negative increment is timing noise larger than the stage."""
    out, prev = {}, 0.0
    for k, t in cumulative.items():
        out[k] = t - prev
        prev = t
    return out


def breakdown(
    cfg, batch: int, steps: int, rounds: int = 5, density: float = 0.05, device=None, prefix: bool = True
) -> dict:
    """Time the stages of the network's fwd and fwd+bwd (scalar loss mean(out * c), as in
    ``bench snn``) interleaved with the totals, data placed on ``device`` (default: JAX's
    default device); returns per pass {stages: {name: s}, sum_s,
    total_s, other_s, sum_over_total, hlo_ops} and ``surrogate_s``. With ``prefix`` the
    forward also gets ``prefix``: {cumulative_s, increments, sum_s, sum_over_total}, the
    times of the jitted prefixes (stages 1..k composed) and their differences."""
    from analysis.snn import simulate

    if not cfg.hidden or cfg.connectivity != "dense" or cfg.recurrent or cfg.readout != "lif":
        raise ValueError("breakdown: cfg must be dense, feedforward, with a LIF readout")
    if cfg.checkpoint or cfg.event_driven or cfg.delay:
        raise ValueError(
            "breakdown: cfg must use the layer-by-layer path (no checkpoint, event_driven, delay)"
        )
    params = init_params(jax.random.key(0), cfg, nu=50.0, dtype=jnp.float32)
    x = (jax.random.uniform(jax.random.key(1), (batch, steps, cfg.n_in)) < density).astype(jnp.float32)
    c = jax.random.normal(jax.random.key(2), (batch, steps, cfg.n_out), jnp.float32)
    if device is not None:
        params, x, c = jax.device_put((params, x, c), device)
    meth = Method("deterministic")

    def loss(p, x, c):
        return jnp.mean(simulate(p, x, cfg, meth, record="output").output * c)

    fns = {"fwd": loss, "fwd+bwd": jax.value_and_grad(loss)}
    totals = {k: jax.jit(f).lower(params, x, c).compile() for k, f in fns.items()}
    fwd, fb, extra = _stage_fns(cfg, params, x, c)
    variants = {f"total {k}": (lambda f=f: f(params, x, c)) for k, f in totals.items()}
    own = {k for k, f in fwd.items() if f is not fb.get(k)}  # stages that differ from fwd+bwd's
    variants.update({f"fwd: {k}": fwd[k] for k in own})
    variants.update({f"fb: {k}": f for k, f in fb.items()})
    variants.update({f"extra: {k}": f for k, f in extra.items()})
    if prefix:
        variants.update({f"prefix: {k}": f for k, f in _prefix_fns(cfg, params, x, c).items()})
    on_cpu = (device or jax.devices()[0]).platform == "cpu"
    res = interleaved(variants, rounds=rounds, warmup=1, cpu=on_cpu)
    med = {k: v["min_s"] for k, v in res.items()}  # the least disturbed round of each
    cpu = {k: v["cpu_min_s"] for k, v in res.items()} if on_cpu else {}
    out: dict = {"surrogate_s": med["extra: surrogate"]}
    for name, stages in (("fwd", fwd), ("fwd+bwd", fb)):
        key = lambda k, name=name: f"fwd: {k}" if name == "fwd" and k in own else f"fb: {k}"
        times = {k: med[key(k)] for k in stages}
        total = med[f"total {name}"]
        s = sum(times.values())
        text = totals[name].as_text()
        out[name] = {
            "stages": times,
            "sum_s": s,
            "total_s": total,
            "other_s": total - s,
            "sum_over_total": s / total,
            "hlo_ops": _hlo_census(text),
        }
        if on_cpu:
            c_times = {k: cpu[key(k)] for k in stages}
            c_sum, c_total = sum(c_times.values()), cpu[f"total {name}"]
            out[name]["cpu"] = {
                "stages": c_times,
                "sum_s": c_sum,
                "total_s": c_total,
                "sum_over_total": c_sum / c_total,
            }
    if prefix:
        for clock, p in ((med, out["fwd"]), (cpu, out["fwd"].get("cpu"))):
            if p is None:
                continue
            cum = {k[len("prefix: ") :]: v for k, v in clock.items() if k.startswith("prefix: ")}
            last = list(cum.values())[-1]
            p["prefix"] = {
                "cumulative_s": cum,
                "increments": increments(cum),
                "sum_s": last,
                "sum_over_total": last / p["total_s"],
            }
    return out


def format_breakdown(b: dict) -> str:
    """Table lines: stage, ms, share of the pass's total; sum vs total; the HLO census."""
    lines = []
    for name in ("fwd", "fwd+bwd"):
        p = b[name]
        pre = p.get("prefix")
        head = "  (isolated | prefix increment)" if pre else ""
        lines.append(f"  breakdown {name} (total {p['total_s'] * 1e3:.2f} ms):{head}")
        for k, v in p["stages"].items():
            row = f"    {k:28s} {v * 1e3:9.2f} ms  {v / p['total_s']:6.1%}"
            if pre:
                inc = pre["increments"][k]
                row += f"  | {inc * 1e3:9.2f} ms  {inc / p['total_s']:6.1%}"
            lines.append(row)
        rest = p["other_s"]
        lines.append(f"    {'other (total - sum)':28s} {rest * 1e3:9.2f} ms  {rest / p['total_s']:6.1%}")
        flag = "within" if abs(p["sum_over_total"] - 1) <= 0.1 else "NOT within"
        lines.append(
            f"    sum of stages {p['sum_s'] * 1e3:.2f} ms vs total {p['total_s'] * 1e3:.2f} ms: "
            f"{p['sum_over_total']:.3f} ({flag} 10 %)"
        )
        if pre:
            lines.append(
                f"    prefix increments sum to the whole forward timed as a prefix, "
                f"{pre['sum_s'] * 1e3:.2f} ms: {pre['sum_over_total']:.3f} of the total"
            )
        c = p.get("cpu")
        if c:
            flag = "within" if abs(c["sum_over_total"] - 1) <= 0.1 else "NOT within"
            row = (
                f"    process CPU time: sum of stages {c['sum_s'] * 1e3:.2f} ms vs total "
                f"{c['total_s'] * 1e3:.2f} ms: {c['sum_over_total']:.3f} ({flag} 10 %)"
            )
            if c.get("prefix"):
                row += f"; whole forward as a prefix {c['prefix']['sum_over_total']:.3f}"
            lines.append(row)
        lines.append(f"    compiled ops: {', '.join(f'{k} {v}' for k, v in p['hlo_ops'].items())}")
    sur = b["surrogate_s"] * 1e3
    lines.append(f"  surrogate psi(U - theta) of one layer, alone: {sur:.2f} ms (inside recursion bwd)")
    return "\n".join(lines)
