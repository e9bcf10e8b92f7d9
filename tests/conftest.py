"""Test configuration: float64 on, hypothesis profiles, slow/gpu markers.

Hypothesis profiles: "default" (derandomized, no deadline: jit compiles on first call)
and "thorough" (more examples), chosen with SGTHEORY_HYPOTHESIS_PROFILE=thorough.
Slow checks run with ``--runslow`` or SGTHEORY_SLOW=1; gpu checks run only where JAX
sees a GPU.
"""

import atexit
import os
import shutil
import tempfile

# One persistent JAX compilation cache per test session, shared by the xdist workers and the
# command-line subprocesses (they inherit the environment): a function compiled by one of
# them is loaded by the others. Cold for every session (a new folder, removed at exit), so
# the suite's time does not depend on earlier runs. SGTHEORY_TEST_JAX_CACHE=0 turns it off.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ and os.environ.get("SGTHEORY_TEST_JAX_CACHE", "1") == "1":
    _cache = tempfile.mkdtemp(prefix="sgtheory-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0.1"
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

# Compile with XLA's backend optimisations off: the suite's programs are small and compiled
# once each, so compile time dominates and run time hardly changes (about 20 % less wall
# time for the suite on 2 CPU cores). Benchmarks (sgtheory bench) never run under it.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    _flags = os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0"
    os.environ["XLA_FLAGS"] = _flags.strip()

import jax  # after the variables above, which JAX reads at import
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)

settings.register_profile(
    "default",
    derandomize=True,
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    derandomize=False,
    deadline=None,
    max_examples=500,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("SGTHEORY_HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow checks")


def _has_gpu() -> bool:
    try:
        return any(d.platform == "gpu" for d in jax.devices())
    except RuntimeError:
        return False


def pytest_collection_modifyitems(config, items):
    run_slow = config.getoption("--runslow") or os.environ.get("SGTHEORY_SLOW") == "1"
    gpu = _has_gpu()
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow or SGTHEORY_SLOW=1")
    skip_gpu = pytest.mark.skip(reason="gpu: no GPU visible to JAX")
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not gpu:
            item.add_marker(skip_gpu)
