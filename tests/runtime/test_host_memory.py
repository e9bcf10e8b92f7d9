"""analysis.runtime._host_memory: freed large buffers are reused without new page faults."""

import ctypes
import ctypes.util
import resource
import sys

import pytest

from analysis.runtime import keep_freed_memory
from analysis.runtime._host_memory import is_kept


def _faults_of_fresh_buffer(n_bytes):
    """Minor page faults caused by malloc, filling and free of one buffer (plain malloc,
    as XLA's CPU buffers; NumPy would add a huge-page hint of its own)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    ptr = libc.malloc(n_bytes)
    ctypes.memset(ptr, 1, n_bytes)
    libc.free(ptr)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")
def test_keep_freed_memory_removes_repeated_page_faults():
    n = 64 * 2**20  # above glibc's largest mmap threshold (32 MiB): always mmap by default
    pages = n // resource.getpagesize()
    if not keep_freed_memory():
        pytest.skip("not glibc")
    assert is_kept() and keep_freed_memory()  # idempotent
    _faults_of_fresh_buffer(n)  # first use may fault the heap in
    repeat = min(_faults_of_fresh_buffer(n) for _ in range(3))
    # Default glibc maps and unmaps the block each time: >= one fault per page (16384
    # here; fewer only with transparent huge pages). Kept memory faults a handful.
    assert repeat < pages // 20, (repeat, pages)


def test_peak_rss_of_a_subprocess_is_its_own():
    """ru_maxrss survives fork + exec (a child reports the parent's peak); peak_rss_gib must
    not: a child that allocates nothing reads well below what the parent holds."""
    import subprocess

    import numpy as np

    from analysis.runtime import peak_rss_gib

    held = np.ones(2**30 // 8)  # the parent touches 1 GiB
    code = "from analysis.runtime._host_memory import peak_rss_gib; print(peak_rss_gib())"
    child = float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    assert peak_rss_gib() >= 1.0
    assert child < 0.5, child
    del held
