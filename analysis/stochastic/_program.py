"""Stochastic programs and their exact expectations by enumeration.

A :class:`Program` is a value: a pure JAX function ``fn(params, inputs, src) -> loss`` (a
scalar) whose Bernoulli draws all go through the spike source ``src``
(``s = src.bernoulli(site, p, index)``, see :mod:`analysis.stochastic._sources`), bundled
with its site declaration ``sites = {name: (n_draws, *shape)}``. ``params`` and ``inputs``
are any pytrees; gradients are pytrees like ``params``. With S the K spike variables and

    P(S) = prod_k p_k^S_k (1 - p_k)^(1 - S_k)

(p_k depending on params, inputs and the earlier spikes), the estimand of every tool is
grad E_S[L(S)]. Exact values are sums over all 2^K configurations, each teacher forced
(Gygax & Zenke 2025, sec. 3: for stochastic networks, exact gradients only by enumeration):

* :func:`exact_value_and_grad` -- E[L] and grad E[L] = sum_S grad(P(S) L(S));
* :func:`exact_mean` -- E[g(S)] of any per-configuration pytree g (e.g. the surrogate
  gradient of a configuration, :func:`analysis.stochastic.sg_given_spikes`), optionally under
  the distributions of several programs with the same sites;
* :func:`spike_probability_range` -- min and max of p_k over all configurations;
* :func:`log_prob_and_loss` -- (log P(S = s), L(s)) of one configuration.

Programs users write may contain ``lax.scan``, ``jax.checkpoint`` (rematerialised BPTT) and
``lax.cond``/``lax.switch`` whose branches do not draw; a draw inside a branch of
``lax.cond`` and a draw inside an inner ``jax.vmap`` over a batch are refused before
anything runs, with one line naming the pattern and its alternative (:func:`check_program`).

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis.stochastic import Program, exact_value_and_grad
>>> def coins(w, x, src):  # two coins, the second depends on the first
...     a = src.bernoulli("c", jax.nn.sigmoid(w * x), 0)
...     b = src.bernoulli("c", jax.nn.sigmoid(w * a - 1.0), 1)
...     return (a * b).sum()
>>> value, grad = exact_value_and_grad(Program(coins, {"c": (2,)}), 1.5, 1.0)
>>> round(float(value), 4)
0.5089
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike

from analysis import _validate
from analysis.stochastic._sources import (
    Bernoulli,
    Forced,
    Trace,
    draw_site_uniforms,
    normalize_sites,
    split_flat,
    trace_program,
)

#: default largest K that exact enumeration accepts (2^22 configurations)
DEFAULT_MAX_K = 22


@dataclass(frozen=True)
class Program:
    """A stochastic program: ``fn(params, inputs, src) -> scalar loss`` and its sites.

    fn : a pure JAX function whose Bernoulli draws all go through ``src.bernoulli``.
    sites : {name: (n_draws, *shape)} (normalized and sorted by name on construction).
    uniforms : optional ``uniforms(key, n, dtype) -> {site: (n, n_draws, *shape)}``, how
        this program's spike uniforms are drawn from a key (default
        :func:`analysis.stochastic.draw_site_uniforms`); program builders set it to keep their
        own sample layout.
    check : optional ``check(params, inputs)`` raising a clear error on bad arguments (run
        by every tool before anything is computed).

    Hashable by value (fn, uniforms and check by identity), so the tools compile a program
    once; pass the same Program (or equal ones) to reuse compilations. ``program(params,
    inputs, src)`` calls ``fn``; :attr:`K` is the number of spike variables.
    """

    fn: Callable
    sites: Any
    uniforms: Callable | None = None
    check: Callable | None = None

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"fn must be a function (params, inputs, src) -> loss, got {self.fn!r}")
        object.__setattr__(self, "sites", normalize_sites(self.sites))
        for name in ("uniforms", "check"):
            if getattr(self, name) is not None and not callable(getattr(self, name)):
                raise TypeError(f"{name} must be callable or None, got {getattr(self, name)!r}")

    def __call__(self, params: Any, inputs: Any, src: Any) -> jax.Array:
        return self.fn(params, inputs, src)

    @property
    def K(self) -> int:
        """The number of spike variables: sum over sites of n_draws * prod(shape)."""
        return sum(math.prod(s) for _, s in self.sites)

    @property
    def n_draws(self) -> int:
        """G, the number of draws (site, index) of one run."""
        return sum(s[0] for _, s in self.sites)

    def draw_uniforms(self, key: jax.Array, n: int, dtype: DTypeLike | None = None) -> dict:
        """The spike uniforms {site: (n, n_draws, *shape)} of n samples from ``key``."""
        if self.uniforms is not None:
            return self.uniforms(key, n, dtype)
        return draw_site_uniforms(key, self.sites, n, dtype)


def as_program(program: Any) -> Program:
    """``program`` itself, or the Program a builder object returns from ``.program()``."""
    if isinstance(program, Program):
        return program
    build = getattr(program, "program", None)
    if callable(build):
        return build()
    raise TypeError(
        f"expected a Program(fn, sites) (or an object with a .program() builder such as a Network), "
        f"got {type(program).__name__}"
    )


def param_dtype(params: Any) -> Any:
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


def check_program(program: Any, params: Any, inputs: Any) -> Program:
    """Validate a program and its arguments before anything is computed; returns the Program.

    Checks (ValueError/TypeError naming the problem): the program's own ``check``; params
    are floating point and finite; every draw uses a declared site with p of the declared
    shape and a static index in range; the program returns a scalar; no draw sits inside a
    branch of ``lax.cond``/``lax.switch`` (its count would depend on data); and (when
    params and inputs are concrete, i.e. not under the caller's jit) every declared draw
    (site, index) is made exactly once in a run.
    """
    program = as_program(program)
    if program.check is not None:
        program.check(params, inputs)
    _check_params(params)
    try:
        jaxpr = jax.make_jaxpr(_count_fn(program))(params, inputs)
    except Exception as err:  # a draw inside an inner vmap fails with a JAX reference error
        if "vmapped value on an unbatched array reference" in str(err):
            raise ValueError(_INNER_VMAP) from None
        raise
    _refuse_patterns(jaxpr.jaxpr)
    out = jaxpr.out_avals
    if jnp.shape(out[0]) != ():
        raise ValueError(f"program must return a scalar loss, got an array of shape {jnp.shape(out[0])}")
    leaves = jax.tree_util.tree_leaves((params, inputs))
    if all(_validate.is_concrete(v) for v in leaves):
        counts = jax.jit(_count_fn(program))(params, inputs)[1]
        for name, c in counts.items():
            c = np.asarray(c)
            bad = np.flatnonzero(c != 1)
            if bad.size:
                i = int(bad[0])
                raise ValueError(
                    f"site {name!r}: draw {i} was made {int(c[i])} times in one run; every declared "
                    f"draw (index 0..{c.size - 1}) must be made exactly once per run"
                )
    return program


_INNER_VMAP = (
    "a draw (src.bernoulli) sits inside an inner jax.vmap (e.g. a per-example step vmapped over the "
    "batch); the tools record every draw in place and cannot see through vmap: draw the whole batch "
    "at once (p of shape (B, ...), the site declared with that shape) and vmap only what does not draw"
)
_COND = (
    "a draw (src.bernoulli) sits inside a branch of lax.cond/lax.switch, so whether it is made depends "
    "on data; draw in every case before the branch and select with jnp.where (or lax.select) instead"
)
_CAPTURED_REMAT = (
    "a draw sits inside jax.checkpoint imported before the tools could switch rematerialisation off "
    "(from jax import checkpoint); call it as jax.checkpoint(...) so the tools can trace the program "
    "without rematerialisation (values and derivatives are unchanged)"
)


def _draws_in(eqn) -> bool:
    return any(type(e).__name__ in ("ReadEffect", "WriteEffect") for e in eqn.effects)


def _refuse_patterns(jaxpr) -> None:
    """Refuse, with one line naming the pattern, program shapes the tools cannot trace:
    draws inside a branch of lax.cond/switch, inside a captured jax.checkpoint."""
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "cond" and _draws_in(eqn):
            raise ValueError(_COND)
        if name in ("remat2", "checkpoint", "remat") and _draws_in(eqn):
            raise ValueError(_CAPTURED_REMAT)
        for sub in jax.core.subjaxprs(eqn.params) if hasattr(jax.core, "subjaxprs") else _subjaxprs(eqn):
            _refuse_patterns(sub)


def _subjaxprs(eqn):
    for v in eqn.params.values():
        for item in v if isinstance(v, (tuple, list)) else (v,):
            inner = getattr(item, "jaxpr", item)
            if hasattr(inner, "eqns"):
                yield inner


@functools.lru_cache(maxsize=64)
def _count_fn(program: Program) -> Callable:
    """(loss, draw counts) of one run under Bernoulli with u = 1/2."""

    def run(params, inputs):
        u = {name: jnp.full(shape, 0.5, param_dtype(params)) for name, shape in program.sites}
        src = Bernoulli(program.sites, u=u)
        loss, tr = trace_program(program, params, inputs, src, record=("counts",))
        return loss, tr.counts

    return run


def log_prob_and_loss(program: Any, params: Any, inputs: Any, spikes: Any) -> tuple:
    """(log P(S = spikes), L(spikes)) with the configuration teacher forced.

    ``spikes``: {site: {0,1} array (n_draws, *shape)}. log P = sum_k S_k log p_k +
    (1 - S_k) log(1 - p_k), with p_k the probabilities the program computes given the
    forced earlier spikes; differentiable in params (jax.grad).
    """
    program = as_program(program)
    spec = program.sites
    src = Forced(spec, spikes=spikes)
    loss, tr = trace_program(program, params, inputs, src, dtype=param_dtype(params), record=("probs",))
    assert tr.probs is not None
    return Trace(tr.probs, spikes, None).log_prob(), loss


def _guard(program: Program, max_k: Any) -> int:
    K = program.K
    max_k = _validate.integer(max_k, "max_k", 1, 62)
    if K > max_k:
        raise ValueError(
            f"exact enumeration of this program needs 2^K = 2^{K} = {2.0**K:.3g} spike configurations "
            f"(K = {K} spike variables over sites {dict(program.sites)}), above the limit max_k = {max_k}. "
            "Declare fewer draws, raise max_k, or use a Monte-Carlo estimator (estimate)."
        )
    return K


def _chunk(chunk: Any, K: int) -> int:
    chunk = _validate.integer(chunk, "chunk", 1, 2**30)
    return min(1 << (chunk.bit_length() - 1), 2**K)  # a power of two divides 2^K


def _bits(idx, K, dtype):
    return ((idx[:, None] >> jnp.arange(K)) & 1).astype(dtype)


def _enumerate_sum(fn, K, chunk, dtype, out_like):
    """sum over all s in {0,1}^K of fn(s_batch) (fn maps a (chunk, K) batch to a pytree sum)."""
    n_chunks = 2**K // chunk

    def body(acc, c):
        out = fn(_bits(c * chunk + jnp.arange(chunk), K, dtype))
        return jax.tree_util.tree_map(jnp.add, acc, out), None

    zero = jax.tree_util.tree_map(jnp.zeros_like, out_like)
    return jax.lax.scan(body, zero, jnp.arange(n_chunks))[0]


def _zeros_like_shapes(shapes):
    return jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), shapes)


def exact_value_and_grad(
    program: Any, params: Any, inputs: Any, *, max_k: int = DEFAULT_MAX_K, chunk: int = 2**12
) -> tuple[jax.Array, Any]:
    """Exact E[L] and grad_params E[L] = sum_S grad(P(S) L(S)) over all 2^K configurations.

    Each configuration is teacher forced (:func:`log_prob_and_loss`); configurations are
    vmapped in chunks of ``chunk`` (rounded down to a power of two), chunks summed in a
    ``lax.scan`` with the gradient of each partial sum (memory independent of 2^K). Compiled
    once per (program, chunk). Raises ValueError giving K and 2^K when K > ``max_k``.
    Returns (value: scalar, grad: pytree like params).
    """
    program = check_program(program, params, inputs)
    K = _guard(program, max_k)
    return _exact_fn(program, _chunk(chunk, K))(params, inputs)


@functools.lru_cache(maxsize=64)
def _exact_fn(program: Program, chunk: int) -> Callable:
    spec, K = program.sites, program.K

    def run(params, inputs):
        def chunk_sum(pp, bits):
            def one(b):
                lp, loss = log_prob_and_loss(program, pp, inputs, split_flat(b, spec))
                return jnp.exp(lp) * loss

            return jnp.sum(jax.vmap(one)(bits))

        fn = lambda bits: jax.value_and_grad(chunk_sum)(params, bits)
        # the accumulator takes the dtypes the program returns (inputs may promote the loss)
        like = jax.eval_shape(fn, jax.ShapeDtypeStruct((chunk, K), param_dtype(params)))
        return _enumerate_sum(fn, K, chunk, param_dtype(params), _zeros_like_shapes(like))

    return jax.jit(run)


def exact_mean(
    program: Any,
    params: Any,
    inputs: Any,
    per_config: Callable,
    *,
    weights: Any = None,
    max_k: int = DEFAULT_MAX_K,
    chunk: int = 2**11,
) -> Any:
    """Exact E_S[g(S)] = sum_S P(S) g(S) of a per-configuration pytree g.

    ``per_config(params, inputs, spikes) -> pytree``, spikes = {site: (n_draws, *shape)}.
    ``weights``: a list of programs with the same sites whose distributions P weight the sum
    (one enumeration, one compilation); the result is then a list of means, one per program.
    Compiled once per (program, per_config, weights, chunk) when ``per_config`` is hashable
    by value.
    """
    program = check_program(program, params, inputs)
    if not callable(per_config):
        raise TypeError(
            f"per_config must be a function (params, inputs, spikes) -> pytree, got {per_config!r}"
        )
    progs = (program,) if weights is None else tuple(as_program(w) for w in weights)
    if not progs:
        raise ValueError("weights is empty; give at least one program, or None for the program itself")
    for w in progs:
        if w.sites != program.sites:
            raise ValueError(
                f"weights programs must declare the same sites as the program, got {dict(w.sites)}"
            )
    K = _guard(program, max_k)
    res = _mean_fn(program, per_config, progs, _chunk(chunk, K))(params, inputs)
    return res if weights is not None else res[0]


@functools.lru_cache(maxsize=64)
def _mean_fn(program: Program, per_config: Callable, progs: tuple, chunk: int) -> Callable:
    spec, K = program.sites, program.K

    def run(params, inputs):
        dtype = param_dtype(params)
        one = lambda b: per_config(params, inputs, split_flat(b, spec))
        like = [_zeros_like_shapes(jax.eval_shape(one, jnp.zeros((K,), dtype)))] * len(progs)

        def fn(bits):
            g = jax.vmap(one)(bits)
            out = []
            for m in progs:
                lp = jax.vmap(lambda b, m=m: log_prob_and_loss(m, params, inputs, split_flat(b, spec))[0])(
                    bits
                )
                w = jnp.exp(lp)
                out.append(jax.tree_util.tree_map(lambda v, w=w: jnp.tensordot(w, v, axes=1), g))
            return out

        return _enumerate_sum(fn, K, chunk, dtype, like)

    return jax.jit(run)


def spike_probability_range(
    program: Any, params: Any, inputs: Any, *, max_k: int = 16
) -> tuple[float, float]:
    """(min, max) of the spike probabilities p_k over all variables and all 2^K
    configurations (teacher forced). Monte-Carlo tests with n samples need the rare-event
    probabilities min(p, 1 - p) well above 1/n for their normal approximation to hold.
    """
    program = check_program(program, params, inputs)
    K = _guard(program, max_k)
    lo, hi = _range_fn(program, _chunk(2**12, K))(params, inputs)
    return float(lo), float(hi)


@functools.lru_cache(maxsize=64)
def _range_fn(program: Program, chunk: int) -> Callable:
    spec, K = program.sites, program.K

    def run(params, inputs):
        dtype = param_dtype(params)

        def probs(b):
            src = Forced(spec, spikes=split_flat(b, spec))
            recorded = trace_program(program, params, inputs, src, dtype=dtype, record=("probs",))[1].probs
            assert recorded is not None
            flat = jnp.concatenate([jnp.ravel(recorded[name]) for name, _ in spec])
            return flat.min(), flat.max()

        def fn(bits):
            lo, hi = jax.vmap(probs)(bits)
            return lo.min(), hi.max()

        def body(acc, c):
            lo, hi = fn(_bits(c * chunk + jnp.arange(chunk), K, dtype))
            return (jnp.minimum(acc[0], lo), jnp.maximum(acc[1], hi)), None

        init = (jnp.asarray(jnp.inf, dtype), jnp.asarray(-jnp.inf, dtype))
        return jax.lax.scan(body, init, jnp.arange(2**K // chunk))[0]

    return jax.jit(run)
