"""One lock around every launch of this package's parallel numba kernels (private).

XLA may run several callbacks at once: the computations of several devices of one process
(``--xla_force_host_platform_device_count``, :mod:`analysis.runtime`) run on parallel
threads. numba's ``workqueue`` threading layer, the one it uses when neither TBB nor OpenMP
is installed, aborts the whole process on concurrent launches ("Concurrent access has been
detected"). Each kernel already uses every core, so serialising the launches costs nothing.
"""

from __future__ import annotations

import threading

KERNEL_LOCK = threading.Lock()
