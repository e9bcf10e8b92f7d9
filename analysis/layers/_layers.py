"""LIF and leaky-integrator (LI) layers as Equinox modules (private; see :mod:`analysis.layers`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from analysis import _validate
from analysis.neuron import (
    EscapeNoise,
    Surrogate,
    as_surrogate,
    bernoulli_spike_from_uniform,
    heaviside_spike,
    matched_surrogate,
)
from analysis.snn._lif import LIFParams, fluctuation_sigma_w, integrator_update, lif_update

SPIKE_RULES = ("heaviside", "bernoulli")
DEFAULT_NOISE = EscapeNoise("sigmoid", 10.0)  # analysis.snn.Method's hidden_noise (the paper's)
RECURRENT_FRACTION = 0.1  # of the membrane variance from V at initialisation (as init_params)


def _weights(key, shape, sigma, dtype):
    return sigma * jax.random.normal(key, shape, dtype)


def _check_dtype(dtype: DTypeLike) -> Any:
    if not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
        raise ValueError(f"dtype must be a floating-point dtype, got {jnp.dtype(dtype)}")
    return jnp.dtype(dtype)


def _inputs(x: ArrayLike, n_in: int, dtype) -> jax.Array:
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[1] != n_in or x.shape[0] == 0:
        raise ValueError(
            f"x must have shape [time, n_in={n_in}] with time >= 1 (jax.vmap the layer over a batch), "
            f"got {x.shape}"
        )
    return x.astype(jnp.result_type(x.dtype, dtype) if jnp.issubdtype(x.dtype, jnp.floating) else dtype)


class LIF(eqx.Module):
    """A population of ``n_out`` LIF neurons driven by ``n_in`` inputs, run over time.

    Equations (:mod:`analysis.snn._lif`; those of :func:`analysis.snn.simulate` with
    ``delay=0``): with zero initial state, for t = 0 .. T-1,

        S[t]   = spike(U[t] - theta)
        I[t+1] = lambda_syn I[t] + x[t] W  (+ S[t] V if recurrent)
        U[t+1] = lambda_mem U[t] (1 - S[t]) + (1 - lambda_mem) I[t]    (reset_scope "leak")

    ``spike="heaviside"``: S = Theta(z) with derivative ``surrogate`` psi(z);
    ``"bernoulli"``: S = 1[u < f(z)] with f = ``escape_noise`` and uniforms u (from ``key``,
    or given), derivative psi(z) (None = matched psi = f', the smoothed stochastic
    derivative, Gygax & Zenke 2025 sec. 4). ``surrogate``: a :class:`~analysis.neuron.Surrogate`,
    a callable psi, or None (matched to ``escape_noise``, default sigmoid with beta = 10, as
    :class:`analysis.snn.Method`).

    Weights W [n_in, n_out] (and V [n_out, n_out] if ``recurrent``) are N(0, sigma^2) with the
    fluctuation-driven sigma of :func:`analysis.snn.fluctuation_sigma_w` for inputs of rate
    ``nu`` Hz and membrane s.d. ``sigma_u`` (V: 10 % of the variance, as
    :func:`analysis.snn.init_params`). Replace them with ``eqx.tree_at(lambda l: l.w, layer, w)``.
    """

    w: jax.Array
    v: jax.Array | None
    lif: LIFParams = eqx.field(static=True)
    spike: str = eqx.field(static=True)
    surrogate: Surrogate = eqx.field(static=True)
    escape_noise: EscapeNoise = eqx.field(static=True)

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        key: jax.Array,
        tau_mem: float = 10e-3,
        tau_syn: float = 5e-3,
        dt: float = 1e-3,
        theta: float = 1.0,
        spike: str = "heaviside",
        surrogate: Surrogate | Callable | None = None,
        escape_noise: EscapeNoise | None = None,
        recurrent: bool = False,
        reset: str = "detached",
        reset_scope: str = "leak",
        nu: float = 10.0,
        sigma_u: float = 1.0,
        dtype: DTypeLike = jnp.float32,
    ):
        n_in = _validate.positive_int(n_in, "n_in")
        n_out = _validate.positive_int(n_out, "n_out")
        _validate.prng_key(key)
        if spike not in SPIKE_RULES:
            raise ValueError(f"unknown spike {spike!r}; valid: {', '.join(SPIKE_RULES)}")
        noise = DEFAULT_NOISE if escape_noise is None else escape_noise
        if not isinstance(noise, EscapeNoise):
            raise TypeError(f"escape_noise must be an EscapeNoise or None, got {escape_noise!r}")
        if not isinstance(recurrent, bool):
            raise TypeError(f"recurrent must be True or False, got {recurrent!r}")
        psi = as_surrogate(surrogate, "surrogate", allow_none=True)
        self.lif = LIFParams(tau_mem, tau_syn, dt, theta, reset, reset_scope)
        self.spike = spike
        self.escape_noise = noise
        self.surrogate = psi if psi is not None else matched_surrogate(noise)
        dtype = _check_dtype(dtype)
        frac = RECURRENT_FRACTION if recurrent else 0.0
        kw, kv = jax.random.split(key)
        sw = fluctuation_sigma_w(self.lif, n_in, nu, sigma_u) * math.sqrt(1 - frac)
        self.w = _weights(kw, (n_in, n_out), sw, dtype)
        if recurrent:
            sv = fluctuation_sigma_w(self.lif, n_out, nu, sigma_u) * math.sqrt(frac)
            self.v = _weights(kv, (n_out, n_out), sv, dtype)
        else:
            self.v = None

    @property
    def stochastic(self) -> bool:
        """True for ``spike="bernoulli"`` (needs ``key`` or ``uniforms``)."""
        return self.spike == "bernoulli"

    def uniforms(self, key: jax.Array, n_steps: int, dtype: DTypeLike | None = None) -> jax.Array:
        """The uniforms [T, n_out] a call with ``key`` uses: row t is
        ``jax.random.uniform(jax.random.fold_in(key, t), (n_out,))``. That is the draw of
        :func:`analysis.snn.simulate` for hidden layer l at batch size 1 when ``key`` is
        ``jax.random.split(sim_key, n_layers)[l]`` (n_layers: hidden layers + readout), which is
        what ``eqx.nn.Sequential`` passes its l-th layer."""
        n = self.w.shape[1]
        dtype = self.w.dtype if dtype is None else dtype
        draw = lambda t: jax.random.uniform(jax.random.fold_in(key, t), (n,), dtype)
        return jax.vmap(draw)(jnp.arange(n_steps, dtype=jnp.int32))

    def run(
        self, x: ArrayLike, *, key: jax.Array | None = None, uniforms: ArrayLike | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """(spikes S [T, n_out], membrane potentials U [T, n_out]) for inputs ``x`` [T, n_in].

        Bernoulli spikes need ``key`` (see :meth:`uniforms`) or ``uniforms`` [T, n_out] in
        [0, 1) (given uniforms win); Heaviside spikes ignore both.
        """
        x = _inputs(x, self.w.shape[0], self.w.dtype)
        n_steps, n = x.shape[0], self.w.shape[1]
        u_all = None
        if self.stochastic:
            if uniforms is not None:
                u_all = jnp.asarray(uniforms, x.dtype)
                if u_all.shape != (n_steps, n):
                    raise ValueError(
                        f"uniforms must have shape [time, n_out] = {(n_steps, n)}, got {u_all.shape}"
                    )
            elif key is not None:
                u_all = self.uniforms(key, n_steps, x.dtype)
            else:
                raise ValueError("spike='bernoulli' samples spikes: pass key= (a PRNG key) or uniforms=")
        drive = x @ self.w.astype(x.dtype)  # the feedforward drive of all bins at once
        lif, theta = self.lif, self.lif.theta
        v = None if self.v is None else self.v.astype(x.dtype)

        def fire(z, u):
            if u is None:
                return heaviside_spike(z, self.surrogate)
            return bernoulli_spike_from_uniform(z, u, self.escape_noise, self.surrogate)

        def step(carry, xs):
            i_syn, mem = carry
            d_t, u_t = xs
            s = fire(mem - theta, u_t)
            cur = d_t if v is None else d_t + s @ v
            return lif_update(lif, i_syn, mem, cur, s), (s, mem)

        zero = jnp.zeros((n,), x.dtype)
        _, (s, mem) = lax.scan(step, (zero, zero), (drive, u_all))
        return s, mem

    def __call__(
        self, x: ArrayLike, *, key: jax.Array | None = None, uniforms: ArrayLike | None = None
    ) -> jax.Array:
        """Spikes [T, n_out] for inputs ``x`` [T, n_in] (see :meth:`run`)."""
        return self.run(x, key=key, uniforms=uniforms)[0]


class LI(eqx.Module):
    """Leaky-integrator readout: ``n_out`` non-spiking neurons, output U[t] [T, n_out].

    I[t+1] = lambda_syn I[t] + x[t] W, U[t+1] = lambda_mem U[t] + (1 - lambda_mem) I[t], from
    I[0] = 0 and U[0] = ``u0`` (the integrator readout of :func:`analysis.snn.simulate`:
    ``value="before"`` reports U[t], ``"after"`` U[t+1]). W [n_in, n_out] is N(0, sigma^2)
    with the fluctuation-driven sigma for inputs of rate ``nu`` Hz (as the readout of
    :func:`analysis.snn.init_params`). ``key`` of a call is accepted and ignored (for
    ``eqx.nn.Sequential``).
    """

    w: jax.Array
    lif: LIFParams = eqx.field(static=True)
    u0: float = eqx.field(static=True)
    value: str = eqx.field(static=True)

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        key: jax.Array,
        tau_mem: float = 10e-3,
        tau_syn: float = 5e-3,
        dt: float = 1e-3,
        u0: float = 0.0,
        value: str = "before",
        nu: float = 10.0,
        sigma_u: float = 1.0,
        dtype: DTypeLike = jnp.float32,
    ):
        n_in = _validate.positive_int(n_in, "n_in")
        n_out = _validate.positive_int(n_out, "n_out")
        _validate.prng_key(key)
        if value not in ("before", "after"):
            raise ValueError(f"unknown value {value!r}; valid: before, after")
        self.lif = LIFParams(tau_mem, tau_syn, dt)
        self.u0 = _validate.real(u0, "u0")
        self.value = value
        sw = fluctuation_sigma_w(self.lif, n_in, nu, sigma_u)
        self.w = _weights(key, (n_in, n_out), sw, _check_dtype(dtype))

    def __call__(self, x: ArrayLike, *, key: jax.Array | None = None) -> jax.Array:
        """Readout potentials [T, n_out] for inputs ``x`` [T, n_in]."""
        x = _inputs(x, self.w.shape[0], self.w.dtype)
        drive = x @ self.w.astype(x.dtype)
        after = self.value == "after"

        def step(carry, d_t):
            new = integrator_update(self.lif, carry[0], carry[1], d_t)
            return new, (new[1] if after else carry[1])

        zero = jnp.zeros((self.w.shape[1],), x.dtype)
        return lax.scan(step, (zero, jnp.full_like(zero, self.u0)), drive)[1]
