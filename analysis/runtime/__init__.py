"""Where and how computations run: device meshes (jax.sharding), host memory (glibc malloc
tuning, peak resident memory) and file output (atomic writes, JSON conversion, one writer
per run folder).
"""

from analysis.runtime._devices import (
    batch_sharded,
    data_parallel_grad,
    data_parallel_step,
    device_mesh,
    replicated,
    shard_batch,
    sweep,
    sweep_static,
)
from analysis.runtime._host_memory import (
    is_kept,
    keep_freed_memory,
    peak_rss_gib,
)
from analysis.runtime._io import (
    atomic_write_bytes,
    remove_atomic_litter,
    to_jsonable,
    write_json,
)
from analysis.runtime._lock import (
    folder_lock,
    folder_lock_owner,
)
from analysis.runtime._paths import (
    check_output_dir,
    check_output_file,
)
from analysis.runtime._provenance import (
    provenance,
)

__all__ = [
    "check_output_dir",
    "check_output_file",
    "provenance",
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
    "remove_atomic_litter",
    "folder_lock",
    "folder_lock_owner",
]
