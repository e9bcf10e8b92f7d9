"""Claim: deterministic and stochastic LIF networks both learn the spike-train target,
and the stochastic network stays variable from trial to trial after training.

Gygax & Zenke 2025, Fig. 6. Each network (input -> hidden -> spiking
output, dithered-image target, frozen Poisson input) is trained with surrogate gradients
on the squared van Rossum distance (tau = 10 ms). Reference: the distance of the same
network before training (epoch 1 evaluation; the metric itself is checked against a naive
loop in tests/training/test_metrics.py). Criteria: final / initial distance <= MAX_RATIO for both
networks in their own mode; the stochastic network's hidden-layer trial-to-trial Fano
factor (mean over firing neurons, EVAL_TRIALS = 20 fresh trials of the trained network) is
at least FANO_MIN = 1 / EVAL_TRIALS = 0.05 and exceeds K_SE = 2 standard errors over
neurons (the SE mostly measures how unequal neurons are, not trial noise, so it is a
coarse guard); the deterministic network evaluated deterministically has Fano exactly 0.

Why FANO_MIN = 1 / EVAL_TRIALS (fixed by the measurement's design, before any run): a
network that is deterministic but for a stray spike has Fano 0 up to that spike; the
smallest nonzero unbiased count variance over R trials is 1 / R (R - 1 trials with count c,
one with c + 1), i.e. the Fano factor 1 / R of a neuron of mean count about 1 that changes by
one spike in one trial of R. Requiring the mean Fano to exceed it asks for more trial-to-
trial variability than that, on average over the firing neurons. History: the threshold was 0.05,
then lowered to 0.02 after a run of the paper-size network that ended near 0.045; it is
restored to 0.05 with this derivation (the full profile has since measured 0.071 +- 0.010,
quick near 0.1). The tiny profile (the default suite's stand-in) trains a 20 -> 20 -> 20
network for 150 epochs with the same criteria.
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._registry import register, result

NAME = "snn_spike_train_learning"
MAX_RATIO = 0.5
K_SE = 2.0
EVAL_TRIALS = 20
FANO_MIN = 1.0 / EVAL_TRIALS  # the smallest nonzero Fano of a unit-count neuron over EVAL_TRIALS trials
TINY = dict(n_inputs=20, n_hidden=20, n_neurons=20, n_steps=40, epochs=150)


def _train(method, profile):
    from analysis.training import spike_train_preset, train_spike_train

    run = spike_train_preset("quick", **TINY) if profile == "tiny" else spike_train_preset(profile)
    res, (task, cfg, _) = train_spike_train(method, run, progress=False, return_setup=True)
    return run, res, task, cfg


def _hidden_fano(params, task, cfg, run, method_name, seed):
    import jax

    from analysis import training
    from analysis.training import repeated_trials
    from analysis.training._trials import sigmoid_method

    method = sigmoid_method(method_name, run.hidden_beta, run.output_beta)
    sim = repeated_trials(jax.random.key(seed), params, task.inputs, cfg, method, EVAL_TRIALS)
    f = np.asarray(training.fano_factor(sim.spikes[0]))[0]
    f = f[np.isfinite(f)]
    return float(f.mean()), float(f.std(ddof=1) / np.sqrt(max(len(f), 1))), len(f)


@register(
    NAME,
    "Deterministic and stochastic SG both learn the spike-train target (van Rossum "
    "distance falls well below its initial value) and the stochastic network's "
    "hidden Fano factor stays clearly above 0.",
    tiny=True,
)
def check(profile: str = "quick"):
    ratios, details = {}, {}
    for method, tag in (("deterministic", "det"), ("stochastic", "stoch")):
        run, res, task, cfg = _train(method, profile)
        first, last = res.history[0], res.history[-1]
        ratios[method] = last[f"{tag}_van_rossum"] / first[f"{tag}_van_rossum"]
        details[method] = {k: (first[k], last[k]) for k in last if k.startswith(tag)}
        mean, se, n = _hidden_fano(res.params, task, cfg, run, method, seed=12345)
        details[method]["hidden_fano_final"] = {"mean": mean, "se": se, "n_neurons": n}
    stoch_f = details["stochastic"]["hidden_fano_final"]
    det_f = details["deterministic"]["hidden_fano_final"]["mean"]
    passed = (
        max(ratios.values()) <= MAX_RATIO
        and stoch_f["mean"] >= FANO_MIN
        and stoch_f["mean"] > K_SE * stoch_f["se"] > 0
        and det_f == 0.0
    )
    measured = {
        "vr_ratio_det": ratios["deterministic"],
        "vr_ratio_stoch": ratios["stochastic"],
        "stoch_hidden_fano": stoch_f["mean"],
        "det_hidden_fano": det_f,
    }
    return result(
        NAME,
        measured,
        {"vr_ratio_max": MAX_RATIO, "fano_min": max(FANO_MIN, K_SE * stoch_f["se"])},
        MAX_RATIO,
        passed,
        profile=profile,
        fano_min_reason=f"1 / EVAL_TRIALS: the Fano of a neuron of mean count 1 that changes by one "
        f"spike in one of {EVAL_TRIALS} trials (restored from 0.02, lowered after a run, to 0.05)",
        criterion=(
            f"van Rossum final / initial <= {MAX_RATIO:g} for both networks; stochastic hidden Fano "
            f">= {FANO_MIN:g} (= 1 / {EVAL_TRIALS} trials) and > {K_SE:g} SE; deterministic Fano == 0"
        ),
        **{f"{m}_first_last": d for m, d in details.items()},
    )
