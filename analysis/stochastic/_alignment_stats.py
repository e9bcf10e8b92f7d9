"""Streamed moments and jackknife statistics of the alignment measurements (private).

Per-sample gradients are drawn chunk by chunk and reduced to segment sums (10 jackknife
batches and two halves) and a sum of squares, so memory is O(P) whatever the number of
samples; from them come the reference mean and standard error, the split-half ceiling and
delete-one-batch jackknife standard errors of cosines (Efron & Tibshirani 1993, ch. 11).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from analysis.stochastic._compare import cosine

JACKKNIFE_BATCHES = 10


def _segments(n):
    """Segment id of each sample: jackknife batches (np.array_split of 0..n-1 into 10)
    and halves ([0, n//2), [n//2, n)) as ids 10 and 11 of a second labelling."""
    sizes = [len(a) for a in np.array_split(np.arange(n), JACKKNIFE_BATCHES)]
    batch = np.repeat(np.arange(JACKKNIFE_BATCHES), sizes)
    half = JACKKNIFE_BATCHES + (np.arange(n) >= n // 2)
    return batch, half


def flatten_jnp(tree):
    """Pytree with a leading sample axis -> [n, P] (leaves in tree order)."""
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.concatenate([v.reshape(v.shape[0], -1) for v in leaves], axis=1)


@functools.lru_cache(maxsize=64)
def _moments_jit(sample: Callable) -> Callable:
    n_seg = JACKKNIFE_BATCHES + 2

    @jax.jit
    def moments(args, c, ids_b, ids_h, valid):
        g = sample(args, c)
        g = g * valid[:, None].astype(g.dtype)
        sums = jax.ops.segment_sum(g, ids_b, n_seg) + jax.ops.segment_sum(g, ids_h, n_seg)
        return sums, jnp.sum(g * g, axis=0)

    return moments


def _moments(sample: Callable, args: Any, n: int, chunk: int):
    """Moments of n per-sample gradients drawn in chunks: ``sample(args, c)`` (jittable, c the
    chunk index; ``args`` traced arguments (params, inputs, key)) returns the [chunk, P]
    gradients of samples c*chunk ... (c+1)*chunk - 1. The compiled step is cached per
    ``sample`` (the samplers are cached), so e.g. the epochs of a run compile once.

    Returns (segment sums [12, P], sum of squares [P]): rows 0-9 are the sums over the
    10 jackknife batches, rows 10-11 over the two halves. Only these are kept, so memory is
    O(P) whatever n (the per-sample gradients of a chunk live on the device only).
    """
    batch, half = _segments(n)
    moments = _moments_jit(sample)
    sums: Any = 0.0
    sumsq: Any = 0.0
    for c in range(max(1, math.ceil(n / chunk))):
        idx = np.arange(c * chunk, (c + 1) * chunk)
        valid = idx < n  # the last chunk is drawn whole and its tail masked
        idx = np.minimum(idx, n - 1)
        s, q = moments(args, jnp.int32(c), batch[idx], half[idx], jnp.asarray(valid))
        sums, sumsq = sums + np.asarray(s), sumsq + np.asarray(q)
    return sums, sumsq


def _balanced(n: int, chunk: int) -> int:
    """The chunk size <= ``chunk`` that splits n samples into the fewest, equal chunks (the
    last chunk is computed whole, so 256 samples go as 2 x 128 rather than 250 + 250)."""
    return math.ceil(n / math.ceil(n / chunk))


def _reference_stats(sums, sumsq, n):
    """(mean, standard error, split-half cosine, (batch sums, batch sizes)) from the moments."""
    batch_sums, batch_sizes = sums[:JACKKNIFE_BATCHES], np.bincount(_segments(n)[0])
    ref = batch_sums.sum(0) / n
    var = np.maximum(sumsq - n * ref**2, 0.0) / (n - 1)  # sample variance (ddof 1)
    first, second = sums[JACKKNIFE_BATCHES] / (n // 2), sums[JACKKNIFE_BATCHES + 1] / (n - n // 2)
    return ref, np.sqrt(var / n), cosine(first, second), (batch_sums, batch_sizes)


def jackknife_se(replicates: Any) -> float:
    """Delete-one-group jackknife standard error from the b leave-one-out replicates
    theta_(i) of a statistic: sqrt((b - 1) / b * sum_i (theta_(i) - mean_i theta_(i))^2)
    (Efron & Tibshirani 1993, eq. 11.5)."""
    r = np.asarray(replicates, float)
    if r.ndim != 1 or r.size < 2:
        raise ValueError(f"replicates must be a 1-D array of at least 2 values, got shape {r.shape}")
    b = r.size
    return float(np.sqrt((b - 1) / b * np.sum((r - r.mean()) ** 2)))


def leave_one_out_cosines(
    g: Any,
    ref_batch_sums: Any,
    ref_batch_sizes: Any,
    g_batch_sums: Any = None,
    g_batch_sizes: Any = None,
) -> np.ndarray:
    """cosine(g_(i), ref_(i)) for each batch i, ref_(i) the reference mean with batch i of its
    samples deleted ([b, P] batch sums, [b] batch sizes) and g_(i) likewise when the batch
    sums of g's samples are given (else g, [P], is a fixed vector). Deleting batch i of both
    at once is the delete-one-group jackknife of a statistic of two independent samples
    whose groups are paired by index."""
    rs, rm = np.asarray(ref_batch_sums, float), np.asarray(ref_batch_sizes, float)
    r_loo = (rs.sum(0) - rs) / (rm.sum() - rm)[:, None]
    if g_batch_sums is None:
        g_loo = np.broadcast_to(np.asarray(g, float), r_loo.shape)
    else:
        gs, gm = np.asarray(g_batch_sums, float), np.asarray(g_batch_sizes, float)
        if gs.shape != rs.shape or gm.shape != rm.shape:
            raise ValueError(f"g's batches {gs.shape} must match the reference's {rs.shape}")
        g_loo = (gs.sum(0) - gs) / (gm.sum() - gm)[:, None]
    return np.array([cosine(a, b) for a, b in zip(g_loo, r_loo, strict=True)])


def paired_cos_difference(row: Mapping, a: str, b: str) -> tuple[float, float]:
    """cos_a - cos_b of a :func:`snn_alignment` row and its jackknife standard error from the
    PAIRED leave-one-out replicates (loo_cos_a - loo_cos_b batch by batch): the two cosines
    share the reference (and, for the stochastic variants, the spikes of their SG samples),
    so their errors are correlated and must not be combined as if independent. SE 0 for a
    given (exact) reference."""
    diff = float(row[f"cos_{a}"] - row[f"cos_{b}"])
    la, lb = row[f"loo_cos_{a}"], row[f"loo_cos_{b}"]
    if la is None or lb is None:
        return diff, 0.0
    return diff, jackknife_se(np.asarray(la) - np.asarray(lb))
