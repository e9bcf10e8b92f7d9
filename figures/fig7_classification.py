"""Figure 7: classification with deterministic and stochastic SG (Gygax & Zenke 2025).

Left: randman accuracy vs epoch (running training accuracy and validation accuracy, each
network in its own mode), mean over seeds with the min-max spread shaded. Middle: final
validation accuracy in both test modes (a stochastically trained network tested
deterministically and vice versa). Right: rasters of hidden neurons of the trained
networks across repeated trials of one input (stochastic: varies; deterministic: every
trial identical). Computation: :mod:`analysis.training`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from figures._style import figure, save

METHODS = (("deterministic", "det", "C0"), ("stochastic", "stoch", "C3"))
SEEDS = {"quick": (0, 1), "full": (0, 1, 2)}
N_TRIALS = 20


def _trial_rasters(params, x, run, n_classes, name, neurons):
    import jax

    from analysis.training import classifier_network, repeated_trials, sigmoid_method

    cfg = classifier_network(run, x.shape[-1], n_classes)
    sim = repeated_trials(params, x[None], cfg, sigmoid_method(name), jax.random.key(7), N_TRIALS)
    return np.asarray(sim.spikes[0][:, 0][:, :, neurons]).transpose(2, 0, 1)  # [neuron, trial, T]


def _most_active(params, x, run, n_classes, k=3):
    import jax

    from analysis.snn import simulate
    from analysis.training import classifier_network, sigmoid_method

    cfg = classifier_network(run, x.shape[-1], n_classes)
    s = simulate(params, x[None], cfg, sigmoid_method("deterministic"), jax.random.key(0)).spikes[0]
    return [int(i) for i in np.argsort(-np.asarray(s[0].sum(0)), kind="stable")[:k]]


def _compute(profile: str) -> dict:
    import jax

    from analysis.training import randman_preset, train_classifier
    from analysis.training.tasks import train_valid_split

    data_cfg, run0 = randman_preset(profile)
    train, valid = train_valid_split(jax.random.key(0), data_cfg)
    out = {"profile": profile, "seeds": SEEDS[profile], "history": {}, "rasters": {}}
    for name, tag, _ in METHODS:
        hists = []
        for seed in SEEDS[profile]:
            res = train_classifier(
                name, train, valid, replace(run0, seed=seed), progress=False, task_name="randman"
            )
            hists.append(res.history)
        out["history"][tag] = hists
        x0 = valid[0][0]
        neurons = _most_active(res.params, x0, run0, data_cfg.n_classes)
        out["rasters"][tag] = {
            "neurons": neurons,
            "trials": _trial_rasters(res.params, x0, run0, data_cfg.n_classes, name, neurons),
        }
    return out


def _band(ax, hists, key, color, label, ls="-"):
    y = np.array([[h[key] for h in hist] for hist in hists])
    ep = np.arange(1, y.shape[1] + 1)
    ax.plot(ep, y.mean(0), color=color, ls=ls, lw=1, label=label)
    ax.fill_between(ep, y.min(0), y.max(0), color=color, alpha=0.2, lw=0)


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    data = _compute(profile)
    fig, axes = figure(1, 5, size=(11.5, 2.8), gridspec_kw={"width_ratios": [2.2, 1.2, 1, 1, 1]})
    for name, tag, color in METHODS:
        _band(axes[0], data["history"][tag], "train_acc", color, f"{name} train", ls=":")
        _band(axes[0], data["history"][tag], f"{tag}_valid_acc", color, f"{name} valid")
    axes[0].set(xlabel="epoch", ylabel="accuracy", title=f"randman, {len(data['seeds'])} seeds")
    axes[0].legend(frameon=False, loc="lower right")
    _cross_mode(axes[1], data["history"])
    panels = (("stoch", 0), ("stoch", 1), ("det", 0))
    for ax, (tag, i) in zip(axes[2:], panels, strict=True):
        r = data["rasters"][tag]
        n_tr, n_t = r["trials"][i].shape
        ax.imshow(
            r["trials"][i],
            aspect="auto",
            cmap="Greys",
            interpolation="nearest",
            vmin=0,
            vmax=1,
            extent=(0, n_t, n_tr + 0.5, 0.5),
        )
        ax.set(
            xlabel="time (ms)",
            ylabel="trial",
            yticks=[1, n_tr // 2, n_tr],
            title=f"{'stoch.' if tag == 'stoch' else 'det.'} net, neuron {r['neurons'][i]}",
        )
    return save(fig, out_dir, "fig7_classification", data, profile=profile, seeds=list(SEEDS[profile]))


def _cross_mode(ax, hist):
    """Final validation accuracy (mean over seeds) by training method x test mode."""
    width = 0.35
    for j, (test, color) in enumerate((("det", "C0"), ("stoch", "C3"))):
        vals = [np.mean([h[-1][f"{test}_valid_acc"] for h in hist[tag]]) for _, tag, _ in METHODS]
        ax.bar(np.arange(2) + (j - 0.5) * width, vals, width, color=color, alpha=0.8, label=f"tested {test}.")
    ax.set_xticks(range(2), ["trained det.", "trained stoch."])
    ax.set(ylim=(0, 1.3), yticks=np.linspace(0, 1, 6), title="final valid accuracy")
    ax.legend(frameon=False, loc="upper center", ncol=2, fontsize=6)
