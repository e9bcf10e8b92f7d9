"""Data parallelism and parameter sweeps across all visible devices (jax.sharding).

* :func:`device_mesh` -- a 1-D :class:`jax.sharding.Mesh` over the first n devices.
* :func:`data_parallel_grad` / :func:`data_parallel_step` -- the batch (leading axis of
  every data array) is split across the mesh, parameters are replicated; ``jit`` with
  these shardings lets XLA partition the computation (GSPMD) and insert the all-reduce of
  the batch-mean gradient. The result equals the single-device result up to the order of
  floating-point summation. Stochastic networks draw the same spikes on any number of
  devices because JAX's default PRNG is partitionable (``jax_threefry_partitionable``).
* :func:`sweep` -- ``vmap`` of a function over a leading sweep axis (PRNG keys, seeds,
  traced hyperparameters such as a learning rate), the sweep axis split across devices.
* :func:`sweep_static` -- a sweep over *static* values (e.g. a :class:`Method` with a
  different escape-noise beta): one compiled function per value, dispatched
  asynchronously round-robin to the devices so that they run concurrently.

Multi-host: call ``jax.distributed.initialize(coordinator_address="host0:1234",
num_processes=P, process_id=i)`` in every process before any other JAX call (on most
clusters, e.g. SLURM, the arguments are detected automatically). ``jax.devices()`` then
lists the devices of all hosts and :func:`device_mesh` spans them; each process builds its
part of a global batch with ``jax.make_array_from_process_local_data(sharding, local)``
and calls the same jitted step. Nothing else changes.

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis.runtime._devices import device_mesh, sweep
>>> mesh = device_mesh()
>>> keys = jax.random.split(jax.random.key(0), 4)
>>> sweep(lambda k: jax.random.uniform(k), keys, mesh).shape
(4,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

if TYPE_CHECKING:
    import optax

AXIS = "data"


def device_mesh(n_devices: int | None = None, devices: Sequence | None = None) -> Mesh:
    """1-D mesh (axis ``"data"``) over ``devices`` (default: all of ``jax.devices()``)."""
    devs = list(devices) if devices is not None else jax.devices()
    if n_devices is not None:
        if not 1 <= n_devices <= len(devs):
            raise ValueError(f"n_devices must lie in [1, {len(devs)}] (visible devices), got {n_devices}")
        devs = devs[:n_devices]
    return Mesh(np.array(devs), (AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    """Sharding that keeps a full copy on every device of ``mesh``."""
    return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh) -> NamedSharding:
    """Sharding that splits the leading axis across ``mesh``."""
    return NamedSharding(mesh, P(AXIS))


def _check_divisible(tree, mesh, what):
    n = mesh.devices.size
    for leaf in jax.tree_util.tree_leaves(tree):
        if leaf.ndim == 0 or leaf.shape[0] % n:
            raise ValueError(
                f"{what}: leading axis {getattr(leaf, 'shape', ())} must be divisible "
                f"by the number of devices ({n})"
            )


def shard_batch(batch: Any, mesh: Mesh) -> Any:
    """Place every array of ``batch`` split along its leading axis across ``mesh``."""
    _check_divisible(batch, mesh, "batch")
    return jax.device_put(batch, batch_sharded(mesh))


def data_parallel_grad(loss_fn: Callable, mesh: Mesh) -> Callable:
    """Jitted ``(params, batch, *rest) -> (loss, grads)`` with the batch split across devices.

    ``loss_fn(params, batch, *rest)`` must return a scalar that is a *mean* over the batch
    so that the sharded result equals the single-device one. ``rest`` (e.g. a PRNG key)
    is replicated.
    """
    rep, bat = replicated(mesh), batch_sharded(mesh)
    return _cached_call(jax.value_and_grad(loss_fn), mesh, (rep, bat), (rep, rep))


def _cached_call(fun, mesh, lead_shardings, out_shardings):
    """Call ``fun`` jitted with ``lead_shardings`` for its first arguments and replicated
    shardings for the rest (one compiled wrapper per number of extra arguments)."""
    cache = {}
    rep, n_lead = replicated(mesh), len(lead_shardings)

    def call(*args):
        _check_divisible(args[n_lead - 1], mesh, "batch")
        n_rest = len(args) - n_lead
        if n_rest not in cache:
            cache[n_rest] = jax.jit(
                fun, in_shardings=tuple(lead_shardings) + (rep,) * n_rest, out_shardings=out_shardings
            )
        return cache[n_rest](*args)

    return call


def data_parallel_step(loss_fn: Callable, optimizer: optax.GradientTransformation, mesh: Mesh) -> Callable:
    """Jitted optax training step ``(params, opt_state, batch, *rest) -> (params, opt_state, loss)``.

    ``optimizer`` is an ``optax.GradientTransformation``; shardings as in
    :func:`data_parallel_grad` (parameters and optimiser state replicated).
    """
    import optax

    rep, bat = replicated(mesh), batch_sharded(mesh)

    def step(params, opt_state, batch, *rest):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch, *rest)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return _cached_call(step, mesh, (rep, rep, bat), (rep, rep, rep))


def sweep(fn: Callable, xs: Any, mesh: Mesh | None = None) -> Any:
    """``vmap(fn)(xs)`` with the leading (sweep) axis of ``xs`` split across ``mesh``.

    ``xs`` is a pytree of arrays with a common leading length L (keys, seeds, traced
    hyperparameters). L need not divide the device count: the sweep is padded by
    repeating its last entry and the padding is dropped from the result.
    """
    mesh = mesh or device_mesh()
    n = mesh.devices.size
    length = jax.tree_util.tree_leaves(xs)[0].shape[0]
    pad = (-length) % n
    padded = jax.tree_util.tree_map(lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)]), xs)
    out = jax.jit(jax.vmap(fn), in_shardings=(batch_sharded(mesh),), out_shardings=batch_sharded(mesh))(
        padded
    )
    return jax.tree_util.tree_map(lambda a: a[:length], out)


def sweep_static(fn: Callable, values: Sequence, devices: Sequence | None = None, *args) -> list:
    """``[fn(v, *args) for v in values]`` with call i on device i mod n (concurrently).

    ``fn(value, *args)`` is jitted with ``value`` static (hashable: floats, Methods,
    configs); ``args`` are copied to each device. Results stay on their devices.
    """
    devs = list(devices) if devices is not None else jax.devices()
    jf = jax.jit(fn, static_argnums=0)
    out = []
    for i, v in enumerate(values):
        dev_args = jax.device_put(args, devs[i % len(devs)])
        out.append(jf(v, *dev_args))
    return out
