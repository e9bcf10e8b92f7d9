"""Spike sources: the interpretations under which a user's stochastic program runs.

A *program* (:class:`~analysis.stochastic.Program`) is a pure JAX function
``fn(params, inputs, src) -> loss`` (a scalar) whose Bernoulli draws all go through the
source, with its sites declared once. The one protocol is

    s = src.bernoulli(site, p, index, *, z=None, surrogate=None)

where ``site`` is a static string naming a group of draws, ``p`` the spike probabilities of
this draw (an array of the site's static shape), ``index`` the draw number within the
group (a Python int, or a traced int such as the step counter of a ``lax.scan``), ``z``
(optional) the potential with p = f(z), and ``surrogate`` (optional, with z) the program's
surrogate psi for surrogate-gradient sources. Sites are declared as
``sites = {"hidden": (T, N), ...}``: T draws of shape (N,) (``{"coin": (T,)}``: T scalar
draws). Spike variables are indexed by (site, index, element); flattened, they are ordered
by site name (sorted, as JAX orders dict pytrees), then index, then element (row-major), K
of them in all.

What ``bernoulli`` returns is decided by the source (per-site data are dicts
site -> array of shape (n_draws, *shape)):

===================  ==============================================================
source               s = src.bernoulli(site, p, index, z=z)
===================  ==============================================================
``Bernoulli(u)``     1[u < p] (sampling from given uniforms; no derivative)
``Forced(spikes)``   the given {0,1} configuration (teacher forcing)
``CoupledFlip``      ``value`` where ``mask``, else 1[u < p] (shared uniforms)
``StraightThrough``  1[u < p] (or given spikes) forward, ds/dz = psi(z) with a
                     surrogate, else ds/dp = 1 (= the matched psi = f'): the
                     smoothed stochastic derivative (Arya et al. 2022; Gygax &
                     Zenke 2025 sec. 4)
``MeanField()``      p
``Heaviside()``      1[z > 0] forward (needs z), derivative as StraightThrough:
                     the deterministic neuron and its surrogate gradient
===================  ==============================================================

Sources are frozen dataclasses registered as pytrees (pass them through ``jax.jit`` and
``jax.vmap`` or close over them); they hold no Python-side state. To read what a run drew
(the probabilities p and the spikes s of every variable, and how often each draw was made),
:func:`trace_program` runs the program under a source carrying a *recorder*: one JAX
mutable array reference (``jax.new_ref``) per site and quantity, created inside the call
and written at ``[index]`` by every draw. References may be closed over by ``lax.scan``
bodies and are differentiable, so the recorded probabilities are ordinary differentiable
functions of ``params`` (this is how teacher forcing yields log P of a configuration and
how the coupled-flip estimator takes one VJP of all spike probabilities), under jit, vmap
and scan, with no change to the program. Needs a JAX with ``jax.new_ref``.

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis.stochastic import Forced, Program, trace_program
>>> def coin(params, x, src):
...     s = src.bernoulli("coin", jax.nn.sigmoid(params * x), 0)
...     return jnp.sum(s)
>>> program = Program(coin, {"coin": (1, 2)})
>>> loss, tr = trace_program(program, 1.0, jnp.array([0.0, 1.0]),
...                          Forced(program.sites, {"coin": jnp.array([[1.0, 0.0]])}))
>>> float(loss), round(float(tr.log_prob()), 4)
(1.0, -2.0064)
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from analysis.neuron import spike_uniforms

#: normalized sites: ((name, (n_draws, *shape)), ...) sorted by name (hashable, static)
SiteSpec = tuple[tuple[str, tuple[int, ...]], ...]


def normalize_sites(sites: Any) -> SiteSpec:
    """Check and normalize a site declaration {name: (n_draws, *shape)} (sorted by name).

    Raises ValueError/TypeError naming the bad entry: sites must be a non-empty dict of
    non-empty str -> tuple of positive ints (n_draws first).
    """
    if isinstance(sites, tuple) and all(isinstance(e, tuple) and len(e) == 2 for e in sites):
        sites = dict(sites)  # already normalized
    if not isinstance(sites, Mapping):
        raise TypeError(f"sites must be a dict {{name: (n_draws, *shape)}}, got {type(sites).__name__}")
    if not sites:
        raise ValueError("sites is empty; declare at least one site, e.g. {'hidden': (T, N)}")
    out = []
    for name, spec in sites.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"site names must be non-empty strings, got {name!r}")
        ok = isinstance(spec, (tuple, list)) and len(spec) >= 1
        ok = ok and all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1 for d in spec)
        if not ok:
            raise ValueError(
                f"sites[{name!r}] must be a tuple (n_draws, *shape) of positive ints, got {spec!r}"
            )
        out.append((name, tuple(int(d) for d in spec)))
    return tuple(sorted(out))


def n_spike_variables(sites: Any) -> int:
    """K, the total number of spike variables: sum over sites of n_draws * prod(shape)."""
    return sum(math.prod(spec) for _, spec in normalize_sites(sites))


def draw_site_uniforms(
    key: jax.Array, sites: Any, n: int | None = None, dtype: DTypeLike | None = None
) -> dict[str, jax.Array]:
    """Uniforms u ~ U[0, 1) for every spike variable: {site: (n_draws, *shape)}.

    With ``n``, a leading sample axis: {site: (n, n_draws, *shape)}. One subkey per site
    (``fold_in`` of the site's position in sorted order).
    """
    spec = normalize_sites(sites)
    lead = () if n is None else (n,)
    dtype = dtype or jnp.result_type(float)
    return {
        name: spike_uniforms(jax.random.fold_in(key, i), lead + shape, dtype)
        for i, (name, shape) in enumerate(spec)
    }


def split_flat(flat: jax.Array, sites: Any) -> dict[str, jax.Array]:
    """A flat vector of length K (last axis) -> {site: (..., n_draws, *shape)} in flat order."""
    spec = normalize_sites(sites)
    out, off = {}, 0
    for name, shape in spec:
        size = math.prod(shape)
        out[name] = flat[..., off : off + size].reshape(flat.shape[:-1] + shape)
        off += size
    return out


def join_flat(tree: Mapping[str, jax.Array], sites: Any) -> jax.Array:
    """Inverse of :func:`split_flat`: {site: (..., n_draws, *shape)} -> (..., K)."""
    spec = normalize_sites(sites)
    parts = []
    for name, shape in spec:
        v = jnp.asarray(tree[name])
        parts.append(v.reshape(v.shape[: v.ndim - len(shape)] + (-1,)))
    return jnp.concatenate(parts, axis=-1)


def _write(ref, index, value):
    """ref[index] = value for a differentiable reference. ``value`` is tied to the entry it
    replaces (+ 0 * old): the transpose of a write needs the written value on the derivative
    path, which a draw whose p does not depend on params (a fixed coin) is not."""
    ref[index] = value.astype(ref.dtype) + 0.0 * ref[index]


def _no_grad_ref(init):
    """A reference that takes no derivative (spikes, counts); plain where ``kind`` is unknown."""
    try:
        return jax.new_ref(init, kind="no_grad_no_remat")
    except TypeError:
        return jax.new_ref(init)


@dataclass(frozen=True)
class _Recorder:
    """Mutable references written by every draw: probabilities, spikes and draw counts.

    Only the requested quantities are recorded (None otherwise): differentiated runs record
    the probabilities only (references of non-differentiable values inside a differentiated
    ``lax.scan`` are not supported by every JAX version).
    """

    probs: dict | None
    spikes: dict | None
    counts: dict | None
    carriers: dict | None = None

    @staticmethod
    def new(spec: SiteSpec, dtype, record: tuple[str, ...]) -> _Recorder:
        return _Recorder(
            {n: jax.new_ref(jnp.zeros(s, dtype)) for n, s in spec} if "probs" in record else None,
            {n: _no_grad_ref(jnp.zeros(s, dtype)) for n, s in spec} if "spikes" in record else None,
            {n: _no_grad_ref(jnp.zeros(s[:1], jnp.int32)) for n, s in spec} if "counts" in record else None,
            {n: jax.new_ref(jnp.zeros(s, dtype)) for n, s in spec} if "carriers" in record else None,
        )


def _check_index(site: str, index: Any, n_draws: int) -> None:
    if isinstance(index, bool) or jnp.ndim(index) != 0:
        raise ValueError(f"index of a draw from site {site!r} must be a scalar int, got {index!r}")
    if isinstance(index, (int, np.integer)) and not 0 <= int(index) < n_draws:
        raise ValueError(f"index {int(index)} of site {site!r} is out of range [0, {n_draws})")
    if not jnp.issubdtype(jnp.result_type(index), jnp.integer):
        raise ValueError(f"index of a draw from site {site!r} must be an integer, got {index!r}")


_VMAP_HINT = (
    " (fewer dimensions than declared: is the draw inside a jax.vmap over the batch within the "
    "program? Each draw must see the whole declared shape: declare the per-example shape and "
    "draw once per example, or draw the batch at once without the inner vmap)"
)


@dataclass(frozen=True)
class _Drawn:
    """What a draw passed besides p: the potential z and the program's surrogate (or None)."""

    z: jax.Array | None
    surrogate: Any


def _straight_through(s0, p, d: _Drawn, surrogate):
    """s0 forward with derivative psi(z) dz (psi: the source's, else the draw's surrogate) or,
    without a surrogate, ds/dp = 1 (ds/dz = f'(z): the matched surrogate)."""
    psi = surrogate if surrogate is not None else d.surrogate
    s0 = jax.lax.stop_gradient(s0)
    if psi is None:
        return s0 + (p - jax.lax.stop_gradient(p))
    if d.z is None:
        raise ValueError(
            "a surrogate psi(z) needs the potential: draw with src.bernoulli(site, p, index, z=z)"
        )
    return s0 + jax.lax.stop_gradient(psi(d.z)) * (d.z - jax.lax.stop_gradient(d.z))


@dataclass(frozen=True)
class SpikeSource:
    """Base of the spike sources; subclasses define the rule ``_draw(site, p, index)``.

    ``sites``: the declaration {name: (n_draws, *shape)} (normalized on construction).
    ``bernoulli(site, p, index)`` checks the site, the shape of ``p`` and a static index,
    applies the rule, and writes p, s and a draw count to the recorder if there is one.
    """

    sites: Any
    recorder: Any = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sites", normalize_sites(self.sites))

    def bernoulli(
        self, site: str, p: ArrayLike, index: Any, *, z: ArrayLike | None = None, surrogate: Any = None
    ) -> jax.Array:
        """A {0,1} spike array s with P(s = 1) = p elementwise (rule: see the class).

        ``z`` (optional, the shape of p): the potential with p = f(z) for an increasing
        escape noise f; the deterministic source thresholds it (s = 1[z > 0]) and surrogate
        derivatives are evaluated at it. ``surrogate`` (optional, a callable psi(z), needs
        ``z``): the program's surrogate for ds/dz in the surrogate-gradient sources (default
        ds/dp = 1, i.e. the matched surrogate psi = f'); a source's own surrogate wins.
        """
        spec = dict(self.sites)
        if not isinstance(site, str) or site not in spec:
            raise ValueError(f"program drew from undeclared site {site!r}; declared sites: {', '.join(spec)}")
        p = jnp.asarray(p)
        if not jnp.issubdtype(p.dtype, jnp.floating):
            p = p.astype(jnp.result_type(float))
        shape = spec[site][1:]
        if p.shape != shape:
            raise ValueError(
                f"site {site!r} declares draws of shape {shape} (sites[{site!r}] = {spec[site]}), "
                f"but the program drew p of shape {p.shape}" + (_VMAP_HINT if p.ndim < len(shape) else "")
            )
        if z is not None:
            z = jnp.asarray(z, p.dtype)
            if z.shape != shape:
                raise ValueError(f"site {site!r}: z must have the shape of p {shape}, got {z.shape}")
        if surrogate is not None and (z is None or not callable(surrogate)):
            raise ValueError(
                f"site {site!r}: surrogate= must be a callable psi(z) and needs z= (the potential)"
            )
        _check_index(site, index, spec[site][0])
        s = self._draw(site, p, index, _Drawn(z, surrogate))
        rec = self.recorder
        if rec is not None and rec.probs is not None:
            _write(rec.probs[site], index, p)
        if rec is not None and rec.spikes is not None:
            rec.spikes[site][index] = jax.lax.stop_gradient(s).astype(rec.spikes[site].dtype)
        if rec is not None and rec.counts is not None:
            rec.counts[site][index] += 1
        if rec is not None and rec.carriers is not None:
            d = _Drawn(z, surrogate)
            carrier = _straight_through(jnp.zeros_like(p), p, d, getattr(self, "surrogate", None))
            _write(rec.carriers[site], index, carrier)
        return s

    def _draw(self, site: str, p: jax.Array, index: Any, d: _Drawn) -> jax.Array:
        raise NotImplementedError

    def with_recorder(self, recorder: Any) -> SpikeSource:
        import dataclasses

        return dataclasses.replace(self, recorder=recorder)


def _threshold(u, p):
    return (jnp.asarray(u, p.dtype) < p).astype(p.dtype)


@dataclass(frozen=True)
class Bernoulli(SpikeSource):
    """s = 1[u < p] from uniforms ``u`` = {site: (n_draws, *shape)} (no derivative)."""

    u: Any = None

    def _draw(self, site, p, index, d):
        return jax.lax.stop_gradient(_threshold(self.u[site][index], p))


@dataclass(frozen=True)
class Forced(SpikeSource):
    """Teacher forcing: s = ``spikes[site][index]`` (a given {0,1} configuration)."""

    spikes: Any = None

    def _draw(self, site, p, index, d):
        return jnp.asarray(self.spikes[site][index], p.dtype)


@dataclass(frozen=True)
class CoupledFlip(SpikeSource):
    """s = value where mask, else 1[u < p]; everything from the same uniforms ``u``.

    ``mask`` (bool) and ``value`` ({0,1}) are dicts like ``u``. With one variable k masked to
    1 - S_k this re-simulates the program with spike k flipped and the downstream uniforms
    shared (the coupling of stochastic AD; Arya et al., NeurIPS 2022).
    """

    u: Any = None
    mask: Any = None
    value: Any = None

    def _draw(self, site, p, index, d):
        s = _threshold(self.u[site][index], p)
        return jax.lax.stop_gradient(
            jnp.where(self.mask[site][index], jnp.asarray(self.value[site][index], p.dtype), s)
        )


@dataclass(frozen=True)
class StraightThrough(SpikeSource):
    """s = 1[u < p] (or the given ``spikes``) forward, with a surrogate derivative.

    The derivative is ds/dz = psi(z) for the source's ``surrogate`` psi (else the draw's,
    see :meth:`SpikeSource.bernoulli`), and ds/dp = 1 without one. For p = f(z), ds/dp = 1 is
    ds/dz = f'(z), so ``jax.grad`` of a program run under this source is the surrogate
    gradient with the matched surrogate: the smoothed stochastic derivative of the
    stochastic network (Gygax & Zenke 2025, sec. 4). Biased unless everything downstream of
    the spikes is linear. With ``spikes`` (teacher forcing) it gives the SG of a given
    configuration, whose mean over P(S) is E[SG].
    """

    u: Any = None
    spikes: Any = None
    eps: Any = None
    surrogate: Any = None

    def _draw(self, site, p, index, d):
        s0 = self.spikes[site][index] if self.spikes is not None else _threshold(self.u[site][index], p)
        s = _straight_through(jnp.asarray(s0, p.dtype), p, d, self.surrogate)
        return s if self.eps is None else s + self.eps[site][index]


@dataclass(frozen=True)
class MeanField(SpikeSource):
    """s = p (spikes replaced by their probabilities; deterministic)."""

    def _draw(self, site, p, index, d):
        return p


@dataclass(frozen=True)
class Heaviside(SpikeSource):
    """s = 1[z > 0] forward with a surrogate derivative (deterministic, no uniforms).

    The deterministic neuron Theta(z) of :func:`analysis.neuron.heaviside_spike`, thresholding
    the potential ``z`` that the draw passes (``src.bernoulli(site, p, index, z=z)``; a draw
    without z is refused: from p alone the threshold f(z) = f(0) is unknown unless
    f(0) = 1/2). Derivative as :class:`StraightThrough`: psi(z) for a surrogate (the
    source's, else the draw's), else ds/dp = 1 = f'(z) dz/dp. ``jax.grad`` of a program under
    this source is the surrogate gradient of the deterministic network (Neftci, Mostafa &
    Zenke 2019; Gygax & Zenke 2025 sec. 4).
    """

    surrogate: Any = None

    def _draw(self, site, p, index, d):
        if d.z is None:
            raise ValueError(
                f"site {site!r}: the deterministic (Heaviside) source needs the potential; draw with "
                "src.bernoulli(site, p, index, z=z), p = f(z) (from p alone the threshold f(0) is unknown)"
            )
        return _straight_through((d.z > 0).astype(p.dtype), p, d, self.surrogate)


for _cls, _data in (
    (Bernoulli, ["u"]),
    (Forced, ["spikes"]),
    (CoupledFlip, ["u", "mask", "value"]),
    (StraightThrough, ["u", "spikes", "eps"]),
    (MeanField, []),
    (Heaviside, []),
):
    _meta = ["sites", "surrogate"] if _cls in (StraightThrough, Heaviside) else ["sites"]
    jax.tree_util.register_dataclass(_cls, data_fields=[*_data, "recorder"], meta_fields=_meta)


@dataclass(frozen=True)
class Trace:
    """What one run drew: probs and spikes {site: (n_draws, *shape)}, counts {site: (n_draws,)}.

    Quantities not requested from :func:`trace_program` are None.
    """

    probs: dict | None
    spikes: dict | None
    counts: dict | None
    carriers: dict | None = None

    def log_prob(self) -> jax.Array:
        """log P(S) = sum_k S_k log p_k + (1 - S_k) log(1 - p_k) (p clipped away from 0)."""
        if self.probs is None or self.spikes is None:
            raise ValueError("log_prob needs a trace that recorded probs and spikes")
        total = jnp.zeros((), jnp.result_type(*self.probs.values()))
        for name, p in self.probs.items():
            s = self.spikes[name]
            q = jnp.where(s > 0.5, p, 1.0 - p)
            total = total + jnp.sum(jnp.log(jnp.maximum(q, jnp.finfo(q.dtype).tiny)))
        return total


jax.tree_util.register_dataclass(Trace, data_fields=["probs", "spikes", "counts", "carriers"], meta_fields=[])

#: what a trace can record; "carriers" are zeros whose derivative is each spike's surrogate
#: derivative (psi(z) dz with a surrogate, else dp)
RECORDABLE = ("probs", "spikes", "counts", "carriers")


def _identity_checkpoint(fun=None, **options):
    """Stands in for jax.checkpoint while a program is traced by the tools (see _no_remat)."""
    return fun if fun is not None else (lambda f: f)


@contextlib.contextmanager
def _no_remat():
    """Rematerialisation off while the tools trace a program.

    ``jax.checkpoint`` (= ``jax.remat``) only trades memory for recomputation: removing it
    never changes a value or a derivative. The recorder's references cannot be written from
    inside a rematerialised region (JAX rejects, or in some shapes silently drops, the
    derivative of such writes), so while a program runs under :func:`trace_program` the
    names ``jax.checkpoint`` and ``jax.remat`` are the identity. A program that captured the
    function before (``from jax import checkpoint``) is refused by
    :func:`analysis.stochastic.check_program` with a message saying so.
    """
    saved = (jax.checkpoint, jax.remat)
    with _REMAT_LOCK:
        jax.checkpoint = jax.remat = _identity_checkpoint
        try:
            yield
        finally:
            jax.checkpoint, jax.remat = saved


_REMAT_LOCK = threading.RLock()


def trace_program(
    program: Any,
    params: Any,
    inputs: Any,
    source: SpikeSource,
    *,
    dtype: DTypeLike | None = None,
    record: tuple[str, ...] = RECORDABLE,
) -> tuple[jax.Array, Trace]:
    """Run ``program(params, inputs, source)`` with a recorder; returns (loss, Trace).

    ``program``: a :class:`~analysis.stochastic.Program` (its ``sites`` size the recorder).
    ``record``: which of ``RECORDABLE`` to record (the others are None). The
    recorded probabilities are differentiable functions of ``params``; spikes and counts
    carry no derivative (under ``jax.grad``, record "probs" only). Works under jit, vmap and
    grad, with draws inside ``lax.scan``.
    """
    if not isinstance(record, tuple) or not set(record) <= set(RECORDABLE):
        raise ValueError(f"record must be a tuple of names from {RECORDABLE}, got {record!r}")
    if not hasattr(jax, "new_ref"):
        raise RuntimeError("programs need a JAX with jax.new_ref (mutable array references); upgrade jax")
    spec = normalize_sites(program.sites)
    dtype = dtype or jnp.result_type(*jax.tree_util.tree_leaves(params), float)
    rec = _Recorder.new(spec, dtype, record)
    with _no_remat():
        loss = program(params, inputs, source.with_recorder(rec))
    read = lambda refs: None if refs is None else {k: r[...] for k, r in refs.items()}
    return loss, Trace(read(rec.probs), read(rec.spikes), read(rec.counts), read(rec.carriers))
