"""The paper-style alignment sweep: one network family, one axis varied at a time.

:class:`AlignmentConfig` describes one :mod:`analysis.snn` network, its data and the sampling
budget; :func:`alignment_point` measures it with :func:`analysis.stochastic.snn_alignment`;
:func:`alignment_sweep` runs a profile's grid (``sgtheory align``; Gygax & Zenke 2025,
secs. 4-5).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate
from analysis.neuron import escape_noise, surrogate
from analysis.snn import LIFParams, Method, SimResult, SNNConfig, init_params
from analysis.stochastic._alignment import AlignmentBudget, default_variants, snn_alignment
from analysis.stochastic._alignment_stats import JACKKNIFE_BATCHES

METHODS = ("stoch_matched", "stoch_mismatched", "det_matched", "det_mismatched")


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
    surrogate is SuperSpike of steepness ``beta_mismatch``. Sampling (an
    :class:`AlignmentBudget`): reference ``estimator`` (``n_flips`` flips per sample for
    coupled_flip_sub), ``n_ref`` reference samples or, with ``ref_ceiling`` c, as many as an
    independent pilot of ``n_pilot`` samples predicts for an expected split-half ceiling c,
    within [``n_ref_min``, ``n_ref``]; ``n_sg`` SG samples, ``chunk`` samples at a time.
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
    estimator: str = "coupled_flip_sub"
    ref_ceiling: float | None = None
    n_ref_min: int = 2 * JACKKNIFE_BATCHES
    n_pilot: int = 40

    def __post_init__(self):
        for name in ("depth", "width", "steps", "n_out", "batch"):
            _validate.positive_int(getattr(self, name), name)
        self.budget()  # n_ref, n_flips, n_sg, chunk, estimator, ref_ceiling, n_ref_min, n_pilot
        _validate.positive_scalar(self.beta, "beta")
        _validate.positive_scalar(self.beta_mismatch, "beta_mismatch")
        _validate.seed(self.seed)
        if not 0.0 < self.input_rate < 1.0:
            raise ValueError(
                f"input_rate must lie in (0, 1) (spike probability per bin), got {self.input_rate}"
            )
        self.snn()  # connectivity, readout and conv1d geometry

    def budget(self) -> AlignmentBudget:
        """The sampling budget as an :class:`AlignmentBudget`."""
        return AlignmentBudget(**{f.name: getattr(self, f.name) for f in dataclasses.fields(AlignmentBudget)})

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


def alignment_point(cfg: AlignmentConfig, methods: tuple[str, ...] = METHODS) -> dict:
    """Alignment of the SG variants ``methods`` (a subset of :data:`METHODS`, default all
    four) with the reference for ``cfg``."""
    t0 = time.perf_counter()
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
        key=jax.random.key(cfg.seed + 1),
        method=cfg.method(),
        budget=cfg.budget(),
        variants=variants,
    )
    head = {
        k: getattr(cfg, k)
        for k in ("depth", "width", "steps", "beta", "connectivity", "recurrent", "readout")
    }
    return {**head, **row, "seconds": time.perf_counter() - t0}


PROFILES: dict[str, dict] = {
    "quick": dict(
        base=AlignmentConfig(depth=2, width=16, steps=30, n_ref=2000, n_sg=256),
        axes={"depth": (1, 3, 4), "width": (8, 32, 64), "steps": (15, 60), "beta": (2.0, 10.0)},
    ),
    # a DisARM reference (wavefront groups) of expected split-half ceiling 0.95, at most 400
    # samples: at least the accuracy of the former 20000 coupled-flip samples on every network
    # measured (see analysis.stochastic._alignment). sgtheory align --profile full: 11.0 min
    # on 2 CPU cores (load 1.7-2.0, the run alone; 2026-12-07), width 512 282 s of it
    "full": dict(
        base=AlignmentConfig(
            depth=2,
            width=64,
            steps=100,
            n_ref=400,
            n_sg=2048,
            chunk=500,
            estimator="disarm_wavefront",
            ref_ceiling=0.95,
            n_pilot=20,
        ),
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
