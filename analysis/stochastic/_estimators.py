"""Gradient estimators of grad E[L] for the networks of :mod:`analysis.stochastic._exact`.

Every estimator is called as ``estimator(key, net, params, x, n, **options)`` and returns
per-sample gradients: a pytree shaped like ``params`` with a leading sample axis of length n
(deterministic estimators repeat their single value). Sample i uses the uniforms
``u[i]`` of ``u = spike_uniforms(key, (n, K))``, so estimators called with the same key see
the same sampled spikes; :func:`estimate_from_uniforms` takes ``u`` directly (cheaper to
compile: the random-number graph stays outside the caller's jit).

==========================  =================================================  ==========
name                        per-sample value                                   unbiased
==========================  =================================================  ==========
sg_stochastic               jax.grad of L through the stochastic net, dS/dz=psi  no
sg_deterministic            jax.grad of L through Theta with derivative psi     no
score                       grad log P(S) L(S)          (REINFORCE; Williams)   yes
score_loo                   grad log P(S_i) (L_i - mean_{j != i} L_j)           yes
coupled_flip                stochastic AD, all K flips (Arya et al. 2022)       yes
coupled_flip_sub            stochastic AD, M importance-sampled flips           yes
disarm                      antithetic pair per (layer, step) group (DisARM)    yes
linearised                  coupled_flip with c_k -> dL/dS_k (= sg_stochastic)  no
mean_field                  jax.grad of L with spikes replaced by f(z)          no
==========================  =================================================  ==========

The surrogate psi is ``net.sg`` (matched psi = f' unless ``net.surrogate`` is set); the
deterministic network thresholds at theta with the same psi. References: Gygax & Zenke
(2025) secs. 3-4; Arya, Schauer, Schaefer & Rackauckas (NeurIPS 2022); Williams (1992);
Dong, Mnih & Tucker (NeurIPS 2020) for DisARM (derivation: :func:`disarm_gradient`).

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis import escape_noise
>>> from analysis.stochastic._exact import Network
>>> from analysis.stochastic._estimators import estimate
>>> net = Network("feedforward", (2, 3, 1), escape_noise("sigmoid", 3.0), theta=0.2)
>>> params = (jnp.ones((3, 2)), jnp.ones((1, 3)))
>>> g = estimate("coupled_flip", jax.random.key(0), net, params, jnp.array([1.0, 0.5]), 8)
>>> g[0].shape
(8, 3, 2)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from analysis import _validate
from analysis.neuron import spike_uniforms
from analysis.stochastic import _coupled_flip as sad
from analysis.stochastic._network import Network, _check_inputs, log_prob_and_loss, loss_of_spikes, simulate

if TYPE_CHECKING:
    from analysis.neuron import Surrogate


def draw_uniforms(
    key: jax.Array, net: Network, n: int, n_flips: int = 0, dtype: DTypeLike | None = None
) -> tuple[jax.Array, jax.Array]:
    """(u, v): spike uniforms u of shape (n, K) and flip uniforms v of shape (n, n_flips)."""
    dtype = dtype or jnp.result_type(float)
    u = spike_uniforms(key, (n, net.n_spikes), dtype)
    v = spike_uniforms(jax.random.fold_in(key, 1), (n, n_flips), dtype)
    return u, v


def _tile(g, n):
    return jax.tree_util.tree_map(lambda v: jnp.broadcast_to(v, (n,) + v.shape), g)


def _sg_stochastic(u, v, net, params, x):
    loss = lambda pp, ui: loss_of_spikes(net, simulate(net, pp, x, "bernoulli", u=ui)[1])
    return jax.vmap(jax.grad(loss), in_axes=(None, 0))(params, u)


def _sg_deterministic(u, v, net, params, x):
    g = jax.grad(lambda pp: loss_of_spikes(net, simulate(net, pp, x, "heaviside")[1]))(params)
    return _tile(g, u.shape[0])


def _mean_field(u, v, net, params, x):
    g = jax.grad(lambda pp: loss_of_spikes(net, simulate(net, pp, x, "mean_field")[1]))(params)
    return _tile(g, u.shape[0])


def _score_parts(u, net, params, x):
    s = jax.vmap(lambda ui: simulate(net, params, x, "bernoulli", u=ui)[1])(u)
    s = jax.lax.stop_gradient(s)
    glp = jax.vmap(jax.grad(lambda pp, si: log_prob_and_loss(net, pp, x, si)[0]), in_axes=(None, 0))(
        params, s
    )
    losses = jax.vmap(lambda si: loss_of_spikes(net, si))(s)
    return glp, losses


def _scale(tree, w):
    return jax.tree_util.tree_map(lambda v: v * w.reshape((-1,) + (1,) * (v.ndim - 1)), tree)


def _score(u, v, net, params, x):
    glp, losses = _score_parts(u, net, params, x)
    return _scale(glp, losses)


def _score_loo(u, v, net, params, x):
    """Leave-one-out baseline b_i = mean_{j != i} L_j: independent of S_i, so unbiased."""
    n = u.shape[0]
    if n < 2:
        raise ValueError("n must be >= 2 for the leave-one-out baseline of 'score_loo'")
    glp, losses = _score_parts(u, net, params, x)
    baseline = (jnp.sum(losses) - losses) / (n - 1)
    return _scale(glp, losses - baseline)


def _coupled_flip(u, v, net, params, x):
    return jax.vmap(lambda ui: sad.coupled_flip_gradient(net, params, x, ui))(u)


def _coupled_flip_sub(u, v, net, params, x):
    if v.shape[1] < 1:
        raise ValueError("coupled_flip_sub needs n_flips >= 1 flip uniforms per sample")
    one = lambda ui, vi: sad.subsampled_coupled_flip_gradient(vi, net, params, x, ui)
    return jax.vmap(one)(u, v)


def _disarm(u, v, net, params, x):
    return jax.vmap(lambda ui: sad.disarm_gradient(net, params, x, ui))(u)


def _linearised(u, v, net, params, x):
    return jax.vmap(lambda ui: sad.linearised_coupled_flip_gradient(net, params, x, ui))(u)


ESTIMATORS: dict[str, Callable] = {
    "sg_stochastic": _sg_stochastic,
    "sg_deterministic": _sg_deterministic,
    "score": _score,
    "score_loo": _score_loo,
    "coupled_flip": _coupled_flip,
    "coupled_flip_sub": _coupled_flip_sub,
    "disarm": _disarm,
    "linearised": _linearised,
    "mean_field": _mean_field,
}
#: estimators whose mean is grad E[L] for every network
UNBIASED = ("score", "score_loo", "coupled_flip", "coupled_flip_sub", "disarm")


def estimator_names() -> tuple[str, ...]:
    return tuple(ESTIMATORS)


def _check_name(name) -> str:
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; valid names: {', '.join(ESTIMATORS)}")
    return name


def estimator_memory(name: str, net: Network, n: int, n_flips: int = 1, itemsize: int = 8) -> int:
    """Rough upper estimate (bytes) of the memory of ``estimate(name, ..., n)``.

    Per sample: the uniforms, potentials, spikes and a gradient, about 6 (P + K) numbers
    (P weights, K spike variables), plus about 6 K per re-simulated flip (K flips for
    ``coupled_flip``, ``n_flips`` for ``coupled_flip_sub``, G = layers x steps antithetic
    groups for ``disarm``); everything vmapped over the n
    samples at once. Used by the memory guard of :func:`estimate`.
    """
    _check_name(name)
    P = sum(a * b for a, b in net.param_shapes())
    K = net.n_spikes
    flips = {"coupled_flip": K, "coupled_flip_sub": n_flips, "disarm": sad.n_spike_groups(net)}.get(name, 0)
    return int(itemsize * n * (6 * (P + K) + 6 * flips * K + n_flips * (name == "coupled_flip_sub")))


def _memory_guard(names, net, n, n_flips, max_memory_gib):
    total = sum(estimator_memory(nm, net, n, n_flips) for nm in names)
    what = f"estimator(s) {', '.join(names)} with n = {n} samples" + (
        f" and n_flips = {n_flips}" if "coupled_flip_sub" in names else ""
    )
    _validate.memory_guard(total, f"{what} (K = {net.n_spikes} spike variables)", max_memory_gib)


def estimate(
    name: str,
    key: jax.Array,
    net: Network,
    params: Sequence[ArrayLike],
    x: ArrayLike,
    n: int,
    *,
    max_memory_gib: float = _validate.DEFAULT_MAX_MEMORY_GIB,
    **options: Any,
) -> tuple[jax.Array, ...]:
    """Per-sample gradient estimates (leading axis n) of estimator ``name``.

    options: ``n_flips`` (M, for "coupled_flip_sub"; default 1). Let the caller jit:
    ``jax.jit(lambda k, p: estimate(name, k, net, p, x, n))``. Refuses (ValueError, with the
    estimate) a call whose memory (:func:`estimator_memory`) exceeds ``max_memory_gib``.
    """
    _check_name(name)
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    n = _validate.positive_int(n, "n")
    n_flips = _validate.positive_int(options.pop("n_flips", 1), "n_flips")
    if options:
        raise TypeError(f"unknown option(s) {sorted(options)}; valid: n_flips, max_memory_gib")
    _memory_guard([name], net, n, n_flips, max_memory_gib)
    u, v = draw_uniforms(
        key, net, n, n_flips if name == "coupled_flip_sub" else 0, jnp.result_type(x, *params, float)
    )
    return estimate_from_uniforms(name, net, params, x, u, v)


def estimate_from_uniforms(
    name: str,
    net: Network,
    params: Sequence[ArrayLike],
    x: ArrayLike,
    u: jax.Array,
    v: jax.Array | None = None,
) -> tuple[jax.Array, ...]:
    """Like :func:`estimate` with the uniforms given: u (n, K) spikes, v (n, M) flip draws."""
    _check_name(name)
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    params = tuple(jnp.asarray(w) for w in params)
    x = jnp.asarray(x, jnp.result_type(float))
    _check_inputs(net, params, x)
    if jnp.ndim(u) != 2 or jnp.shape(u)[1] != net.n_spikes:
        raise ValueError(f"u must have shape (n, K={net.n_spikes}), got {jnp.shape(u)}")
    v = jnp.zeros((u.shape[0], 0), u.dtype) if v is None else v
    return ESTIMATORS[name](u, v, net, params, x)


def estimate_many(
    names: Sequence[str],
    key: jax.Array,
    net: Network,
    params: Sequence[ArrayLike],
    x: ArrayLike,
    n: int,
    n_flips: int = 1,
    *,
    max_memory_gib: float = _validate.DEFAULT_MAX_MEMORY_GIB,
) -> dict:
    """{name: per-sample estimates} for several estimators on the same uniforms (one trace).

    Jitting this once per network compiles all estimators together. The memory guard
    counts all estimators together.
    """
    names = [_check_name(nm) for nm in names]
    if not names:
        raise ValueError(f"names is empty; give at least one of {', '.join(ESTIMATORS)}")
    n = _validate.positive_int(n, "n")
    n_flips = _validate.positive_int(n_flips, "n_flips")
    _memory_guard(names, net, n, n_flips, max_memory_gib)
    u, v = draw_uniforms(key, net, n, n_flips, jnp.result_type(x, *params, float))
    return {name: estimate_from_uniforms(name, net, params, x, u, v) for name in names}


@dataclass(frozen=True)
class _SGOfConfig:
    """Hashable per-configuration SG (one per network variant): cacheable by exact_mean."""

    nets: tuple

    def __call__(self, params, x, s):
        return [sad.linearised_given_spikes(m, params, x, s) for m in self.nets]


def exact_sg_mean(
    net: Network,
    params: Sequence[ArrayLike],
    x: ArrayLike,
    *,
    surrogates: Sequence[Surrogate] | None = None,
    weight_nets: Sequence[Network] | None = None,
    **enum_options: Any,
) -> Any:
    """Exact E[SG] = sum_S P(S) SG(S) by enumeration (the SG of a configuration is its
    linearised coupled-flip value, equal to the SG sample by sample; Gygax & Zenke 2025 sec. 4).

    ``surrogates``: a list of Surrogates; then returns a list of E[SG], one per surrogate, from
    one enumeration. ``weight_nets``: networks whose distributions weight the sum (see
    :func:`analysis.stochastic.exact_mean`); then returns a list over weight nets.
    """
    from analysis.stochastic._exact import exact_mean

    nets = (
        (net,) if surrogates is None else tuple(dataclasses.replace(net, surrogate=sg) for sg in surrogates)
    )
    res = exact_mean(net, params, x, _SGOfConfig(nets), weight_nets=weight_nets, **enum_options)
    if weight_nets is not None:
        return [r if surrogates is not None else r[0] for r in res]
    return res if surrogates is not None else res[0]
