"""Small stochastic spiking networks as program builders (the networks of ``sgtheory compare``).

A :class:`Network` is a frozen description of either

* ``"feedforward"`` binary layers: S_l = spike(W_l S_{l-1} - theta), S_0 = x, or
* ``"lif"`` layers in time (Gygax & Zenke 2025, sec. 5), zero initial state, for
  t = 0 .. T-1 and every layer l (input S_0[t] = x[t]):

      S_l[t]   = spike(U_l[t] - theta)
      I_l[t+1] = l_syn I_l[t] + W_l S_{l-1}[t]  (+ V_l S_l[t] for hidden layers if recurrent)
      U_l[t+1] = l_mem U_l[t] (1 - S_l[t]) + (1 - l_mem) I_l[t]

  with l_mem = exp(-dt/tau_mem), l_syn = exp(-dt/tau_syn); the reset is ``"detached"``
  (no derivative through (1 - S), default) or ``"differentiable"``.

:meth:`Network.program` returns the network as a :class:`~analysis.stochastic.Program`
(params: the tuple of weight matrices; inputs: x), so every tool of
:mod:`analysis.stochastic` applies to it: exact enumeration, the estimators, E[SG]. Each
spike is the draw ``src.bernoulli(site, f(z), index, z=z, surrogate=psi)`` with z the
potential minus theta, f the escape noise ``noise`` and psi the network's ``surrogate``
(None: matched). Feedforward sites are the layers ``{"layer{l}": (1, n_l)}``; a LIF network
is not simulated here: its program runs the training simulator :func:`analysis.snn.simulate`
(batch 1) with the sites ``{"layer{l}": (T, 1, n_l), "readout": (T, 1, n_L)}``, so the theory
tools and training share one LIF implementation (:func:`snn_view` gives the translation).
Weights here follow the layout of the equations and of ``sgtheory compare`` specs: W_l of
shape (n_l, n_{l-1}) acting as W_l S_{l-1}, V_l of shape (n_l, n_l); the snn layout is their
transpose (:func:`to_snn_params` / :func:`from_snn_params`).

The readout r is the last layer's spikes (feedforward) or its mean over time (LIF); the loss
is ``"mean"`` (mean of r), ``"mse"`` (mean (r - target)^2) or ``"xent"`` (cross-entropy of
softmax(r) against class ``target``). The program's spike uniforms are drawn as one (n, K)
array in time-major, then layer, then neuron order (the layout of earlier releases, so a
seed gives the same samples).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from analysis import _validate
from analysis.neuron import EscapeNoise, Surrogate, as_surrogate, matched_surrogate, spike_uniforms
from analysis.snn import LIFParams, Method, SNNConfig
from analysis.snn import simulate as snn_simulate
from analysis.stochastic._program import Program

NETWORK_KINDS = ("feedforward", "lif")
LOSSES = ("mean", "mse", "xent")
RESETS = ("detached", "differentiable")


@dataclass(frozen=True)
class Network:
    """Frozen description of a small stochastic spiking network (hashable).

    kind : "feedforward" or "lif". sizes : (n_in, n_1, ..., n_L) layer widths.
    noise : escape noise f of the stochastic network (forward pass).
    surrogate : psi of the backward pass of SG estimators; None = matched psi = f'; a callable
        psi (z -> dS/dz) is wrapped by :meth:`analysis.neuron.Surrogate.from_callable`.
    theta : threshold. loss : one of ``LOSSES``; target : tuple of floats (mse, length n_L)
    or a class index (xent). steps, tau_mem, tau_syn, dt, reset, recurrent : LIF only
    (theta > 0 for LIF). Parameters are a tuple of weight matrices W_l of shape
    (n_l, n_{l-1}), l = 1..L, followed (``recurrent=True``) by the recurrent weights V_l of
    shape (n_l, n_l) of the hidden layers l = 1..L-1.
    """

    kind: str
    sizes: tuple
    noise: EscapeNoise
    surrogate: Surrogate | None = None
    theta: float = 1.0
    loss: str = "mean"
    target: Any = None
    steps: int = 1
    tau_mem: float = 10.0
    tau_syn: float = 5.0
    dt: float = 1.0
    reset: str = "detached"
    recurrent: bool = False

    def __post_init__(self):
        if not isinstance(self.sizes, (tuple, list)):
            raise TypeError(f"sizes must be a tuple of layer widths, got {self.sizes!r}")
        if not isinstance(self.kind, str) or self.kind not in NETWORK_KINDS:
            raise ValueError(f"kind must be one of {NETWORK_KINDS}, got {self.kind!r}")
        sizes = tuple(_validate.positive_int(n, "sizes[i]") for n in self.sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes must list the input width and >= 1 layer, got {self.sizes!r}")
        object.__setattr__(self, "sizes", sizes)
        if not isinstance(self.noise, EscapeNoise):
            raise TypeError(f"noise must be an EscapeNoise, got {self.noise!r}")
        object.__setattr__(self, "surrogate", as_surrogate(self.surrogate, "surrogate", allow_none=True))
        if not isinstance(self.loss, str) or self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if not isinstance(self.reset, str) or self.reset not in RESETS:
            raise ValueError(f"reset must be one of {RESETS}, got {self.reset!r}")
        object.__setattr__(self, "target", _check_target(self.loss, self.target, sizes[-1]))
        object.__setattr__(self, "steps", _validate.positive_int(self.steps, "steps"))
        if self.kind == "feedforward" and self.steps != 1:
            raise ValueError("steps must be 1 for a feedforward network")
        for name in ("tau_mem", "tau_syn", "dt"):
            object.__setattr__(self, name, _validate.positive_scalar(getattr(self, name), name))
        object.__setattr__(self, "theta", _validate.real(self.theta, "theta"))
        if not isinstance(self.recurrent, bool):
            raise TypeError(f"recurrent must be True or False, got {self.recurrent!r}")
        if self.kind == "feedforward" and self.recurrent:
            raise ValueError("recurrent weights need kind 'lif' (a feedforward network has no time)")
        if self.kind == "lif" and self.theta <= 0:
            raise ValueError(f"theta must be > 0 for a LIF network, got {self.theta!r}")

    @property
    def n_spikes(self) -> int:
        """K, the number of spike variables (hidden + output neurons x steps)."""
        return sum(self.sizes[1:]) * self.steps

    @property
    def sg(self) -> Surrogate:
        """The surrogate of the backward pass (matched to the noise when None)."""
        return self.surrogate if self.surrogate is not None else matched_surrogate(self.noise)

    def param_shapes(self):
        """Shapes of the parameter tuple: W_1 .. W_L, then V_1 .. V_{L-1} if recurrent."""
        ws = tuple((self.sizes[i + 1], self.sizes[i]) for i in range(len(self.sizes) - 1))
        vs = tuple((n, n) for n in self.sizes[1:-1]) if self.recurrent else ()
        return ws + vs

    def param_names(self) -> tuple[str, ...]:
        """Names of the parameter tuple: W1 .. WL, then V1 .. V(L-1) if recurrent."""
        n_w = len(self.sizes) - 1
        return tuple(f"W{l + 1}" for l in range(n_w)) + tuple(
            f"V{l + 1}" for l in range(len(self.param_shapes()) - n_w)
        )

    def coordinate_names(self) -> list[str]:
        """Names of the flattened parameters in order, e.g. ``W1[0, 1]``, ``V1[1, 0]``."""
        return [
            f"{name}[{i}, {j}]"
            for name, shape in zip(self.param_names(), self.param_shapes(), strict=True)
            for i, j in np.ndindex(shape)
        ]

    def input_shape(self):
        return (self.sizes[0],) if self.kind == "feedforward" else (self.steps, self.sizes[0])

    def program(self) -> Program:
        """The network as a :class:`~analysis.stochastic.Program` (params: the weight tuple,
        inputs: x); the same network gives the same (cached) program."""
        return _network_program(self)


def _check_target(loss, target, n_out):
    if loss == "mean":
        if target is not None:
            raise ValueError(f"loss 'mean' takes no target, got target={target!r}")
        return None
    if loss == "xent":
        whole = isinstance(target, (int, np.integer)) or (isinstance(target, float) and target.is_integer())
        ok = whole and not isinstance(target, bool) and 0 <= target < n_out
        if not ok:
            raise ValueError(f"target must be a class index in [0, {n_out}) for loss 'xent', got {target!r}")
        return int(target)
    if target is None or isinstance(target, (str, bytes, bool)) or np.ndim(target) != 1:
        raise ValueError(
            f"target must be a list of {n_out} numbers (output width) for loss 'mse', got {target!r}"
        )
    t = _validate.float_vector(target, "target")
    if len(t) != n_out:
        raise ValueError(f"target must have {n_out} entries (output width) for loss 'mse', got {target!r}")
    return t


def _check_inputs(net: Network, params, x):
    shapes = net.param_shapes()
    if not isinstance(params, (tuple, list)) or len(params) != len(shapes):
        raise ValueError(f"params must be a tuple of {len(shapes)} weight matrices with shapes {shapes}")
    for i, (w, s) in enumerate(zip(params, shapes, strict=True)):
        if jnp.shape(w) != s:
            raise ValueError(f"params[{i}] has shape {jnp.shape(w)}, expected {s}")
        _validate.finite(w, f"params[{i}]")
    if jnp.shape(x) != net.input_shape():
        raise ValueError(f"x has shape {jnp.shape(x)}, expected {net.input_shape()}")
    _validate.finite(x, "x")


def snn_view(net: Network) -> tuple[SNNConfig, Method]:
    """The :mod:`analysis.snn` configuration and method that simulate a LIF ``net``.

    Dense hidden layers ``sizes[1:-1]`` (recurrent if ``net.recurrent``), a spiking readout of
    ``sizes[-1]`` units, every layer with LIFParams(tau_mem, tau_syn, dt, theta, reset) of
    ``net``; the method's escape noise is ``net.noise`` in every layer and its surrogate
    ``net.surrogate`` (the method's name does not matter when a spike source decides).
    """
    if not isinstance(net, Network) or net.kind != "lif":
        raise ValueError(f"snn_view needs a LIF Network, got {net!r}")
    return _snn_view(net)


@functools.lru_cache(maxsize=256)
def _snn_view(net: Network) -> tuple[SNNConfig, Method]:
    lif = LIFParams(tau_mem=net.tau_mem, tau_syn=net.tau_syn, dt=net.dt, theta=net.theta, reset=net.reset)
    cfg = SNNConfig(
        n_in=net.sizes[0],
        hidden=net.sizes[1:-1],
        n_out=net.sizes[-1],
        recurrent=net.recurrent,
        readout="lif",
        lif=lif,
    )
    return cfg, Method("stochastic", hidden_noise=net.noise, output_noise=net.noise, surrogate=net.surrogate)


def to_snn_params(net: Network, params: Sequence[ArrayLike]) -> dict:
    """Network parameters (W_1 .. W_L [, V_1 .. V_{L-1}]) -> the pytree of :func:`snn_view`.

    {"hidden": [{"w": W_l^T [, "v": V_l^T]}, ...], "readout": {"w": W_L^T}} (transposes only).
    """
    n_w = len(net.sizes) - 1
    ws, vs = params[:n_w], params[n_w:]
    hidden: list[dict] = [{"w": jnp.asarray(w).T} for w in ws[:-1]]
    for h, v in zip(hidden, vs, strict=False):
        h["v"] = jnp.asarray(v).T
    return {"hidden": hidden, "readout": {"w": jnp.asarray(ws[-1]).T}}


def from_snn_params(net: Network, snn_params: dict) -> tuple[jax.Array, ...]:
    """Inverse of :func:`to_snn_params`."""
    hidden = snn_params["hidden"]
    ws = tuple(jnp.asarray(h["w"]).T for h in hidden) + (jnp.asarray(snn_params["readout"]["w"]).T,)
    vs = tuple(jnp.asarray(h["v"]).T for h in hidden) if net.recurrent else ()
    return ws + vs


def _readout_loss(net: Network, out: jax.Array) -> jax.Array:
    """Loss of the readout spikes ``out`` (steps, n_L): r = mean over time."""
    r = out.mean(axis=0)
    if net.loss == "mean":
        return r.mean()
    if net.loss == "mse":
        return jnp.mean((r - jnp.asarray(net.target, r.dtype)) ** 2)
    return -jax.nn.log_softmax(r)[net.target]


def _site_names(net: Network) -> list[str]:
    n = len(net.sizes) - 1
    if net.kind == "lif":
        return [f"layer{l}" for l in range(n - 1)] + ["readout"]
    width = len(str(n - 1))
    return [f"layer{l:0{width}d}" for l in range(n)]


def _sites(net: Network) -> dict:
    lead = (net.steps, 1) if net.kind == "lif" else (1,)
    return {name: lead + (n,) for name, n in zip(_site_names(net), net.sizes[1:], strict=True)}


@dataclass(frozen=True)
class _NetworkFn:
    """The network's program function (hashable by the network: compiled once per network)."""

    net: Network

    def __call__(self, params, x, src):
        net = self.net
        dtype = jnp.result_type(x, *params, float)
        params = [jnp.asarray(w, dtype) for w in params]
        x = jnp.asarray(x, dtype)
        if net.kind == "lif":
            cfg, method = _snn_view(net)
            res = snn_simulate(to_snn_params(net, params), x[None], cfg, method, record="output", source=src)
            return _readout_loss(net, res.output[0])
        s = x
        for name, w in zip(_site_names(net), params, strict=True):
            z = w @ s - net.theta
            s = src.bernoulli(name, net.noise.prob(z), 0, z=z, surrogate=net.surrogate)
        return _readout_loss(net, s[None])


@dataclass(frozen=True)
class _NetworkUniforms:
    """Spike uniforms of n samples: one (n, K) draw, time-major, then layer, then neuron."""

    net: Network

    def __call__(self, key, n, dtype=None):
        net = self.net
        u = spike_uniforms(key, (n, net.n_spikes), dtype or jnp.result_type(float))
        u = u.reshape(n, net.steps, -1)
        cuts = np.cumsum((0,) + net.sizes[1:])
        out = {}
        for l, name in enumerate(_site_names(net)):
            part = u[:, :, cuts[l] : cuts[l + 1]]
            out[name] = part[:, :, None, :] if net.kind == "lif" else part
        return out


@dataclass(frozen=True)
class _NetworkCheck:
    net: Network

    def __call__(self, params, x):
        _check_inputs(self.net, params, x)


@functools.lru_cache(maxsize=256)
def _network_program(net: Network) -> Program:
    return Program(_NetworkFn(net), _sites(net), uniforms=_NetworkUniforms(net), check=_NetworkCheck(net))


def random_instance(
    key: jax.Array, net: Network, weight_scale: float = 1.0, input_rate: float = 0.5
) -> tuple[tuple[jax.Array, ...], jax.Array]:
    """Random (params, x) for ``net``: W_l ~ N(0, weight_scale^2 / n_{l-1}) * sqrt(2) (V_l alike
    with fan-in n_l),

    feedforward input x ~ U[0, 2)^n_in, LIF input spikes x[t] ~ Bernoulli(input_rate).
    Used to build families of test networks (claims, tests, figures).
    """
    keys = jax.random.split(key, len(net.sizes))
    shapes = net.param_shapes()
    wkeys = list(keys[1:]) + [jax.random.fold_in(key, 1000 + i) for i in range(len(shapes) - len(keys) + 1)]
    params = tuple(
        jax.random.normal(k, s) * weight_scale * math.sqrt(2.0 / s[1])
        for k, s in zip(wkeys, shapes, strict=True)
    )
    if net.kind == "feedforward":
        x = 2.0 * jax.random.uniform(keys[0], net.input_shape())
    else:
        x = (jax.random.uniform(keys[0], net.input_shape()) < input_rate).astype(jnp.result_type(float))
    return params, x
