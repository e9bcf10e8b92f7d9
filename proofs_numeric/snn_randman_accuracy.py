"""Claim: on randman, deterministic and stochastic SG networks both reach high accuracy,
the stochastic one within a few points of the deterministic one.

THEORY.md sec. 6; Gygax & Zenke 2025, Fig. 7 (there on SHD and randman). One hidden LIF
layer, leaky-integrator readout, max-over-time cross-entropy, upper-bound activity
regulariser, Adam. The validation set holds fresh samples of the same manifolds. Reference:
chance level 1 / n_classes and the deterministic network's accuracy. Criteria: each
network's validation accuracy in its own mode >= MIN_ACC; |det - stoch| <= MAX_GAP. With
100 validation samples one sample is one point, so MAX_GAP = 0.05 allows ~2 binomial SE
of evaluation noise at accuracy ~0.95; both numbers are reported whatever they are.
"""

from __future__ import annotations

from proofs_numeric._registry import register, result

NAME = "snn_randman_accuracy"
MIN_ACC = 0.85
MAX_GAP = 0.05


@register(
    NAME,
    "On randman, deterministic and stochastic SG networks both reach high "
    "validation accuracy, the stochastic one within a few points of the "
    "deterministic one.",
)
def check(profile: str = "quick"):
    import jax

    from analysis.training import randman_preset, train_classifier
    from analysis.training.tasks import train_valid_split

    data_cfg, run = randman_preset(profile)
    train, valid = train_valid_split(jax.random.key(0), data_cfg)
    acc, cross, curves = {}, {}, {}
    for method, tag, other in (("deterministic", "det", "stoch"), ("stochastic", "stoch", "det")):
        hist = train_classifier(method, train, valid, run, progress=False).history
        acc[method] = hist[-1][f"{tag}_valid_acc"]
        cross[method] = hist[-1][f"{other}_valid_acc"]
        curves[method] = [h[f"{tag}_valid_acc"] for h in hist]
    gap = acc["deterministic"] - acc["stochastic"]
    passed = min(acc.values()) >= MIN_ACC and abs(gap) <= MAX_GAP
    return result(
        NAME,
        {"det_valid_acc": acc["deterministic"], "stoch_valid_acc": acc["stochastic"], "gap": gap},
        {"chance": 1.0 / data_cfg.n_classes, "min_acc": MIN_ACC},
        MAX_GAP,
        passed,
        profile=profile,
        criterion="both >= 0.85 and |det - stoch| <= 0.05",
        cross_mode_valid_acc={
            "det_trained_tested_stoch": cross["deterministic"],
            "stoch_trained_tested_det": cross["stochastic"],
        },
        valid_acc_curves=curves,
        n_valid=len(valid[1]),
    )
