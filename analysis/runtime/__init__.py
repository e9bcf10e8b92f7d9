"""Where and how computations run: device meshes (jax.sharding), host memory (glibc malloc
tuning, peak resident memory) and file output (atomic writes, JSON conversion).
"""

from analysis.runtime._devices import (
    device_mesh,
    replicated,
    batch_sharded,
    shard_batch,
    data_parallel_grad,
    data_parallel_step,
    sweep,
    sweep_static,
)
from analysis.runtime._host_memory import (
    keep_freed_memory,
    is_kept,
    peak_rss_gib,
)
from analysis.runtime._io import (
    to_jsonable,
    write_json,
    atomic_write_bytes,
)

__all__ = [
    "device_mesh",
    "replicated",
    "batch_sharded",
    "shard_batch",
    "data_parallel_grad",
    "data_parallel_step",
    "sweep",
    "sweep_static",
    "keep_freed_memory",
    "is_kept",
    "peak_rss_gib",
    "to_jsonable",
    "write_json",
    "atomic_write_bytes",
]
