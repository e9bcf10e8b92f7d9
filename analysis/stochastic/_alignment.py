"""Gradient alignment at scale: surrogate gradients against an unbiased stochastic-AD reference,
on the networks that are trained (:mod:`analysis.snn`: dense, recurrent or conv1d, batched).

For networks too large to enumerate, the reference for grad E[L] of the stochastic network
(``Method("stochastic")``: S ~ Bernoulli(f(U - theta)), the network as a stochastic program,
:mod:`analysis.stochastic._snn_program`) is the mean of an unbiased coupled-flip estimator
(stochastic AD, Arya et al., NeurIPS 2022; Gygax & Zenke 2025, sec. 4) with its per-coordinate
standard error. Against it we measure the cosine similarity and the sign agreement (over the
coordinates where the reference is significant, |mean| > 2 SE) of

* ``stoch_matched``    -- E[SG] of the stochastic network with psi = f' (smoothed stochAD; the
  program estimator with the straight-through source),
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
accumulated chunk by chunk (memory O(P) whatever the number of samples).
"""

from __future__ import annotations

import dataclasses
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
from analysis.neuron import Surrogate, escape_noise, surrogate
from analysis.snn import LIFParams, Method, SimResult, SNNConfig, init_params, simulate
from analysis.stochastic._compare import cosine
from analysis.stochastic._estimators import estimate, estimate_from_uniforms, estimator_memory
from analysis.stochastic._snn_program import snn_program, snn_uniforms

METHODS = ("stoch_matched", "stoch_mismatched", "det_matched", "det_mismatched")

#: the program estimators used: the unbiased reference (subsampled coupled flips, about M + 2
#: runs per sample) and the SG of the stochastic network with the matched surrogate
REFERENCE = "coupled_flip_sub"
SG_STOCHASTIC = "sg_stochastic"

_JACKKNIFE_BATCHES = 10


@dataclass(frozen=True)
class AlignmentConfig:
    """One :mod:`analysis.snn` network, its data and the sampling budget.

    Network: ``depth`` hidden LIF layers of ``width`` neurons (dense) or ``channels``
    channels (conv1d: input of length ``width``, kernel ``kernel_size``, stride 1), optional
    ``recurrent`` weights, a ``readout`` (``lif``: spiking, its spikes are spike variables
    too; ``integrator``) of ``n_out`` units; ``tau_mem``, ``tau_syn`` in seconds, dt 1 ms; sigmoid
    escape noise of steepness ``beta`` (hidden and readout); fluctuation-driven
    initialisation (membrane std ``sigma_u``). Data: ``batch`` samples of ``steps`` bins of
    Bernoulli(``input_rate``) input spikes. Loss: mean over readout units of (mean over batch
    and time of the readout - target)^2, targets evenly spaced in [0.05, 0.3]. The mismatched
    surrogate is SuperSpike of steepness ``beta_mismatch``. Sampling: ``n_ref`` reference
    samples with ``n_flips`` flips each, ``n_sg`` SG samples, ``chunk`` samples at a time.
    """

    depth: int = 2
    width: int = 16
    steps: int = 30
    beta: float = 5.0
    beta_mismatch: float = 20.0
    n_ref: int = 2000
    n_flips: int = 8
    n_sg: int = 256
    chunk: int = 250
    connectivity: str = "dense"
    recurrent: bool = False
    readout: str = "lif"
    n_out: int = 4
    channels: int = 2
    kernel_size: int = 3
    batch: int = 2
    input_rate: float = 0.2
    sigma_u: float = 2.0
    tau_mem: float = 10e-3
    tau_syn: float = 5e-3
    seed: int = 0

    def __post_init__(self):
        for name in ("depth", "width", "steps", "n_ref", "n_flips", "n_sg", "chunk", "n_out", "batch"):
            _validate.positive_int(getattr(self, name), name)
        if self.n_ref < 2 * _JACKKNIFE_BATCHES:
            raise ValueError(
                f"n_ref must be at least {2 * _JACKKNIFE_BATCHES} (jackknife batches), got {self.n_ref}"
            )
        _validate.positive_scalar(self.beta, "beta")
        _validate.positive_scalar(self.beta_mismatch, "beta_mismatch")
        _validate.seed(self.seed)
        if not 0.0 < self.input_rate < 1.0:
            raise ValueError(
                f"input_rate must lie in (0, 1) (spike probability per bin), got {self.input_rate}"
            )
        self.snn()  # connectivity, readout and conv1d geometry

    def snn(self) -> SNNConfig:
        """The network as an :class:`analysis.snn.SNNConfig`."""
        lif = LIFParams(tau_mem=self.tau_mem, tau_syn=self.tau_syn, dt=1e-3)
        conv = self.connectivity == "conv1d"
        return SNNConfig(
            n_in=self.width,
            hidden=((self.channels if conv else self.width),) * self.depth,
            n_out=self.n_out,
            connectivity=self.connectivity,
            kernel_size=self.kernel_size,
            recurrent=self.recurrent,
            readout=self.readout,
            lif=lif,
        )

    def method(self) -> Method:
        """The stochastic network (sigmoid escape noise of steepness ``beta``, matched surrogate)."""
        noise = escape_noise("sigmoid", self.beta)
        return Method("stochastic", hidden_noise=noise, output_noise=noise)


@dataclass(frozen=True)
class RateMSE:
    """loss(result, inputs) = mean_i (mean_{b,t} output[b, t, i] - target_i)^2 (hashable, so
    that the program built from it is cached)."""

    target: tuple

    def __call__(self, result: SimResult, inputs: Any) -> jax.Array:
        r = jnp.mean(result.output, axis=(0, 1))
        return jnp.mean((r - jnp.asarray(self.target, r.dtype)) ** 2)


def instance(cfg: AlignmentConfig, dtype: Any = None) -> tuple[SNNConfig, dict, jax.Array, RateMSE]:
    """(network, params, inputs [batch, steps, width], loss) of ``cfg`` (seeded by cfg.seed)."""
    dtype = dtype or jnp.result_type(float)
    net = cfg.snn()
    k_w, k_x = jax.random.split(jax.random.key(cfg.seed))
    dt = net.lif.dt
    params = init_params(k_w, net, nu=cfg.input_rate / dt, sigma_u=cfg.sigma_u, dtype=dtype)
    x = (jax.random.uniform(k_x, (cfg.batch, cfg.steps, net.n_in)) < cfg.input_rate).astype(dtype)
    return net, params, x, RateMSE(tuple(float(v) for v in np.linspace(0.05, 0.3, cfg.n_out)))


# ---------------------------------------------------------------- streamed moments


def _segments(n):
    """Segment id of each sample: jackknife batches (np.array_split of 0..n-1 into 10)
    and halves ([0, n//2), [n//2, n)) as ids 10 and 11 of a second labelling."""
    sizes = [len(a) for a in np.array_split(np.arange(n), _JACKKNIFE_BATCHES)]
    batch = np.repeat(np.arange(_JACKKNIFE_BATCHES), sizes)
    half = _JACKKNIFE_BATCHES + (np.arange(n) >= n // 2)
    return batch, half


def flatten_jnp(tree):
    """Pytree with a leading sample axis -> [n, P] (leaves in tree order)."""
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.concatenate([v.reshape(v.shape[0], -1) for v in leaves], axis=1)


@functools.lru_cache(maxsize=64)
def _moments_jit(sample: Callable) -> Callable:
    n_seg = _JACKKNIFE_BATCHES + 2

    @jax.jit
    def moments(args, c, ids_b, ids_h, valid):
        g = sample(args, c)
        g = g * valid[:, None].astype(g.dtype)
        sums = jax.ops.segment_sum(g, ids_b, n_seg) + jax.ops.segment_sum(g, ids_h, n_seg)
        return sums, jnp.sum(g * g, axis=0)

    return moments


def _moments(sample: Callable, args: Any, n: int, chunk: int):
    """Moments of n per-sample gradients drawn in chunks: ``sample(args, c)`` (jittable, c the
    chunk index; ``args`` traced arguments (params, inputs, key)) returns the [chunk, P]
    gradients of samples c*chunk ... (c+1)*chunk - 1. The compiled step is cached per
    ``sample`` (the samplers are cached), so e.g. the epochs of a run compile once.

    Returns (segment sums [12, P], sum of squares [P]): rows 0-9 are the sums over the
    10 jackknife batches, rows 10-11 over the two halves. Only these are kept, so memory is
    O(P) whatever n (the per-sample gradients of a chunk live on the device only).
    """
    batch, half = _segments(n)
    moments = _moments_jit(sample)
    sums: Any = 0.0
    sumsq: Any = 0.0
    for c in range(max(1, math.ceil(n / chunk))):
        idx = np.arange(c * chunk, (c + 1) * chunk)
        valid = idx < n  # the last chunk is drawn whole and its tail masked
        idx = np.minimum(idx, n - 1)
        s, q = moments(args, jnp.int32(c), batch[idx], half[idx], jnp.asarray(valid))
        sums, sumsq = sums + np.asarray(s), sumsq + np.asarray(q)
    return sums, sumsq


@functools.partial(jax.jit, static_argnums=(2, 3))
def _rates(params, x, cfg, method, key):
    return jnp.stack([jnp.mean(s) for s in simulate(params, x, cfg, method, key=key).spikes])


def _hidden_rate(params, x, cfg, method, key) -> float:
    """Mean spike probability per neuron and bin of the hidden layers (layers averaged)."""
    return float(np.mean(np.asarray(_rates(params, x, cfg, method, key))))


def _fitting_chunk(chunk: int, program: Any, params: Any, n_flips: int) -> int:
    """``chunk`` reduced so that one chunk of the reference estimator stays within the
    memory guard of :func:`estimate` (large networks get smaller chunks, not an error)."""
    per_sample = estimator_memory(REFERENCE, program, params, 1, n_flips=n_flips)  # as the guard
    return max(1, min(chunk, int(DEFAULT_MAX_MEMORY_GIB * 2**30 // per_sample)))


def _balanced(n: int, chunk: int) -> int:
    """The chunk size <= ``chunk`` that splits n samples into the fewest, equal chunks (the
    last chunk is computed whole, so 256 samples go as 2 x 128 rather than 250 + 250)."""
    return math.ceil(n / math.ceil(n / chunk))


def _reference_stats(sums, sumsq, n):
    """(mean, standard error, split-half cosine, (batch sums, batch sizes)) from the moments."""
    batch_sums, batch_sizes = sums[:_JACKKNIFE_BATCHES], np.bincount(_segments(n)[0])
    ref = batch_sums.sum(0) / n
    var = np.maximum(sumsq - n * ref**2, 0.0) / (n - 1)  # sample variance (ddof 1)
    first, second = sums[_JACKKNIFE_BATCHES] / (n // 2), sums[_JACKKNIFE_BATCHES + 1] / (n - n // 2)
    return ref, np.sqrt(var / n), cosine(first, second), (batch_sums, batch_sizes)


def jackknife_se(replicates: Any) -> float:
    """Delete-one-group jackknife standard error from the b leave-one-out replicates
    theta_(i) of a statistic: sqrt((b - 1) / b * sum_i (theta_(i) - mean_i theta_(i))^2)
    (Efron & Tibshirani 1993, eq. 11.5)."""
    r = np.asarray(replicates, float)
    if r.ndim != 1 or r.size < 2:
        raise ValueError(f"replicates must be a 1-D array of at least 2 values, got shape {r.shape}")
    b = r.size
    return float(np.sqrt((b - 1) / b * np.sum((r - r.mean()) ** 2)))


def leave_one_out_cosines(
    g: Any,
    ref_batch_sums: Any,
    ref_batch_sizes: Any,
    g_batch_sums: Any = None,
    g_batch_sizes: Any = None,
) -> np.ndarray:
    """cosine(g_(i), ref_(i)) for each batch i, ref_(i) the reference mean with batch i of its
    samples deleted ([b, P] batch sums, [b] batch sizes) and g_(i) likewise when the batch
    sums of g's samples are given (else g, [P], is a fixed vector). Deleting batch i of both
    at once is the delete-one-group jackknife of a statistic of two independent samples
    whose groups are paired by index."""
    rs, rm = np.asarray(ref_batch_sums, float), np.asarray(ref_batch_sizes, float)
    r_loo = (rs.sum(0) - rs) / (rm.sum() - rm)[:, None]
    if g_batch_sums is None:
        g_loo = np.broadcast_to(np.asarray(g, float), r_loo.shape)
    else:
        gs, gm = np.asarray(g_batch_sums, float), np.asarray(g_batch_sizes, float)
        if gs.shape != rs.shape or gm.shape != rm.shape:
            raise ValueError(f"g's batches {gs.shape} must match the reference's {rs.shape}")
        g_loo = (gs.sum(0) - gs) / (gm.sum() - gm)[:, None]
    return np.array([cosine(a, b) for a, b in zip(g_loo, r_loo, strict=True)])


def paired_cos_difference(row: Mapping, a: str, b: str) -> tuple[float, float]:
    """cos_a - cos_b of a :func:`snn_alignment` row and its jackknife standard error from the
    PAIRED leave-one-out replicates (loo_cos_a - loo_cos_b batch by batch): the two cosines
    share the reference (and, for the stochastic variants, the spikes of their SG samples),
    so their errors are correlated and must not be combined as if independent. SE 0 for a
    given (exact) reference."""
    diff = float(row[f"cos_{a}"] - row[f"cos_{b}"])
    la, lb = row[f"loo_cos_{a}"], row[f"loo_cos_{b}"]
    if la is None or lb is None:
        return diff, 0.0
    return diff, jackknife_se(np.asarray(la) - np.asarray(lb))


# ---------------------------------------------------------------- the estimators on an snn


@functools.lru_cache(maxsize=64)
def _reference_sampler(program, chunk, n_flips):
    """Chunk c of the reference samples."""

    def sample(args, c):
        params, inputs, key = args
        g = estimate(
            REFERENCE, program, params, inputs, chunk, key=jax.random.fold_in(key, c), n_flips=n_flips
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

    def sample(args, c):
        params, inputs, key = args

        def one(k):
            return jax.grad(lambda p: loss_fn.loss(simulate(p, _x(inputs), cfg, method, key=k), inputs))(
                params
            )

        return flatten_jnp(jax.vmap(one)(_sample_keys(key, c, chunk)))

    return sample


@dataclass(frozen=True)
class _Loss:
    loss: Callable
    hidden_noise: Any
    output_noise: Any


def default_variants(method: Method, mismatch: Surrogate) -> dict[str, Method | None]:
    """The four SG variants of :data:`METHODS` for the stochastic network ``method``:
    None stands for the program estimator (stochastic SG with the matched surrogate)."""
    h, o = method.hidden_noise, method.output_noise
    return {
        "stoch_matched": None,
        "stoch_mismatched": Method("stochastic", h, o, mismatch),
        "det_matched": Method("deterministic", h, o),
        "det_mismatched": Method("deterministic", h, o, mismatch),
    }


def snn_alignment(
    cfg: SNNConfig,
    params: dict,
    inputs: Any,
    loss_fn: Callable[[SimResult, Any], jax.Array],
    key: jax.Array,
    *,
    method: Method,
    variants: Mapping[str, Method | None] | None = None,
    surrogate_mismatch: Surrogate | None = None,
    n_ref: int = 2000,
    n_flips: int = 8,
    n_sg: int = 256,
    chunk: int = 250,
    reference: Any = None,
) -> dict:
    """Alignment of SG variants with the unbiased reference on an :mod:`analysis.snn` network.

    ``inputs``: [B, T, n_in] or a tuple whose first entry it is (the rest is for
    ``loss_fn(result, inputs) -> scalar``). ``method``: the stochastic network whose grad E[L]
    is the reference (its escape noise; a stochastic Method). ``variants``: {name: Method or
    None} of the SGs to compare (None = stochastic SG with the matched surrogate, by the
    program estimator); default :func:`default_variants` with ``surrogate_mismatch``
    (default SuperSpike, beta 20). A stochastic variant is averaged over ``n_sg`` samples
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
    if not isinstance(method, Method) or not method.stochastic:
        raise ValueError(
            f"method must be a stochastic analysis.snn.Method (the reference network), got {method!r}"
        )
    _validate.prng_key(key)
    n_ref = _validate.positive_int(n_ref, "n_ref")
    if n_ref < 2 * _JACKKNIFE_BATCHES:
        raise ValueError(f"n_ref must be at least {2 * _JACKKNIFE_BATCHES} (jackknife batches), got {n_ref}")
    n_flips, n_sg, chunk = (
        _validate.positive_int(v, k) for v, k in ((n_flips, "n_flips"), (n_sg, "n_sg"), (chunk, "chunk"))
    )
    if variants is None:
        variants = default_variants(method, surrogate_mismatch or surrogate("superspike", 20.0))
    for name, m in variants.items():
        if m is not None and not isinstance(m, Method):
            raise TypeError(f"variant {name!r} must be an analysis.snn.Method or None, got {m!r}")
    x = jnp.asarray(_x(inputs))
    B, T = int(x.shape[0]), int(x.shape[1])
    ref_method = Method("stochastic", hidden_noise=method.hidden_noise, output_noise=method.output_noise)
    program = snn_program(cfg, ref_method, loss_fn, B, T)
    k_ref, k_sg = jax.random.split(key)

    t0 = time.perf_counter()
    if reference is None:
        c_ref = _balanced(n_ref, _fitting_chunk(chunk, program, params, n_flips))
        sample = _cached(_reference_sampler, program, c_ref, n_flips)
        sums, sumsq = _moments(sample, (params, inputs, k_ref), n_ref, c_ref)
        ref, se, ceiling, jack = _reference_stats(sums, sumsq, n_ref)
    else:  # a given (e.g. exact) reference: no sampling error
        ref = np.asarray(flatten_jnp(jax.tree_util.tree_map(lambda v: jnp.asarray(v)[None], reference)))[0]
        se, ceiling, jack = np.zeros_like(ref), float("nan"), None
    ref_seconds = time.perf_counter() - t0
    sig = np.abs(ref) > 2 * se
    row: dict = {
        "K": program.K,
        "n_ref": n_ref,
        "n_flips": n_flips,
        "n_sg": n_sg,
        "reference": REFERENCE if reference is None else "given",
        "ref_seconds": ref_seconds,
        "ref_snr": float(np.linalg.norm(ref) / np.sqrt(np.sum(se**2))) if se.any() else float("inf"),
        "significant_fraction": float(sig.mean()),
        "ceiling": ceiling,
        "rate": _hidden_rate(params, x, cfg, ref_method, jax.random.fold_in(key, 7))
        if cfg.hidden
        else float("nan"),
    }
    wrapped = _Loss(loss_fn, method.hidden_noise, method.output_noise)
    for name, m in variants.items():
        n_s = 1 if (m is not None and not m.stochastic) else n_sg
        c_sg = _balanced(n_s, chunk)
        sampler = _cached(_sg_sampler, cfg, m, wrapped, c_sg)
        g_batches = _moments(sampler, (params, inputs, k_sg), n_s, c_sg)[0][:_JACKKNIFE_BATCHES]
        g = g_batches.sum(0) / n_s
        row[f"cos_{name}"] = cosine(g, ref)
        row[f"cos_se_{name}"] = jackknife_se(leave_one_out_cosines(g, *jack)) if jack else 0.0
        sampled = n_s >= 2 * _JACKKNIFE_BATCHES  # batch i of its SG samples deleted with the ref's
        g_jack = (g_batches, np.bincount(_segments(n_s)[0], minlength=_JACKKNIFE_BATCHES)) if sampled else ()
        row[f"loo_cos_{name}"] = leave_one_out_cosines(g, *jack, *g_jack).tolist() if jack else None
        row[f"sign_{name}"] = (
            float(np.mean(np.sign(g[sig]) == np.sign(ref[sig]))) if sig.any() else float("nan")
        )
    return row


def alignment_point(cfg: AlignmentConfig, methods: tuple[str, ...] = METHODS) -> dict:
    """Alignment of the SG variants ``methods`` (a subset of :data:`METHODS`, default all
    four) with the reference for ``cfg``."""
    if not isinstance(cfg, AlignmentConfig):
        raise TypeError(f"cfg must be an AlignmentConfig, got {type(cfg).__name__}")
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"methods must be a non-empty subset of {METHODS}, got {methods!r}")
    net, params, x, loss = instance(cfg)
    mismatch = surrogate("superspike", cfg.beta_mismatch)
    variants = {k: v for k, v in default_variants(cfg.method(), mismatch).items() if k in methods}
    row = snn_alignment(
        net,
        params,
        x,
        loss,
        jax.random.key(cfg.seed + 1),
        method=cfg.method(),
        variants=variants,
        n_ref=cfg.n_ref,
        n_flips=cfg.n_flips,
        n_sg=cfg.n_sg,
        chunk=cfg.chunk,
    )
    head = {
        k: getattr(cfg, k)
        for k in ("depth", "width", "steps", "beta", "connectivity", "recurrent", "readout")
    }
    return {**head, **row}


PROFILES: dict[str, dict] = {
    "quick": dict(
        base=AlignmentConfig(depth=2, width=16, steps=30, n_ref=2000, n_sg=256),
        axes={"depth": (1, 3, 4), "width": (8, 32, 64), "steps": (15, 60), "beta": (2.0, 10.0)},
    ),
    "full": dict(
        base=AlignmentConfig(depth=2, width=64, steps=100, n_ref=20000, n_sg=2048, chunk=500),
        axes={"depth": (1, 3, 4), "width": (16, 128, 512), "steps": (25, 200), "beta": (2.0, 10.0)},
    ),
}


def alignment_sweep(
    profile: str = "quick",
    progress: Callable[[dict], object] | None = None,
    base: AlignmentConfig | None = None,
    axes: dict | None = None,
) -> list[dict]:
    """Rows of :func:`alignment_point`: the base network, then one axis varied at a time.

    ``base`` / ``axes`` ({field: values}) override the profile's grid; any field of
    :class:`AlignmentConfig` is an axis (e.g. ``connectivity``, ``recurrent``).
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {tuple(PROFILES)}, got {profile!r}")
    base = base or PROFILES[profile]["base"]
    axes = PROFILES[profile]["axes"] if axes is None else axes
    bad = [a for a in axes if a not in AlignmentConfig.__dataclass_fields__]
    if bad:
        raise ValueError(f"unknown axis {bad}; valid: {', '.join(AlignmentConfig.__dataclass_fields__)}")
    cfgs = [base] + [
        dataclasses.replace(base, **{a: v}) for a, vals in axes.items() for v in vals if getattr(base, a) != v
    ]
    rows = []
    for cfg in cfgs:
        rows.append(alignment_point(cfg))
        if progress:
            progress(rows[-1])
    return rows
