"""Figure 7: classification with deterministic and stochastic SG (Gygax & Zenke 2025, Fig. 7).

randman as Zenke & Vogels (2021) define it, split 0.8 / 0.1 / 0.1 (``randman_preset``).
A: accuracy vs epoch, training (running, dashed) and validation (solid), each network in
its own mode, mean +- SD over seeds, chance level dotted. B: test accuracy with the
training activation and with the other one swapped in (bars: mean over seeds, error bars:
SD, dots: seeds). C: trial-to-trial Fano factor per hidden layer (spike counts in sliding
10-step windows, one test sample repeated). D, E: rasters of the most active neurons of the
second hidden layer across the repeated trials (stochastic network: varies; deterministic:
identical). Computation: :mod:`analysis.training`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from figures._style import figure, letters, save

METHODS = (("deterministic", "det", "C0"), ("stochastic", "stoch", "C3"))
SEEDS = {"quick": (0, 1, 2), "full": (0, 1, 2, 3, 4)}
N_TRIALS = {"quick": 100, "full": 400}
RASTER_NEURONS, RASTER_TRIALS = 3, 30


def _compute(profile: str) -> dict:
    import jax

    from analysis.training import (
        ClassificationData,
        VariabilityConfig,
        evaluate_classifier,
        randman_preset,
        train_classifier,
        trial_variability,
    )
    from analysis.training.tasks import randman_splits

    data_cfg, run0 = randman_preset(profile)
    n_classes = data_cfg.n_classes
    train, valid, test = randman_splits(jax.random.key(0), data_cfg, (0.8, 0.1, 0.1))
    labelled = ClassificationData(train, valid, n_classes, task="randman")
    out: dict = {
        "profile": profile,
        "seeds": SEEDS[profile],
        "chance": 1.0 / n_classes,
        "dt_ms": run0.dt * 1e3,
        "n_test": len(test[1]),
        "history": {},
        "test": {},
        "variability": {},
    }
    for name, tag, _ in METHODS:
        hists, tests = [], []
        for seed in SEEDS[profile]:
            run = replace(run0, seed=seed)
            res = train_classifier(name, labelled, run, progress=False)
            hists.append(res.history)
            tests.append(evaluate_classifier(jax.random.key(seed), res.params, test, run))
        out["history"][tag] = hists
        out["test"][tag] = tests
        opts = VariabilityConfig(n_trials=N_TRIALS[profile])
        var = trial_variability(jax.random.key(7), res.params, test[0][0], run0, name, opts)
        var["rasters"] = np.asarray(var["rasters"]).transpose(2, 0, 1)  # [neuron, trial, T]
        out["variability"][tag] = var
    return out


def _band(ax, hists, key, color, label, ls="-"):
    y = np.array([[h[key] for h in hist] for hist in hists])
    ep = np.arange(1, y.shape[1] + 1)
    m, sd = y.mean(0), y.std(0, ddof=1) if len(y) > 1 else np.zeros(y.shape[1])
    ax.plot(ep, m, color=color, ls=ls, lw=1, label=label)
    ax.fill_between(ep, m - sd, m + sd, color=color, alpha=0.2, lw=0)


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    data = _compute(profile)
    fig, axes = figure(1, 5, size=(13.0, 2.9), gridspec_kw={"width_ratios": [2.0, 1.3, 1.0, 1.1, 1.1]})
    ax = axes[0]
    for name, tag, color in METHODS:
        _band(ax, data["history"][tag], "train_acc", color, f"{name}, train", ls="--")
        _band(ax, data["history"][tag], f"{tag}_valid_acc", color, f"{name}, validation")
    ax.axhline(data["chance"], color="0.5", ls=":", lw=1, label="chance")
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=f"randman, {len(data['seeds'])} seeds")
    ax.legend(frameon=False, loc="lower right", bbox_to_anchor=(1.0, 0.12), fontsize=6)
    _test_bars(axes[1], data)
    _fano_bars(axes[2], data)
    for ax, (name, tag, _) in zip(axes[3:], METHODS[::-1], strict=True):
        _rasters(ax, data["variability"][tag], data["dt_ms"], name)
    letters(axes)
    n_seeds = len(data["seeds"])
    caption = {
        "profile": profile,
        "n_seeds": n_seeds,
        "n_test": data["n_test"],
        "split": "0.8 / 0.1 / 0.1 (train / validation / test)",
        "chance": data["chance"],
        "a_band": f"+-1 SD over n = {n_seeds} seeds (line: mean)",
        "b_errorbars": f"+-1 SD over n = {n_seeds} seeds (bar: mean, dots: seeds)",
        "c_fano": f"counts in sliding 10-step windows, one test sample repeated {N_TRIALS[profile]} times",
        "n_trials_variability": N_TRIALS[profile],
        "raster_neurons": RASTER_NEURONS,
        "raster_trials": RASTER_TRIALS,
        "dt_ms": data["dt_ms"],
    }
    return save(
        fig,
        out_dir,
        "fig7_classification",
        data,
        profile=profile,
        seeds=list(SEEDS[profile]),
        caption=caption,
    )


def _rasters(ax, var, dt_ms, name, k=RASTER_NEURONS, trials=RASTER_TRIALS):
    """The first ``trials`` trials of the ``k`` most active second-layer neurons, stacked."""
    r = np.asarray(var["rasters"])[:k, :trials]  # [k, trials, T]
    n_t = r.shape[-1]
    ax.imshow(
        r.reshape(-1, n_t),
        aspect="auto",
        cmap="Greys",
        interpolation="nearest",
        vmin=0,
        vmax=1,
        extent=(0, n_t * dt_ms, len(r) * trials, 0),
    )
    for i in range(1, len(r)):
        ax.axhline(i * trials, color="C1", lw=0.8)
    ticks = [(i + 0.5) * trials for i in range(len(r))]
    ax.set_yticks(ticks, [f"n{j}" for j in var["raster_neurons"][: len(r)]])
    ax.set(xlabel="time (ms)", ylabel=f"neuron ({trials} trials each)")
    ax.set_title(f"{name} network,\nhidden layer 2", fontsize=8)


def _test_bars(ax, data):
    """Test accuracy by training method x test mode: mean over seeds, SD bars, seed dots."""
    width = 0.35
    for j, (test, color) in enumerate((("det", "C0"), ("stoch", "C3"))):
        for i, (_, tag, _) in enumerate(METHODS):
            vals = np.array([t[f"{test}_test_acc"] for t in data["test"][tag]])
            x = i + (j - 0.5) * width
            ax.bar(x, vals.mean(), width, color=color, alpha=0.7, label=f"tested {test}." if i == 0 else None)
            ax.errorbar(x, vals.mean(), yerr=vals.std(ddof=1), color="k", lw=0.8, capsize=2)
            ax.plot(np.full(len(vals), x), vals, "k.", ms=2)
    ax.axhline(data["chance"], color="0.5", ls=":", lw=1)
    ax.set_xticks(range(2), ["trained det.", "trained stoch."])
    ax.set(
        ylim=(0, 1.25),
        yticks=np.linspace(0, 1, 6),
        ylabel="test accuracy",
        title=f"test (n = {data['n_test']})",
    )
    ax.legend(frameon=False, loc="upper center", ncol=2, fontsize=6)


def _fano_bars(ax, data):
    """Trial-to-trial Fano factor per hidden layer, each network in its own mode."""
    width = 0.35
    for j, (name, tag, color) in enumerate(METHODS):
        f = np.nan_to_num(np.asarray(data["variability"][tag]["fano"], float))
        x = np.arange(len(f)) + (j - 0.5) * width
        bars = ax.bar(x, f, width, color=color, alpha=0.8, label=name[:5] + ".")
        ax.bar_label(bars, fmt="%.2f", fontsize=6)
    n = len(data["variability"]["det"]["fano"])
    ax.set_xticks(range(n), [f"layer {k + 1}" for k in range(n)])
    ax.set(ylabel="Fano factor (10-step windows)", title="trial-to-trial variability")
    top = max(np.nanmax(np.asarray(data["variability"][t]["fano"], float)) for _, t, _ in METHODS)
    ax.set_ylim(0, 1.35 * top if top > 0 else 1.0)  # room for the legend above the bars
    ax.legend(frameon=False, fontsize=6, loc="upper center", ncol=2)
