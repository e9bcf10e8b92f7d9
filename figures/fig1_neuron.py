"""Figure 1: deterministic vs stochastic neuron and the single-neuron equivalence.

Gygax & Zenke (2025), Fig. 1 and secs. 2-3:
(a, b) spike rasters over repeated trials above the membrane potential U(t) (the same
frozen U in every trial) for a deterministic neuron S = Theta(U - theta) and a stochastic
neuron S ~ Ber(f(U - theta)); (c) the step, the escape-noise function f (sigmoid) and the
matched surrogate psi = f'; (d) E[S] vs U: Monte-Carlo mean with its 95% Wilson interval
(a binomial interval, inside [0, 1]), against f; (e) d/dU E[S]: f' vs the SG of the
stochastic neuron from the custom rule (mean +- SD over samples: it does not depend on the
sample) and finite differences of the Monte-Carlo mean with common random numbers (+- SE);
(f) spike-count distribution over trials. Panels are lettered A-F in the figure.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from analysis.neuron import (
    bernoulli_spike,
    bernoulli_spike_from_uniform,
    escape_noise,
    heaviside_spike,
    matched_surrogate,
)
from analysis.stochastic import proportion_interval
from figures._style import STYLE, letters, save

THETA, BETA = 1.0, 10.0
N_RASTER = 20
LEVEL = 0.95
FD_STEP = 0.02


def _membrane(T=200):
    """A frozen membrane-potential trace U(t) (1 ms bins), the same in every trial."""
    t = np.arange(T)
    return t, 0.88 + 0.16 * np.sin(2 * np.pi * t / 70.0) + 0.08 * np.sin(2 * np.pi * t / 23.0 + 1.0)


@partial(jax.jit, static_argnums=(2, 3, 4))
def _rasters(key, u, n_trials, noise, psi):
    z = u - THETA
    det = jnp.broadcast_to(heaviside_spike(z, psi), (n_trials,) + z.shape)
    sto = jax.vmap(lambda k: bernoulli_spike(k, z, noise))(jax.random.split(key, n_trials))
    return det, sto


@partial(jax.jit, static_argnums=(3,))
def _samples(keys, z, zf, noise, unif, h):
    """Spikes and per-sample SGs on the grid z; CRN finite differences on zf (one jit)."""
    s = jax.vmap(lambda k: bernoulli_spike(k, z, noise))(keys)
    sg = jax.vmap(lambda k: jax.grad(lambda zz: bernoulli_spike(k, zz, noise).sum())(z))(keys)
    spike = lambda dz: bernoulli_spike_from_uniform(jnp.broadcast_to(zf + dz, unif.shape), unif, noise)
    return s, sg, (spike(h) - spike(-h)) / (2 * h)


def _curves(key, n_trials, noise):
    """E[S] with its binomial interval, SG samples and CRN finite differences on a grid of U."""
    u = np.linspace(THETA - 0.6, THETA + 0.6, 121)
    z = jnp.asarray(u) - THETA
    keys = jax.random.split(key, n_trials)
    h, uf = FD_STEP, u[::8]
    unif = jax.random.uniform(jax.random.fold_in(key, 1), (n_trials, uf.size), dtype=z.dtype)
    s, sg, fd = _samples(keys, z, jnp.asarray(uf) - THETA, noise, unif, h)
    k = np.asarray(s.sum(0)).round().astype(int)
    lo, hi = proportion_interval(k, n_trials, level=LEVEL, method="wilson")
    return dict(
        u=u,
        mean=k / n_trials,
        ci_low=lo,
        ci_high=hi,
        f=np.asarray(noise.prob(z)),
        fprime=np.asarray(noise.deriv(z)),
        sg_mean=np.asarray(sg.mean(0)),
        sg_std=np.asarray(sg.std(0)),
        u_fd=uf,
        fd_mean=np.asarray(fd.mean(0)),
        fd_se=np.asarray(fd.std(0) / np.sqrt(n_trials)),
    )


def _raster_panel(ax_r, ax_u, t, u, spikes, title):
    tr, tt = np.nonzero(spikes)
    ax_r.scatter(t[tt], tr, s=6, marker="|", color="k", linewidths=0.6)
    ax_r.set(title=title, ylabel="trial", xticks=[], xlim=(t[0], t[-1]))
    ax_r.set_ylim(-1, len(spikes))
    ax_u.plot(t, u, color="C0", lw=1)
    ax_u.axhline(THETA, color="C3", ls="--", lw=0.8)
    ax_u.text(t[-1], THETA + 0.03, r"threshold $\vartheta$", color="C3", fontsize=7, ha="right", va="bottom")
    ax_u.set(xlabel="time (ms)", ylabel="U (a.u.)", xlim=(t[0], t[-1]))


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    noise = escape_noise("sigmoid", BETA)
    psi = matched_surrogate(noise)
    key = jax.random.key(11)
    t, u = _membrane()
    det, sto = (
        np.asarray(a) for a in _rasters(jax.random.fold_in(key, 0), jnp.asarray(u), N_RASTER, noise, psi)
    )
    n_samples = 400 if profile == "quick" else 10_000
    c = _curves(jax.random.fold_in(key, 2), n_samples, noise)
    fig = plt.figure(figsize=(7.2, 5.6), constrained_layout=True)
    ax = fig.subplot_mosaic(
        [["rd", "rs", "fn"], ["ud", "us", "fn"], ["es", "ds", "cnt"]], height_ratios=[1.1, 0.6, 1.4]
    )
    _raster_panel(ax["rd"], ax["ud"], t, u, det, "deterministic: $S=\\Theta(U-\\vartheta)$")
    _raster_panel(ax["rs"], ax["us"], t, u, sto, "stochastic: $S\\sim\\mathrm{Ber}(f(U-\\vartheta))$")
    _functions_panel(ax["fn"], c)
    _expectation_panels(ax["es"], ax["ds"], c)
    _count_panel(ax["cnt"], det, sto)
    letters([ax[k] for k in ("rd", "rs", "fn", "es", "ds", "cnt")])
    data = {
        "beta": BETA,
        "theta": THETA,
        "time_ms": t,
        "membrane": u,
        "raster_deterministic": det,
        "raster_stochastic": sto,
        **c,
    }
    caption = {
        "beta": BETA,
        "theta": THETA,
        "raster_trials": N_RASTER,
        "raster_duration_ms": int(t.size),
        "n_samples": n_samples,
        "mean_band": f"{LEVEL:.0%} Wilson interval of the spike probability (binomial, n = {n_samples})",
        "sg_band": f"+-1 SD over the n = {n_samples} samples",
        "fd_errorbars": f"+-1 SE over n = {n_samples} common-random-number pairs",
        "fd_step": FD_STEP,
    }
    return save(fig, out_dir, "fig1_neuron", data, profile=profile, seeds=[11], caption=caption)


def _functions_panel(ax, c):
    u = c["u"]
    ax.plot(u, (u > THETA).astype(float), color="k", lw=1.2, label=r"step $\Theta$")
    ax.plot(u, c["f"], color="C0", lw=1.2, label=r"escape noise $f=\sigma(\beta z)$")
    ax.plot(u, c["fprime"] / c["fprime"].max(), color="C1", lw=1.2, label=r"SG $\psi=f'$ (scaled)")
    ax.set(
        title="step, sigmoid, surrogate",
        xlabel="membrane potential U (a.u.)",
        ylabel="value",
        ylim=(-0.05, 1.5),
    )
    ax.legend(loc="upper left", frameon=False)


def _expectation_panels(ax_e, ax_d, c):
    u = c["u"]
    ax_e.fill_between(
        u, c["ci_low"], c["ci_high"], color="C0", alpha=0.25, lw=0, label=f"{LEVEL:.0%} Wilson interval"
    )
    ax_e.plot(u, c["mean"], color="C0", lw=1, label="MC mean of S")
    ax_e.plot(u, c["f"], "k--", lw=1, label=r"$f(U-\vartheta)$")
    ax_e.set(
        title="$E[S]$: mean over trials",
        xlabel="U (a.u.)",
        ylabel="E[S] (spike probability)",
        ylim=(-0.02, 1.45),
    )
    ax_e.legend(loc="upper left", frameon=False)
    ax_d.plot(u, c["fprime"], "k-", lw=1.6, label=r"$\frac{d}{dU}E[S]=f'$")
    ax_d.plot(u, c["sg_mean"], color="C1", ls="--", lw=1.2, label=r"SG (custom rule), mean $\pm$SD")
    ax_d.fill_between(u, c["sg_mean"] - c["sg_std"], c["sg_mean"] + c["sg_std"], color="C1", alpha=0.3)
    ax_d.errorbar(
        c["u_fd"],
        c["fd_mean"],
        yerr=c["fd_se"],
        fmt="o",
        ms=2.5,
        color="C2",
        lw=0.8,
        label="finite diff. (CRN) $\\pm$SE",
    )
    ax_d.set(
        title="$d/dU\\,E[S]$ = SG of every sample",
        xlabel="U (a.u.)",
        ylabel="dE[S]/dU (1/a.u.)",
        ylim=(-0.2, 2.0 * c["fprime"].max()),
    )
    ax_d.legend(loc="upper left", frameon=False, fontsize=6.5)


def _count_panel(ax, det, sto):
    n_det, n_sto = det.sum(1), sto.sum(1)
    bins = np.arange(min(n_det.min(), n_sto.min()) - 0.5, max(n_det.max(), n_sto.max()) + 1.5)
    ax.hist(n_sto, bins=bins, color="C0", alpha=0.7, label="stochastic")
    ax.hist(n_det, bins=bins, color="k", alpha=0.8, label="deterministic")
    ax.set(title="spike count per trial", xlabel=f"spikes in {det.shape[1]} ms", ylabel="trials")
    ax.legend(frameon=False)
