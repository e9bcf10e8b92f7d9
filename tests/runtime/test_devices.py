"""Multi-device equality: 4 simulated CPU devices give the 1-device results.

XLA_FLAGS=--xla_force_host_platform_device_count=4 must be set before JAX is imported,
so the check runs in a subprocess. It compares, in float64, the data-parallel gradient
and one optax step of a stochastic SNN, and a seed sweep, between a 4-device mesh and a
1-device mesh (equal up to summation order: rtol 1e-10).
"""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT

_SCRIPT = r"""
import json, jax, jax.numpy as jnp, numpy as np, optax
jax.config.update("jax_enable_x64", True)
from analysis.runtime._devices import device_mesh, data_parallel_grad, data_parallel_step, sweep, sweep_static
from analysis.snn._network import SNNConfig, init_params, simulate
from analysis.snn._methods import Method
assert len(jax.devices()) == 4, jax.devices()
cfg = SNNConfig(n_in=12, hidden=(10,), n_out=3, recurrent=True)
params = init_params(jax.random.key(0), cfg, nu=80.0, dtype=jnp.float64)
x = jnp.asarray(np.random.default_rng(0).random((8, 15, 12)) < 0.2, jnp.float64)
meth = Method("stochastic")
def loss(p, xb, key):
    return jnp.mean(simulate(p, xb, cfg, meth, key=key).output ** 2)
key = jax.random.key(7)
# feedforward and deterministic: the layers' recursions run in the numba kernels on a CPU
cfg_ff = SNNConfig(n_in=12, hidden=(10,), n_out=3)
params_ff = init_params(jax.random.key(1), cfg_ff, nu=80.0, sigma_u=3.0, dtype=jnp.float64)
def loss_ff(p, xb, key):
    return jnp.mean(simulate(p, xb, cfg_ff, Method()).output ** 2)
out = {}
for n in (1, 4):
    mesh = device_mesh(n)
    l, g = data_parallel_grad(loss, mesh)(params, x, key)
    opt = optax.adam(1e-2)
    p2, _, _ = data_parallel_step(loss, opt, mesh)(params, opt.init(params), x, key)
    sw = sweep(lambda k: jnp.mean(simulate(params, x, cfg, meth, key=k).output),
               jax.random.split(key, 6), mesh)
    l_ff, g_ff = data_parallel_grad(loss_ff, mesh)(params_ff, x, key)
    out[f"ff_grad_max{n}"] = max(float(jnp.abs(a).max()) for a in jax.tree_util.tree_leaves(g_ff))
    leaves = jax.tree_util.tree_leaves((g, p2, sw, l_ff, g_ff))
    out[n] = [float(l)] + [np.asarray(a).ravel().tolist() for a in leaves]
    out[f"shards{n}"] = len(g["hidden"][0]["w"].sharding.device_set)
st = sweep_static(lambda b, xb: jnp.mean(simulate(params, xb, cfg, Method("stochastic", hidden_noise=
      __import__("analysis").escape_noise("sigmoid", b)), key=key).output), [5.0, 10.0], None, x)
out["static_devices"] = sorted({d.id for r in st for d in r.devices()})
print("RESULT" + json.dumps(out))
"""


@pytest.mark.parametrize("numba_layer", [None, "workqueue"])
def test_four_devices_equal_one_device(numba_layer):
    """``numba_layer="workqueue"``: numba's threading layer that aborts the process on
    concurrent kernel launches; the 4 devices' computations call the kernels from parallel
    threads, and the launches are serialised (analysis.snn._numba_lock)."""
    flags = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"}
    if numba_layer:
        env["NUMBA_THREADING_LAYER"] = numba_layer
    r = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.split("RESULT", 1)[1])
    one, four = res["1"], res["4"]
    assert len(one) == len(four)
    for a, b in zip(one, four, strict=True):
        assert a == pytest.approx(b, rel=1e-10, abs=1e-13)
    assert abs(one[0]) > 0 and any(abs(v) > 0 for v in one[1])  # a real gradient was compared
    assert res["shards4"] == 4 and res["shards1"] == 1  # replicated over 4 devices
    assert res["ff_grad_max1"] > 0  # the feedforward network's gradient is not all zero
    assert res["static_devices"] == [0, 1]
