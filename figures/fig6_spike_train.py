"""Figure 6: spike-train matching with deterministic and stochastic SG (Gygax & Zenke 2025).

Top: frozen Poisson input, dithered-image target, and one output trial before training
and after training with deterministic and with stochastic SG. Bottom, per epoch: van
Rossum and L2 distances, output and hidden rates, hidden-layer trial-to-trial Fano factor
(each network evaluated in its own mode, over ``eval_trials`` repeated trials; one training
seed, so no error bars). Panels are lettered A-J. Computation: :mod:`analysis.training`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._style import figure, letters, save

METHODS = (("deterministic", "det", "C0"), ("stochastic", "stoch", "C3"))


def _compute(profile: str) -> dict:
    import jax

    from analysis import training
    from analysis.snn import simulate
    from analysis.training import spike_train_preset, train_spike_train
    from analysis.training._trials import sigmoid_method

    run = spike_train_preset(profile)
    data = {"profile": profile, "run": run.__dict__, "history": {}, "rasters": {}}
    for name, tag, _ in METHODS:
        res, (task, cfg, params0) = train_spike_train(name, run, progress=False, return_setup=True)
        data["history"][tag] = res.history
        method = sigmoid_method(name, run.hidden_beta, run.output_beta)
        key = jax.random.key(99)
        for when, p in (("before", params0), ("after", res.params)):
            out = simulate(p, task.inputs, cfg, method, key=key).output[0]
            data["rasters"][f"{tag}_{when}"] = np.asarray(out).T
    data["rasters"]["input"] = np.asarray(task.inputs[0]).T
    data["rasters"]["target"] = np.asarray(task.target[0]).T
    data["isi_cv"] = {
        k: float(np.nanmean(training.isi_cv(r.T)))
        for k, r in data["rasters"].items()
        if np.isfinite(training.isi_cv(r.T)).any()
    }
    return data


def _raster(ax, r, title, dt_ms):
    n, t = np.shape(r)
    ax.imshow(
        r,
        aspect="auto",
        cmap="Greys",
        interpolation="nearest",
        vmin=0,
        vmax=1,
        origin="lower",
        extent=(0, t * dt_ms, -0.5, n - 0.5),
    )
    ax.set_title(title, fontsize=8)
    ax.set_xlabel("time (ms)")


def _curves(axes, hist, target_rate):
    keys = (
        ("van_rossum", "van Rossum distance", "distance (a.u.)"),
        ("l2", "L2 spike distance", "distance (a.u.)"),
        ("output_rate_hz", "output rate", "rate (Hz)"),
        ("hidden_rate_hz", "hidden rate", "rate (Hz)"),
        ("hidden_fano", "hidden Fano factor", "Fano factor"),
    )
    for ax, (k, title, ylabel) in zip(axes, keys, strict=True):
        for name, tag, color in METHODS:
            ep = [h["epoch"] for h in hist[tag]]
            ax.plot(ep, [h[f"{tag}_{k}"] for h in hist[tag]], color=color, label=name, lw=1)
        ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    axes[2].axhline(target_rate, color="k", ls="--", lw=0.8, label="target")
    axes[2].legend(frameon=False)
    axes[0].legend(frameon=False)


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    return plot(_compute(profile), out_dir)


def plot(data: dict, out_dir: Path) -> list[Path]:
    """Draw the data of :func:`_compute` (rasters, per-epoch curves) and save it."""
    profile = data["profile"]
    dt_ms = 1.0  # 1 ms bins
    fig, axes = figure(2, 5, size=(11.0, 5.0))
    r = data["rasters"]
    panels = (
        ("input", "Poisson input"),
        ("target", "target (dithered image)"),
        ("stoch_before", "output before (stoch.)"),
        ("det_after", "output after (det.)"),
        ("stoch_after", "output after (stoch.)"),
    )
    for ax, (k, title) in zip(axes[0], panels, strict=True):
        cv = data["isi_cv"].get(k)
        _raster(ax, r[k], title + ("" if cv is None else f"\nmean ISI CV {cv:.2f}"), dt_ms)
    axes[0, 0].set_ylabel("neuron")
    data["target_rate_hz"] = float(np.mean(r["target"]) / (dt_ms * 1e-3))
    _curves(axes[1], data["history"], data["target_rate_hz"])
    letters(axes.ravel())
    fig.suptitle(f"Spike-train matching ({profile} profile)")
    run = data["run"]
    caption = {
        "profile": profile,
        "network": f"{run['n_inputs']} -> {run['n_hidden']} -> {run['n_neurons']} LIF",
        "n_steps": run["n_steps"],
        "dt_ms": dt_ms,
        "epochs": run["epochs"],
        "training_seeds": 1,
        "eval_trials": run["eval_trials"],
        "hidden_beta": run["hidden_beta"],
        "output_beta": run["output_beta"],
        "rasters": "one output trial (key 99) of each network in its own mode",
        "curves": f"mean over {run['eval_trials']} repeated trials per epoch; one run, no error bars",
        "target_rate_hz": data["target_rate_hz"],
    }
    return save(
        fig, out_dir, "fig6_spike_train", data, profile=profile, seeds=[run["seed"], 99], caption=caption
    )
