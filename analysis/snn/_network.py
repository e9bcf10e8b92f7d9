"""Multi-layer LIF networks in time: configuration, initialisation, simulation.

Layers follow the recursion of :mod:`analysis.snn._lif` (Gygax & Zenke 2025,
sec. 5); spikes of layer l-1 at bin t drive layer l's synaptic current at the same bin
(``delay=0``) or one bin later (``delay=1``):

    S_l[t]   = spike(U_l[t] - theta)                  S_{-1} = x (the input)
    I_l[t+1] = lambda_syn I_l[t] + W_l S_{l-1}[t - D] (+ V_l S_l[t - D])
    U_l[t+1] = lambda_mem U_l[t] (1 - S_l[t]) + (1 - lambda_mem) I_l[t]     (reset_scope "leak")
    U_l[t+1] = (lambda_mem U_l[t] + (1 - lambda_mem) I_l[t]) (1 - S_l[t])   (reset_scope "update")

with D = ``delay``, S[t] = x[t] = 0 for t < 0 and zero initial states. The integrator
readout (I_o, U_o) follows the same recursion without spike and reset, driven by the last
hidden layer with the same delay, from U_o[0] = ``readout_u0``; its output at bin t is U_o[t]
(``readout_value="before"``) or U_o[t+1] (``"after"``).

stork's ordering (github.com/fmi-basel/stork at 6dd5824). ``Model.run`` (stork/models.py:
218-221) first evolves every group, then propagates every connection, at each step n. A
LIFGroup (stork/nodes/lif/base.py:112-126) reads its spike from the stored membrane *before*
the update, out_n = Theta(mem_{n-1} - 1), then stores syn_n = dcy_syn syn_{n-1} + input_n and
mem_n = (dcy_mem mem_{n-1} + scl_mem syn_{n-1}) (1 - out_n); the input group's output is
out_n = x[n]; the connections then add W out_n of their source into the *next* step's
input, input_{n+1}. Relabel U[n] := mem_{n-1}, I[n] := syn_{n-1} (mem_{-1} = syn_{-1} = 0).
Then out_n = Theta(U[n] - 1) = S[n], I[n+1] = lambda_syn I[n] + W S_src[n-1] (+ V S[n-1])
and U[n+1] = (lambda_mem U[n] + (1 - lambda_mem) I[n]) (1 - S[n]): stork's recorded spike
sequence is ours with reset_scope="update", delay=1 (theta = 1). Its ReadoutGroup
(stork/nodes/readout.py:35, 38-44) stores and records out_n = dcy_mem out_{n-1} + scl_mem
syn_{n-1} from out_{-1} = initial_state = -1e-3, i.e. U_o[n+1] with U_o[0] = -1e-3:
readout_value="after", readout_u0=-1e-3 (its own tau_mem, tau_syn: ``readout_lif``).
Layouts: stork's conv groups have shape (channels, length), so its flattened readout input
is channel-major (index c L + p) where ours is position-major (p C + c), and a torch
Conv1d/Linear weight [C_out, C_in, K] / [n_out, N] is our W [K, C_in, C_out] / [N, n_out]
transposed. Not modelled: stork's dropout and clamp_mem (both off by default; threshold 1 is
hard-coded there, stork/nodes/lif/base.py:99).

By default the network is evaluated layer by layer (the feedforward drive of all bins is
one large matmul or conv, each layer's time recursion one loop over bins;
:mod:`analysis.snn._layerwise`; with ``event_driven`` the drive is formed from the
active spikes, :mod:`analysis.snn._event`); with ``checkpoint`` all layers advance together in
one scan over time (:mod:`analysis.snn._scan`). Both give the same
numbers and gradients. Arrays are batch-first:
inputs [B, T, n_in], spikes and membranes [B, T, N], output [B, T, n_out]; feedforward
networks are evaluated in that layout throughout, recurrent ones (and the checkpointed and
``source`` paths) on a time-major copy [T, B, n].

Connectivity: ``dense`` (W [N_in, N]) or ``conv1d`` (W [K, C_in, C_out], stride s,
'VALID' padding; neurons flattened position-major, index = position * C + channel; the
first layer sees ``in_channels`` channels of length n_in / in_channels). ``recurrent``
adds V [N, N] (dense) or a stride-1 'SAME' conv V [K, C, C] over the layer's own spikes.
Readout: ``integrator`` (non-spiking leaky integrator, output = its potential) or ``lif``
(a spiking output layer, output = its spikes; ``readout_value`` and ``readout_u0`` are for
the integrator).

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis.snn._network import SNNConfig, init_params, simulate
>>> from analysis.snn._methods import Method
>>> cfg = SNNConfig(n_in=20, hidden=(16,), n_out=3)
>>> params = init_params(jax.random.key(0), cfg, nu=20.0)
>>> x = (jax.random.uniform(jax.random.key(1), (2, 50, 20)) < 0.05).astype(jnp.float32)
>>> simulate(params, x, cfg, Method("stochastic"), key=jax.random.key(2)).output.shape
(2, 50, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from analysis import _validate
from analysis.snn._layerwise import layerwise, time_axis
from analysis.snn._lif import LIFParams, fluctuation_sigma_w
from analysis.snn._methods import Method
from analysis.snn._scan import time_loop

CONNECTIVITIES = ("dense", "conv1d")
READOUTS = ("integrator", "lif")
RECORD_MODES = ("output", "spikes", "all")
DELAYS = (0, 1)
READOUT_VALUES = ("before", "after")
READOUT_SCALES = ("fluctuation", "fan_in")


def _tuple(x, n, name):
    t = (x,) * n if _validate._integral(x) else tuple(x)
    if len(t) != n or any(_validate.positive_int(v, name) != v for v in t):
        raise ValueError(f"{name} must be an int or {n} positive ints, got {x!r}")
    return t


@dataclass(frozen=True)
class SNNConfig:
    """Network architecture (hashable: pass as a static argument of ``jit``).

    n_in : input units; hidden : units (dense) or channels (conv1d) per hidden layer;
    n_out : readout units; connectivity : ``dense`` | ``conv1d``; in_channels, kernel_size,
    stride : conv1d geometry (int or one per layer); recurrent : add recurrent weights;
    recurrent_kernel_size : kernel of the stride-1 'SAME' recurrent conv (int or one per
    layer; None = ``kernel_size``; odd sizes keep the layer length);
    readout : ``integrator`` | ``lif``; lif / readout_lif : :class:`LIFParams` (readout
    defaults to ``lif``); checkpoint : rematerialise blocks of ``checkpoint_block`` steps in
    the backward pass (0 = about sqrt(T)); event_driven : form synaptic currents from the
    weight rows of active spikes (dense layers; see :mod:`analysis.snn._event`; numba kernels on
    CPU when numba is installed); ``max_active`` bounds the per-row index table of the XLA
    event backend (0 = no bound), which falls back to dense when it is exceeded.
    delay : 0 (default) or 1, the bins between a presynaptic spike (or input) at t and its
    term in I[t+1]: with 1, I[t+1] = lambda_syn I[t] + W S_prev[t-1] (+ V S[t-1]) on every
    connection, readout included (stork's ordering, module docstring).
    readout_value : ``"before"`` (default; output[t] = U_o[t]) or ``"after"`` (output[t] =
    U_o[t+1], the potential after the update: stork's ReadoutGroup); integrator readout only.
    readout_u0 : initial readout potential U_o[0] (default 0.0; stork: -1e-3); integrator
    readout only.
    """

    n_in: int
    hidden: tuple = (128,)
    n_out: int = 10
    connectivity: str = "dense"
    in_channels: int = 1
    kernel_size: tuple | int = 5
    stride: tuple | int = 1
    recurrent: bool = False
    recurrent_kernel_size: tuple | int | None = None
    readout: str = "integrator"
    lif: LIFParams = field(default_factory=LIFParams)
    readout_lif: LIFParams | None = None
    checkpoint: bool = False
    checkpoint_block: int = 0
    event_driven: bool = False
    max_active: int = 0
    delay: int = 0
    readout_value: str = "before"
    readout_u0: float = 0.0

    def __post_init__(self):
        if isinstance(self.hidden, (str, bytes)) or not hasattr(self.hidden, "__iter__"):
            raise TypeError(f"hidden must be a tuple of layer sizes, got {self.hidden!r}")
        hidden = tuple(_validate.positive_int(h, "hidden sizes") for h in self.hidden)
        object.__setattr__(self, "hidden", hidden)
        for name in ("n_in", "n_out", "in_channels"):
            _validate.positive_int(getattr(self, name), name)
        if not isinstance(self.lif, LIFParams):
            raise TypeError(f"lif must be a LIFParams, got {self.lif!r}")
        if self.readout_lif is not None and not isinstance(self.readout_lif, LIFParams):
            raise TypeError(f"readout_lif must be a LIFParams or None, got {self.readout_lif!r}")
        if self.connectivity not in CONNECTIVITIES:
            raise ValueError(
                f"unknown connectivity {self.connectivity!r}; valid: {', '.join(CONNECTIVITIES)}"
            )
        if self.readout not in READOUTS:
            raise ValueError(f"unknown readout {self.readout!r}; valid: {', '.join(READOUTS)}")
        n = len(self.hidden)
        object.__setattr__(self, "kernel_size", _tuple(self.kernel_size, n, "kernel_size"))
        object.__setattr__(self, "stride", _tuple(self.stride, n, "stride"))
        rk = self.kernel_size if self.recurrent_kernel_size is None else self.recurrent_kernel_size
        object.__setattr__(self, "recurrent_kernel_size", _tuple(rk, n, "recurrent_kernel_size"))
        if self.connectivity == "conv1d":
            if self.event_driven:
                raise ValueError("event_driven is implemented for connectivity='dense' only")
            _ = self.lengths  # validates the geometry
        if self.checkpoint_block < 0 or self.max_active < 0:
            raise ValueError("checkpoint_block and max_active must be >= 0")
        if not _validate._integral(self.delay) or int(self.delay) not in DELAYS:
            raise ValueError(f"delay must be 0 or 1 (bins), got {self.delay!r}")
        object.__setattr__(self, "delay", int(self.delay))
        if self.readout_value not in READOUT_VALUES:
            raise ValueError(
                f"unknown readout_value {self.readout_value!r}; valid: {', '.join(READOUT_VALUES)}"
            )
        object.__setattr__(self, "readout_u0", _validate.real(self.readout_u0, "readout_u0"))
        if self.readout == "lif" and (self.readout_value != "before" or self.readout_u0 != 0.0):
            raise ValueError(
                "readout_value and readout_u0 apply to readout='integrator'; with readout='lif' "
                f"they must stay 'before' and 0.0, got {self.readout_value!r} and {self.readout_u0!r}"
            )

    @property
    def lengths(self) -> tuple:
        """Spatial length of the input and of every conv1d layer (all 1 for dense)."""
        if self.connectivity == "dense":
            return (1,) * (len(self.hidden) + 1)
        if self.n_in % self.in_channels:
            raise ValueError(f"n_in={self.n_in} is not divisible by in_channels={self.in_channels}")
        out = [self.n_in // self.in_channels]
        for k, s in zip(self.kernel_size, self.stride, strict=True):  # type: ignore[arg-type]  # tuples after __post_init__
            if out[-1] < k:
                raise ValueError(f"conv1d layer of kernel {k} does not fit input length {out[-1]}")
            out.append((out[-1] - k) // s + 1)
        return tuple(out)

    @property
    def layer_sizes(self) -> tuple:
        """Number of neurons per hidden layer (channels x length for conv1d)."""
        return tuple(h * l for h, l in zip(self.hidden, self.lengths[1:], strict=True))

    @property
    def out_lif(self) -> LIFParams:
        return self.readout_lif or self.lif


class SimResult(NamedTuple):
    """spikes: per hidden layer [B, T, N] (empty for record='output'); membranes: per hidden
    layer [B, T, N] or None; output: [B, T, n_out] readout potential (integrator) or output
    spikes (lif); output_membrane: [B, T, n_out] readout potential (None unless 'all')."""

    spikes: tuple
    membranes: tuple | None
    output: jax.Array
    output_membrane: jax.Array | None


def _fan_in(cfg, l):
    if cfg.connectivity == "dense":
        return cfg.n_in if l == 0 else cfg.layer_sizes[l - 1]
    return cfg.kernel_size[l] * (cfg.in_channels if l == 0 else cfg.hidden[l - 1])


@partial(jax.jit, static_argnums=(1, 2, 3))
def _draw(key, shapes, scales, dtype):
    sizes = [math.prod(sh) for sh in shapes]
    flat = jax.random.normal(key, (sum(sizes),), dtype)
    starts = np.cumsum([0] + sizes)
    return [
        sc * flat[a : a + n].reshape(sh)
        for a, n, sh, sc in zip(starts[:-1], sizes, shapes, scales, strict=True)
    ]


def _layer_specs(cfg, nu, nu_hidden, sigma_u, frac, readout_scale="fluctuation"):
    """[(name, layer index, shape, sigma)] of every weight array."""
    specs, c_in = [], cfg.in_channels
    wshape: tuple[int, ...]
    vshape: tuple[int, ...]
    for l, h in enumerate(cfg.hidden):
        rate = nu if l == 0 else nu_hidden
        sw = fluctuation_sigma_w(cfg.lif, _fan_in(cfg, l), rate, sigma_u) * math.sqrt(1 - frac)
        if cfg.connectivity == "dense":
            n_prev = cfg.n_in if l == 0 else cfg.layer_sizes[l - 1]
            wshape, vshape, n_rec = (n_prev, h), (h, h), h
        else:
            k, kr = cfg.kernel_size[l], cfg.recurrent_kernel_size[l]
            wshape, vshape, n_rec = (k, c_in, h), (kr, h, h), kr * h
        specs.append(("w", l, wshape, sw))
        if cfg.recurrent:
            sv = fluctuation_sigma_w(cfg.lif, n_rec, nu_hidden, sigma_u) * math.sqrt(frac)
            specs.append(("v", l, vshape, sv))
        c_in = h
    n_last = cfg.layer_sizes[-1] if cfg.hidden else cfg.n_in
    if readout_scale == "fan_in":
        so = 1.0 / math.sqrt(n_last)
    else:
        so = fluctuation_sigma_w(cfg.out_lif, n_last, nu_hidden if cfg.hidden else nu, sigma_u)
    return specs + [("w", len(cfg.hidden), (n_last, cfg.n_out), so)]


def param_shapes(cfg: SNNConfig) -> dict:
    """The pytree structure of :func:`init_params` with shapes as leaves."""
    out: dict = {"hidden": [{} for _ in cfg.hidden], "readout": {}}
    for name, l, shape, _ in _layer_specs(cfg, 1.0, 1.0, 1.0, 0.5 if cfg.recurrent else 0.0):
        (out["readout"] if l == len(cfg.hidden) else out["hidden"][l])[name] = shape
    return out


def parameter_count(cfg: SNNConfig) -> int:
    """Number of scalar parameters of ``cfg`` (all weight arrays of :func:`param_shapes`).

    >>> parameter_count(SNNConfig(n_in=20, hidden=(16,), n_out=3, recurrent=True))
    624
    """
    if not isinstance(cfg, SNNConfig):
        raise TypeError(f"cfg must be an SNNConfig, got {type(cfg).__name__}")
    shapes = jax.tree_util.tree_leaves(param_shapes(cfg), is_leaf=lambda x: isinstance(x, tuple))
    return sum(math.prod(sh) for sh in shapes)


def init_params(
    key: jax.Array,
    cfg: SNNConfig,
    nu: float = 10.0,
    sigma_u: float = 1.0,
    *,
    nu_hidden: float | None = None,
    recurrent_fraction: float = 0.1,
    dtype: DTypeLike = jnp.float32,
    readout_scale: str = "fluctuation",
) -> dict:
    """Fluctuation-driven Gaussian initialisation (Rossbroich, Gygax & Zenke 2022).

    Each weight matrix is N(0, sigma_w^2) with sigma_w = sigma_U / sqrt(fan_in nu eps_hat)
    (:func:`analysis.snn.fluctuation_sigma_w`); ``nu`` is the input rate in Hz,
    ``nu_hidden`` (default ``nu``) the assumed rate of hidden neurons. With recurrence,
    a fraction ``recurrent_fraction`` of the membrane variance comes from V.
    ``readout_scale``: ``"fluctuation"`` (default, the rule above for the readout too) or
    ``"fan_in"``: readout weights N(0, 1) / sqrt(fan_in), fan_in = N_L the number of
    last-layer neurons (channels x positions for conv1d), independent of ``nu`` and
    ``sigma_u``. That is stork's DistInitializer (github.com/fmi-basel/stork at 6dd5824):
    Normal(0, 1) samples (stork/initializers.py:172, 181-183) divided by sqrt(fan_in)
    (scaling "1/sqrt(k)", :91, :96-97), fan_in = dim 1 of the weight of the readout
    Connection, nn.Linear(src.nb_units, n_out) when flatten_input=True
    (stork/connections.py:89-90), i.e. k = src.nb_units. The hidden weights are the same
    draws for either value (one normal vector per key, scaled per array).
    Returns {"hidden": [{"w": ..., ["v": ...]}, ...], "readout": {"w": [N_L, n_out]}}
    (dense W [N_in, N], V [N, N]; conv1d W [K, C_in, C_out], V [K, C, C]).
    """
    _validate.prng_key(key)
    if not isinstance(cfg, SNNConfig):
        raise TypeError(f"cfg must be an SNNConfig, got {type(cfg).__name__}")
    nu = _validate.positive_scalar(nu, "nu")
    sigma_u = _validate.positive_scalar(sigma_u, "sigma_u")
    nu_hidden = nu if nu_hidden is None else _validate.positive_scalar(nu_hidden, "nu_hidden")
    if not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
        raise ValueError(f"dtype must be a floating-point dtype, got {jnp.dtype(dtype)}")
    if not 0.0 <= recurrent_fraction < 1.0:
        raise ValueError(f"recurrent_fraction must lie in [0, 1), got {recurrent_fraction}")
    if readout_scale not in READOUT_SCALES:
        raise ValueError(f"unknown readout_scale {readout_scale!r}; valid: {', '.join(READOUT_SCALES)}")
    frac = recurrent_fraction if cfg.recurrent else 0.0
    specs = _layer_specs(cfg, nu, nu_hidden, sigma_u, frac, readout_scale)
    arrays = _draw(key, tuple(s[2] for s in specs), tuple(s[3] for s in specs), jnp.dtype(dtype))
    out: dict = {"hidden": [{} for _ in cfg.hidden], "readout": {}}
    for (name, l, _, _), a in zip(specs, arrays, strict=True):
        (out["readout"] if l == len(cfg.hidden) else out["hidden"][l])[name] = a
    return out


def simulate(
    params: dict,
    inputs: ArrayLike,
    cfg: SNNConfig,
    method: Method,
    *,
    key: jax.Array | None = None,
    record: str = "spikes",
    source: Any = None,
) -> SimResult:
    """Run the network on ``inputs`` [B, T, n_in] (float32 or float64 spikes or currents).

    ``key`` (a PRNG key) is required for stochastic methods; the same key gives the same
    spikes. ``record``: ``output`` (only the readout), ``spikes`` (+ hidden spikes) or
    ``all`` (+ membrane potentials). Gradients (``jax.grad`` through this function) are
    surrogate-gradient BPTT with the method's spike derivative rules.
    Jit with ``cfg``, ``method`` and ``record`` static.

    ``source``: a spike source (any object with ``bernoulli(site, p, index)``, e.g. those of
    :mod:`analysis.stochastic`). Then the spikes of hidden layer l at bin t are
    ``source.bernoulli(f"layer{l}", f(U[t] - theta), t)`` with f the method's
    ``hidden_noise`` (site ``"readout"`` and ``output_noise`` for a LIF readout), p and the
    spikes of shape [B, N]; the source declares sites {"layer{l}": (T, B, N_l)} (and
    {"readout": (T, B, n_out)}). A source with a method ``spike(site, z, noise, index)`` is
    called instead with the potential z = U[t] - theta and the layer's escape noise (for
    rules that need z: Heaviside, a non-matched surrogate). The method's spike rule, its
    derivative rule and ``key`` are not used; the all-layers time loop runs unblocked
    (Gygax & Zenke 2025, sec. 4-5: the network as a stochastic program whose spikes are the
    Bernoulli draws).
    """
    if source is not None and not any(callable(getattr(source, m, None)) for m in ("bernoulli", "spike")):
        raise TypeError(f"source must have a method bernoulli(site, p, index), got {source!r}")
    _check_inputs(params, inputs, cfg, method, key, record, needs_key=source is None)
    inputs = jnp.asarray(inputs)
    dtype = inputs.dtype if jnp.issubdtype(inputs.dtype, jnp.floating) else jnp.float32
    keys = jax.random.split(key, len(cfg.hidden) + 1) if method.stochastic and source is None else None  # type: ignore[arg-type]  # _check_inputs: key given
    axis = 1 if source is None and not cfg.checkpoint and time_axis(cfg) == 1 else 0
    x_in = inputs.astype(dtype)
    if axis == 1:  # batch-major end to end (analysis.snn._layerwise): no transposes
        spikes, mems, out, u_o = layerwise(params, x_in, cfg, method, keys, record, axis=1)
        bt = lambda y: y
    else:
        x_tm = jnp.swapaxes(x_in, 0, 1)
        if source is not None:
            spikes, mems, out, u_o = time_loop(params, x_tm, cfg, method, None, record, source)
        else:
            run = time_loop if cfg.checkpoint else layerwise
            spikes, mems, out, u_o = run(params, x_tm, cfg, method, keys, record)
        bt = lambda y: jnp.swapaxes(y, 0, 1)
    return SimResult(
        spikes=tuple(bt(s) for s in spikes) if record != "output" else (),
        membranes=tuple(bt(m) for m in mems) if record == "all" else None,
        output=bt(out),
        output_membrane=bt(u_o) if record == "all" else None,
    )


def _check_inputs(params, inputs, cfg, method, key, record, needs_key=True):
    if not isinstance(cfg, SNNConfig):
        raise TypeError(f"cfg must be an SNNConfig, got {type(cfg).__name__}")
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method (see analysis.snn.method), got {method!r}")
    if record not in RECORD_MODES:
        raise ValueError(f"unknown record {record!r}; valid: {', '.join(RECORD_MODES)}")
    shape = getattr(inputs, "shape", None)
    if shape is None or len(shape) != 3 or shape[2] != cfg.n_in:
        raise ValueError(f"inputs must have shape [batch, time, n_in={cfg.n_in}], got {shape}")
    if 0 in tuple(shape[:2]):
        raise ValueError(f"inputs need at least one sample and one time bin, got shape {tuple(shape)}")
    if needs_key and method.stochastic and key is None:
        raise ValueError(f"method {method.name!r} samples spikes: pass a PRNG key")
    if needs_key and method.stochastic:
        _validate.prng_key(key)
    expected = param_shapes(cfg)
    got = jax.tree_util.tree_map(lambda a: tuple(a.shape), params) if isinstance(params, dict) else None
    if got != expected:
        raise ValueError(
            f"params do not match cfg: expected shapes {expected}, got {got} "
            f"({len(cfg.hidden)} hidden layers and a readout)"
        )
    _validate.real_finite(inputs, "inputs")
    for leaf in jax.tree_util.tree_leaves(params):
        _validate.real_finite(leaf, "params")
