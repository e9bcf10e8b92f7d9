"""Keep freed host memory in the process (glibc malloc tuning for XLA on CPU).

XLA on CPU allocates a fresh buffer for every large intermediate of a jitted call (the
stored states of a spiking network in time are hundreds of MB per step). glibc serves
such requests with ``mmap`` and gives them back with ``munmap`` (or trims the heap) when
they are freed, so every training step touches new pages again: for the 3-layer network
of ``sgtheory bench snn`` (batch 256, 200 steps, width 512) that is ~400 000 page faults,
about 0.5 s of a ~3 s step on this 2-core machine. :func:`keep_freed_memory` sets three
malloc parameters (``mallopt``) so that large blocks come from the heap, the heap is
never trimmed and all threads share one arena: freed buffers are then reused without
page faults. Resident memory stays at its high-water mark (peak memory is unchanged).

This is a process-wide setting, so the library never applies it on import: the
``sgtheory train`` and ``sgtheory bench`` commands call it (``--default-malloc`` turns it
off), and scripts may call it themselves, best before the first JAX computation. The same
effect without code: ``GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=
18446744073709551615:glibc.malloc.arena_max=1`` in the environment. On systems without
glibc (macOS, Windows, musl) it does nothing and returns False.

:func:`peak_rss_gib` reads the peak resident memory of the calling process (used by the
memory measurements of ``sgtheory bench snn``).

Example
-------
>>> from analysis.runtime._host_memory import keep_freed_memory
>>> isinstance(keep_freed_memory(), bool)
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt parameter numbers from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8

_applied = False


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version") else None


def keep_freed_memory() -> bool:
    """Tune glibc malloc so that freed buffers are reused without new page faults.

    Sets M_MMAP_MAX = 0 (large blocks from the heap), M_TRIM_THRESHOLD = -1 (never give
    the heap back) and M_ARENA_MAX = 1 (one heap for all threads). Idempotent. Returns
    True when the settings were applied (glibc), False otherwise.
    """
    global _applied
    if _applied:
        return True
    libc = _libc()
    if libc is None:
        return False
    ok = all(
        libc.mallopt(p, v) == 1 for p, v in ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, -1), (_M_ARENA_MAX, 1))
    )
    _applied = ok
    return ok


def is_kept() -> bool:
    """Whether :func:`keep_freed_memory` has been applied in this process."""
    return _applied


def peak_rss_gib() -> float:
    """Peak resident memory of this process in GiB.

    On Linux the high-water mark of this process's own address space (``VmHWM``):
    ``ru_maxrss`` is inherited through fork + exec, so in a subprocess it would report the
    parent's resident memory at the fork whenever that is larger (which is how an earlier
    version of this benchmark read 5-8 GiB for a 2.3 GiB run). Elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20  # kB
    except OSError:
        pass
    import resource

    scale = 2**30 if sys.platform == "darwin" else 2**20  # bytes on macOS, kB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
