"""The LIF networks of :mod:`analysis.snn` as stochastic programs.

A network (:class:`analysis.snn.SNNConfig`, a :class:`analysis.snn.Method` for its escape
noise) becomes a :class:`~analysis.stochastic.Program` ``fn(params, inputs, src) -> loss``
by running the training simulator :func:`analysis.snn.simulate` with the spike source
``src``: the spikes of hidden layer l at bin t are the draw
``src.bernoulli(f"layer{l}", f(z), t, z=z, surrogate=psi)``, z = U_l[t] - theta, of shape
[B, N_l] (f the method's hidden escape noise, psi its surrogate), and those of a LIF readout
the draw of site ``"readout"`` with the output noise, of shape [B, n_out]. The spike
variables are S = {layer{l}: [T, B, N_l], (readout: [T, B, n_out])}, and

    P(S) = prod_{site, t, b, i} p^S (1 - p)^(1 - S),   p = f(U[t] - theta) given S[<t],

so the exact gradient grad E_S[L(S)] (enumeration, small K), the unbiased estimators
(score, coupled_flip) and the surrogate gradient (straight-through source: ds/dp = 1,
hence ds/dz = f'(z), the matched surrogate) all apply to the networks that are trained,
dense, recurrent and conv1d alike (Gygax & Zenke 2025, sec. 3-5; Arya et al., NeurIPS 2022).

:func:`snn_uniforms` returns the uniforms the training path draws from a key
(``jax.random.uniform(jax.random.fold_in(keys[l], t), [B, N_l])`` with
``keys = jax.random.split(key, n_hidden + 1)``), so that ``Bernoulli(sites, u=...)``
reproduces the training spikes of ``simulate(..., Method("stochastic"), key)`` exactly.

Example
-------
>>> import jax, jax.numpy as jnp
>>> from analysis.snn import SNNConfig, init_params, method
>>> from analysis.stochastic import exact_value_and_grad, snn_program
>>> cfg = SNNConfig(n_in=2, hidden=(2,), n_out=1, recurrent=True)
>>> params = init_params(jax.random.key(0), cfg, nu=200.0, dtype=jnp.float64)
>>> x = jnp.ones((1, 3, 2), jnp.float64)
>>> loss = lambda res, inputs: jnp.sum(res.output[:, -1] ** 2)
>>> program = snn_program(cfg, method("stochastic"), loss, batch=1, n_steps=3)
>>> value, grad = exact_value_and_grad(program, params, x)
>>> grad["hidden"][0]["v"].shape
(2, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from analysis import _validate
from analysis.snn import Method, SimResult, SNNConfig, simulate
from analysis.stochastic._program import Program


def _check_cfg(cfg: Any, method: Any = None) -> None:
    if not isinstance(cfg, SNNConfig):
        raise TypeError(f"cfg must be an analysis.snn.SNNConfig, got {type(cfg).__name__}")
    if method is not None and not isinstance(method, Method):
        raise TypeError(f"method must be an analysis.snn.Method (its escape noise gives p), got {method!r}")


def snn_sites(cfg: SNNConfig, batch: int, n_steps: int) -> dict[str, tuple[int, ...]]:
    """Site declaration of a network: {"layer{l}": (T, B, N_l)} (+ {"readout": (T, B, n_out)}).

    N_l = ``cfg.layer_sizes[l]`` (channels x positions for conv1d, position-major); the
    readout site exists only for ``cfg.readout == "lif"``. K = T B (sum_l N_l [+ n_out]).
    """
    _check_cfg(cfg)
    batch = _validate.positive_int(batch, "batch")
    n_steps = _validate.positive_int(n_steps, "n_steps")
    sites: dict[str, tuple[int, ...]] = {
        f"layer{l}": (n_steps, batch, n) for l, n in enumerate(cfg.layer_sizes)
    }
    if cfg.readout == "lif":
        sites["readout"] = (n_steps, batch, cfg.n_out)
    return sites


def snn_uniforms(
    key: jax.Array, cfg: SNNConfig, batch: int, n_steps: int, dtype: DTypeLike | None = None
) -> dict[str, jax.Array]:
    """The uniforms u[site] [T, B, N] that ``simulate(..., key)`` draws for its spikes.

    Hidden layer l: u[t] = uniform(fold_in(keys[l], t), [B, N_l]); LIF readout:
    keys[n_hidden]; keys = split(key, n_hidden + 1) (the training path; the spike is
    1[u < f(U - theta)]). ``dtype``: that of the inputs given to ``simulate`` (default float).
    """
    sites = snn_sites(cfg, batch, n_steps)
    keys = jax.random.split(key, len(cfg.hidden) + 1)
    dtype = dtype or jnp.result_type(float)
    ts = jnp.arange(n_steps, dtype=jnp.int32)

    def draws(k, shape):
        return jax.vmap(lambda t: jax.random.uniform(jax.random.fold_in(k, t), shape, dtype))(ts)

    out = {f"layer{l}": draws(keys[l], sites[f"layer{l}"][1:]) for l in range(len(cfg.hidden))}
    if "readout" in sites:
        out["readout"] = draws(keys[len(cfg.hidden)], sites["readout"][1:])
    return out


def snn_program(
    cfg: SNNConfig,
    method: Method,
    loss_fn: Callable[[SimResult, Any], jax.Array],
    batch: int,
    n_steps: int,
    *,
    record: str = "spikes",
) -> Program:
    """The network as a :class:`~analysis.stochastic.Program` over ``batch`` examples of
    ``n_steps`` bins: ``fn(params, inputs, src) = loss_fn(result, inputs)``.

    ``inputs`` is the input array [B, T, n_in] or a tuple whose first entry it is (the rest,
    e.g. targets, is for ``loss_fn``); ``result`` = ``simulate(params, x, cfg, method,
    record=record, source=src)``; ``loss_fn`` returns a scalar. Only the method's escape noise
    (``hidden_noise``, ``output_noise``) and surrogate are used: the source decides the spikes
    and their derivative. Sites: :func:`snn_sites`. The same arguments give equal programs,
    so exact gradients and estimators compile once.
    """
    _check_cfg(cfg, method)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function (SimResult, inputs) -> scalar, got {loss_fn!r}")
    sites = snn_sites(cfg, batch, n_steps)
    return Program(_SNNFn(cfg, method, loss_fn, record), sites, check=_SNNCheck(cfg, batch, n_steps))


@dataclass(frozen=True)
class _SNNFn:
    cfg: SNNConfig
    method: Method
    loss_fn: Callable
    record: str

    def __call__(self, params: Any, inputs: Any, src: Any) -> jax.Array:
        x = inputs[0] if isinstance(inputs, tuple) else inputs
        res = simulate(params, x, self.cfg, self.method, record=self.record, source=src)
        return self.loss_fn(res, inputs)


@dataclass(frozen=True)
class _SNNCheck:
    cfg: SNNConfig
    batch: int
    n_steps: int

    def __call__(self, params: Any, inputs: Any) -> None:
        x = inputs[0] if isinstance(inputs, tuple) else inputs
        want = (self.batch, self.n_steps, self.cfg.n_in)
        if jnp.shape(x) != want:
            raise ValueError(
                f"inputs of this program must have shape [B, T, n_in] = {want}, got {jnp.shape(x)}"
            )
