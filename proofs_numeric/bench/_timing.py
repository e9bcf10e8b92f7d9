"""Interleaved timing: rounds of the compared variants alternate, medians are reported.

The machine is shared and drifts; interleaving makes drift hit every variant alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import jax


def _block(x):
    return jax.block_until_ready(x)


def interleaved(
    variants: dict[str, Callable[[], object]],
    rounds: int = 7,
    warmup: int = 2,
    inner: int = 1,
    cpu: bool = False,
) -> dict[str, dict]:
    """Time zero-argument callables; returns {name: {median_s, min_s, times}} per call.

    Each callable is warmed up (compilation) ``warmup`` times, then the variants run in
    turn for ``rounds`` rounds of ``inner`` calls each. ``cpu``: also record this process's
    CPU time (:func:`time.process_time`, all threads) per call as ``cpu_median_s``,
    ``cpu_min_s``, ``cpu_times``; unlike wall time it does not count the time the process
    waits while other processes hold the cores.
    """
    for fn in variants.values():
        for _ in range(warmup):
            _block(fn())
    times: dict[str, list[float]] = {k: [] for k in variants}
    cpu_times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for k, fn in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(inner):
                out = fn()
            _block(out)
            times[k].append((time.perf_counter() - t0) / inner)
            cpu_times[k].append((time.process_time() - c0) / inner)
    res: dict[str, dict] = {}
    for k, v in times.items():
        res[k] = {"median_s": statistics.median(v), "min_s": min(v), "times": v}
        if cpu:
            c = cpu_times[k]
            res[k].update(cpu_median_s=statistics.median(c), cpu_min_s=min(c), cpu_times=c)
    return res


def ratio_table(res: dict[str, dict], reference: str) -> str:
    """Lines 'name: median ms (x ratio to reference)'."""
    ref = res[reference]["median_s"]
    return "\n".join(
        f"  {k:32s} {v['median_s'] * 1e3:10.2f} ms   {v['median_s'] / ref:6.3f}x {reference}"
        for k, v in res.items()
    )
