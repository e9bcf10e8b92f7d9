"""Gradient alignment at scale: surrogate gradients against an unbiased stochastic-AD reference,
on the networks that are trained (:mod:`analysis.snn`: dense, recurrent or conv1d, batched).

For networks too large to enumerate, the reference for grad E[L] of the stochastic network
(``Method("stochastic")``: S ~ Bernoulli(f(U - theta)), the network as a stochastic program,
:mod:`analysis.stochastic._snn_program`) is the mean of an unbiased coupled-flip estimator
(stochastic AD, Arya et al., NeurIPS 2022; Gygax & Zenke 2025, sec. 4) with its per-coordinate
standard error. Against it we measure the cosine similarity and the sign agreement (over the
coordinates where the reference is significant, |mean| > 2 SE) of

* ``stoch_matched``    -- E[SG] of the stochastic network with psi = f' (smoothed stochAD; the
  program estimator with the straight-through source, variant None, equals jax.grad of the
  training path with the matched surrogate sample by sample, which the default uses),
* ``stoch_mismatched`` -- E[SG] of the stochastic network with a SuperSpike surrogate (the
  training path: ``jax.grad`` of :func:`analysis.snn.simulate`, keys whose uniforms are those
  of the matched samples, :func:`analysis.stochastic.snn_uniforms`),
* ``det_matched`` / ``det_mismatched`` -- the SG of the deterministic network (Theta
  forward, ``Method("deterministic")``, the training path) with the same two surrogates
  (``det_matched`` equals the program estimator ``sg_deterministic``),

(Gygax & Zenke 2025, secs. 4-5). The reference is noisy, which lowers every cosine; the
``ceiling`` column is the cosine between the means of two independent halves of the
reference samples, and ``cos_se`` a jackknife standard error of each cosine over ten
reference batches, so that differences between methods can be judged. Moments are
accumulated chunk by chunk (memory O(P) whatever the number of samples); each network's
samplers compile once (one chunk shape for the pilot and the reference).

Reference estimator (``AlignmentBudget.estimator``): ``coupled_flip_sub`` (M = 8 flips, the
default), ``disarm`` (Dong, Mnih & Tucker 2020; one antithetic run per draw) or
``disarm_wavefront`` (one antithetic run per step of a wavefront through the layers). Measured
on the full profile's networks (x64, 2 cores shared with other jobs, load 3-15; tr Cov of one
sample, |g|^2 from DisARM):

=========  ===================  ================  =====================  ======================
network    coupled_flip_sub     disarm            disarm_wavefront       ceiling of 20000 c.f.s.
=========  ===================  ================  =====================  ======================
base       11.5 (5.7 ms)        0.113 (93 ms)     2.2x var, 3.7x faster  0.96 (r = 454)
depth 4    106 (68 ms)          0.26 (2.5 s)      2.3x var, 3.7x faster  0.53 (r = 8800)
width 128  188 (144 ms)         1.33 (1.1 s)                             0.86 (r = 1700)
width 512  1.2e4 (273 ms)       19 (2.0 s)        2.0x var, 3.4x faster  0.22 (r = 36000)
200 steps  22 (116 ms)          0.049 (1.8 s)                            0.91 (r = 1000)
=========  ===================  ================  =====================  ======================

(times per sample at different loads: compare within a row only where measured together).
DisARM has 100-640x less variance per sample, and the wavefront grouping 1.7x less variance
per second than one group per draw, so the full profile uses ``disarm_wavefront`` sized for
an expected ceiling of 0.95 with at most 400 samples. At 400 its variance is at most that of
20000 coupled-flip samples (the former fixed budget) on each network above; a row that stops
below 400 has reached 0.95 (the former expected ceiling of the base network was 0.96;
r = tr Cov / |g|^2).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate
from analysis._validate import DEFAULT_MAX_MEMORY_GIB
from analysis.neuron import Surrogate, surrogate
from analysis.snn import Method, SimResult, SNNConfig, simulate
from analysis.stochastic._alignment_stats import (
    JACKKNIFE_BATCHES,
    _balanced,
    _moments,
    _reference_stats,
    _segments,
    flatten_jnp,
    jackknife_se,
    leave_one_out_cosines,
)
from analysis.stochastic._compare import cosine
from analysis.stochastic._estimators import _disarm_one, estimate, estimate_from_uniforms, estimator_memory
from analysis.stochastic._program import param_dtype
from analysis.stochastic._snn_program import snn_program, snn_uniforms

#: the program estimators used: the unbiased reference (subsampled coupled flips, about M + 2
#: runs per sample) and the SG of the stochastic network with the matched surrogate
REFERENCE = "coupled_flip_sub"
SG_STOCHASTIC = "sg_stochastic"


#: the unbiased estimators the reference may use (i.i.d. samples; see :func:`estimate` and
#: :func:`_wavefront_groups` for ``disarm_wavefront``)
REFERENCES = ("coupled_flip_sub", "disarm", "disarm_wavefront")


@dataclass(frozen=True)
class AlignmentBudget:
    """Sampling budget of :func:`snn_alignment`.

    ``estimator``: the unbiased reference estimator, ``coupled_flip_sub`` (``n_flips``
    importance-sampled flips per sample, M + 2 program runs), ``disarm`` (one antithetic
    run per draw: G + 1 runs, G = time steps x spiking layers) or ``disarm_wavefront``
    (DisARM with one antithetic run per step of a wavefront through the layers: G = time
    steps + spiking layers - 1; :func:`_wavefront_groups`). ``n_sg`` samples of each
    stochastic SG variant; ``chunk`` samples drawn at a time (lowered to fit the memory guard
    of the reference estimator).

    Reference size. ``ref_ceiling`` None: exactly ``n_ref`` samples (at least 20, two per
    jackknife batch). ``ref_ceiling`` c in (0, 1): n is chosen so that the expected split-half
    ceiling is c, clipped to [``n_ref_min``, ``n_ref``] (``n_ref`` is then the maximum): an
    independent pilot of ``n_pilot`` samples estimates the per-sample noise-to-signal ratio
    r = tr Cov / |grad|^2 and n = 2 r c / (1 - c) (:func:`reference_size`); the pilot is
    discarded and n fresh samples are drawn, so n is independent of them and the reference
    mean stays unbiased given n (and so unconditionally).
    """

    n_ref: int = 2000
    n_flips: int = 8
    n_sg: int = 256
    chunk: int = 250
    estimator: str = "coupled_flip_sub"
    ref_ceiling: float | None = None
    n_ref_min: int = 2 * JACKKNIFE_BATCHES
    n_pilot: int = 40

    def __post_init__(self) -> None:
        for name in ("n_ref", "n_flips", "n_sg", "chunk", "n_ref_min", "n_pilot"):
            _validate.positive_int(getattr(self, name), name)
        for name in ("n_ref", "n_ref_min"):
            if getattr(self, name) < 2 * JACKKNIFE_BATCHES:
                raise ValueError(
                    f"{name} must be at least {2 * JACKKNIFE_BATCHES} (jackknife batches), "
                    f"got {getattr(self, name)}"
                )
        if self.n_ref_min > self.n_ref:
            raise ValueError(f"n_ref_min ({self.n_ref_min}) must not exceed n_ref ({self.n_ref})")
        if self.n_pilot < 2:
            raise ValueError(f"n_pilot must be at least 2 (a sample variance), got {self.n_pilot}")
        if self.estimator not in REFERENCES:
            raise ValueError(f"estimator must be one of {REFERENCES}, got {self.estimator!r}")
        c = self.ref_ceiling
        if c is not None and (
            isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.0 < float(c) < 1.0
        ):
            raise ValueError(f"ref_ceiling must be None or a number in (0, 1), got {c!r}")


def reference_size(
    sums: Any, sumsq: Any, n_pilot: int, target: float, n_min: int, n_max: int, chunk: int = 1
) -> tuple[int, float]:
    """(n, r): the reference size for an expected split-half ceiling ``target`` from a pilot.

    ``sums``, ``sumsq`` [P]: sum and sum of squares of the ``n_pilot`` pilot samples. With
    per-sample mean g and covariance C, two halves of n/2 samples give means h1, h2 with
    E[h1 . h2] = |g|^2 and E|h_i|^2 = |g|^2 + 2 tr C / n, so the ceiling cos(h1, h2) is about
    1 / (1 + 2 r / n), r = tr C / |g|^2; it equals ``target`` at n = 2 r target / (1 - target).
    r is estimated by tr C^ / (|m|^2 - tr C^ / n_pilot) (m the pilot mean; |m|^2 is biased up
    by tr C / n_pilot), r = inf when that denominator is <= 0 (the pilot does not resolve the
    gradient). n is rounded up to a multiple of ``chunk`` (no masked samples), then clipped
    to [n_min, n_max].
    """
    s, q = np.asarray(sums, float), np.asarray(sumsq, float)
    mean = s / n_pilot
    tr = float(np.sum(np.maximum(q - n_pilot * mean**2, 0.0)) / (n_pilot - 1))
    signal = float(mean @ mean) - tr / n_pilot
    r = tr / signal if signal > 0 else float("inf")
    want = 2.0 * r * target / (1.0 - target)
    n = n_max if not np.isfinite(want) or want >= n_max else chunk * math.ceil(want / chunk)
    return int(min(max(n, n_min), n_max)), r


@functools.partial(jax.jit, static_argnums=(2, 3))
def _rates(params, x, cfg, method, key):
    return jnp.stack([jnp.mean(s) for s in simulate(params, x, cfg, method, key=key).spikes])


def _hidden_rate(params, x, cfg, method, key) -> float:
    """Mean spike probability per neuron and bin of the hidden layers (layers averaged)."""
    return float(np.mean(np.asarray(_rates(params, x, cfg, method, key))))


def _fitting_chunk(chunk: int, program: Any, params: Any, n_flips: int, estimator: str = REFERENCE) -> int:
    """``chunk`` reduced so that one chunk of the reference estimator stays within the
    memory guard of :func:`estimate` (large networks get smaller chunks, not an error)."""
    name = "disarm" if estimator == "disarm_wavefront" else estimator  # an upper estimate of it
    per_sample = estimator_memory(name, program, params, 1, n_flips=n_flips)  # as the guard
    return max(1, min(chunk, int(DEFAULT_MAX_MEMORY_GIB * 2**30 // per_sample)))


def _wavefront_groups(program: Any) -> dict[str, np.ndarray]:
    """DisARM groups of an :func:`snn_program`: draw t of layer l (the readout counts as layer
    L, after the L hidden layers) joins group t + l, so G = T + L antithetic runs instead of
    T (L + 1).

    Unbiased (the condition of :func:`analysis.stochastic._estimators._disarm_one`): the
    spike probabilities of layer l at step t depend on the spikes of layer l at steps < t
    (reset, recurrence; groups < t + l) and of layers l' < l at steps <= t (groups
    <= t + l' < t + l), never on a later layer nor a later step, so given the groups before
    t + l the draws of group t + l are independent Bernoullis (:mod:`analysis.snn` even
    delays each layer's input by one bin, so the condition holds with room). Measured on the full
    profile's base network (x64, 2 shared cores, load 15, 40 samples each): 263 ms and
    tr Cov 0.25 per sample against 981 ms and 0.11 for one group per draw (1.65x less
    variance per second).
    """
    names = {nm for nm, _ in program.sites}
    layers = [f"layer{i}" for i in range(len(names - {"readout"}))]
    depth = {nm: i for i, nm in enumerate(layers)} | {"readout": len(layers)}
    if not names <= set(depth):
        raise ValueError(
            f"disarm_wavefront needs an snn_program (sites layer0.., readout), got {program.sites}"
        )
    return {nm: np.arange(shape[0]) + depth[nm] for nm, shape in program.sites}


@functools.lru_cache(maxsize=64)
def _reference_sampler(program, chunk, n_flips, estimator=REFERENCE):
    """Chunk c of the reference samples (estimator ``estimator``)."""
    if estimator == "disarm_wavefront":
        groups = _wavefront_groups(program)

        def wave(args, c):
            params, inputs, key = args
            u = program.draw_uniforms(jax.random.fold_in(key, c), chunk, param_dtype(params))
            return flatten_jnp(jax.vmap(lambda ui: _disarm_one(program, params, inputs, ui, groups))(u))

        return wave

    def sample(args, c):
        params, inputs, key = args
        g = estimate(
            estimator, program, params, inputs, chunk, key=jax.random.fold_in(key, c), n_flips=n_flips
        )
        return flatten_jnp(g)

    return sample


def _cached(builder, *args):
    """``builder(*args)`` from its cache; built anew when an argument (e.g. the user's loss
    function) is not hashable."""
    try:
        hash(args)
    except TypeError:
        return builder.__wrapped__(*args)
    return builder(*args)


def _x(inputs):
    return inputs[0] if isinstance(inputs, tuple) else inputs


def _sample_keys(key, c, chunk):
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(c * chunk + jnp.arange(chunk))


@functools.lru_cache(maxsize=64)
def _sg_sampler(cfg, method, loss_fn, chunk):
    """Per-sample SGs; sample i uses key fold_in(key, i). ``method`` None: the program
    estimator SG_STOCHASTIC (stochastic network, matched surrogate) on the uniforms
    snn_uniforms(key_i) -- the spikes of the training path with that key."""
    if method is None:
        return _matched_sg_sampler(cfg, loss_fn, chunk)

    def sample(args, c):
        params, inputs, key = args

        def one(k):
            return jax.grad(lambda p: loss_fn.loss(simulate(p, _x(inputs), cfg, method, key=k), inputs))(
                params
            )

        return flatten_jnp(jax.vmap(one)(_sample_keys(key, c, chunk)))

    return sample


def _matched_sg_sampler(cfg, loss_fn, chunk):
    ref_method = Method("stochastic", loss_fn.hidden_noise, loss_fn.output_noise)

    def sample(args, c):
        params, inputs, key = args
        x = _x(inputs)
        B, T = x.shape[0], x.shape[1]
        program = snn_program(cfg, ref_method, loss_fn.loss, B, T)
        keys = _sample_keys(key, c, chunk)
        u = jax.vmap(lambda k: snn_uniforms(k, cfg, B, T, x.dtype))(keys)
        return flatten_jnp(estimate_from_uniforms(SG_STOCHASTIC, program, params, inputs, u))

    return sample


@dataclass(frozen=True)
class _Loss:
    loss: Callable
    hidden_noise: Any
    output_noise: Any


def default_variants(method: Method, mismatch: Surrogate) -> dict[str, Method | None]:
    """The four SG variants of :data:`METHODS` for the stochastic network ``method``.

    ``stoch_matched`` is jax.grad of the training path with the matched surrogate, equal
    sample by sample (to round-off) to the program estimator ``sg_stochastic`` (variant
    None) on the same keys, and 3.1x faster at width 512 (78 vs 245 ms per sample, full
    profile's width-512 network, 2 cores, load 9)."""
    h, o = method.hidden_noise, method.output_noise
    return {
        "stoch_matched": Method("stochastic", h, o),
        "stoch_mismatched": Method("stochastic", h, o, mismatch),
        "det_matched": Method("deterministic", h, o),
        "det_mismatched": Method("deterministic", h, o, mismatch),
    }


def snn_alignment(
    cfg: SNNConfig,
    params: dict,
    inputs: Any,
    loss_fn: Callable[[SimResult, Any], jax.Array],
    *,
    key: jax.Array,
    method: Method,
    budget: AlignmentBudget = AlignmentBudget(),
    variants: Mapping[str, Method | None] | None = None,
    reference: Any = None,
) -> dict:
    """Alignment of SG variants with the unbiased reference on an :mod:`analysis.snn` network.

    ``inputs``: [B, T, n_in] or a tuple whose first entry it is (the rest is for
    ``loss_fn(result, inputs) -> scalar``). ``method``: the stochastic network whose grad E[L]
    is the reference (its escape noise; a stochastic Method). ``variants``: {name: Method or
    None} of the SGs to compare (None = stochastic SG with the matched surrogate, by the
    program estimator); default :func:`default_variants` with SuperSpike (beta 20) as the
    mismatched surrogate. A stochastic variant is averaged over ``budget.n_sg`` samples
    whose spikes are those of the matched samples (same keys), a deterministic one is one
    gradient. Returns a row: K, n_ref, n_flips, ref_seconds, ref_snr, significant_fraction,
    ceiling, rate (mean hidden spike probability per bin of one stochastic run), and per
    variant cos_<name>, cos_se_<name> (jackknife over 10 reference batches), sign_<name>, and
    loo_cos_<name>: the 10 leave-one-out cosines with batch i of the reference and (for a
    variant of at least 20 samples) batch i of its SG samples deleted, from which
    :func:`paired_cos_difference` computes the SE of a difference of two variants' cosines.
    ``reference``: a gradient (pytree like params) to use instead of the sampled reference,
    e.g. the exact grad E[L] by enumeration of a small network (then SE 0, ceiling nan).
    """
    t_start = time.perf_counter()
    variants = _check_alignment(method, key, budget, variants)
    x = jnp.asarray(_x(inputs))
    ref_method = Method("stochastic", hidden_noise=method.hidden_noise, output_noise=method.output_noise)
    program = snn_program(cfg, ref_method, loss_fn, int(x.shape[0]), int(x.shape[1]))
    k_ref, k_sg = jax.random.split(key)
    t0 = time.perf_counter()
    ref, se, ceiling, jack, size = _reference(program, params, inputs, k_ref, budget, reference)
    sig = np.abs(ref) > 2 * se
    row: dict = {
        "K": program.K,
        "n_ref": size["n_ref"],
        "n_ref_max": budget.n_ref,
        "ref_ceiling_target": budget.ref_ceiling,
        "ref_noise_ratio": size["ratio"],
        "n_flips": budget.n_flips,
        "n_sg": budget.n_sg,
        "reference": budget.estimator if reference is None else "given",
        "ref_seconds": time.perf_counter() - t0,
        "ref_snr": float(np.linalg.norm(ref) / np.sqrt(np.sum(se**2))) if se.any() else float("inf"),
        "significant_fraction": float(sig.mean()),
        "ceiling": ceiling,
        "rate": _hidden_rate(params, x, cfg, ref_method, jax.random.fold_in(key, 7))
        if cfg.hidden
        else float("nan"),
    }
    wrapped = _Loss(loss_fn, method.hidden_noise, method.output_noise)
    for name, m in variants.items():
        row.update(_variant_columns(name, m, cfg, wrapped, (params, inputs, k_sg), budget, ref, sig, jack))
    row["seconds"] = time.perf_counter() - t_start
    return row


def _check_alignment(method, key, budget, variants) -> Mapping[str, Method | None]:
    if not isinstance(method, Method) or not method.stochastic:
        raise ValueError(
            f"method must be a stochastic analysis.snn.Method (the reference network), got {method!r}"
        )
    _validate.prng_key(key)
    if not isinstance(budget, AlignmentBudget):
        raise TypeError(f"budget must be an AlignmentBudget, got {type(budget).__name__}")
    if variants is None:
        variants = default_variants(method, surrogate("superspike", 20.0))
    for name, m in variants.items():
        if m is not None and not isinstance(m, Method):
            raise TypeError(f"variant {name!r} must be an analysis.snn.Method or None, got {m!r}")
    return variants


#: fold_in tag of the pilot samples' key (independent of the reference samples' keys)
_PILOT_TAG = 0x9170


def _reference(program, params, inputs, key, budget, given):
    """(mean, SE, split-half ceiling, jackknife batches or None, {n_ref, ratio}) of the
    reference gradient; with ``budget.ref_ceiling`` its size comes from an independent
    pilot (:func:`reference_size`)."""
    if given is not None:  # a given (e.g. exact) reference: no sampling error
        ref = np.asarray(flatten_jnp(jax.tree_util.tree_map(lambda v: jnp.asarray(v)[None], given)))[0]
        return ref, np.zeros_like(ref), float("nan"), None, {"n_ref": 0, "ratio": float("nan")}
    est = budget.estimator
    fit = _fitting_chunk(budget.chunk, program, params, budget.n_flips, est)
    n, ratio = budget.n_ref, float("nan")
    if budget.ref_ceiling is not None:
        # one chunk size for the pilot and the reference: the sampler compiles once
        c_ref = _balanced(budget.n_pilot, min(fit, budget.n_pilot))
        sample = _cached(_reference_sampler, program, c_ref, budget.n_flips, est)
        pilot_key = jax.random.fold_in(key, _PILOT_TAG)
        sums, sumsq = _moments(sample, (params, inputs, pilot_key), budget.n_pilot, c_ref)
        n, ratio = reference_size(
            sums[:JACKKNIFE_BATCHES].sum(0),
            sumsq,
            budget.n_pilot,
            float(budget.ref_ceiling),
            budget.n_ref_min,
            budget.n_ref,
            c_ref,
        )
    else:
        c_ref = _balanced(n, fit)
        sample = _cached(_reference_sampler, program, c_ref, budget.n_flips, est)
    sums, sumsq = _moments(sample, (params, inputs, key), n, c_ref)
    return (*_reference_stats(sums, sumsq, n), {"n_ref": n, "ratio": ratio})


def _variant_columns(name, m, cfg, wrapped, args, budget, ref, sig, jack) -> dict:
    """cos_, cos_se_, loo_cos_ and sign_ columns of one SG variant against the reference."""
    n_s = 1 if (m is not None and not m.stochastic) else budget.n_sg
    c_sg = _balanced(n_s, budget.chunk)
    sampler = _cached(_sg_sampler, cfg, m, wrapped, c_sg)
    g_batches = _moments(sampler, args, n_s, c_sg)[0][:JACKKNIFE_BATCHES]
    g = g_batches.sum(0) / n_s
    sampled = n_s >= 2 * JACKKNIFE_BATCHES  # batch i of its SG samples deleted with the ref's
    g_jack = (g_batches, np.bincount(_segments(n_s)[0], minlength=JACKKNIFE_BATCHES)) if sampled else ()
    return {
        f"cos_{name}": cosine(g, ref),
        f"cos_se_{name}": jackknife_se(leave_one_out_cosines(g, *jack)) if jack else 0.0,
        f"loo_cos_{name}": leave_one_out_cosines(g, *jack, *g_jack).tolist() if jack else None,
        f"sign_{name}": float(np.mean(np.sign(g[sig]) == np.sign(ref[sig]))) if sig.any() else float("nan"),
    }
