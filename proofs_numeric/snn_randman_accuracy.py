"""Claim: on randman, stochastic SG networks classify about as well as deterministic ones,
in a setting where neither is at the ceiling.

Gygax & Zenke 2025, Fig. 7. The data set is randman as Zenke & Vogels
(2021) define it, split 0.8 / 0.1 / 0.1; two LIF layers, leaky-integrator readout,
max-over-time cross-entropy, upper-bound activity regulariser (``randman_preset``). Each
method is trained with ``seeds`` seeds; each network is tested on the held-out test set in
its own mode (and, reported, in the other one). A network's accuracy in stochastic mode is
the mean over N_EVAL = 8 passes of the test set with independent spikes (its expected
accuracy over the spike noise; one pass adds an SD of 0.016 within a network, tiny profile).

Criteria, fixed before the runs (2026-12-06), decided by :func:`decide` from the per-seed
accuracies:

(1) no ceiling and learning: chance + 0.3 <= mean test accuracy <= 0.97 for both methods;
(2) equivalent within MARGIN = 0.05 by two one-sided tests (TOST; Schuirmann 1987) over
seeds: with gap = mean_det - mean_stoch, SE = sqrt(sd_det^2 / n_det + sd_stoch^2 / n_stoch)
(seed-to-seed SDs, ddof 1) and Welch-Satterthwaite degrees of freedom nu, both
(gap + MARGIN) / SE and (MARGIN - gap) / SE exceed t_nu^-1(0.95) (ALPHA = 0.05 each side;
equivalently the 90 % confidence interval of the gap lies inside (-0.05, 0.05)). If the
methods differ in truth by 0.05 or more, the claim passes with probability <= 0.05. Why
0.05: five points of test accuracy is the difference we would call "worse" on a 5- or
10-class task at 0.85-0.95 accuracy; it was the criterion's margin before this test.

Power (1 - false-failure rate) is reported with each result, from the measured SDs, as
P(TOST passes | true gap g) ~ T_nu((M - g) / SE - t_crit) + T_nu((M + g) / SE - t_crit) - 1
(SE taken as known), at g = 0 and at the measured gap.

Tiny profile (the default suite's stand-in, same criteria): 5 classes x 300 samples (test set
150), 20 units, 30 steps, one LIF layer of 32, 30 epochs, 16 seeds per method (8 until
2026-12-07, see the end of this paragraph). Sizes chosen
by measuring seed-to-seed SDs over 12 seeds (2026-12-06): with 20 epochs the SDs were 0.030
(det) and 0.033 (stoch) and the gap 0.026, so 4 seeds gave power 0.22 at gap 0 and 0.11 at
the measured gap (the TOST could hardly pass), 8 seeds 0.82 and 0.40; with 30 epochs, det
0.944 +- 0.024 and stoch 0.925 +- 0.019 (gap 0.019): 4 seeds 0.78 and 0.52, 8 seeds 0.99
and 0.87 (the chosen size). Smaller sizes failed criterion (1)
honestly (5 x 100 samples, 10 epochs: test accuracy 0.33, chance 0.2); batches of 64 were no
faster per epoch on the CPU and brought the deterministic networks to 0.963 (near the
ceiling). Measured (2026-12-06): det 0.938 +- 0.025, stoch 0.920 +- 0.020 (mean +- SD over 8
seeds), gap 0.018, SE 0.011, Welch dof 13.5, 90 % CI of the gap [-0.001, 0.039], TOST
p = 0.008; power 0.98 at gap 0 (false-failure rate 0.02) and 0.84 at the measured gap
(0.16). Time: 69 s of CPU time against 32 s for the former stand-in (4 seeds, 20 epochs,
one evaluation pass), measured back to back on the loaded 2-core CPU; the former took
16.5 s alone, so about 35 s alone. Under pytest (XLA backend optimisation off) the stand-in
took 107 s against 33 s for the former one, run alone one after the other (load 3-5). The
12-seed pilot used seeds 0-11, so the 8 seeds of this profile were among those seen when the
sizes were chosen (chosen by the SDs and power above, margin and level fixed beforehand).
2026-12-07: the LIF recursions moved to numba kernels that round like XLA's optimised code
(fused multiply-adds), and training amplifies rounding differences like a change of seed.
The 8-seed stand-in then failed under pytest (XLA optimisation off, kernels with FMAs): 90 %
CI of the gap [-0.003, 0.051]. Four roundings of the same 8 seeds (kernels or lax loops,
XLA optimisation on or off) gave gaps 0.020-0.024, SDs 0.022-0.035 (det) and 0.021-0.025
(stoch) and CI upper ends 0.042, 0.047, 0.051, 0.042: with SDs 0.030 / 0.024 the 8-seed
TOST has power 0.67 at gap 0.02 (false-failure rate 0.33), not the 0.84 above. 16 seeds
(the first 8 included, a second look at the same question) give power 0.92 at gap 0.02 and
0.81 at 0.025: the stand-in fails by chance in about 1 run in 10 when the true gap is 0.02.
Measured with 16 seeds under pytest's XLA settings: kernels gap 0.022, CI [0.005, 0.038],
TOST p = 0.003; lax loops gap 0.028, CI [0.013, 0.043], p = 0.008 (200 s each, run side by
side on 2 cores).

Quick profile: the ``randman_preset`` sizes, N_SEEDS = 20 seeds. It FAILS criterion (2)
(2026-12-06). Planned with 8 seeds from the 4-seed SDs measured before (det 0.878 +- 0.009,
stoch 0.850 +- 0.015: power 0.95 at gap 0.028); the 8-seed run failed: det 0.859 +- 0.032,
stoch 0.838 +- 0.039, gap 0.021, SE 0.018, 90 % CI [-0.011, 0.052], TOST p = 0.063 -- its
SDs were 2-3 times the 4-seed estimates (power 0.68 at gap 0). The seed count was then
re-planned from those SDs to 20 (power 0.99 at gap 0, 0.81 at gap 0.021), margin and level
unchanged; the 20 seeds include the first 8 (a second look: the level of the two looks
together is at most 0.10, not 0.05). With 20: det 0.876 +- 0.029, stoch 0.841 +- 0.039,
gap 0.036, SE 0.011, Welch dof 35.4, 90 % CI [0.017, 0.054], TOST p = 0.096: the stochastic
networks are worse (the CI excludes 0) and equivalence within 0.05 is not shown (power at
the measured gap 0.36). The same seed gives both methods the same initial weights and batch
order and their per-seed accuracies are correlated (the paired differences have SD 0.033); a
paired test was not the criterion fixed beforehand and is not used. 370 s on the 2-core CPU
under load 3-5 (345 s of CPU time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from proofs_numeric._registry import register, result

NAME = "snn_randman_accuracy"
N_SEEDS = 20
N_EVAL = 8
MARGIN = 0.05
ALPHA = 0.05
CEILING = 0.97
TOST_KEYS = ("equivalent", "in_range", "dof", "t_crit", "t_lower", "t_upper", "p_tost", "ci")
ABOVE_CHANCE = 0.3
TINY = {
    "data": dict(n_classes=5, n_units=20, n_steps=30, dim=1, alpha=1.0, n_samples=300),
    "run": dict(hidden=(32,), epochs=30, batch_size=32, learning_rate=1e-2, nu_in=10.0, dt=2e-3),
    "seeds": 16,
}


def sizes(profile: str):
    """(RandmanConfig, ClassifierRun, seeds per method) of a profile: quick and full are the
    presets of ``randman_preset``; tiny is the stand-in (see TINY)."""
    from analysis.training import ClassifierRun, randman_preset
    from analysis.training.tasks import RandmanConfig

    if profile != "tiny":
        return (*randman_preset(profile), N_SEEDS)
    data = RandmanConfig(**TINY["data"])
    return data, ClassifierRun(**TINY["run"]), TINY["seeds"]


def _accuracies(values: Sequence[float], name: str) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"{name} must be a 1-D sequence of at least 2 accuracies, got shape {a.shape}")
    if not np.all((a >= 0.0) & (a <= 1.0)):
        raise ValueError(f"{name} must lie in [0, 1], got {a.tolist()}")
    return a


def tost_power(gap: float, se: float, dof: float, margin: float = MARGIN, alpha: float = ALPHA) -> float:
    """Approximate probability that the TOST passes when the true gap is ``gap``, for a
    standard error ``se`` taken as known and Welch degrees of freedom ``dof``:
    T((margin - gap) / se - t_crit) + T((margin + gap) / se - t_crit) - 1, at least 0."""
    from scipy import stats

    if se <= 0:
        return 1.0 if abs(gap) < margin else 0.0
    tc = stats.t.isf(alpha, dof)
    p = stats.t.cdf((margin - gap) / se - tc, dof) + stats.t.cdf((margin + gap) / se - tc, dof) - 1.0
    return float(max(p, 0.0))


def decide(
    acc_det: Sequence[float],
    acc_stoch: Sequence[float],
    n_classes: int,
    margin: float = MARGIN,
    alpha: float = ALPHA,
) -> dict:
    """The claim's decision from the per-seed test accuracies of the deterministic and the
    stochastic networks: criterion (1) (``in_range``: chance + 0.3 <= mean <= 0.97 for both)
    and (2) (``equivalent``: TOST with Welch's t, margin ``margin``, level ``alpha`` each
    side); ``passed`` both. Also returns the means, SDs, gap, SE, dof, the two t statistics
    and p-values, the 1 - 2 alpha confidence interval of the gap, and the power at gap 0 and
    at the measured gap (:func:`tost_power`)."""
    from scipy import stats

    det, sto = _accuracies(acc_det, "acc_det"), _accuracies(acc_stoch, "acc_stoch")
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha}")
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    mean = {"deterministic": float(det.mean()), "stochastic": float(sto.mean())}
    sd = {"deterministic": float(det.std(ddof=1)), "stochastic": float(sto.std(ddof=1))}
    v_d, v_s = sd["deterministic"] ** 2 / det.size, sd["stochastic"] ** 2 / sto.size
    se = math.sqrt(v_d + v_s)
    gap = mean["deterministic"] - mean["stochastic"]
    chance = 1.0 / n_classes
    in_range = all(chance + ABOVE_CHANCE <= m <= CEILING for m in mean.values())
    if se > 0:
        dof = (v_d + v_s) ** 2 / (v_d**2 / (det.size - 1) + v_s**2 / (sto.size - 1))
        tc = float(stats.t.isf(alpha, dof))
        t_lower, t_upper = (gap + margin) / se, (margin - gap) / se
        p_lower, p_upper = float(stats.t.sf(t_lower, dof)), float(stats.t.sf(t_upper, dof))
        equivalent = t_lower > tc and t_upper > tc
    else:  # every seed the same accuracy: the gap is known exactly
        dof, tc = math.inf, 0.0
        t_lower = t_upper = math.inf if abs(gap) < margin else -math.inf
        p_lower = p_upper = 0.0 if abs(gap) < margin else 1.0
        equivalent = abs(gap) < margin
    return {
        "passed": bool(in_range and equivalent),
        "in_range": bool(in_range),
        "equivalent": bool(equivalent),
        "mean": mean,
        "sd": sd,
        "gap": gap,
        "se": se,
        "dof": float(dof),
        "t_crit": tc,
        "t_lower": float(t_lower),
        "t_upper": float(t_upper),
        "p_tost": max(p_lower, p_upper),
        "ci": [gap - tc * se, gap + tc * se],
        "chance": chance,
        "power_at_zero_gap": tost_power(0.0, se, dof, margin, alpha),
        "power_at_measured_gap": tost_power(gap, se, dof, margin, alpha),
    }


def _test_accuracies(params, test, run, seed: int, n_eval: int) -> dict:
    """Test accuracy in both modes, averaged over ``n_eval`` passes with independent spikes."""
    import jax

    from analysis.training import evaluate_classifier

    keys = [jax.random.fold_in(jax.random.key(seed), j) for j in range(n_eval)]
    evs = [evaluate_classifier(k, params, test, run) for k in keys]
    return {k: float(np.mean([e[k] for e in evs])) for k in ("det_test_acc", "stoch_test_acc")}


@register(
    NAME,
    "On randman (Zenke & Vogels 2021) stochastic and deterministic SG networks reach test "
    "accuracies equivalent within 0.05 (TOST over seeds, level 0.05 each side), both clearly "
    "above chance and below the ceiling.",
    tiny=True,
)
def check(profile: str = "quick"):
    from dataclasses import replace

    import jax

    from analysis.training import ClassificationData, train_classifier
    from analysis.training.tasks import randman_splits

    data_cfg, run, n_seeds = sizes(profile)
    train, valid, test = randman_splits(jax.random.key(0), data_cfg, (0.8, 0.1, 0.1))
    n_classes = data_cfg.n_classes
    labelled = ClassificationData(train, valid, n_classes)
    acc: dict = {"deterministic": [], "stochastic": []}
    cross: dict = {"deterministic": [], "stochastic": []}
    for method, tag, other in (("deterministic", "det", "stoch"), ("stochastic", "stoch", "det")):
        for seed in range(n_seeds):
            r = replace(run, seed=seed)
            params = train_classifier(method, labelled, r, progress=False).params
            ev = _test_accuracies(params, test, r, seed, N_EVAL)
            acc[method].append(ev[f"{tag}_test_acc"])
            cross[method].append(ev[f"{other}_test_acc"])
    d = decide(acc["deterministic"], acc["stochastic"], n_classes)
    return result(
        NAME,
        {
            "det_test_acc": d["mean"]["deterministic"],
            "stoch_test_acc": d["mean"]["stochastic"],
            "gap": d["gap"],
        },
        {"chance": d["chance"], "ceiling": CEILING},
        MARGIN,
        d["passed"],
        profile=profile,
        criterion=(
            f"chance + {ABOVE_CHANCE} <= mean test acc <= {CEILING} for both; TOST over {n_seeds} "
            f"seeds: the {1 - 2 * ALPHA:.0%} CI of det - stoch (Welch) inside (-{MARGIN}, {MARGIN})"
        ),
        test_acc_per_seed={k: [float(a) for a in v] for k, v in acc.items()},
        test_acc_sd=d["sd"],
        cross_mode_test_acc={
            "det_trained_tested_stoch": float(np.mean(cross["deterministic"])),
            "stoch_trained_tested_det": float(np.mean(cross["stochastic"])),
        },
        gap_se=d["se"],
        tost={k: d[k] for k in TOST_KEYS},
        power_at_zero_gap=d["power_at_zero_gap"],
        power_at_measured_gap=d["power_at_measured_gap"],
        false_failure_rate_at_zero_gap=1.0 - d["power_at_zero_gap"],
        alpha_each_side=ALPHA,
        n_eval_passes=N_EVAL,
        n_test=len(test[1]),
        sizes={
            "n_classes": n_classes,
            "samples_per_class": data_cfg.n_samples,
            "n_units": data_cfg.n_units,
            "n_steps": data_cfg.n_steps,
            "hidden": list(run.hidden),
            "epochs": run.epochs,
            "seeds": n_seeds,
        },
    )
