"""Exact gradients and per-sample gradient estimators of a user's own stochastic program.

A program is a pure JAX function ``program(params, inputs, src) -> loss`` (scalar) whose
Bernoulli draws go through a spike source, ``s = src.bernoulli(site, p, index)``, with the
sites declared once as ``sites = {name: (n_draws, *shape)}`` (see
:mod:`analysis.stochastic._sources`). ``params`` and ``inputs`` are any pytrees; gradients are
pytrees like ``params``. With S the K spike variables and P(S) = prod_k p_k^S_k (1 - p_k)^(1 - S_k)
(p_k depending on params, inputs and the earlier spikes), the estimand is grad E_S[L(S)].

* :func:`program_value_and_grad`: exact E[L] = sum_S P(S) L(S) over all 2^K configurations
  (teacher forced), and its gradient by ``jax.grad`` of that sum (Gygax & Zenke 2025 sec. 3:
  exact gradients only by enumeration).
* :func:`program_estimate`: per-sample estimates, a pytree like params with a leading axis n
  (sample i uses the uniforms u[i] of :func:`draw_site_uniforms`; same key, same spikes):

  ================  ==========================================================  ========
  name              per-sample value                                            unbiased
  ================  ==========================================================  ========
  score             grad log P(S) * L(S) + dL/dparams|_S  (REINFORCE; Williams) yes
  score_loo         score with L(S_i) - mean_{j != i} L(S_j) (leave-one-out     yes
                    baseline over the n samples, n >= 2; Kool, van Hoof &
                    Welling 2019)
  coupled_flip      dL/dparams|_S + sum_k grad p_k|_S * (L(S_k<-1) - L(S_k<-0)) yes
                    (stochastic AD, Arya et al. NeurIPS 2022; THEORY.md sec. 4)
  coupled_flip_sub  dL/dparams|_S + sum_m grad p_{k_m}|_S c_{k_m} / (M q_{k_m}) yes
                    (M = n_flips flips k_m ~ q i.i.d.; importance sampling)
  disarm            dL/dparams|_S + sum_k grad logit p_k|_S * ghat_k            yes
                    (antithetic pair per draw; Dong, Mnih & Tucker NeurIPS 2020)
  sg_stochastic     jax.grad under the straight-through source (ds/dp = 1)      no
                    = surrogate gradient of the stochastic network, matched
                    surrogate
  linearised        the same function as sg_stochastic: the linearised          no
                    (smoothed) stochastic derivative, c_k -> dL/dS_k, equals
                    the SG sample by sample (Gygax & Zenke 2025 sec. 4)
  sg_deterministic  jax.grad under the Heaviside source (s = 1[p > 1/2],        no
                    ds/dp = 1): SG of the deterministic network, matched
                    surrogate; identical samples, tiled to n
  mean_field        jax.grad with s = p                                         no
  ================  ==========================================================  ========

  In ``coupled_flip``, L(S_k<-v) re-runs the program with variable k forced to v and every
  other draw from the same uniforms; the sum over k is ONE vector-Jacobian product of the
  teacher-forced spike probabilities with cotangent c_k (vmapped re-simulations; K + 2
  program runs per sample). Unbiased because, given everything before k, each of L(S_k<-1),
  L(S_k<-0) is an unbiased sample of E[L | S_k = v] (Gygax & Zenke 2025 sec. 4).

  ``coupled_flip_sub`` replaces the sum over all K flips by M = ``n_flips`` indices drawn
  i.i.d. (with replacement) from q_k = mix/K + (1 - mix) w_k / sum_j w_j, w_k = p_k (1 - p_k)
  from the recorded trace, mix = 1/2 (:func:`flip_proposal`): the cotangent
  sum_m c_{k_m} e_{k_m} / (M q_{k_m}) has mean c given S (q_k > 0), so the estimator stays
  unbiased; its cost is one traced run, M vmapped coupled re-simulations and one
  forward + backward for the direct term and the VJP, about M + 2 program evaluations
  (the program version of ``subsampled_coupled_flip_gradient``).

  In ``disarm`` each draw (site, index) is one group: its elements are conditionally
  independent given everything drawn before. Group g re-runs the program from the uniforms
  with that draw's u replaced by 1 - u and all others shared (b~^g), and for i in g
  ghat_i = 1/2 (L(S) - L(b~^g)) (-1)^{b~^g_i} 1[S_i != b~^g_i] sigma(|logit p_i|); the sum
  over i is ONE VJP of the teacher-forced probabilities with cotangent ghat / (p (1 - p))
  (G + 1 program runs per sample, G = number of draws; derivation: ``disarm_gradient``).

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis.stochastic._program import program_value_and_grad
>>> def program(w, x, src):  # two coins, the second depends on the first
...     a = src.bernoulli("c", jax.nn.sigmoid(w * x), 0)
...     b = src.bernoulli("c", jax.nn.sigmoid(w * a - 1.0), 1)
...     return (a * b).sum()
>>> value, grad = program_value_and_grad(program, {"c": (2,)}, 1.5, 1.0)
>>> round(float(value), 4)
0.5089
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike

from analysis import _validate
from analysis.stochastic import _coupled_flip as _cf
from analysis.stochastic._exact import DEFAULT_MAX_K, _enumerate_sum
from analysis.stochastic._sources import (
    Bernoulli,
    CoupledFlip,
    Forced,
    Heaviside,
    MeanField,
    StraightThrough,
    Trace,
    draw_site_uniforms,
    join_flat,
    n_spike_variables,
    normalize_sites,
    split_flat,
    trace_program,
)


def _dtype(params) -> Any:
    """The floating dtype of the params (float32 params stay float32 under x64); integer
    params compute in the default float."""
    dt = jnp.result_type(*jax.tree_util.tree_leaves(params))
    return dt if jnp.issubdtype(dt, jnp.floating) else jnp.result_type(float)


def _check_params(params: Any) -> None:
    leaves = jax.tree_util.tree_leaves_with_path(params)
    if not leaves:
        raise ValueError("params has no array leaves; give the parameters to differentiate")
    for path, leaf in leaves:
        name = "params" + jax.tree_util.keystr(path)
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            raise TypeError(f"{name} must be a floating-point array (it is differentiated), got {leaf!r}")
        _validate.finite(leaf, name)


def check_program(program: Callable, sites: Any, params: Any, inputs: Any) -> tuple:
    """Validate a program against its site declaration; returns the normalized sites.

    Checks (ValueError/TypeError with a clear message): ``program`` is callable, ``sites`` is a
    valid declaration, params are floating point and finite, every draw uses a declared site
    with p of the declared shape and a static index in range, the program returns a scalar,
    and (when params and inputs are concrete, i.e. not under the caller's jit) every declared
    draw (site, index) is made exactly once in a run.
    """
    if not callable(program):
        raise TypeError(f"program must be a function (params, inputs, src) -> loss, got {program!r}")
    spec = normalize_sites(sites)
    _check_params(params)
    out = jax.eval_shape(_count_fn(program, spec), params, inputs)
    if jnp.shape(out[0]) != ():
        raise ValueError(f"program must return a scalar loss, got an array of shape {jnp.shape(out[0])}")
    leaves = jax.tree_util.tree_leaves((params, inputs))
    if all(_validate.is_concrete(v) for v in leaves):
        counts = jax.jit(_count_fn(program, spec))(params, inputs)[1]
        for name, c in counts.items():
            c = np.asarray(c)
            bad = np.flatnonzero(c != 1)
            if bad.size:
                i = int(bad[0])
                raise ValueError(
                    f"site {name!r}: draw {i} was made {int(c[i])} times in one run; every declared "
                    f"draw (index 0..{c.size - 1}) must be made exactly once per run"
                )
    return spec


def _count_fn(program, spec):
    try:
        return _count_fn_cached(program, spec)
    except TypeError:  # unhashable program
        return _count_fn_cached.__wrapped__(program, spec)


@functools.lru_cache(maxsize=64)
def _count_fn_cached(program, spec):
    """(loss, draw counts) of one run under Bernoulli with u = 1/2 (a hashable, cached callable)."""

    def run(params, inputs):
        u = {name: jnp.full(shape, 0.5, _dtype(params)) for name, shape in spec}
        loss, tr = trace_program(program, spec, params, inputs, Bernoulli(spec, u=u), record=("counts",))
        return loss, tr.counts

    return run


def program_log_prob_and_loss(program: Callable, sites: Any, params: Any, inputs: Any, spikes: Any) -> tuple:
    """(log P(S = spikes), L(spikes)) with the configuration teacher forced.

    ``spikes``: {site: {0,1} array (n_draws, *shape)}. log P = sum_k S_k log p_k +
    (1 - S_k) log(1 - p_k), with p_k the probabilities the program computes given the
    forced earlier spikes; differentiable in params (jax.grad).
    """
    spec = normalize_sites(sites)
    loss, tr = trace_program(
        program, spec, params, inputs, Forced(spec, spikes=spikes), _dtype(params), ("probs",)
    )
    assert tr.probs is not None
    return Trace(tr.probs, spikes, None).log_prob(), loss


def _guard(spec, max_k: int, chunk: int) -> int:
    K = sum(math.prod(s) for _, s in spec)
    max_k = _validate.positive_int(max_k, "max_k")
    if K > max_k:
        raise ValueError(
            f"exact enumeration of this program needs 2^K = 2^{K} = {2.0**K:.3g} spike configurations "
            f"(K = {K} spike variables over sites {dict(spec)}), above the limit max_k = {max_k}. "
            "Declare fewer draws, raise max_k, or use a Monte-Carlo estimator (program_estimate)."
        )
    return K


def program_value_and_grad(
    program: Callable, sites: Any, params: Any, inputs: Any, *, max_k: int = DEFAULT_MAX_K, chunk: int = 2**12
) -> tuple[jax.Array, Any]:
    """Exact E[L] and grad_params E[L] = sum_S grad(P(S) L(S)) over all 2^K configurations.

    Each configuration is teacher forced (:func:`program_log_prob_and_loss`); configurations
    are vmapped in chunks of ``chunk``, chunks summed in a ``lax.scan`` with the gradient of
    each partial sum (memory independent of 2^K). Raises ValueError giving K and 2^K when
    K > ``max_k``. Returns (value: scalar, grad: pytree like params).
    """
    spec = check_program(program, sites, params, inputs)
    chunk = _validate.positive_int(chunk, "chunk")
    chunk = 1 << min(chunk.bit_length() - 1, 30)  # a power of two divides 2^K
    K = _guard(spec, max_k, chunk)
    return _exact_fn(program, spec, K, chunk)(params, inputs)


def _exact_fn(program, spec, K, chunk):
    try:
        return _exact_fn_cached(program, spec, K, chunk)
    except TypeError:  # unhashable program: compile without the cache
        return _exact_fn_cached.__wrapped__(program, spec, K, chunk)


@functools.lru_cache(maxsize=64)
def _exact_fn_cached(program, spec, K, chunk):
    def run(params, inputs):
        dtype = _dtype(params)

        def chunk_sum(pp, bits):
            def one(b):
                lp, loss = program_log_prob_and_loss(program, spec, pp, inputs, split_flat(b, spec))
                return jnp.exp(lp) * loss

            return jnp.sum(jax.vmap(one)(bits))

        fn = lambda bits: jax.value_and_grad(chunk_sum)(params, bits)
        # the accumulator takes the dtypes the program returns (inputs may promote the loss)
        shapes = jax.eval_shape(fn, jax.ShapeDtypeStruct((min(chunk, 2**K), K), dtype))
        like = jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), shapes)
        return _enumerate_sum(fn, K, min(chunk, 2**K), dtype, like)

    return jax.jit(run)


# ---------------------------------------------------------------- estimators


def _sampled(program, spec, params, inputs, u):
    loss, tr = trace_program(program, spec, params, inputs, Bernoulli(spec, u=u), record=("spikes",))
    return jax.lax.stop_gradient(loss), tr.spikes


def _score(program, spec, params, inputs, u):
    def one(ui):
        loss, s = _sampled(program, spec, params, inputs, ui)

        def objective(pp):  # grad log P(S) * L(S) + the direct term dL/dparams with S fixed
            lp, loss_f = program_log_prob_and_loss(program, spec, pp, inputs, s)
            return lp * loss + loss_f

        return jax.grad(objective)(params)

    return jax.vmap(one)(u)


def _coupled_flip_one(program, spec, params, inputs, ui):
    loss, s = _sampled(program, spec, params, inputs, ui)
    flat = join_flat(s, spec)
    K = flat.shape[0]
    value = split_flat(1.0 - flat, spec)

    def flipped(k):
        mask = split_flat(jnp.arange(K) == k, spec)
        src = CoupledFlip(spec, u=ui, mask=mask, value=value)
        return trace_program(program, spec, params, inputs, src, record=())[0]

    c = (2.0 * flat - 1.0) * (loss - jax.vmap(flipped)(jnp.arange(K)))  # L(S_k<-1) - L(S_k<-0)
    return _direct_plus_vjp(program, spec, params, inputs, s, split_flat(jax.lax.stop_gradient(c), spec))


def _direct_plus_vjp(program, spec, params, inputs, s, cot):
    """dL/dparams with the spikes ``s`` held fixed, plus sum_k cot_k grad p_k: the direct term
    and ONE vector-Jacobian product of the teacher-forced spike probabilities."""

    def objective(pp):
        loss_f, tr = trace_program(program, spec, pp, inputs, Forced(spec, spikes=s), record=("probs",))
        return loss_f + sum(jnp.sum(cot[name] * tr.probs[name]) for name, _ in spec)

    return jax.grad(objective)(params)


def _coupled_flip(program, spec, params, inputs, u):
    return jax.vmap(lambda ui: _coupled_flip_one(program, spec, params, inputs, ui))(u)


#: mixing weight of the uniform part of the flip proposal of ``coupled_flip_sub``
FLIP_MIX = 0.5
#: ``fold_in`` constant that derives the flip-index uniforms of ``coupled_flip_sub`` from the key
_FLIP_TAG = 0x5F11B


def flip_proposal(p: jax.Array, mix: float = FLIP_MIX) -> jax.Array:
    """q_k = mix/K + (1 - mix) w_k / sum_j w_j with w_k = p_k (1 - p_k) (uniform if all w = 0).

    ``p``: the K spike probabilities (flat). Every q_k >= mix/K > 0, so importance sampling
    from q is unbiased; w_k = p_k (1 - p_k) is f'(z_k) for the sigmoid (the weight of the
    Network estimator ``subsampled_coupled_flip_gradient``), and a program only knows p.
    """
    return _cf.flip_proposal(p * (1.0 - p), mix)


def _coupled_flip_sub_one(program, spec, params, inputs, ui, vi):
    loss, tr = trace_program(program, spec, params, inputs, Bernoulli(spec, u=ui), record=("probs", "spikes"))
    loss, s = jax.lax.stop_gradient(loss), tr.spikes
    flat = join_flat(s, spec)
    K = flat.shape[0]
    p = jax.lax.stop_gradient(join_flat(tr.probs, spec))
    idx, q = _cf.importance_flips(p * (1.0 - p), vi, FLIP_MIX)
    value = split_flat(1.0 - flat, spec)

    def flipped(k):
        mask = split_flat(jnp.arange(K) == k, spec)
        src = CoupledFlip(spec, u=ui, mask=mask, value=value)
        return trace_program(program, spec, params, inputs, src, record=())[0]

    c = (2.0 * flat[idx] - 1.0) * (loss - jax.vmap(flipped)(idx))  # L(S_k<-1) - L(S_k<-0), k = k_m
    cot = _cf.importance_cotangent(idx, q, c)
    return _direct_plus_vjp(program, spec, params, inputs, s, split_flat(jax.lax.stop_gradient(cot), spec))


def _coupled_flip_sub(program, spec, params, inputs, u, v):
    return jax.vmap(lambda ui, vi: _coupled_flip_sub_one(program, spec, params, inputs, ui, vi))(u, v)


def _draw_masks(spec) -> tuple[int, dict[str, np.ndarray]]:
    """G (total number of draws) and {site: bool (G, n_draws)}, True where group g is the draw
    (site, index); groups are numbered site by site in declaration (sorted) order."""
    G = sum(shape[0] for _, shape in spec)
    masks, off = {}, 0
    for name, shape in spec:
        m = np.zeros((G, shape[0]), bool)
        m[off + np.arange(shape[0]), np.arange(shape[0])] = True
        masks[name] = m
        off += shape[0]
    return G, masks


def _disarm_one(program, spec, params, inputs, ui):
    loss, tr = trace_program(program, spec, params, inputs, Bernoulli(spec, u=ui), record=("probs", "spikes"))
    loss, s = jax.lax.stop_gradient(loss), tr.spikes
    p = jax.lax.stop_gradient(tr.probs)
    G, masks = _draw_masks(spec)

    def antithetic(mask):  # the group's uniforms mirrored, every other uniform shared
        u_t = {}
        for name, shape in spec:
            m = mask[name].reshape(mask[name].shape + (1,) * (len(shape) - 1))
            u_t[name] = jnp.where(m, 1.0 - ui[name], ui[name])
        loss_t, tr_t = trace_program(
            program, spec, params, inputs, Bernoulli(spec, u=u_t), record=("spikes",)
        )
        return jax.lax.stop_gradient(loss_t), tr_t.spikes

    l_anti, s_anti = jax.vmap(antithetic)({k: jnp.asarray(v) for k, v in masks.items()})  # (G,), (G, ...)
    cot, off = {}, 0
    for name, shape in spec:
        d = np.arange(shape[0])
        b_t = s_anti[name][off + d, d]  # b~ of each draw from its own antithetic run
        half = (0.5 * (loss - l_anti[off + d])).reshape((shape[0],) + (1,) * (len(shape) - 1))
        m = jnp.minimum(p[name], 1.0 - p[name])  # sigma(|alpha|) / (p (1 - p)) = 1 / min(p, 1 - p)
        differ = (b_t != s[name]) & (m > 0)  # P(differ) = 2 min(p, 1 - p)
        sign = 1.0 - 2.0 * b_t  # (-1)^{b~_i}
        cot[name] = jnp.where(differ, half * sign / jnp.where(differ, m, 1.0), 0.0)  # ghat / (p (1 - p))
        off += shape[0]
    return _direct_plus_vjp(program, spec, params, inputs, s, jax.lax.stop_gradient(cot))


def _disarm(program, spec, params, inputs, u):
    return jax.vmap(lambda ui: _disarm_one(program, spec, params, inputs, ui))(u)


def _score_loo(program, spec, params, inputs, u):
    """Score function with the leave-one-out baseline b_i = mean_{j != i} L(S_j): b_i is
    independent of S_i, so E[grad log P(S_i) b_i] = 0 and the estimator stays unbiased."""
    losses, s = jax.vmap(lambda ui: _sampled(program, spec, params, inputs, ui))(u)
    n = losses.shape[0]
    centred = losses - (jnp.sum(losses) - losses) / (n - 1)

    def one(si, ci):
        def objective(pp):
            lp, loss_f = program_log_prob_and_loss(program, spec, pp, inputs, si)
            return lp * ci + loss_f

        return jax.grad(objective)(params)

    return jax.vmap(one)(s, jax.lax.stop_gradient(centred))


def _sg_stochastic(program, spec, params, inputs, u):
    loss = lambda pp, ui: trace_program(program, spec, pp, inputs, StraightThrough(spec, u=ui), record=())[0]
    return jax.vmap(jax.grad(loss), in_axes=(None, 0))(params, u)


def _tiled(u, g):
    n = jax.tree_util.tree_leaves(u)[0].shape[0]
    return jax.tree_util.tree_map(lambda v: jnp.broadcast_to(v, (n,) + jnp.shape(v)), g)


def _deterministic_grad(source_cls):
    """Estimator: jax.grad of the program under a source without randomness, tiled to n."""

    def estimator(program, spec, params, inputs, u):
        src = source_cls(spec)
        g = jax.grad(lambda pp: trace_program(program, spec, pp, inputs, src, record=())[0])(params)
        return _tiled(u, g)

    return estimator


_sg_deterministic = _deterministic_grad(Heaviside)
_mean_field = _deterministic_grad(MeanField)


PROGRAM_ESTIMATORS: dict[str, Callable] = {
    "sg_stochastic": _sg_stochastic,
    "sg_deterministic": _sg_deterministic,
    "score": _score,
    "score_loo": _score_loo,
    "coupled_flip": _coupled_flip,
    "coupled_flip_sub": _coupled_flip_sub,
    "disarm": _disarm,
    "linearised": _sg_stochastic,  # = sg_stochastic sample by sample (Gygax & Zenke 2025 sec. 4)
    "mean_field": _mean_field,
}
#: estimators whose mean is grad E[L] for every program
PROGRAM_UNBIASED = ("score", "score_loo", "coupled_flip", "coupled_flip_sub", "disarm")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or name not in PROGRAM_ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; valid names: {', '.join(PROGRAM_ESTIMATORS)}")
    return name


def program_estimator_memory(
    name: str, sites: Any, params: Any, n: int, itemsize: int = 8, *, n_flips: int = 8
) -> int:
    """Rough lower estimate (bytes) of the memory of ``program_estimate(name, ..., n)``.

    Per run of the program: its recorded trace (uniforms, probabilities and spikes of the K
    spike variables) and a gradient of the P parameters, about 3 K + P numbers; the program's
    own intermediates are not known and come on top. ``coupled_flip`` makes K re-runs per
    sample, ``coupled_flip_sub`` ``n_flips``, ``disarm`` G (the number of declared draws);
    everything is vmapped over the n samples at once.
    """
    name = _check_name(name)
    n_flips = _validate.positive_int(n_flips, "n_flips")
    K = n_spike_variables(sites)
    P = sum(int(jnp.size(leaf)) for leaf in jax.tree_util.tree_leaves(params))
    G = sum(shape[0] for _, shape in normalize_sites(sites))
    runs = 1 + {"coupled_flip": K, "coupled_flip_sub": n_flips, "disarm": G}.get(name, 0)
    return int(itemsize * int(n) * runs * (3 * K + P))


def program_estimate(
    name: str,
    key: jax.Array,
    program: Callable,
    sites: Any,
    params: Any,
    inputs: Any,
    n: int,
    *,
    n_flips: int = 8,
    max_memory_gib: float = _validate.DEFAULT_MAX_MEMORY_GIB,
) -> Any:
    """Per-sample estimates of grad E[L] by estimator ``name`` (``PROGRAM_ESTIMATORS``).

    Returns a pytree like ``params`` whose leaves have a leading sample axis of length n.
    Sample i uses the uniforms ``draw_site_uniforms(key, sites, n)[site][i]``; estimators
    called with the same key see the same spikes. ``n_flips`` (M, a positive int) is the
    number of importance-sampled flips per sample of ``coupled_flip_sub`` (ignored by the
    others); its flip-index uniforms come from ``fold_in(key, _FLIP_TAG)``, so the spike
    uniforms do not depend on it. Let the caller jit. Refuses (ValueError, with the estimate)
    when :func:`program_estimator_memory` exceeds ``max_memory_gib``.
    """
    name = _check_name(name)
    n = _validate.positive_int(n, "n")
    n_flips = _validate.positive_int(n_flips, "n_flips")
    spec = check_program(program, sites, params, inputs)
    _check_n(name, n)
    _validate.memory_guard(
        program_estimator_memory(name, sites, params, n, n_flips=n_flips),
        f"estimator {name} with n = {n} samples (K = {n_spike_variables(sites)} spike variables)",
        max_memory_gib,
    )
    u = draw_site_uniforms(key, spec, n, _dtype(params))
    return _run(name, program, spec, params, inputs, u, key, n_flips)


def _check_n(name: str, n: int) -> None:
    if name == "score_loo" and n < 2:
        raise ValueError(
            f"score_loo needs n >= 2 samples (leave-one-out baseline over the others), got n = {n}"
        )


def _run(name, program, spec, params, inputs, u, flip_key, n_flips):
    """Dispatch: ``coupled_flip_sub`` also gets its flip-index uniforms (n, n_flips)."""
    fn = PROGRAM_ESTIMATORS[name]
    if name != "coupled_flip_sub":
        return fn(program, spec, params, inputs, u)
    if flip_key is None:
        raise ValueError("coupled_flip_sub needs flip_key (the key of its flip-index uniforms)")
    n = jax.tree_util.tree_leaves(u)[0].shape[0]
    dtype = jax.tree_util.tree_leaves(u)[0].dtype
    v = jax.random.uniform(jax.random.fold_in(flip_key, _FLIP_TAG), (n, n_flips), dtype)
    return fn(program, spec, params, inputs, u, v)


def program_estimate_from_uniforms(
    name: str,
    program: Callable,
    sites: Any,
    params: Any,
    inputs: Any,
    u: dict,
    dtype: DTypeLike | None = None,
    *,
    n_flips: int = 8,
    flip_key: jax.Array | None = None,
) -> Any:
    """Like :func:`program_estimate` with the uniforms given: u = {site: (n, n_draws, *shape)}.

    ``coupled_flip_sub`` also needs ``flip_key``: its M = ``n_flips`` flip-index uniforms per
    sample are ``uniform(fold_in(flip_key, _FLIP_TAG), (n, M))`` (with flip_key = key this
    reproduces :func:`program_estimate`).
    """
    name = _check_name(name)
    n_flips = _validate.positive_int(n_flips, "n_flips")
    spec = check_program(program, sites, params, inputs)
    if not isinstance(u, dict) or set(u) != {nm for nm, _ in spec}:
        raise ValueError(f"u must be a dict with one entry per site {[nm for nm, _ in spec]}")
    n = None
    for nm, shape in spec:
        sh = jnp.shape(u[nm])
        if len(sh) != len(shape) + 1 or sh[1:] != shape or (n is not None and sh[0] != n):
            raise ValueError(f"u[{nm!r}] must have shape (n,) + {shape}, got {sh}")
        n = sh[0]
    _check_n(name, int(n))  # type: ignore[arg-type]  # spec is non-empty
    u = {k: jnp.asarray(v, dtype or _dtype(params)) for k, v in u.items()}
    return _run(name, program, spec, params, inputs, u, flip_key, n_flips)
