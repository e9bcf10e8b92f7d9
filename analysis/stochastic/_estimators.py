"""Per-sample estimators of grad E[L] for any :class:`~analysis.stochastic.Program`.

:func:`estimate` returns a pytree like ``params`` whose leaves have a leading sample axis n;
sample i uses the spike uniforms ``program.draw_uniforms(key, n)[site][i]``, so estimators
called with the same key see the same spikes. With S the K spike variables, p_k their
probabilities and L(S) the loss:

================  ==========================================================  ========
name              per-sample value                                            unbiased
================  ==========================================================  ========
score             grad log P(S) * L(S) + dL/dparams|_S  (REINFORCE; Williams) yes
score_loo         score with L(S_i) - mean_{j != i} L(S_j) (leave-one-out     yes
                  baseline over the n samples, n >= 2; Kool, van Hoof &
                  Welling 2019)
coupled_flip      dL/dparams|_S + sum_k grad p_k|_S * (L(S_k<-1) - L(S_k<-0)) yes
                  (stochastic AD, Arya et al. NeurIPS 2022)
coupled_flip_sub  dL/dparams|_S + sum_m grad p_{k_m}|_S c_{k_m} / (M q_{k_m}) yes
                  (M = n_flips flips k_m ~ q i.i.d.; importance sampling)
disarm            dL/dparams|_S + sum_k grad logit p_k|_S * ghat_k            yes
                  (antithetic pair per draw; Dong, Mnih & Tucker NeurIPS 2020)
sg_stochastic     jax.grad under the straight-through source: the surrogate   no
                  gradient of the stochastic network (the program's
                  surrogate, or the matched psi = f' when none is given)
linearised        coupled_flip with c_k -> dL/dS_k (probe derivative, one     no
                  VJP): the linearised (smoothed) stochastic derivative,
                  equal to the SG sample by sample (Gygax & Zenke 2025 sec. 4)
sg_deterministic  jax.grad under the Heaviside source (s = 1[z > 0]): the SG   no
                  of the deterministic network; identical samples, tiled
mean_field        jax.grad with s = p                                         no
================  ==========================================================  ========

``coupled_flip``: L(S_k<-v) re-runs the program with variable k forced to v and every other
draw from the same uniforms; the sum over k is ONE vector-Jacobian product of the
teacher-forced spike probabilities with cotangent c_k (vmapped re-simulations; K + 2 program
runs per sample). Unbiased because, given everything before k, each of L(S_k<-1),
L(S_k<-0) is an unbiased sample of E[L | S_k = v] (Gygax & Zenke 2025 sec. 4).

``coupled_flip_sub`` replaces the sum over all K flips by M = ``n_flips`` indices drawn
i.i.d. (with replacement) from q_k = mix/K + (1 - mix) w_k / sum_j w_j, w_k = p_k (1 - p_k),
mix = 1/2 (:func:`flip_proposal`): the cotangent sum_m c_{k_m} e_{k_m} / (M q_{k_m}) has mean
c given S (q_k > 0), so the estimator stays unbiased; about M + 2 program runs per sample.

``disarm``: derivation at :func:`_disarm_one`. Every estimator takes its derivative rule
from the spike source (one definition per rule).

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis.stochastic import Program, estimate
>>> def coin(w, x, src):
...     return src.bernoulli("c", jax.nn.sigmoid(w * x), 0).sum()
>>> g = estimate("coupled_flip", Program(coin, {"c": (1, 3)}), 0.5, jnp.ones(3), 8, key=jax.random.key(0))
>>> g.shape
(8,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate
from analysis.stochastic._program import Program, as_program, check_program, exact_mean, param_dtype
from analysis.stochastic._sources import (
    Bernoulli,
    CoupledFlip,
    Forced,
    Heaviside,
    MeanField,
    StraightThrough,
    Trace,
    join_flat,
    split_flat,
    trace_program,
)

# ---------------------------------------------------------------- building blocks


def _run(program: Program, params, inputs, src, record=()):
    return trace_program(program, params, inputs, src, record=record)


def _sampled(program, params, inputs, u, record=("spikes",)):
    loss, tr = _run(program, params, inputs, Bernoulli(program.sites, u=u), record)
    return jax.lax.stop_gradient(loss), tr


def _direct_plus_vjp(program, params, inputs, s, cot):
    """dL/dparams with the spikes ``s`` held fixed, plus sum_k cot_k grad p_k: the direct term
    and ONE vector-Jacobian product of the teacher-forced spike probabilities."""
    cot = jax.lax.stop_gradient(cot)

    def objective(pp):
        loss_f, tr = _run(program, pp, inputs, Forced(program.sites, spikes=s), ("probs",))
        return loss_f + sum(jnp.sum(cot[name] * tr.probs[name]) for name, _ in program.sites)

    return jax.grad(objective)(params)


def _flip_losses(program, params, inputs, ui, flat, idx):
    """L with spike idx[m] flipped (1 - S) and every other draw from the same uniforms."""
    spec, K = program.sites, flat.shape[0]
    value = split_flat(1.0 - flat, spec)

    def flipped(k):
        src = CoupledFlip(spec, u=ui, mask=split_flat(jnp.arange(K) == k, spec), value=value)
        return _run(program, params, inputs, src)[0]

    return jax.vmap(flipped)(idx)


# ---------------------------------------------------------------- estimators (one sample)


def _score_one(program, params, inputs, ui, weight=None):
    loss, tr = _sampled(program, params, inputs, ui)
    c = loss if weight is None else weight

    def objective(pp):  # grad log P(S) * L(S) + the direct term dL/dparams with S fixed
        src = Forced(program.sites, spikes=tr.spikes)
        loss_f, trf = _run(program, pp, inputs, src, ("probs",))
        return Trace(trf.probs, tr.spikes, None).log_prob() * c + loss_f

    return jax.grad(objective)(params)


def _coupled_flip_one(program, params, inputs, ui):
    loss, tr = _sampled(program, params, inputs, ui)
    flat = join_flat(tr.spikes, program.sites)
    c = (2.0 * flat - 1.0) * (
        loss - _flip_losses(program, params, inputs, ui, flat, jnp.arange(flat.shape[0]))
    )
    return _direct_plus_vjp(program, params, inputs, tr.spikes, split_flat(c, program.sites))


#: mixing weight of the uniform part of the flip proposal of ``coupled_flip_sub``
FLIP_MIX = 0.5
#: ``fold_in`` constant that derives the flip-index uniforms of ``coupled_flip_sub`` from the key
_FLIP_TAG = 0x5F11B


def flip_proposal(w: jax.Array, mix: float = FLIP_MIX) -> jax.Array:
    """q_k = mix/K + (1 - mix) w_k / sum_j w_j over the K spike variables (uniform if all
    w = 0); every q_k >= mix/K > 0, so importance sampling from q is unbiased."""
    total = jnp.sum(w)
    q = mix / w.shape[-1] + (1.0 - mix) * w / jnp.maximum(total, jnp.finfo(w.dtype).tiny)
    return jnp.where(total > 0, q, 1.0 / w.shape[-1])


def _importance_flips(w, v, mix=FLIP_MIX):
    """(idx, q): M = len(v) flip indices i.i.d. from q = flip_proposal(w) (inverse CDF of v)."""
    q = flip_proposal(w, mix)
    idx = jnp.minimum(jnp.searchsorted(jnp.cumsum(q), v * jnp.sum(q), side="right"), w.shape[-1] - 1)
    return idx, q


def _coupled_flip_sub_one(program, params, inputs, ui, vi):
    loss, tr = _sampled(program, params, inputs, ui, ("probs", "spikes"))
    flat = join_flat(tr.spikes, program.sites)
    p = jax.lax.stop_gradient(join_flat(tr.probs, program.sites))
    idx, q = _importance_flips(p * (1.0 - p), vi)
    c = (2.0 * flat[idx] - 1.0) * (loss - _flip_losses(program, params, inputs, ui, flat, idx))
    # sum_m c_m e_{k_m} / (M q_{k_m}): unbiased for the K cotangents c_k
    cot = jnp.zeros(q.shape, c.dtype).at[idx].add(c / (idx.shape[0] * q[idx]))
    return _direct_plus_vjp(program, params, inputs, tr.spikes, split_flat(cot, program.sites))


def _draw_groups(program: Program) -> dict[str, np.ndarray]:
    """Group of every draw: {site: (n_draws,) ints}, draws numbered site by site (sorted)."""
    out, off = {}, 0
    for name, shape in program.sites:
        out[name] = off + np.arange(shape[0])
        off += shape[0]
    return out


def _disarm_one(program, params, inputs, ui, groups=None):
    """DisARM (Dong, Mnih & Tucker, NeurIPS 2020) for one sample: one antithetic re-run per group.

    The sample is b = 1[u < p]. A group g is a set of draws; for each group let ũ^g equal u
    except ũ^g_i = 1 - u_i for the variables i of g, and b̃^g the program re-run from ũ^g
    (the past of g unchanged, everything downstream responding with the same uniforms).
    With alpha_i = logit(p_i), for i in g,

        ĝ_i = 1/2 (L(b) - L(b̃^g)) (-1)^{b̃^g_i} 1[b_i != b̃^g_i] sigma(|alpha_i|),
        g   = dL/dparams|_{b fixed} + sum_i ĝ_i grad alpha_i|_{b fixed}   (one VJP).

    Unbiased when the variables of each group are conditionally independent given the
    earlier groups: write P(b) = prod_g P(b_g | b_<g); by the score identity
    grad E[L] = E[dL/dparams] + sum_g E[sum_{i in g} grad alpha_i (b_i - p_i) L(b)]; given
    b_<g (which fixes alpha_g and grad alpha_i), E[(b_i - p_i) L | b_<g] is the derivative in
    alpha_i of E[F_g(b_g)], F_g(b_g) = E[L | b_<g, b_g], over INDEPENDENT Bernoullis b_g, which
    DisARM estimates without bias from the pair (b_g, b̃^g_g) driven by (u_g, 1 - u_g) (common
    random numbers downstream). Summing over i and g gives grad E[L].

    Grouping. By default every draw (site, index) is a group: its elements are drawn from one
    vector p computed before the draw, so they are conditionally independent given the past,
    and the estimator is unbiased for every program. A group that unites draws where one
    depends on another (e.g. two layers of a feedforward network, whose second layer's p
    depends on the first layer's spikes) breaks the factorisation and biases the estimator;
    ``groups`` ({site: (n_draws,) group ids}) exists to demonstrate this in the tests. Chain
    rule alpha -> params: the VJP runs through p with cotangent ĝ_i / (p_i (1 - p_i)), where
    sigma(|alpha|) / (p (1 - p)) = 1 / min(p, 1 - p) (no logit overflow); b_i != b̃_i
    has probability 2 min(p, 1 - p), so the cotangent is zero where p is exactly 0 or 1.
    Cost: G + 1 runs (G groups) and one VJP.
    """
    spec = program.sites
    groups = _draw_groups(program) if groups is None else groups
    G = int(max(int(np.max(g)) for g in groups.values())) + 1
    loss, tr = _sampled(program, params, inputs, ui, ("probs", "spikes"))
    s, p = tr.spikes, jax.lax.stop_gradient(tr.probs)

    def expand(a, shape):
        return jnp.asarray(a).reshape(a.shape + (1,) * (len(shape) - 1))

    def antithetic(g):  # the group's uniforms mirrored, every other uniform shared
        u_t = {nm: jnp.where(expand(groups[nm] == g, sh), 1.0 - ui[nm], ui[nm]) for nm, sh in spec}
        loss_t, tr_t = _sampled(program, params, inputs, u_t)
        return loss_t, tr_t.spikes

    l_anti, s_anti = jax.vmap(antithetic)(jnp.arange(G))  # (G,), {site: (G, n_draws, ...)}
    cot = {}
    for name, shape in spec:
        gid = jnp.asarray(groups[name])
        d = jnp.arange(shape[0])
        b_t = s_anti[name][gid, d]  # b~ of each draw from its own group's antithetic run
        half = expand(0.5 * (loss - l_anti[gid]), shape)
        m = jnp.minimum(p[name], 1.0 - p[name])  # sigma(|alpha|) / (p (1 - p)) = 1 / min(p, 1 - p)
        differ = (b_t != s[name]) & (m > 0)  # P(differ) = 2 min(p, 1 - p)
        cot[name] = jnp.where(differ, half * (1.0 - 2.0 * b_t) / jnp.where(differ, m, 1.0), 0.0)
    return _direct_plus_vjp(program, params, inputs, s, cot)


def _linearised_one(program, params, inputs, ui):
    """The coupled-flip estimator with c_k replaced by the total derivative dL/dS_k along the
    sampled trajectory (downstream spikes responding through their surrogate derivatives):
    dL/dS_k from a probe eps_k added to each spike, then ONE VJP of the teacher-forced spike
    derivative carriers (psi(z_k) grad z_k, or grad p_k when matched) with cotangent dL/dS_k.
    It never differentiates through a surrogate spike function, yet equals the SG sample by
    sample (Gygax & Zenke 2025 sec. 4): a second route to the same number."""
    spec = program.sites
    _, tr = _sampled(program, params, inputs, ui)
    zeros = {nm: jnp.zeros(sh, param_dtype(params)) for nm, sh in spec}
    probe = lambda eps: _run(program, params, inputs, StraightThrough(spec, u=ui, eps=eps))[0]
    dlds = jax.lax.stop_gradient(jax.grad(probe)(zeros))

    def objective(pp):
        loss_f, trf = _run(program, pp, inputs, Forced(spec, spikes=tr.spikes), ("carriers",))
        return loss_f + sum(jnp.sum(dlds[name] * trf.carriers[name]) for name, _ in spec)

    return jax.grad(objective)(params)


def _per_sample(one: Callable) -> Callable:
    return lambda program, params, inputs, u, v: jax.vmap(lambda ui: one(program, params, inputs, ui))(u)


def _score(program, params, inputs, u, v):
    return jax.vmap(lambda ui: _score_one(program, params, inputs, ui))(u)


def _score_loo(program, params, inputs, u, v):
    """Leave-one-out baseline b_i = mean_{j != i} L(S_j): independent of S_i, so unbiased."""
    losses = jax.vmap(lambda ui: _sampled(program, params, inputs, ui)[0])(u)
    n = losses.shape[0]
    centred = jax.lax.stop_gradient(losses - (jnp.sum(losses) - losses) / (n - 1))
    return jax.vmap(lambda ui, ci: _score_one(program, params, inputs, ui, ci))(u, centred)


def _coupled_flip_sub(program, params, inputs, u, v):
    return jax.vmap(lambda ui, vi: _coupled_flip_sub_one(program, params, inputs, ui, vi))(u, v)


def _sg_stochastic(program, params, inputs, u, v):
    loss = lambda pp, ui: _run(program, pp, inputs, StraightThrough(program.sites, u=ui))[0]
    return jax.vmap(jax.grad(loss), in_axes=(None, 0))(params, u)


def _deterministic(source_cls):
    """Estimator: jax.grad of the program under a source without randomness, tiled to n."""

    def estimator(program, params, inputs, u, v):
        g = jax.grad(lambda pp: _run(program, pp, inputs, source_cls(program.sites))[0])(params)
        n = jax.tree_util.tree_leaves(u)[0].shape[0]
        return jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n,) + jnp.shape(a)), g)

    return estimator


ESTIMATORS: dict[str, Callable] = {
    "sg_stochastic": _sg_stochastic,
    "sg_deterministic": _deterministic(Heaviside),
    "score": _score,
    "score_loo": _score_loo,
    "coupled_flip": _per_sample(_coupled_flip_one),
    "coupled_flip_sub": _coupled_flip_sub,
    "disarm": _per_sample(_disarm_one),
    "linearised": _per_sample(_linearised_one),
    "mean_field": _deterministic(MeanField),
}
#: estimators whose mean is grad E[L] for every program
UNBIASED = ("score", "score_loo", "coupled_flip", "coupled_flip_sub", "disarm")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; valid names: {', '.join(ESTIMATORS)}")
    return name


def estimator_memory(
    name: str, program: Any, params: Any, n: int, *, n_flips: int = 8, itemsize: int = 8
) -> int:
    """A lower estimate (bytes) of the memory of ``estimate(name, program, params, ..., n)``.

    What it counts: per run of the program, its recorded trace (uniforms, probabilities and
    spikes of the K spike variables) and a gradient of the P parameters, about 3 K + P
    numbers; ``coupled_flip`` makes K re-runs per sample, ``coupled_flip_sub`` ``n_flips``,
    ``disarm`` G (the number of draws); everything vmapped over the n samples at once. What
    it does not count: the program's own intermediates (potentials, currents, the saved
    activations of its backward pass), which come on top and are not known from outside.
    """
    name = _check_name(name)
    program = as_program(program)
    n = _validate.positive_int(n, "n")
    n_flips = _validate.positive_int(n_flips, "n_flips")
    itemsize = _validate.positive_int(itemsize, "itemsize")
    K = program.K
    P = sum(int(jnp.size(leaf)) for leaf in jax.tree_util.tree_leaves(params))
    runs = 1 + {"coupled_flip": K, "coupled_flip_sub": n_flips, "disarm": program.n_draws}.get(name, 0)
    return int(itemsize * n * runs * (3 * K + P))


def _guard_memory(names, program, params, n, n_flips, max_memory_gib):
    total = sum(estimator_memory(nm, program, params, n, n_flips=n_flips) for nm in names)
    what = f"estimator(s) {', '.join(names)} with n = {n} samples" + (
        f" and n_flips = {n_flips}" if "coupled_flip_sub" in names else ""
    )
    _validate.memory_guard(total, f"{what} (K = {program.K} spike variables)", max_memory_gib)


def _check_n(name: str, n: int) -> None:
    if name == "score_loo" and n < 2:
        raise ValueError(
            f"score_loo needs n >= 2 samples (leave-one-out baseline over the others), got n = {n}"
        )


def _flip_uniforms(key, n, n_flips, dtype):
    return jax.random.uniform(jax.random.fold_in(key, _FLIP_TAG), (n, n_flips), dtype)


def estimate(
    name: str,
    program: Any,
    params: Any,
    inputs: Any,
    n: int,
    *,
    key: jax.Array,
    n_flips: int = 8,
    max_memory_gib: float = _validate.DEFAULT_MAX_MEMORY_GIB,
) -> Any:
    """Per-sample estimates of grad E[L] by estimator ``name`` (one of ``ESTIMATORS``).

    Returns a pytree like ``params`` whose leaves have a leading sample axis of length n.
    ``program``: a :class:`Program` or a builder with ``.program()`` (a Network). Sample i
    uses the uniforms ``program.draw_uniforms(key, n)[site][i]``; estimators called with the
    same key see the same spikes. ``n_flips`` (M) is the number of importance-sampled flips
    per sample of ``coupled_flip_sub`` (ignored by the others); its flip uniforms come from
    ``fold_in(key, _FLIP_TAG)``. Let the caller jit (``key`` may be traced). Refuses
    (ValueError, with the estimate) when :func:`estimator_memory` exceeds ``max_memory_gib``.
    """
    return estimate_many(
        [name], program, params, inputs, n, key=key, n_flips=n_flips, max_memory_gib=max_memory_gib
    )[name]


def estimate_many(
    names: Sequence[str],
    program: Any,
    params: Any,
    inputs: Any,
    n: int,
    *,
    key: jax.Array,
    n_flips: int = 8,
    max_memory_gib: float = _validate.DEFAULT_MAX_MEMORY_GIB,
) -> dict:
    """{name: per-sample estimates} for several estimators on the same uniforms (common random
    numbers); the memory guard counts all of them together. Jit it once per program to
    compile the estimators together."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)) or not names:
        raise ValueError(f"names must be a non-empty list of estimator names from {', '.join(ESTIMATORS)}")
    names = [_check_name(nm) for nm in names]
    n = _validate.positive_int(n, "n")
    n_flips = _validate.positive_int(n_flips, "n_flips")
    program = check_program(program, params, inputs)
    for nm in names:
        _check_n(nm, n)
    _guard_memory(names, program, params, n, n_flips, max_memory_gib)
    u = program.draw_uniforms(key, n, param_dtype(params))
    v = _flip_uniforms(key, n, n_flips, param_dtype(params))
    return {nm: ESTIMATORS[nm](program, params, inputs, u, v) for nm in names}


def estimate_from_uniforms(
    name: str,
    program: Any,
    params: Any,
    inputs: Any,
    u: dict,
    *,
    flip_key: jax.Array | None = None,
    n_flips: int = 8,
) -> Any:
    """Like :func:`estimate` with the spike uniforms given: u = {site: (n, n_draws, *shape)}.

    ``coupled_flip_sub`` also needs ``flip_key``: its M = ``n_flips`` flip uniforms per
    sample are ``uniform(fold_in(flip_key, _FLIP_TAG), (n, M))`` (flip_key = key reproduces
    :func:`estimate`).
    """
    name = _check_name(name)
    n_flips = _validate.positive_int(n_flips, "n_flips")
    program = check_program(program, params, inputs)
    spec = program.sites
    if not isinstance(u, dict) or set(u) != {nm for nm, _ in spec}:
        raise ValueError(f"u must be a dict with one entry per site {[nm for nm, _ in spec]}")
    n = None
    for nm, shape in spec:
        sh = jnp.shape(u[nm])
        if len(sh) != len(shape) + 1 or sh[1:] != shape or (n is not None and sh[0] != n):
            raise ValueError(f"u[{nm!r}] must have shape (n,) + {shape}, got {sh}")
        n = sh[0]
    assert n is not None
    _check_n(name, int(n))
    if name == "coupled_flip_sub" and flip_key is None:
        raise ValueError("coupled_flip_sub needs flip_key (the key of its flip-index uniforms)")
    dtype = param_dtype(params)
    u = {k: jnp.asarray(a, dtype) for k, a in u.items()}
    v = _flip_uniforms(flip_key, n, n_flips, dtype) if flip_key is not None else jnp.zeros((n, 0), dtype)
    return ESTIMATORS[name](program, params, inputs, u, v)


# ---------------------------------------------------------------- exact means of the SG


def sg_given_spikes(program: Any, params: Any, inputs: Any, spikes: Any, *, surrogate: Any = None) -> Any:
    """The surrogate gradient of one configuration: jax.grad of L with the spikes teacher
    forced and each spike's derivative psi(z) dz (``surrogate``, else the program's own,
    else the matched ds/dp = 1). Equals the linearised stochastic derivative of that
    configuration (Gygax & Zenke 2025 sec. 4); its mean over P(S) is E[SG]."""
    program = as_program(program)
    src = StraightThrough(program.sites, spikes=spikes, surrogate=surrogate)
    return jax.grad(lambda pp: _run(program, pp, inputs, src)[0])(params)


class _SGOfConfig:
    """Hashable per-configuration SG for several surrogates (a cache key for exact_mean)."""

    def __init__(self, program: Program, surrogates: tuple):
        self.program, self.surrogates = program, surrogates

    def __hash__(self) -> int:
        return hash((self.program, self.surrogates))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SGOfConfig) and (self.program, self.surrogates) == (
            other.program,
            other.surrogates,
        )

    def __call__(self, params, inputs, spikes):
        return [sg_given_spikes(self.program, params, inputs, spikes, surrogate=s) for s in self.surrogates]


def exact_sg_mean(
    program: Any,
    params: Any,
    inputs: Any,
    *,
    surrogates: Sequence[Any] | None = None,
    weights: Sequence[Any] | None = None,
    **enum_options: Any,
) -> Any:
    """Exact E[SG] = sum_S P(S) SG(S) by enumeration (:func:`sg_given_spikes` per configuration).

    ``surrogates``: a list of surrogates psi; then returns a list of E[SG], one per
    surrogate, from one enumeration. ``weights``: programs with the same sites whose
    distributions weight the sum (see :func:`analysis.stochastic.exact_mean`); then returns a
    list over them. ``enum_options``: ``max_k``, ``chunk``.
    """
    program = as_program(program)
    sgs = (None,) if surrogates is None else tuple(surrogates)
    res = exact_mean(program, params, inputs, _SGOfConfig(program, sgs), weights=weights, **enum_options)
    if weights is not None:
        return [r if surrogates is not None else r[0] for r in res]
    return res if surrogates is not None else res[0]
