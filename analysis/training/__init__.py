"""Training spiking networks: the fit loop with resumable checkpoints, optimisers (optax;
SMORMS3), losses, regularisers, spike-train metrics and the paper's experiments; the task
data live in :mod:`analysis.training.tasks`.

Gygax & Zenke 2025, sec. 6; THEORY.md sec. 6.
"""

from analysis.training._fit import (
    smorms3,
    optimizer,
    OPTIMIZER_NAMES,
    max_over_time_cross_entropy,
    accuracy_max_over_time,
    upper_bound_regularizer,
    TrainConfig,
    TrainResult,
    fit,
    load_checkpoint,
)
from analysis.training._metrics import (
    exp_filter,
    van_rossum_distance,
    van_rossum_loss,
    l2_spike_distance,
    firing_rates,
    spike_counts,
    fano_factor,
    mean_fano_factor,
    interspike_intervals,
    isi_cv,
)
from analysis.training._experiments import (
    sigmoid_method,
    SpikeTrainRun,
    spike_train_network,
    train_spike_train,
    ClassifierRun,
    classifier_network,
    train_classifier,
    repeated_trials,
    spike_train_preset,
    randman_preset,
    shd_preset,
)
from analysis.training import tasks

__all__ = [
    "smorms3",
    "optimizer",
    "OPTIMIZER_NAMES",
    "max_over_time_cross_entropy",
    "accuracy_max_over_time",
    "upper_bound_regularizer",
    "TrainConfig",
    "TrainResult",
    "fit",
    "load_checkpoint",
    "exp_filter",
    "van_rossum_distance",
    "van_rossum_loss",
    "l2_spike_distance",
    "firing_rates",
    "spike_counts",
    "fano_factor",
    "mean_fano_factor",
    "interspike_intervals",
    "isi_cv",
    "sigmoid_method",
    "SpikeTrainRun",
    "spike_train_network",
    "train_spike_train",
    "ClassifierRun",
    "classifier_network",
    "train_classifier",
    "repeated_trials",
    "spike_train_preset",
    "randman_preset",
    "shd_preset",
    "tasks",
]
