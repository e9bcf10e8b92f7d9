"""Numba CPU kernels for the time recursion of a LIF layer (private; see
:mod:`analysis.snn._layerwise`).

XLA runs a layer's recursion as a loop of T small steps; on a CPU each step is a few
dozen microseconds of loop and fusion overhead around work of the same size, so a
layer of batch 64, 100 steps and width 512 takes ~4.5 ms forward and ~7.5 ms backward
on 2 cores, several times what its memory traffic needs. These kernels run the whole
recursion in one call, rows split over numba's threads, the inner loop over the units of
one bin contiguous in memory (vectorised by LLVM).

* :func:`lif_forward` -- spikes S[t] = Theta(U[t] - theta) and the potentials U[t] of the
  equations of :func:`analysis.snn._lif.lif_update` (detached or differentiable reset: the
  forward pass is the same; reset of the leak or of the whole update). XLA's CPU compiler
  contracts ``a * b + c`` into fused multiply-adds; the kernel makes the same two
  contractions explicitly (``I[t+1] = fma(lambda_syn, I[t], d[t])`` and the membrane
  update below), so its spikes and potentials equal XLA's bit for bit (checked by the
  tests on float32 and float64).
* :func:`lif_adjoint` -- the adjoint recursion of the hand-written backward pass, written
  as a linear recursion in the adjoint a_U of the potential,

      out[t]   = a_I[t+1]                       (= dL/dd[t])
      a_U[t]   = e[t] + k[t] a_U[t+1]
      a_I[t]   = lambda_syn a_I[t+1] + (1 - lambda_mem) r[t] a_U[t+1],

  whose elementwise terms the caller computes with XLA (any surrogate, any derivative
  rule): e = g_S psi(U - theta) + g_U; k = lambda_mem (1 - S) for a detached reset, or
  lambda_mem (1 - S - U psi) for a differentiable reset of the leak (a_S = g_S - lambda_mem
  U a_U folded in); r = 1 - S for a reset of the whole update, else 1. The kernel reads
  ``k`` either as an array or, for a detached reset, from the potentials (``k = lambda_mem``
  where U - theta <= 0, else 0; one array less to write and read).

Layouts: every array is [R, T, n] (batch-major) or [T, R, n] (time-major); ``time_major``
says which.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange
from numba.extending import intrinsic

from analysis.snn._numba_lock import KERNEL_LOCK


def _fma_typer(typingctx, a, b, c):
    """a * b + c rounded once (LLVM's fma intrinsic), the contraction XLA's CPU code makes."""

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


_fma: Any = intrinsic(_fma_typer)


@njit(cache=True, inline="always")
def _sizes(shape, time_major):
    """(steps, rows, units) of an [R, T, n] or (``time_major``) [T, R, n] array."""
    if time_major:
        return shape[0], shape[1], shape[2]
    return shape[1], shape[0], shape[2]


@njit(parallel=True, cache=True, nogil=True)
def _forward(d, c, time_major, whole, s, u):
    # c = [lambda_syn, lambda_mem, 1 - lambda_mem, theta, 0, 1] in the arrays' dtype
    ls, lm, olm, th, zero, one = c[0], c[1], c[2], c[3], c[4], c[5]
    n_t, n_r, n = _sizes(d.shape, time_major)
    for r in prange(n_r):
        i_syn = np.zeros(n, d.dtype)
        v = np.zeros(n, d.dtype)
        for t in range(n_t):
            if time_major:
                d_t, s_t, u_t = d[t, r], s[t, r], u[t, r]
            else:
                d_t, s_t, u_t = d[r, t], s[r, t], u[r, t]
            for j in range(n):
                x = v[j]
                spike = one if x - th > zero else zero
                s_t[j] = spike
                u_t[j] = x
                i0 = i_syn[j]
                if whole:
                    v[j] = _fma(lm, x, olm * i0) * (one - spike)
                else:
                    v[j] = _fma(olm, i0, lm * x * (one - spike))
                i_syn[j] = _fma(ls, i0, d_t[j])


@njit(parallel=True, cache=True, nogil=True)
def _adjoint(e, m, c, time_major, from_u, whole, out):
    # c = [lambda_syn, lambda_mem, 1 - lambda_mem, theta, 0, 1]; m = U (from_u: k from the
    # threshold) or k itself
    ls, lm, olm, th, zero, one = c[0], c[1], c[2], c[3], c[4], c[5]
    n_t, n_r, n = _sizes(e.shape, time_major)
    for r in prange(n_r):
        a_i = np.zeros(n, e.dtype)
        a_u = np.zeros(n, e.dtype)
        for t in range(n_t - 1, -1, -1):
            if time_major:
                e_t, m_t, o_t = e[t, r], m[t, r], out[t, r]
            else:
                e_t, m_t, o_t = e[r, t], m[r, t], out[r, t]
            for j in range(n):
                if from_u:
                    k = lm if m_t[j] - th <= zero else zero
                else:
                    k = m_t[j]
                au = a_u[j]
                ai = a_i[j]
                o_t[j] = ai
                a_u[j] = e_t[j] + k * au
                if whole:
                    a_i[j] = ls * ai + olm * ((one if k != zero else zero) * au)
                else:
                    a_i[j] = ls * ai + olm * au


def constants(lif, dtype) -> np.ndarray:
    """[lambda_syn, lambda_mem, 1 - lambda_mem, theta, 0, 1] rounded as XLA rounds them
    (each a scalar of ``dtype``; 1 - lambda_mem computed in ``dtype``)."""
    dt = np.dtype(dtype).type
    lm = dt(lif.lambda_mem)
    return np.array([dt(lif.lambda_syn), lm, dt(1) - lm, dt(lif.theta), dt(0), dt(1)], dtype=dtype)


def lif_forward(d: np.ndarray, c: np.ndarray, time_major: bool, whole: bool, s: np.ndarray, u: np.ndarray):
    """Spikes into ``s`` and potentials into ``u`` (same shape and dtype as ``d``, written in
    place) for drive ``d``; ``c`` from :func:`constants`."""
    with KERNEL_LOCK:
        _forward(d, c, time_major, whole, s, u)


def lif_adjoint(
    e: np.ndarray, m: np.ndarray, c: np.ndarray, time_major: bool, from_u: bool, whole: bool, out: np.ndarray
):
    """dL/d(drive) into ``out`` (see module docstring); ``m`` the potentials (``from_u``) or
    the coefficients k."""
    with KERNEL_LOCK:
        _adjoint(e, m, c, time_major, from_u, whole, out)
