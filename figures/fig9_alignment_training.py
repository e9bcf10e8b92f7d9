"""Figure 9 (alignment along training): how well the surrogate gradient that trains a
spike-train matching network points along the unbiased gradient of its stochastic version,
epoch by epoch (Gygax & Zenke 2025, secs. 4-6; reference: subsampled coupled-flip stochastic
AD, Arya et al. NeurIPS 2022).

Two runs of the spike-train task, trained with deterministic SG and with stochastic SG (matched
surrogate), keep their params every few epochs (``save_every``); at each kept epoch
:func:`analysis.training.run_alignment` measures the cosine (with jackknife SE bars) and the
sign agreement of the run's own SG and of the matched stochastic SG with the reference, on
the run's frozen input and its van Rossum loss. For the stochastic run the two coincide.
Panel C: the training loss. Quick profile: a 20-20-20 network, 40 steps, 30 epochs (about a
minute on a CPU); full: the quick preset of ``sgtheory train spike-train`` (50-50-50, 150
epochs) with a larger reference (meant for a GPU).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from figures._style import figure, letters, save

NAME = "fig9_alignment_training"
RUNS = (("deterministic", "C0"), ("stochastic", "C3"))
PROFILES = {
    "quick": dict(
        run=dict(n_inputs=20, n_hidden=20, n_neurons=20, n_steps=40, epochs=30, eval_trials=2),
        save_every=5,
        align=dict(n_ref=400, n_sg=64, n_flips=8, chunk=200),
    ),
    "full": dict(run=dict(), save_every=10, align=dict(n_ref=4000, n_sg=512, n_flips=16, chunk=500)),
}


def _compute(profile: str) -> dict:
    from analysis.training import (
        RunAlignmentConfig,
        RunFolder,
        run_alignment,
        spike_train_preset,
        train_spike_train,
    )

    spec = PROFILES[profile]
    run = spike_train_preset("quick", **spec["run"])
    data: dict = {
        "profile": profile,
        "run": run.__dict__,
        "save_every": spec["save_every"],
        "align": spec["align"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, _ in RUNS:
            folder = Path(tmp) / name
            kept = RunFolder(folder, save_every=spec["save_every"])
            res = train_spike_train(name, run, kept, progress=False)
            data[name] = {
                "history": res.history,
                "alignment": run_alignment(folder, RunAlignmentConfig(seed=0, **spec["align"]))["rows"],
            }
    return data


def plot(data: dict, out_dir: Path) -> list[Path]:
    """Draw the data of :func:`_compute` (cosine and sign agreement vs epoch, loss)."""
    fig, axes = figure(1, 3, size=(10.0, 3.4))
    for name, color in RUNS:
        rows = data[name]["alignment"]
        ep = [r["epoch"] for r in rows]
        variants = [("trained", "-", "o", "its SG", True)]
        if name == "deterministic":  # for the stochastic run the matched stochastic SG is its SG
            variants.append(("stoch_matched", "--", "s", "stochastic SG ($\\psi=f'$)", False))
        for key, ls, marker, what, sign_label in variants:
            axes[0].errorbar(
                ep,
                [r[f"cos_{key}"] for r in rows],
                yerr=[r[f"cos_se_{key}"] for r in rows],
                color=color,
                ls=ls,
                marker=marker,
                ms=3,
                capsize=2,
                label=f"{name} run: {what}",
            )
            label = f"{name} run: {what}" if sign_label else None
            axes[1].plot(
                ep, [r[f"sign_{key}"] for r in rows], color=color, ls=ls, marker=marker, ms=3, label=label
            )
        axes[0].plot(ep, [r["ceiling"] for r in rows], color=color, lw=0.8, alpha=0.4)
        hist = data[name]["history"]
        axes[2].plot([h["epoch"] for h in hist], [h["loss"] for h in hist], color=color, label=name)
    axes[0].set_ylabel("cosine with unbiased reference")
    axes[1].set_ylabel("sign agreement (significant coords)")
    axes[2].set_ylabel("training loss (van Rossum$^2$)")
    for ax in axes:
        ax.set_xlabel("epoch")
    letters(axes)
    fig.legend(
        *axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False, fontsize=7
    )
    axes[2].legend(fontsize=6)
    a = data["align"]
    fig.suptitle(
        f"SG alignment along spike-train training ({data['profile']}; reference: {a['n_ref']} coupled-flip "
        f"samples, M={a['n_flips']}; bars: 1 jackknife SE; faint: split-half ceiling)",
        fontsize=8,
    )
    run = data["run"]
    caption = {
        "profile": data["profile"],
        "network": f"{run.get('n_inputs')} -> {run.get('n_hidden')} -> {run.get('n_neurons')} LIF",
        "n_steps": run.get("n_steps"),
        "epochs": run.get("epochs"),
        "training_seeds": 1,
        "save_every": data["save_every"],
        "n_ref": a["n_ref"],
        "n_flips": a["n_flips"],
        "n_sg": a.get("n_sg"),
        "errorbars": "+-1 jackknife SE (10 batches of the reference samples)",
        "ceiling": "faint lines: cosine between the means of two halves of the reference samples",
    }
    return save(fig, out_dir, NAME, data, profile=data["profile"], seeds=[run["seed"], 0], caption=caption)


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    return plot(_compute(profile), out_dir)
