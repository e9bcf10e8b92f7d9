"""Figure 6: spike-train matching with deterministic and stochastic SG (Gygax & Zenke 2025).

Top: frozen Poisson input, dithered-image target, and one output trial before training
and after training with deterministic and with stochastic SG. Bottom, per epoch: van
Rossum and L2 distances, output and hidden rates, hidden-layer trial-to-trial Fano factor
(each network evaluated in its own mode). Computation: :mod:`analysis.training`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._style import figure, save

METHODS = (("deterministic", "det", "C0"), ("stochastic", "stoch", "C3"))


def _compute(profile: str) -> dict:
    import jax

    from analysis import training
    from analysis.snn import simulate
    from analysis.training import sigmoid_method, spike_train_preset, train_spike_train

    run = spike_train_preset(profile)
    data = {"profile": profile, "run": run.__dict__, "history": {}, "rasters": {}}
    for name, tag, _ in METHODS:
        res, (task, cfg, params0) = train_spike_train(name, run, progress=False, return_setup=True)
        data["history"][tag] = res.history
        method = sigmoid_method(name, run.hidden_beta, run.output_beta)
        key = jax.random.key(99)
        for when, p in (("before", params0), ("after", res.params)):
            out = simulate(p, task.inputs, cfg, method, key).output[0]
            data["rasters"][f"{tag}_{when}"] = np.asarray(out).T
    data["rasters"]["input"] = np.asarray(task.inputs[0]).T
    data["rasters"]["target"] = np.asarray(task.target[0]).T
    data["isi_cv"] = {
        k: float(np.nanmean(training.isi_cv(r.T)))
        for k, r in data["rasters"].items()
        if np.isfinite(training.isi_cv(r.T)).any()
    }
    return data


def _raster(ax, r, title):
    ax.imshow(r, aspect="auto", cmap="Greys", interpolation="nearest", vmin=0, vmax=1, origin="lower")
    ax.set_title(title)
    ax.set_xlabel("time (ms)")


def _curves(axes, hist, target_rate):
    keys = (
        ("van_rossum", "van Rossum distance"),
        ("l2", "L2 spike distance"),
        ("output_rate_hz", "output rate (Hz)"),
        ("hidden_rate_hz", "hidden rate (Hz)"),
        ("hidden_fano", "hidden Fano factor"),
    )
    for ax, (k, label) in zip(axes, keys, strict=True):
        for name, tag, color in METHODS:
            ep = [h["epoch"] for h in hist[tag]]
            ax.plot(ep, [h[f"{tag}_{k}"] for h in hist[tag]], color=color, label=name, lw=1)
        ax.set_xlabel("epoch")
        ax.set_title(label)
    axes[2].axhline(target_rate, color="k", ls="--", lw=0.8, label="target")
    axes[2].legend(frameon=False)
    axes[0].legend(frameon=False)


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    data = _compute(profile)
    fig, axes = figure(2, 5, size=(11.0, 4.6))
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
        _raster(ax, r[k], title + ("" if cv is None else f"\nmean ISI CV {cv:.2f}"))
    axes[0, 0].set_ylabel("neuron")
    dt = 1e-3  # 1 ms bins
    data["target_rate_hz"] = float(np.mean(r["target"]) / dt)
    _curves(axes[1], data["history"], data["target_rate_hz"])
    fig.suptitle(f"Spike-train matching ({profile} profile)")
    return save(fig, out_dir, "fig6_spike_train", data, profile=profile, seeds=[data["run"]["seed"], 99])
