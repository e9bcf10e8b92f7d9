"""Training spiking networks: the fit loop with resumable checkpoints, optimisers (optax;
SMORMS3), losses, regularisers, spike-train metrics and the paper's experiments; the task
data live in :mod:`analysis.training.tasks`.

Gygax & Zenke 2025, Figs. 6-7.
"""

from analysis.training import tasks
from analysis.training._alignment import run_alignment
from analysis.training._classifier import evaluate_classifier, train_classifier, training_step_memory
from analysis.training._classifier_network import ClassifierRun, classifier_method, classifier_network
from analysis.training._fit import (
    EPOCH_CHECKPOINTS,
    OPTIMIZER_NAMES,
    RUN_FILES,
    VARIABILITY,
    TrainConfig,
    TrainResult,
    accuracy_max_over_time,
    check_run_folder,
    epoch_checkpoints,
    fit,
    load_checkpoint,
    load_epoch_params,
    max_over_time_cross_entropy,
    optimizer,
    population_upper_bound_regularizer,
    prepare_run_folder,
    read_checkpoint,
    smorms3,
    upper_bound_regularizer,
)
from analysis.training._metrics import (
    exp_filter,
    fano_factor,
    firing_rates,
    interspike_intervals,
    isi_cv,
    l2_spike_distance,
    mean_fano_factor,
    spike_counts,
    van_rossum_distance,
    van_rossum_loss,
    windowed_fano_factor,
)
from analysis.training._presets import randman_preset, shd_preset, spike_train_preset
from analysis.training._run import (
    TASKS,
    ExperimentResult,
    check_experiment,
    default_run_folder,
    run_experiment,
)
from analysis.training._spike_train_run import SpikeTrainRun, spike_train_network, train_spike_train
from analysis.training._trials import repeated_trials, sigmoid_method
from analysis.training._variability import trial_variability

__all__ = [
    "windowed_fano_factor",
    "trial_variability",
    "training_step_memory",
    "classifier_method",
    "evaluate_classifier",
    "smorms3",
    "optimizer",
    "OPTIMIZER_NAMES",
    "max_over_time_cross_entropy",
    "accuracy_max_over_time",
    "population_upper_bound_regularizer",
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
    "TASKS",
    "ExperimentResult",
    "run_experiment",
    "check_experiment",
    "default_run_folder",
    "RUN_FILES",
    "VARIABILITY",
    "check_run_folder",
    "prepare_run_folder",
    "read_checkpoint",
    "EPOCH_CHECKPOINTS",
    "epoch_checkpoints",
    "load_epoch_params",
    "run_alignment",
]
