"""Figure 2 (multilayer): estimators of grad E[L] against the exact gradient.

(a) per-sample distributions of four estimators for one first-layer weight of a small
    feedforward stochastic network, with the exact gradient (enumeration) and each mean;
(b) exact cosine similarity of E[SG] with grad E[L] against depth, for several beta_SG,
    matched (sigmoid') vs mismatched (SuperSpike) surrogates (analysis.stochastic._bias):
    mean +- SD over N_NETS random network instances per depth, instances as faint dots;
(c) variance against cost per sample of the unbiased estimators (analysis.stochastic._compare).
Gygax & Zenke 2025, secs. 3-4; Arya et al. 2022. Panels are lettered A-C in the figure.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from figures._style import BETA_SG, figure, letters, save

NAME = "fig2_multilayer"
N_SAMPLES = {"quick": 4000, "full": 40000}
N_NETS = {"quick": 3, "full": 8}
DEPTHS = (1, 2, 3)


def _network():
    from analysis import escape_noise
    from analysis.stochastic import Network, random_instance

    net = Network(
        "feedforward", (3, 3, 3, 2), escape_noise("sigmoid", 2.0), theta=0.2, loss="mse", target=(1.0, 0.0)
    )
    return net, *random_instance(jax.random.key(41), net, weight_scale=1.5)


def _panel_a(ax, net, params, x, n):
    from analysis.stochastic import estimate_many, exact_value_and_grad, flatten

    names = ("sg_stochastic", "score_loo", "coupled_flip", "coupled_flip_sub")
    est = jax.jit(lambda p: estimate_many(names, net, p, x, n, key=jax.random.key(0), n_flips=2))(params)
    exact = float(flatten(exact_value_and_grad(net, params, x)[1])[1])
    data = {}
    for i, name in enumerate(names):
        v = flatten(est[name], lead=1)[:, 1]
        lo, hi = np.percentile(v, [1, 99])
        ax.violinplot(np.clip(v, lo, hi), positions=[i], showextrema=False)
        ax.errorbar(i, v.mean(), yerr=2 * v.std() / np.sqrt(n), fmt="o", color="k", ms=3)
        data[name] = {"mean": float(v.mean()), "se": float(v.std() / np.sqrt(n))}
    ax.axhline(exact, color="C3", lw=1, label="exact (enumeration)")
    ax.set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=7)
    ax.set_ylabel(r"per-sample $\partial L/\partial W^{(1)}_{0,1}$ (1-99% range)")
    ax.set_title("estimators vs exact (dots: mean $\\pm$2 SE)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), frameon=False, fontsize=6)
    return {"exact": exact, "estimators": data, "samples": n}


def _panel_b(ax, n_nets):
    from analysis.stochastic import sg_bias_table

    rows = sg_bias_table(n_nets=n_nets, depths=DEPTHS)
    betas = sorted({r["beta_SG"] for r in rows})
    for k, (name, ls) in enumerate((("sigmoid_prime", "-"), ("superspike", "--"))):
        for j, b in enumerate(betas):
            sel = [r for r in rows if r["surrogate"] == name and r["beta_SG"] == b]
            x = np.array([r["depth"] for r in sel]) + 0.05 * (j - 1) + 0.02 * (2 * k - 1)
            cos = [np.asarray(r["cosines"]) for r in sel]
            label = f"{'sigmoid' if name == 'sigmoid_prime' else 'SuperSpike'}, {BETA_SG} = {b:g}"
            ax.errorbar(
                x,
                [c.mean() for c in cos],
                yerr=[c.std(ddof=1) for c in cos],
                ls=ls,
                marker="o",
                ms=3,
                lw=1,
                capsize=2,
                color=f"C{j}",
                label=label + (" (matched)" if sel[0]["matched"] else ""),
            )
            for xi, c in zip(x, cos, strict=True):
                ax.plot(np.full(c.size, xi), c, ".", ms=2, color=f"C{j}", alpha=0.5)
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel(r"cos(E[SG], $\nabla$E[L])")
    ax.set_xticks(list(DEPTHS))
    ax.set_title(f"SG alignment (noise $\\beta$ = 2; {n_nets} nets per depth)")
    ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    return rows


def _panel_c(ax, net, params, x, n):
    from analysis.stochastic import compare_estimators, exact_value_and_grad

    grad = exact_value_and_grad(net, params, x)[1]
    names = ["score", "score_loo", "coupled_flip"]
    rows = compare_estimators(net, params, x, names, n, key=jax.random.key(1), reference=grad)
    for m in (1, 4):
        r = compare_estimators(
            net, params, x, ["coupled_flip_sub"], n, key=jax.random.key(1), reference=grad, n_flips=m
        )[0]
        rows.append(dict(r, estimator=f"coupled_flip_sub M={m}"))
    for i, r in enumerate(rows):
        ax.scatter(r["seconds_per_sample"] * 1e6, r["variance"], color=f"C{i}", label=r["estimator"])
    ax.set_xlim(left=0)  # costs span less than a decade: a linear axis reads better
    ax.set_yscale("log")
    ax.set_xlabel("cost per sample ($\\mu$s, jitted, shared CPU)")
    ax.set_ylabel("total variance per sample")
    ax.set_title("unbiased estimators")
    ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    return [{k: r[k] for k in ("estimator", "variance", "seconds_per_sample", "max_abs_z")} for r in rows]


def make(out_dir: Path, profile: str = "quick") -> list[Path]:
    net, params, x = _network()
    n, n_nets = N_SAMPLES[profile], N_NETS[profile]
    fig, axes = figure(1, 3, size=(10.0, 4.0))
    data = {
        "network": {"sizes": net.sizes, "noise": "sigmoid beta=2", "loss": "mse"},
        "a": _panel_a(axes[0], net, params, x, n),
        "b": _panel_b(axes[1], n_nets),
        "c": _panel_c(axes[2], net, params, x, n),
    }
    letters(axes)
    caption = {
        "network_sizes": list(net.sizes),
        "noise_beta": 2.0,
        "n_samples": n,
        "a_errorbars": f"+-2 SE of the mean over n = {n} samples",
        "a_violins": "per-sample estimates clipped to their 1-99 % range",
        "b_n_networks_per_depth": n_nets,
        "b_depths": list(DEPTHS),
        "b_errorbars": f"+-1 SD over n = {n_nets} random networks per depth (dots: the networks)",
        "c_n_samples": n,
    }
    return save(fig, out_dir, NAME, data, profile=profile, seeds=[41, 0, 1, 40], caption=caption)
