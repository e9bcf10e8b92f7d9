"""Stochastic derivatives of a Bernoulli variable (stochastic triples and smoothing).

For a program X(p) with discrete randomness, a stochastic derivative is a triple
(delta, w, Y): for small eps, X(p + eps) = X(p) + delta eps with probability 1 - |w eps|
and jumps to Y with probability |w eps| (Arya, Schauer, Schaefer & Rackauckas,
"Automatic differentiation of programs with discrete randomness", NeurIPS 2022). The
estimate delta + w (g(Y) - g(X)) of d/dp E[g(X)] is unbiased for every g.

For X ~ Bernoulli(p) (THEORY.md sec. 4; Gygax & Zenke 2025, sec. 4, Fig. 3), per sample:

====================  =====================  =====================
construct             X = 0                  X = 1
====================  =====================  =====================
right                 jump 0->1, w=1/(1-p)   no jump
left                  no jump                jump 1->0, w=1/p
two_sided             1/(2(1-p))             1/(2p)
straight_through      1                      1
====================  =====================  =====================

The *smoothed* versions replace the jump by its conditional expectation given X,
delta~ = E[w (Y - X) | X], and continue with ordinary derivatives: the estimate of
d/dp E[g(X)] is g'(X) delta~. They compose with the chain rule (reverse-mode AD applies)
but are unbiased only when g is linear. ``smoothed_straight_through`` (delta~ = 1) is the
derivative that surrogate-gradient learning uses.

Example
-------
>>> import jax
>>> from analysis import bernoulli_derivative_samples
>>> d = bernoulli_derivative_samples(jax.random.key(0), 0.3, 100_000, "right")
>>> abs(float(d.mean()) - 1.0) < 0.02
True
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from analysis import _validate

__all__ = [
    "BERNOULLI_CONSTRUCTS",
    "TRIPLE_CONSTRUCTS",
    "SMOOTHED_CONSTRUCTS",
    "bernoulli_derivative_samples",
    "bernoulli_construct_moments",
    "bernoulli_jump_weights",
]

TRIPLE_CONSTRUCTS = ("right", "left", "two_sided", "straight_through")
SMOOTHED_CONSTRUCTS = (
    "smoothed_right",
    "smoothed_left",
    "smoothed_two_sided",
    "smoothed_straight_through",
)
BERNOULLI_CONSTRUCTS = TRIPLE_CONSTRUCTS + SMOOTHED_CONSTRUCTS


def _check_construct(construct: str) -> str:
    if construct not in BERNOULLI_CONSTRUCTS:
        raise ValueError(
            f"unknown construct {construct!r}; valid names: {', '.join(BERNOULLI_CONSTRUCTS)}"
        )
    return construct.removeprefix("smoothed_")


def bernoulli_jump_weights(x, p, construct: str):
    """|w (Y - X)| of the (smoothed) construct per sample: the value for g = identity.

    ``x`` are samples in {0, 1}, ``p`` the success probability (broadcastable).
    """
    base = _check_construct(construct)
    right = jnp.where(x == 0, 1.0 / (1.0 - p), 0.0)
    left = jnp.where(x == 1, 1.0 / p, 0.0)
    if base == "right":
        return right
    if base == "left":
        return left
    if base == "two_sided":
        return 0.5 * right + 0.5 * left
    return (1.0 - p) * right + p * left  # straight-through weighting


def bernoulli_derivative_samples(key, p, n: int, construct: str, g: Callable | None = None):
    """Per-sample stochastic-derivative estimates of d/dp E[g(X)], X ~ Bernoulli(p).

    Parameters
    ----------
    key : PRNG key (the samples X are ``uniform(key, (n,) + shape(p)) < p``).
    p : success probability in (0, 1), scalar or array.
    n : number of samples.
    construct : one of ``BERNOULLI_CONSTRUCTS``.
    g : downstream function applied to X (default identity); for smoothed constructs it
        must be differentiable (``jax.grad`` is taken at the sampled X).

    Returns
    -------
    array of shape ``(n,) + shape(p)``: triples give w (g(Y) - g(X)) (unbiased for any g),
    smoothed constructs give g'(X) delta~ (unbiased only for linear g).
    """
    _validate.probability(p, "p", open_interval=True)
    n = _validate.positive_int(n, "n")
    p = jnp.asarray(p, dtype=jnp.result_type(float))
    x = (jax.random.uniform(key, (n,) + p.shape, dtype=p.dtype) < p).astype(p.dtype)
    weight = bernoulli_jump_weights(x, p, construct)
    g = g if g is not None else (lambda s: s)
    if construct in TRIPLE_CONSTRUCTS:
        # Jump from X to Y = 1 - X; w (g(Y) - g(X)) = |w| (g(1) - g(0)) for every construct.
        one, zero = jnp.ones_like(p), jnp.zeros_like(p)
        return weight * (g(one) - g(zero))
    dg = jnp.vectorize(jax.grad(g))(x)
    return dg * weight


def bernoulli_construct_moments(p, construct: str):
    """Closed-form (mean, variance) of the per-sample estimate for g = identity.

    right: (1, p/(1-p)); left: (1, (1-p)/p); two_sided: (1, 1/(4p(1-p)) - 1);
    straight_through: (1, 0); smoothed versions equal their triples for g = identity.
    """
    _validate.probability(p, "p", open_interval=True)
    p = jnp.asarray(p, dtype=jnp.result_type(float))
    base = _check_construct(construct)
    var = {
        "right": p / (1.0 - p),
        "left": (1.0 - p) / p,
        "two_sided": 1.0 / (4.0 * p * (1.0 - p)) - 1.0,
        "straight_through": jnp.zeros_like(p),
    }[base]
    return jnp.ones_like(p), var


# ------------------------------------------------------------------------------------------
# Unbiased stochastic AD for networks of Bernoulli neurons by coupled flips (THEORY.md sec. 4)
# ------------------------------------------------------------------------------------------
#
# For a network whose spikes S_k ~ Bernoulli(p_k), p_k = f(z_k(params, S_<k)), coupled through
# uniforms u (analysis.exact), the straight-through stochastic derivative gives per sample
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


def _net_api():
    from analysis import exact  # local import: exact imports spikes, not this module

    return exact


def _vjp_probs(net, params, x, s, cot, slope=None):
    """sum_k cot_k * grad p_k with spikes s fixed (slope=None), or sum_k cot_k slope_k grad z_k."""
    ex = _net_api()
    if slope is None:
        fn = lambda pp: net.noise.prob(ex.simulate(net, pp, x, "forced", val=s)[0])
    else:
        fn = lambda pp: ex.simulate(net, pp, x, "forced", val=s)[0]
        cot = cot * slope
    _, vjp = jax.vjp(fn, params)
    return vjp(cot)[0]


def _direct_term(net, params, x, s):
    ex = _net_api()
    return jax.grad(lambda pp: ex.loss_of_spikes(net, ex.simulate(net, pp, x, "forced", val=s)[1]))(params)


def _add(a, b):
    return jax.tree_util.tree_map(jnp.add, a, b)


def _flip_losses(net, params, x, u, s, idx):
    """L with spike idx[m] flipped (1 - s) and the same uniforms elsewhere; shape (len(idx),)."""
    ex = _net_api()
    K = net.n_spikes

    def one(k):
        mask = jnp.arange(K) == k
        s_new = ex.simulate(net, params, x, "bernoulli", u=u, mask=mask, val=1.0 - s)[1]
        return ex.loss_of_spikes(net, s_new)

    return jax.vmap(one)(idx)


def coupled_flip_gradient(net, params, x, u):
    """Unbiased stochastic-AD gradient of E[L] for one sample (uniforms ``u``, all K flips).

    Costs K re-simulations (vectorised) + one VJP. Returns a pytree shaped like params.
    """
    ex = _net_api()
    s = jax.lax.stop_gradient(ex.simulate(net, params, x, "bernoulli", u=u)[1])
    loss = ex.loss_of_spikes(net, s)
    flipped = _flip_losses(net, params, x, u, s, jnp.arange(net.n_spikes))
    c = (2.0 * s - 1.0) * (loss - flipped)  # L(S_k<-1) - L(S_k<-0)
    return _add(_direct_term(net, params, x, s), _vjp_probs(net, params, x, s, c))


def subsampled_coupled_flip_gradient(v, net, params, x, u, mix: float = 0.5):
    """Unbiased coupled-flip gradient with M = len(v) importance-sampled flips per sample.

    Indices k are drawn i.i.d. (inverse CDF of the uniforms ``v``) from q_k = mix/K + (1 - mix) f'(z_k)/sum_j f'(z_j); the
    cotangent sum_m c_{k_m} e_{k_m} / (M q_{k_m}) is unbiased for c (q_k > 0 for all k). Cost:
    one simulation, M re-simulations and one VJP, i.e. about M + 2 forward passes.
    """
    ex = _net_api()
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
    ex = _net_api()
    K = net.n_spikes
    dtype = jnp.result_type(x, *params)

    def loss_of_probe(eps):
        z, s = ex.simulate(net, params, x, "linearised", u=u, mask=mask, val=val, eps=eps)
        return ex.loss_of_spikes(net, s), (z, s)

    dlds, (z, s) = jax.grad(loss_of_probe, has_aux=True)(jnp.zeros((K,), dtype))
    return jax.lax.stop_gradient(z), jax.lax.stop_gradient(s), dlds


def linearised_coupled_flip_gradient(net, params, x, u):
    """The coupled-flip estimator with c_k replaced by dL/dS_k (linearised; one sample).

    Computed from a probe derivative d L / d eps_k and a VJP of the teacher-forced potentials
    with cotangent psi(z_k) dL/dS_k; it never differentiates through the SG spike function,
    yet equals the surrogate gradient sample by sample (Gygax & Zenke 2025, sec. 4).
    """
    z, s, dlds = _total_spike_derivative(net, params, x, u=u)
    return _add(_direct_term(net, params, x, s), _vjp_probs(net, params, x, s, dlds, net.sg(z)))


def linearised_given_spikes(net, params, x, s):
    """The linearised estimator (= SG) for a given configuration ``s`` (flat, length K)."""
    K = net.n_spikes
    z, s, dlds = _total_spike_derivative(net, params, x, mask=jnp.ones((K,), bool), val=s)
    return _add(_direct_term(net, params, x, s), _vjp_probs(net, params, x, s, dlds, net.sg(z)))
