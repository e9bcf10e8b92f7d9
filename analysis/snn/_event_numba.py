"""Numba CPU kernels for :mod:`analysis.snn._event` (optional dependency ``numba``).

Both kernels read the active entries of S straight from S (a branch-free row scan for
``S[r, i] != 0``) and multiply the values in, so they compute S @ W and S^T G exactly up to
summation order for any S; the work is proportional to the number of active entries plus
one pass over S. Rows are split into one contiguous block per numba thread, each with one
index buffer.

* :func:`sparse_rows_matmul`: y[r] = sum over active i of S[r, i] W[i]. A row's active
  indices are collected first, then the weight rows are added eight (then four, then one)
  at a time, so each pass over y[r] reads and writes it once for several inputs; the terms
  are added in increasing i, left to right.
* :func:`sparse_rows_tmatmul`: dW[i] = sum over active r of S[r, i] G[r], each block
  accumulating its own partial dW (no write conflicts), and the partials summed in block
  order.

This module imports numba at import time; :mod:`analysis.snn._event` imports it only when numba
is installed and the backend is the CPU.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from analysis.snn._numba_lock import KERNEL_LOCK


@njit(parallel=True, cache=True, nogil=True)
def _rows_matmul(s, w, n_blocks, y):
    n_rows, n_in = s.shape
    n_out = w.shape[1]
    for b in prange(n_blocks):
        idx = np.empty(n_in, np.int32)  # one index buffer per block, not per row
        for r in range(b * n_rows // n_blocks, (b + 1) * n_rows // n_blocks):
            s_row = s[r]
            k = 0
            for i in range(n_in):  # branch-free compaction of the active indices
                idx[k] = i
                k += s_row[i] != 0
            yr = y[r]
            for j in range(n_out):
                yr[j] = 0
            q = 0
            while q + 8 <= k:
                i0, i1, i2, i3 = idx[q], idx[q + 1], idx[q + 2], idx[q + 3]
                i4, i5, i6, i7 = idx[q + 4], idx[q + 5], idx[q + 6], idx[q + 7]
                v0, v1, v2, v3 = s_row[i0], s_row[i1], s_row[i2], s_row[i3]
                v4, v5, v6, v7 = s_row[i4], s_row[i5], s_row[i6], s_row[i7]
                for j in range(n_out):
                    yr[j] = (
                        yr[j]
                        + v0 * w[i0, j]
                        + v1 * w[i1, j]
                        + v2 * w[i2, j]
                        + v3 * w[i3, j]
                        + v4 * w[i4, j]
                        + v5 * w[i5, j]
                        + v6 * w[i6, j]
                        + v7 * w[i7, j]
                    )
                q += 8
            if q + 4 <= k:
                i0, i1, i2, i3 = idx[q], idx[q + 1], idx[q + 2], idx[q + 3]
                v0, v1, v2, v3 = s_row[i0], s_row[i1], s_row[i2], s_row[i3]
                for j in range(n_out):
                    yr[j] = yr[j] + v0 * w[i0, j] + v1 * w[i1, j] + v2 * w[i2, j] + v3 * w[i3, j]
                q += 4
            while q < k:
                i0 = idx[q]
                v0 = s_row[i0]
                for j in range(n_out):
                    yr[j] = yr[j] + v0 * w[i0, j]
                q += 1


@njit(parallel=True, cache=True, nogil=True)
def _rows_tmatmul(s, g, n_blocks, dw):
    n_rows, n_in = s.shape
    n_out = g.shape[1]
    part = np.zeros((n_blocks, n_in, n_out), dw.dtype)
    for b in prange(n_blocks):
        p = part[b]
        idx = np.empty(n_in, np.int32)
        g_row = np.empty(n_out, g.dtype)
        for r in range(b * n_rows // n_blocks, (b + 1) * n_rows // n_blocks):
            s_row = s[r]
            k = 0
            for i in range(n_in):  # branch-free compaction of the active indices
                idx[k] = i
                k += s_row[i] != 0
            if k == 0:
                continue
            g_row[:] = g[r]  # a private copy: no aliasing with p, so the update vectorises
            for q in range(k):
                i = idx[q]
                v = s_row[i]
                p_i = p[i]
                for j in range(n_out):
                    p_i[j] += v * g_row[j]
    for i in prange(n_in):
        for j in range(n_out):
            acc = part[0, i, j]
            for b in range(1, n_blocks):
                acc = acc + part[b, i, j]
            dw[i, j] = acc


def _n_blocks(n_rows: int) -> int:
    """Row blocks of both kernels: one contiguous block per numba thread."""
    return max(1, min(numba.get_num_threads(), n_rows))


def sparse_rows_matmul(s: np.ndarray, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """S @ W [R, N_out] for S [R, N_in], W [N_in, N_out] of one float dtype (C-contiguous),
    written into ``out`` when given."""
    y = np.empty((s.shape[0], w.shape[1]), w.dtype) if out is None else out
    with KERNEL_LOCK:
        _rows_matmul(s, w, _n_blocks(s.shape[0]), y)
    return y


def sparse_rows_tmatmul(s: np.ndarray, g: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """S^T @ G [N_in, N_out] for S [R, N_in], G [R, N_out] of one float dtype (C-contiguous),
    written into ``out`` when given."""
    dw = np.empty((s.shape[1], g.shape[1]), g.dtype) if out is None else out
    with KERNEL_LOCK:
        _rows_tmatmul(s, g, _n_blocks(s.shape[0]), dw)
    return dw
