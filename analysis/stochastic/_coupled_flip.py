"""Unbiased stochastic AD for networks of Bernoulli neurons by coupled flips.

Per-sample gradient estimators built from the straight-through stochastic derivative of
every spike variable (Arya, Schauer, Schaefer & Rackauckas, NeurIPS 2022; Gygax & Zenke
2025, sec. 4; THEORY.md sec. 4). Used by :mod:`analysis.stochastic._estimators`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from analysis.stochastic import _exact as ex

if TYPE_CHECKING:
    from analysis.stochastic._network import Network

#
# For a network whose spikes S_k ~ Bernoulli(p_k), p_k = f(z_k(params, S_<k)), coupled through
# uniforms u (analysis.stochastic._exact), the straight-through stochastic derivative gives per sample
#
#     g = dL/dparams|_{S fixed} + sum_k grad p_k|_{S fixed} * c_k,
#     c_k = L(S_k <- 1) - L(S_k <- 0),
#
# where L(S_k <- s) re-simulates everything after k with spike k forced to s and the same
# uniforms downstream (Arya et al., NeurIPS 2022; Gygax & Zenke 2025, sec. 4). The sum is ONE
# vector-Jacobian product of the teacher-forced spike probabilities with cotangent c.
# Replacing c_k by the total derivative dL/dS_k along the sampled trajectory (downstream spikes
# responding through smoothed derivatives psi) gives the linearised estimator, which equals the
# surrogate gradient sample by sample.


def _vjp_probs(net, params, x, s, cot, slope=None):
    """sum_k cot_k * grad p_k with spikes s fixed (slope=None), or sum_k cot_k slope_k grad z_k."""
    if slope is None:
        fn = lambda pp: net.noise.prob(ex.simulate(net, pp, x, "forced", val=s)[0])
    else:
        fn = lambda pp: ex.simulate(net, pp, x, "forced", val=s)[0]
        cot = cot * slope
    _, vjp = jax.vjp(fn, params)
    return vjp(cot)[0]


def _direct_term(net, params, x, s):
    return jax.grad(lambda pp: ex.loss_of_spikes(net, ex.simulate(net, pp, x, "forced", val=s)[1]))(params)


def _add(a, b):
    return jax.tree_util.tree_map(jnp.add, a, b)


def _flip_losses(net, params, x, u, s, idx):
    """L with spike idx[m] flipped (1 - s) and the same uniforms elsewhere; shape (len(idx),)."""
    K = net.n_spikes

    def one(k):
        mask = jnp.arange(K) == k
        s_new = ex.simulate(net, params, x, "bernoulli", u=u, mask=mask, val=1.0 - s)[1]
        return ex.loss_of_spikes(net, s_new)

    return jax.vmap(one)(idx)


def coupled_flip_gradient(
    net: Network, params: Sequence[ArrayLike], x: ArrayLike, u: jax.Array
) -> tuple[jax.Array, ...]:
    """Unbiased stochastic-AD gradient of E[L] for one sample (uniforms ``u``, all K flips).

    Costs K re-simulations (vectorised) + one VJP. Returns a pytree shaped like params.
    """
    s = jax.lax.stop_gradient(ex.simulate(net, params, x, "bernoulli", u=u)[1])
    loss = ex.loss_of_spikes(net, s)
    flipped = _flip_losses(net, params, x, u, s, jnp.arange(net.n_spikes))
    c = (2.0 * s - 1.0) * (loss - flipped)  # L(S_k<-1) - L(S_k<-0)
    return _add(_direct_term(net, params, x, s), _vjp_probs(net, params, x, s, c))


def subsampled_coupled_flip_gradient(
    v: jax.Array, net: Network, params: Sequence[ArrayLike], x: ArrayLike, u: jax.Array, mix: float = 0.5
) -> tuple[jax.Array, ...]:
    """Unbiased coupled-flip gradient with M = len(v) importance-sampled flips per sample.

    Indices k are drawn i.i.d. (inverse CDF of the uniforms ``v``) from
    q_k = mix/K + (1 - mix) f'(z_k)/sum_j f'(z_j); the cotangent sum_m c_{k_m} e_{k_m} / (M q_{k_m})
    is unbiased for c (q_k > 0 for all k). Cost: one simulation, M re-simulations and one VJP,
    i.e. about M + 2 forward passes.
    """
    K = net.n_spikes
    z, s = ex.simulate(net, params, x, "bernoulli", u=u)
    z, s = jax.lax.stop_gradient(z), jax.lax.stop_gradient(s)
    d = net.noise.deriv(z)
    q = mix / K + (1.0 - mix) * d / jnp.maximum(jnp.sum(d), jnp.finfo(d.dtype).tiny)
    q = jnp.where(jnp.sum(d) > 0, q, 1.0 / K)
    n_flips = v.shape[0]
    idx = jnp.minimum(jnp.searchsorted(jnp.cumsum(q), v * jnp.sum(q), side="right"), K - 1)
    c = (2.0 * s[idx] - 1.0) * (ex.loss_of_spikes(net, s) - _flip_losses(net, params, x, u, s, idx))
    cot = jnp.zeros((K,), z.dtype).at[idx].add(c / (n_flips * q[idx]))
    return _add(_direct_term(net, params, x, s), _vjp_probs(net, params, x, s, cot))


def _total_spike_derivative(net, params, x, u=None, mask=None, val=None):
    """(z, s, dL/dS_k) along the trajectory: downstream spikes respond by psi(z_j) dz_j."""
    K = net.n_spikes
    dtype = jnp.result_type(x, *params)

    def loss_of_probe(eps):
        z, s = ex.simulate(net, params, x, "linearised", u=u, mask=mask, val=val, eps=eps)
        return ex.loss_of_spikes(net, s), (z, s)

    dlds, (z, s) = jax.grad(loss_of_probe, has_aux=True)(jnp.zeros((K,), dtype))
    return jax.lax.stop_gradient(z), jax.lax.stop_gradient(s), dlds


def linearised_coupled_flip_gradient(
    net: Network, params: Sequence[ArrayLike], x: ArrayLike, u: jax.Array
) -> tuple[jax.Array, ...]:
    """The coupled-flip estimator with c_k replaced by dL/dS_k (linearised; one sample).

    Computed from a probe derivative d L / d eps_k and a VJP of the teacher-forced potentials
    with cotangent psi(z_k) dL/dS_k; it never differentiates through the SG spike function,
    yet equals the surrogate gradient sample by sample (Gygax & Zenke 2025, sec. 4).
    """
    z, s, dlds = _total_spike_derivative(net, params, x, u=u)
    return _add(_direct_term(net, params, x, s), _vjp_probs(net, params, x, s, dlds, net.sg(z)))


def linearised_given_spikes(
    net: Network, params: Sequence[ArrayLike], x: ArrayLike, s: jax.Array
) -> tuple[jax.Array, ...]:
    """The linearised estimator (= SG) for a given configuration ``s`` (flat, length K)."""
    K = net.n_spikes
    z, s, dlds = _total_spike_derivative(net, params, x, mask=jnp.ones((K,), bool), val=s)
    return _add(_direct_term(net, params, x, s), _vjp_probs(net, params, x, s, dlds, net.sg(z)))
