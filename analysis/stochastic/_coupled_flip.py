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
import numpy as np
from jax.typing import ArrayLike

from analysis.stochastic import _network as ex

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
    z, s = ex.simulate(net, params, x, "bernoulli", u=u)
    z, s = jax.lax.stop_gradient(z), jax.lax.stop_gradient(s)
    idx, q = importance_flips(net.noise.deriv(z), v, mix)
    c = (2.0 * s[idx] - 1.0) * (ex.loss_of_spikes(net, s) - _flip_losses(net, params, x, u, s, idx))
    cot = importance_cotangent(idx, q, c)
    return _add(_direct_term(net, params, x, s), _vjp_probs(net, params, x, s, cot))


def flip_proposal(w: jax.Array, mix: float = 0.5) -> jax.Array:
    """q_k = mix/K + (1 - mix) w_k / sum_j w_j over the K spike variables (uniform if all
    w = 0); every q_k >= mix/K > 0, so importance sampling from q is unbiased."""
    total = jnp.sum(w)
    q = mix / w.shape[-1] + (1.0 - mix) * w / jnp.maximum(total, jnp.finfo(w.dtype).tiny)
    return jnp.where(total > 0, q, 1.0 / w.shape[-1])


def importance_flips(w: jax.Array, v: jax.Array, mix: float = 0.5) -> tuple[jax.Array, jax.Array]:
    """(idx, q): M = len(v) flip indices drawn i.i.d. from q = :func:`flip_proposal` (w, mix)
    by the inverse CDF of the uniforms ``v``."""
    q = flip_proposal(w, mix)
    idx = jnp.minimum(jnp.searchsorted(jnp.cumsum(q), v * jnp.sum(q), side="right"), w.shape[-1] - 1)
    return idx, q


def importance_cotangent(idx: jax.Array, q: jax.Array, c: jax.Array) -> jax.Array:
    """sum_m c_m e_{idx_m} / (M q_{idx_m}): an unbiased estimate of the K cotangents c_k
    from the M sampled flips (c_m = c_{idx_m})."""
    return jnp.zeros(q.shape, c.dtype).at[idx].add(c / (idx.shape[0] * q[idx]))


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


def spike_groups(net: Network) -> np.ndarray:
    """Group index of every spike variable (flat, length K): its layer (feedforward) or its
    (step, layer) pair t * L + l (LIF). Spikes of one group are conditionally independent
    given every earlier group (the past); static, so the G = max + 1 groups are known at trace.
    """
    n_layers = len(net.sizes) - 1
    layer = np.repeat(np.arange(n_layers), net.sizes[1:])
    return (np.arange(net.steps)[:, None] * n_layers + layer[None, :]).reshape(-1)


def n_spike_groups(net: Network) -> int:
    """G, the number of antithetic groups of :func:`disarm_gradient` (layers x steps)."""
    return (len(net.sizes) - 1) * net.steps


def disarm_gradient(
    net: Network, params: Sequence[ArrayLike], x: ArrayLike, u: jax.Array, groups: ArrayLike | None = None
) -> tuple[jax.Array, ...]:
    """Unbiased DisARM gradient of E[L] for one sample (uniforms ``u``): one antithetic
    re-simulation per group (layer, step), G in all, plus one VJP.

    Estimator (Dong, Mnih & Tucker, "DisARM: An antithetic gradient estimator for binary
    latent variables", NeurIPS 2020; THEORY.md sec. 4). The sample is
    b = 1[u < p] with p_k = f(z_k). For each group g (:func:`spike_groups`) let ũ^g equal u
    except ũ^g_i = 1 - u_i for i in g, and b̃^g the network re-simulated from ũ^g (the past
    of g is unchanged, b̃^g_i = 1[1 - u_i < p_i] in g, everything downstream responds with
    the same uniforms: common random numbers). With alpha_i = logit(p_i), for i in g,

        ĝ_i = 1/2 (L(b) - L(b̃^g)) (-1)^{b̃^g_i} 1[b_i != b̃^g_i] sigma(|alpha_i|),
        g   = dL/dparams|_{b fixed} + sum_i ĝ_i grad alpha_i|_{b fixed}   (one VJP).

    Why it is unbiased. Write P(b) = prod_g P(b_g | b_<g), each factor a product of
    independent Bernoullis with logits alpha_g(params, b_<g). Then
    grad E[L] = E[dL/dparams] + sum_g E[ sum_{i in g} grad alpha_i (b_i - p_i) L(b) ]
    (score identity, d log Ber(b; sigma(a))/da = b - sigma(a)). Fix g and condition on
    the past b_<g (which fixes alpha_g and grad alpha_i): with F_g(b_g) = E[L | b_<g, b_g],
    E[(b_i - p_i) L | b_<g] = d/d alpha_i E_{b_g ~ Ber(sigma(alpha_g))}[F_g(b_g)], the
    derivative of a function of d independent Bernoullis that DisARM estimates without
    bias: the pair (b_g, b̃^g_g) is driven by (u_g, 1 - u_g), independent of the past and of
    the downstream uniforms, so E[L(b) | b_<g, u_g] = F_g(b_g) and
    E[L(b̃^g) | b_<g, u_g] = F_g(b̃^g_g), hence E[ĝ_i | b_<g, u_g] is the DisARM estimate of
    the function F_g and E[ĝ_i | b_<g] = E[(b_i - p_i) L | b_<g] (Dong et al. 2020).
    Multiplying by grad alpha_i (a function of the past) and summing over i and g (linearity;
    the groups need not be independent of each other) gives grad E[L]. Chain rule
    alpha -> params: the VJP runs through p with cotangent ĝ_i / (p_i (1 - p_i))
    (d alpha / dp = 1 / (p (1 - p)); then sigma(|alpha|) / (p (1 - p)) = 1 / min(p, 1 - p)),
    which avoids logit overflow for saturated p; b_i != b̃_i has probability 2 min(p, 1 - p),
    so the cotangent is zero where p is exactly 0 or 1.

    Cost: G + 1 simulations and one VJP, against K + 1 for :func:`coupled_flip_gradient`
    (G = layers x steps, K = neurons x steps). Returns a pytree shaped like params.

    ``groups`` (static NumPy ints 0..G-1, length K; default :func:`spike_groups`) overrides
    the partition, for experiments only: the estimator is unbiased only if every group's
    spikes are conditionally independent given the earlier groups (a union of layers of one
    step, or of neurons of one layer), e.g. one group over all steps of a LIF net is biased.
    """
    groups = spike_groups(net) if groups is None else np.asarray(groups)
    if groups.shape != (net.n_spikes,) or groups.dtype.kind not in "iu" or groups.min() < 0:
        raise ValueError(f"groups must be K = {net.n_spikes} non-negative ints, got {groups!r}")
    masks = jnp.asarray(groups[None, :] == np.arange(groups.max() + 1)[:, None])  # (G, K)
    z, s = ex.simulate(net, params, x, "bernoulli", u=u)
    z, s = jax.lax.stop_gradient(z), jax.lax.stop_gradient(s)
    p = net.noise.prob(z)

    def antithetic(mask):
        s_t = ex.simulate(net, params, x, "bernoulli", u=jnp.where(mask, 1.0 - u, u))[1]
        return jax.lax.stop_gradient(s_t), ex.loss_of_spikes(net, s_t)

    s_anti, l_anti = jax.vmap(antithetic)(masks)  # (G, K), (G,)
    idx = jnp.asarray(groups)
    b_t = jnp.take_along_axis(s_anti, idx[None, :], axis=0)[0]  # b̃ of each variable's group
    half_diff = 0.5 * (ex.loss_of_spikes(net, s) - l_anti[idx])
    m = jnp.minimum(p, 1.0 - p)
    differ = (b_t != s) & (m > 0)  # m = 0 only if u = 0 exactly and p = 1 (then grad p = 0)
    sign = 1.0 - 2.0 * b_t  # (-1)^{b̃_i}
    cot = jnp.where(differ, half_diff * sign / jnp.where(differ, m, 1.0), 0.0)  # ĝ / (p (1 - p))
    return _add(_direct_term(net, params, x, s), _vjp_probs(net, params, x, s, cot))
