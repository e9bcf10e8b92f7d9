"""``sgtheory bench eventprop``: EventProp's time and memory against discrete SG-BPTT at the same
accuracy, as a function of spike density.

Network: :class:`analysis.eventprop._compare.CompareSetup` with 50 Poisson inputs -> 32 LIF ->
5 leaky integrators, tau_mem 10 ms = 2 tau_syn, 100 ms, batch 16, loss cross-entropy of the
max-over-time readout, float32; spike density set by the input rate (profile ``quick``: 10,
40 and 160 Hz; ``full`` adds 80 and 320 Hz). EventProp's buffers are fitted to each density
(inputs: the largest input count; ``max_spikes``: 1.5 x the largest hidden count + 4), since its
event scan runs over the buffer, not over the spikes that occur.

Same accuracy: for each of two levels (:data:`LEVELS`), BPTT's bin is the largest dt of (1,
0.5, 0.25, 0.1, 0.05, 0.02, 0.01) ms at which the discretised network's loss is within a
relative tolerance of EventProp's and its hidden spike counts differ from the continuous-time
network's by at most a fraction of its spikes (sum over neurons and samples of |n_dt - n_EP| /
sum n_EP): ``loose`` (1 %, 1 %; the loss tolerance of the claim eventprop_discrete_limit) and
``tight`` (0.1 %, 0.2 %). Exact spike-count equality is not a level: it fails even at 10 us
on every density tried, by one spike (a grazing crossing). The whole ladder's errors are
returned. Only the simulation's accuracy can be matched: the hidden-weight SG does not
converge to EventProp's at any dt (claim eventprop_sg_dt_limit). The readout-weight
gradient's relative difference is reported, not required: where two maxima of V_o are nearly
equal, the discrete and continuous readouts can pick different ones (seen at 40 Hz: 0.28 at
dt = 0.02 ms with the loss equal to 1e-5).

Time: medians of interleaved rounds (:func:`proofs_numeric.bench._timing.interleaved`) of
EventProp (:func:`analysis.eventprop.eventprop_grad`, with its host-side overflow check) and of
jit(value_and_grad) of the discretised network at each level's bin (SuperSpike beta_SG = 20,
reset detached).
Memory: XLA's compiled memory analysis (arguments + outputs + temporaries, bytes) of the jitted
BPTT step and of EventProp's two jitted stages (the event simulation recording its events, and
the adjoint scan; the larger of the two), None when a stage cannot be lowered.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np

from proofs_numeric.bench._timing import interleaved

PROFILES = {
    "quick": {"rates": (10.0, 40.0, 160.0), "rounds": 5},
    "full": {"rates": (10.0, 40.0, 80.0, 160.0, 320.0), "rounds": 9},
}
DTS = (1e-3, 0.5e-3, 0.25e-3, 0.1e-3, 0.05e-3, 0.02e-3, 0.01e-3)
#: accuracy levels: (relative loss difference, spike mismatch) that BPTT's bin must reach
LEVELS = {"loose": (0.01, 0.01), "tight": (0.001, 0.002)}
BETA_SG = 20.0
#: EventProp's jitted stages in analysis.eventprop._adjoint: forward event scan, adjoint scan
STAGES = ("run", "_bw")


def _setup(rate: float):
    from analysis.eventprop._compare import CompareSetup

    base = CompareSetup(n_in=50, hidden=32, n_out=5, t_max=100e-3, batch=16, rate_hz=rate, seed=0)
    k_in = int(math.ceil(rate * base.t_max + 6 * math.sqrt(rate * base.t_max) + 2))
    return dataclasses.replace(base, max_inputs=k_in, max_spikes=256)


def _fit_buffer(setup, params, times):
    """``setup`` with max_spikes = 1.5 x the largest hidden spike count + 4 (a first run with
    a generous buffer counts them)."""
    from analysis.eventprop import ct_simulate

    res = ct_simulate(params, times, setup.config(), t_max=setup.t_max, max_spikes=setup.max_spikes)
    counts = np.asarray(res.counts[0])
    fitted = dataclasses.replace(setup, max_spikes=int(1.5 * counts.max()) + 4)
    return fitted, counts


def _nbytes(compiled) -> int | None:
    try:
        m = compiled.memory_analysis()
        return int(m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes)
    except Exception:  # backends without a memory analysis
        return None


def _eventprop_memory(setup, params, times, labels) -> int | None:
    """Bytes of EventProp's larger jitted stage (the forward event scan that records the
    events, the adjoint scan), from XLA's memory analysis of each stage compiled with the
    arguments :func:`analysis.eventprop.eventprop_grad` passes it (captured in one call);
    None when the stages are not found or cannot be lowered."""
    from analysis.eventprop import _adjoint
    from analysis.eventprop._compare import eventprop_gradient

    stages = {n: getattr(_adjoint, n, None) for n in STAGES}
    if not all(hasattr(f, "lower") for f in stages.values()):
        return None
    calls: dict = {}

    def recorder(name, fn):
        def wrapped(*args, **kwargs):
            calls[name] = (args, kwargs)
            return fn(*args, **kwargs)

        return wrapped

    try:
        for n, f in stages.items():
            setattr(_adjoint, n, recorder(n, f))
        eventprop_gradient(setup, params, times, labels)
    finally:
        for n, f in stages.items():
            setattr(_adjoint, n, f)
    try:
        sizes = [_nbytes(stages[n].lower(*a, **k).compile()) for n, (a, k) in calls.items()]
    except Exception:  # a stage that cannot be lowered on its own
        return None
    return max(sizes) if len(sizes) == len(STAGES) and None not in sizes else None


def _ladder(setup, params, times, labels, loss_ep, g_ep, counts_ep) -> list[dict]:
    """Accuracy of the discretised network at every dt of :data:`DTS`: relative loss
    difference, readout-gradient relative difference and spike mismatch (sum over neurons and
    samples of |n_dt - n_EP| / sum n_EP)."""
    from analysis.eventprop._compare import _hidden_counts, binned_inputs, relative_difference, sg_gradient
    from analysis.neuron import surrogate

    psi = surrogate("superspike", BETA_SG)
    ref = np.ravel(np.asarray(g_ep["readout"]["w"], np.float64))
    rows = []
    for dt in DTS:
        x = binned_inputs(setup, times, dt)
        loss, g = sg_gradient(setup, params, x, labels, dt, psi)
        diff = np.abs(_hidden_counts(params, x, setup.config(dt)) - counts_ep)
        rows.append(
            {
                "dt_ms": dt * 1e3,
                "rel_loss": abs(float(loss) - float(loss_ep)) / abs(float(loss_ep)),
                "rel_readout": relative_difference(np.ravel(np.asarray(g["readout"]["w"], np.float64)), ref),
                "spike_mismatch": float(diff.sum() / max(int(counts_ep.sum()), 1)),
            }
        )
    return rows


def _pick(ladder: list[dict], loss_tol: float, spike_tol: float) -> tuple[float, bool]:
    """(dt in s, met) of the largest dt whose loss and spike mismatch are within the
    tolerances; the smallest dt (met False) when none is."""
    for row in ladder:
        if row["rel_loss"] < loss_tol and row["spike_mismatch"] <= spike_tol:
            return row["dt_ms"] * 1e-3, True
    return ladder[-1]["dt_ms"] * 1e-3, False


def _point(rate: float, rounds: int) -> dict:
    from analysis.eventprop._compare import _value_and_grad, binned_inputs, eventprop_gradient
    from analysis.neuron import surrogate
    from analysis.snn import Method

    setup = _setup(rate)
    params, times, labels = setup.instance()
    setup, counts_ep = _fit_buffer(setup, params, times)
    loss_ep, g_ep = eventprop_gradient(setup, params, times, labels)
    ladder = _ladder(setup, params, times, labels, loss_ep, g_ep, counts_ep)
    m = Method("deterministic", surrogate=surrogate("superspike", BETA_SG))
    chosen = {level: _pick(ladder, *tols) for level, tols in LEVELS.items()}
    args = {level: (binned_inputs(setup, times, dt), setup.config(dt)) for level, (dt, _) in chosen.items()}
    variants = {"eventprop": lambda: eventprop_gradient(setup, params, times, labels)[1]}
    for level, (x, cfg) in args.items():
        variants[f"bptt_{level}"] = lambda x=x, cfg=cfg: _value_and_grad(params, x, labels, cfg, m)[1]
    res = interleaved(variants, rounds=rounds)
    mem_ep = _eventprop_memory(setup, params, times, labels)
    t_ep = res["eventprop"]["median_s"]
    out: dict = {
        "input_rate_hz": rate,
        "hidden_rate_hz": float(counts_ep.mean() / setup.t_max),
        "hidden_spikes": int(counts_ep.sum()),
        "max_spikes": setup.max_spikes,
        "ladder": ladder,
        "eventprop_ms": t_ep * 1e3,
        "memory_eventprop_bytes": mem_ep,
    }
    for level, (dt, met) in chosen.items():
        x, cfg = args[level]
        t_bp = res[f"bptt_{level}"]["median_s"]
        mem = _nbytes(_value_and_grad.lower(params, x, labels, cfg, m).compile())
        out[level] = {
            "dt_ms": dt * 1e3,
            "steps": setup.n_steps(dt),
            "accuracy_met": met,
            "bptt_ms": t_bp * 1e3,
            "time_eventprop_over_bptt": t_ep / t_bp,
            "memory_bptt_bytes": mem,
            "memory_eventprop_over_bptt": (mem_ep / mem) if mem_ep and mem else None,
        }
    return out


def run(profile: str = "quick") -> dict:
    """Time and memory of EventProp and BPTT per input rate at the accuracy levels of
    :data:`LEVELS`; prints a table, returns {"points": [...], "time_ratios": {"<level>_<rate>":
    EventProp / BPTT}, "memory_ratios": {...}}."""
    p = PROFILES[profile]
    points = [_point(r, p["rounds"]) for r in p["rates"]]
    print(
        f"eventprop: 50 -> 32 LIF -> 5 LI, 100 ms, batch 16, float32, on {jax.default_backend()} "
        "(shared machine: < 10 % is noise); BPTT at the largest dt meeting each accuracy level "
        "(loss, hidden spike counts): " + ", ".join(f"{k} ({a:g}, {b:g})" for k, (a, b) in LEVELS.items())
    )
    for q in points:
        for level in LEVELS:
            r = q[level]
            mem = r["memory_eventprop_over_bptt"]
            print(
                f"  input {q['input_rate_hz']:5.0f} Hz  hidden {q['hidden_rate_hz']:6.1f} Hz  {level:5s} "
                f"dt {r['dt_ms']:.2f} ms{'' if r['accuracy_met'] else ' (not met)'}  "
                f"EventProp {q['eventprop_ms']:8.2f} ms  BPTT {r['bptt_ms']:8.2f} ms  "
                f"time ratio {r['time_eventprop_over_bptt']:6.2f}  "
                f"memory ratio {'n/a' if mem is None else f'{mem:.3f}'}"
            )
    key = lambda level, q: f"{level}_input_{q['input_rate_hz']:g}hz"
    return {
        "points": points,
        "time_ratios": {key(lv, q): q[lv]["time_eventprop_over_bptt"] for q in points for lv in LEVELS},
        "memory_ratios": {
            key(lv, q): q[lv]["memory_eventprop_over_bptt"]
            for q in points
            for lv in LEVELS
            if q[lv]["memory_eventprop_over_bptt"]
        },
    }
