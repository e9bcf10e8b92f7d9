"""Exact E[L] and grad E[L] of small stochastic spiking networks by enumeration.

Networks are described once in :mod:`analysis.stochastic._network` (re-exported here:
:class:`Network`, :func:`simulate`, :func:`log_prob_and_loss`, ...): feedforward binary
layers of any depth or LIF layers in time with reset and membrane memory.
:func:`exact_value_and_grad` sums P(S) L(S) over all 2^K spike configurations, vectorised
(vmap) and chunked (lax.scan), differentiated with jax.grad; :func:`exact_mean` gives the
exact mean of any per-configuration quantity (e.g. the surrogate gradient). This is the
exact-gradient oracle of Gygax & Zenke (2025), sec. 3 ("only by enumeration"). Above
``max_k`` spike variables a ValueError states K, 2^K and the estimated time and memory.

Example
-------
>>> import jax.numpy as jnp
>>> from analysis import escape_noise
>>> from analysis.stochastic._exact import Network, exact_value_and_grad
>>> net = Network("feedforward", (1, 1, 1), escape_noise("sigmoid", 4.0), theta=0.5)
>>> params = (jnp.array([[1.0]]), jnp.array([[2.0]]))
>>> value, grad = exact_value_and_grad(net, params, jnp.array([1.0]))
>>> round(float(value), 4)
0.8928
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis.stochastic._network import Network, _check_inputs, log_prob_and_loss, simulate

DEFAULT_MAX_K = 22

# ---------------------------------------------------------------- exact enumeration

_SECONDS_PER_OP = 2e-9  # rough CPU cost of one multiply-add inside the vmapped enumeration


def enumeration_cost(net: Network, chunk: int = 2**13) -> dict:
    """Estimated cost of enumerating all 2^K configurations: K, 2^K, seconds and bytes."""
    K = net.n_spikes
    ops = net.steps * sum(a * b for a, b in net.param_shapes()) * 4 + 20 * K
    per_config_bytes = 8 * (6 * K + 3 * sum(a * b for a, b in net.param_shapes()))
    return {
        "K": K,
        "configurations": 2**K,
        "seconds": 2**K * ops * _SECONDS_PER_OP,
        "bytes": min(chunk, 2**K) * per_config_bytes,
    }


def _guard(net: Network, max_k: int, chunk: int):
    K = net.n_spikes
    if K > max_k:
        c = enumeration_cost(net, chunk)
        raise ValueError(
            f"exact enumeration needs 2^K = 2^{K} = {c['configurations']:.3g} spike configurations "
            f"(K = {K} spike variables), above the limit max_k = {max_k}; estimated time "
            f"{c['seconds']:.3g} s on a CPU core and {c['bytes'] / 2**20:.3g} MiB per chunk of "
            f"{chunk}. Use a smaller network, raise max_k, or use a Monte-Carlo estimator."
        )


def _bits(idx, K, dtype):
    return ((idx[:, None] >> jnp.arange(K)) & 1).astype(dtype)


def _enumerate_sum(fn, K, chunk, dtype, out_like):
    """sum over all s in {0,1}^K of fn(s_batch) (fn maps a (chunk, K) batch to a pytree sum)."""
    chunk = min(chunk, 2**K)
    n_chunks = 2**K // chunk

    def body(acc, c):
        idx = c * chunk + jnp.arange(chunk)
        out = fn(_bits(idx, K, dtype))
        return jax.tree_util.tree_map(jnp.add, acc, out), None

    zero = jax.tree_util.tree_map(jnp.zeros_like, out_like)
    acc, _ = jax.lax.scan(body, zero, jnp.arange(n_chunks))
    return acc


def exact_value_and_grad(
    net: Network, params: Sequence[ArrayLike], x: ArrayLike, *, max_k: int = DEFAULT_MAX_K, chunk: int = 2**13
) -> tuple[jax.Array, tuple[jax.Array, ...]]:
    """Exact E[L] and grad_params E[L] = sum_S grad(P(S) L(S)) over all 2^K configurations.

    Vectorised over a chunk of configurations (vmap), chunks in a lax.scan, each chunk's
    gradient from jax.grad of its partial sum (memory independent of 2^K). Compiled once per
    (network, chunk) and cached. Raises ValueError with the estimated time and memory when
    K > ``max_k``. Returns (value: scalar, grad: tuple shaped like params).
    """
    params = tuple(jnp.asarray(w) for w in params)
    x = jnp.asarray(x, jnp.result_type(x, float))
    _check_inputs(net, params, x)
    _guard(net, max_k, chunk)
    return _value_and_grad_fn(net, chunk)(params, x)


@functools.lru_cache(maxsize=128)
def _value_and_grad_fn(net, chunk):
    def run(params, x):
        dtype = jnp.result_type(x, *params)

        def chunk_sum(pp, s_batch):
            lp, loss = jax.vmap(lambda s: log_prob_and_loss(net, pp, x, s))(s_batch)
            return jnp.sum(jnp.exp(lp) * loss)

        fn = lambda sb: jax.value_and_grad(chunk_sum)(params, sb)
        return _enumerate_sum(fn, net.n_spikes, chunk, dtype, (jnp.zeros((), dtype), params))

    return jax.jit(run)


def exact_mean(
    net: Network,
    params: Sequence[ArrayLike],
    x: ArrayLike,
    per_config: Callable,
    *,
    weight_nets: Sequence[Network] | None = None,
    max_k: int = DEFAULT_MAX_K,
    chunk: int = 2**11,
) -> Any:
    """Exact E_S[g(S)] = sum_S P(S) g(S) for a per-configuration pytree g = per_config(params, x, s).

    Used for the exact mean of the surrogate gradient (whose per-sample value is a function
    of the sampled configuration, see :func:`analysis.stochastic.linearised_given_spikes`).
    ``weight_nets``: a list of networks of the same shape whose distributions P weight the
    sum (one enumeration, one compilation); the result is then a list of means. Compiled once
    per (net, per_config, weight_nets, chunk) when ``per_config`` is hashable by value.
    """
    params = tuple(jnp.asarray(w) for w in params)
    x = jnp.asarray(x, jnp.result_type(x, float))
    _check_inputs(net, params, x)
    _guard(net, max_k, chunk)
    nets = (net,) if weight_nets is None else tuple(weight_nets)
    res = _mean_fn(net, per_config, nets, chunk)(params, x)
    return res if weight_nets is not None else res[0]


@functools.lru_cache(maxsize=128)
def _mean_fn(net, per_config, nets, chunk):
    def run(params, x):
        dtype = jnp.result_type(x, *params)
        like = jax.eval_shape(lambda s: per_config(params, x, s), jnp.zeros((net.n_spikes,), dtype))
        like = [jax.tree_util.tree_map(lambda l: jnp.zeros(l.shape, l.dtype), like)] * len(nets)

        def fn(s_batch):
            g = jax.vmap(lambda s: per_config(params, x, s))(s_batch)
            out = []
            for m in nets:
                lp = jax.vmap(lambda s, m=m: log_prob_and_loss(m, params, x, s)[0])(s_batch)
                w = jnp.exp(lp)
                out.append(jax.tree_util.tree_map(lambda v, w=w: jnp.tensordot(w, v, axes=1), g))
            return out

        return _enumerate_sum(fn, net.n_spikes, chunk, dtype, like)

    return jax.jit(run)


def spike_probability_range(
    net: Network, params: Sequence[ArrayLike], x: ArrayLike, *, max_k: int = 16
) -> tuple[float, float]:
    """(min, max) of the spike probabilities f(z_k) over all variables and all 2^K
    configurations (teacher forced). Monte-Carlo tests with n samples need the rare-event
    probabilities min(p, 1 - p) well above 1/n for their normal approximation to hold.
    """
    _guard(net, max_k, 2**max_k)
    params = tuple(jnp.asarray(w) for w in params)
    lo, hi = _prob_range_fn(net)(params, jnp.asarray(x, jnp.result_type(x, float)))
    return float(lo), float(hi)


@functools.lru_cache(maxsize=64)
def _prob_range_fn(net):
    def run(params, x):
        s_all = _bits(jnp.arange(2**net.n_spikes), net.n_spikes, jnp.result_type(x, *params))
        p = jax.vmap(lambda s: net.noise.prob(simulate(net, params, x, "forced", val=s)[0]))(s_all)
        return p.min(), p.max()

    return jax.jit(run)
