"""Where and how computations run: device meshes (jax.sharding), host memory (glibc malloc
tuning, peak resident memory) and file output (atomic writes, JSON conversion, one writer
per run folder).

* devices: :func:`device_mesh`, :func:`data_parallel_grad`, :func:`data_parallel_step`,
  :func:`sweep` (traced values), :func:`sweep_static` (static values);
* host memory: :func:`keep_freed_memory`, :func:`peak_rss_gib`;
* output: :func:`write_json` (atomic, with provenance).

The shardings, atomic byte writes, the run-folder lock, provenance and the output-path
checks that the command line uses live in the private modules (``_devices``,
``_host_memory``, ``_io``, ``_lock``, ``_paths``, ``_provenance``).
"""

from analysis.runtime._devices import (
    data_parallel_grad,
    data_parallel_step,
    device_mesh,
    sweep,
    sweep_static,
)
from analysis.runtime._host_memory import keep_freed_memory, peak_rss_gib
from analysis.runtime._io import write_json

__all__ = [
    "device_mesh",
    "data_parallel_grad",
    "data_parallel_step",
    "sweep",
    "sweep_static",
    "keep_freed_memory",
    "peak_rss_gib",
    "write_json",
]
