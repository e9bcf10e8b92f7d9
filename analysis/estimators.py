"""Gradient estimators of grad E[L] for the networks of :mod:`analysis.exact`.

Every estimator is called as ``estimator(key, net, params, x, n, **options)`` and returns
per-sample gradients: a pytree shaped like ``params`` with a leading sample axis of length n
(deterministic estimators repeat their single value). Sample i uses the uniforms
``spike_uniforms(key_i, (K,))`` with key_i = ``jax.random.split(key, n)[i]``, so estimators
called with the same key see the same sampled spikes.

==========================  =================================================  ==========
name                        per-sample value                                   unbiased
==========================  =================================================  ==========
sg_stochastic               jax.grad of L through the stochastic net, dS/dz=psi  no
sg_deterministic            jax.grad of L through Theta with derivative psi     no
score                       grad log P(S) L(S)          (REINFORCE; Williams)   yes
score_loo                   grad log P(S_i) (L_i - mean_{j != i} L_j)           yes
coupled_flip                stochastic AD, all K flips (Arya et al. 2022)       yes
coupled_flip_sub            stochastic AD, M importance-sampled flips           yes
linearised                  coupled_flip with c_k -> dL/dS_k (= sg_stochastic)  no
mean_field                  jax.grad of L with spikes replaced by f(z)          no
==========================  =================================================  ==========

The surrogate psi is ``net.sg`` (matched psi = f' unless ``net.surrogate`` is set); the
deterministic network thresholds at theta with the same psi. References: Gygax & Zenke
(2025) secs. 3-4; Arya, Schauer, Schaefer & Rackauckas (NeurIPS 2022); Williams (1992).

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis import escape_noise
>>> from analysis.exact import Network
>>> from analysis.estimators import estimate
>>> net = Network("feedforward", (2, 3, 1), escape_noise("sigmoid", 3.0), theta=0.2)
>>> params = (jnp.ones((3, 2)), jnp.ones((1, 3)))
>>> g = estimate("coupled_flip", jax.random.key(0), net, params, jnp.array([1.0, 0.5]), 8)
>>> g[0].shape
(8, 3, 2)
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from analysis import _validate
from analysis import stochastic_ad as sad
from analysis.exact import Network, _check_inputs, log_prob_and_loss, loss_of_spikes, simulate
from analysis.spikes import spike_uniforms

__all__ = ["ESTIMATORS", "UNBIASED", "estimate", "estimator_names"]


def _uniforms(key, net, n, dtype):
    keys = jax.random.split(key, n)
    return keys, jax.vmap(lambda k: spike_uniforms(k, (net.n_spikes,), dtype))(keys)


def _tile(g, n):
    return jax.tree_util.tree_map(lambda v: jnp.broadcast_to(v, (n,) + v.shape), g)


def _sg_stochastic(key, net, params, x, n, dtype):
    _, u = _uniforms(key, net, n, dtype)
    loss = lambda pp, ui: loss_of_spikes(net, simulate(net, pp, x, "bernoulli", u=ui)[1])
    return jax.vmap(jax.grad(loss), in_axes=(None, 0))(params, u)


def _sg_deterministic(key, net, params, x, n, dtype):
    g = jax.grad(lambda pp: loss_of_spikes(net, simulate(net, pp, x, "heaviside")[1]))(params)
    return _tile(g, n)


def _mean_field(key, net, params, x, n, dtype):
    g = jax.grad(lambda pp: loss_of_spikes(net, simulate(net, pp, x, "mean_field")[1]))(params)
    return _tile(g, n)


def _score_parts(key, net, params, x, n, dtype):
    _, u = _uniforms(key, net, n, dtype)
    s = jax.vmap(lambda ui: simulate(net, params, x, "bernoulli", u=ui)[1])(u)
    s = jax.lax.stop_gradient(s)
    glp = jax.vmap(jax.grad(lambda pp, si: log_prob_and_loss(net, pp, x, si)[0]), in_axes=(None, 0))(params, s)
    losses = jax.vmap(lambda si: loss_of_spikes(net, si))(s)
    return glp, losses


def _scale(tree, w):
    return jax.tree_util.tree_map(lambda v: v * w.reshape((-1,) + (1,) * (v.ndim - 1)), tree)


def _score(key, net, params, x, n, dtype):
    glp, losses = _score_parts(key, net, params, x, n, dtype)
    return _scale(glp, losses)


def _score_loo(key, net, params, x, n, dtype):
    """Leave-one-out baseline b_i = mean_{j != i} L_j: independent of S_i, so unbiased."""
    if n < 2:
        raise ValueError("n must be >= 2 for the leave-one-out baseline of 'score_loo'")
    glp, losses = _score_parts(key, net, params, x, n, dtype)
    baseline = (jnp.sum(losses) - losses) / (n - 1)
    return _scale(glp, losses - baseline)


def _coupled_flip(key, net, params, x, n, dtype):
    _, u = _uniforms(key, net, n, dtype)
    return jax.vmap(lambda ui: sad.coupled_flip_gradient(net, params, x, ui))(u)


def _coupled_flip_sub(key, net, params, x, n, dtype, n_flips: int = 1):
    n_flips = _validate.positive_int(n_flips, "n_flips")
    keys, u = _uniforms(key, net, n, dtype)
    flip_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    one = lambda k, ui: sad.subsampled_coupled_flip_gradient(k, net, params, x, ui, n_flips)
    return jax.vmap(one)(flip_keys, u)


def _linearised(key, net, params, x, n, dtype):
    _, u = _uniforms(key, net, n, dtype)
    return jax.vmap(lambda ui: sad.linearised_coupled_flip_gradient(net, params, x, ui))(u)


ESTIMATORS: dict[str, Callable] = {
    "sg_stochastic": _sg_stochastic,
    "sg_deterministic": _sg_deterministic,
    "score": _score,
    "score_loo": _score_loo,
    "coupled_flip": _coupled_flip,
    "coupled_flip_sub": _coupled_flip_sub,
    "linearised": _linearised,
    "mean_field": _mean_field,
}
#: estimators whose mean is grad E[L] for every network
UNBIASED = ("score", "score_loo", "coupled_flip", "coupled_flip_sub")


def estimator_names() -> tuple[str, ...]:
    return tuple(ESTIMATORS)


def estimate(name: str, key, net: Network, params, x, n: int, **options):
    """Per-sample gradient estimates (leading axis n) of estimator ``name``.

    options: ``n_flips`` (M, for "coupled_flip_sub"; default 1). Let the caller jit:
    ``jax.jit(lambda k, p: estimate(name, k, net, p, x, n))``.
    """
    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; valid names: {', '.join(ESTIMATORS)}")
    n = _validate.positive_int(n, "n")
    params = tuple(jnp.asarray(w) for w in params)
    x = jnp.asarray(x, jnp.result_type(float))
    _check_inputs(net, params, x)
    dtype = jnp.result_type(x, *params)
    return ESTIMATORS[name](key, net, params, x, n, dtype, **options)
