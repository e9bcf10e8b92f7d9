"""Discrete-time leaky integrate-and-fire (LIF) neurons (Gygax & Zenke 2025, Figs. 6-7).

Time is binned at ``dt``; with lambda_mem = exp(-dt/tau_mem), lambda_syn = exp(-dt/tau_syn),
zero initial state and the spike read from the current potential,

    S[t]   = spike(U[t] - theta)                        (Theta or Bernoulli(f))
    I[t+1] = lambda_syn I[t] + W S_in[t]  (+ V S[t] if recurrent)
    U[t+1] = lambda_mem U[t] (1 - S[t]) + (1 - lambda_mem) I[t]

(Gygax & Zenke 2025, sec. 5; Zenke & Vogels 2021). The reset term (1 - S[t]) carries no
gradient by default (``reset="detached"``: stop_gradient on S there), or the full
derivative (``reset="differentiable"``). ``reset_scope`` says what the reset multiplies:
``"leak"`` (default, above) only the leak term, ``"update"`` the whole update,

    U[t+1] = (lambda_mem U[t] + (1 - lambda_mem) I[t]) (1 - S[t])

so a neuron that spikes at t starts from U[t+1] = 0 (the multiplicative reset of stork's
LIFGroup, github.com/fmi-basel/stork at 6dd5824, stork/nodes/lif/base.py:112-118). The
non-spiking leaky-integrator readout is the same recursion without spike and reset.

Fluctuation-driven initialisation (Rossbroich, Gygax & Zenke 2022): for N_in independent
Poisson inputs of rate nu and zero-mean weights of standard deviation sigma_w, Campbell's
theorem gives Var U = N_in nu sigma_w^2 eps_hat with eps_hat = sum_t kappa[t]^2 dt, kappa
the membrane response to one input spike of unit weight (the PSP kernel). Choosing
sigma_w = sigma_U / sqrt(N_in nu eps_hat) puts the membrane fluctuations at sigma_U.

Example
-------
>>> from analysis.snn._lif import LIFParams, fluctuation_sigma_w
>>> p = LIFParams(tau_mem=10e-3, tau_syn=5e-3)
>>> round(fluctuation_sigma_w(p, n_in=200, nu=50.0), 3) > 0
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate

RESET_MODES = ("detached", "differentiable")
RESET_SCOPES = ("leak", "update")


@dataclass(frozen=True)
class LIFParams:
    """Hyperparameters of a LIF population (hashable: a static argument under ``jit``).

    tau_mem, tau_syn, dt : time constants and bin width in seconds (> 0).
    theta : firing threshold (> 0).
    reset : ``"detached"`` (default; no gradient through the reset) or ``"differentiable"``.
    reset_scope : ``"leak"`` (default; U[t+1] = lambda_mem U[t] (1 - S[t]) + (1 - lambda_mem)
        I[t]) or ``"update"`` (U[t+1] = (lambda_mem U[t] + (1 - lambda_mem) I[t]) (1 - S[t]),
        stork's LIFGroup).
    """

    tau_mem: float = 10e-3
    tau_syn: float = 5e-3
    dt: float = 1e-3
    theta: float = 1.0
    reset: str = "detached"
    reset_scope: str = "leak"

    def __post_init__(self):
        for name in ("tau_mem", "tau_syn", "dt", "theta"):
            object.__setattr__(self, name, _validate.positive_scalar(getattr(self, name), name))
        if self.reset not in RESET_MODES:
            raise ValueError(f"unknown reset {self.reset!r}; valid: {', '.join(RESET_MODES)}")
        if self.reset_scope not in RESET_SCOPES:
            raise ValueError(f"unknown reset_scope {self.reset_scope!r}; valid: {', '.join(RESET_SCOPES)}")

    @property
    def lambda_mem(self) -> float:
        """Membrane decay per bin exp(-dt / tau_mem)."""
        return math.exp(-self.dt / self.tau_mem)

    @property
    def lambda_syn(self) -> float:
        """Synaptic decay per bin exp(-dt / tau_syn)."""
        return math.exp(-self.dt / self.tau_syn)


def psp_kernel(params: LIFParams, n_steps: int | None = None) -> np.ndarray:
    """PSP kernel kappa[t]: U[t] after one unit input spike at t = 0 (no threshold).

    Computed with the recursion of this module (so I[1] = 1, U[2] = 1 - lambda_mem, ...).
    ``n_steps`` defaults to 20 membrane or synaptic time constants (whichever is longer).
    Returns a float64 NumPy array of length ``n_steps``.
    """
    if n_steps is None:
        n_steps = int(math.ceil(20 * max(params.tau_mem, params.tau_syn) / params.dt)) + 2
    n_steps = _validate.positive_int(n_steps, "n_steps")
    kappa = np.zeros(n_steps)
    i_syn, u = 0.0, 0.0
    for t in range(n_steps):
        kappa[t] = u
        i_syn, u = (
            params.lambda_syn * i_syn + (1.0 if t == 0 else 0.0),
            params.lambda_mem * u + (1.0 - params.lambda_mem) * i_syn,
        )
    return kappa


def epsilon_hat(params: LIFParams, n_steps: int | None = None) -> float:
    """eps_hat = sum_t kappa[t]^2 dt (seconds), the PSP energy in Campbell's theorem."""
    return float(np.sum(psp_kernel(params, n_steps) ** 2) * params.dt)


def fluctuation_sigma_w(params: LIFParams, n_in: int, nu: float, sigma_u: float = 1.0) -> float:
    """sigma_w = sigma_U / sqrt(N_in nu eps_hat) (Rossbroich, Gygax & Zenke 2022).

    n_in : fan-in (number of presynaptic neurons); nu : presynaptic rate in Hz (> 0);
    sigma_u : target standard deviation of the free membrane potential.
    """
    n_in = _validate.positive_int(n_in, "n_in")
    nu = _validate.positive_scalar(nu, "nu")
    sigma_u = _validate.positive_scalar(sigma_u, "sigma_u")
    return sigma_u / math.sqrt(n_in * nu * epsilon_hat(params))


def lif_update(
    params: LIFParams, i_syn: jax.Array, u: jax.Array, current: jax.Array, spikes: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """One LIF step given this bin's spikes S[t] and synaptic drive W S_in[t] (+ V S[t]).

    Returns (I[t+1], U[t+1]). The reset uses stop_gradient(S) unless
    ``params.reset == "differentiable"``; it multiplies the leak term (``reset_scope="leak"``)
    or the whole update (``"update"``).
    """
    s_reset = spikes if params.reset == "differentiable" else jax.lax.stop_gradient(spikes)
    lm = jnp.asarray(params.lambda_mem, u.dtype)
    ls = jnp.asarray(params.lambda_syn, u.dtype)
    if params.reset_scope == "update":
        u_next = (lm * u + (1 - lm) * i_syn) * (1 - s_reset)
    else:
        u_next = lm * u * (1 - s_reset) + (1 - lm) * i_syn
    return ls * i_syn + current, u_next


def integrator_update(
    params: LIFParams, i_syn: jax.Array, u: jax.Array, current: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Leaky-integrator readout step (no threshold, no reset): returns (I[t+1], U[t+1])."""
    lm = jnp.asarray(params.lambda_mem, u.dtype)
    ls = jnp.asarray(params.lambda_syn, u.dtype)
    return ls * i_syn + current, lm * u + (1 - lm) * i_syn
