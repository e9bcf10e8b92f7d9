"""Training spiking networks: the paper's experiments (Gygax & Zenke 2025, Figs. 6-7), the
resumable fit loop they run on, and the measurements they report; the task data live in
:mod:`analysis.training.tasks`.

* Experiments by name: :class:`RunConfig` -> :func:`run_experiment` (what ``sgtheory train``
  runs); along a run kept with ``save_every``: :func:`run_alignment`; of an imported NIR
  network (e.g. exported by Norse): :func:`nir_alignment`; a run folder read back
  (network, trained params, method): :func:`load_run`.
* Spike-train matching: :class:`SpikeTrainRun`, :func:`spike_train_preset`,
  :func:`train_spike_train`.
* Classification: :class:`ClassifierRun`, :class:`ClassificationData`,
  :func:`randman_preset`, :func:`shd_preset`, :func:`train_classifier`,
  :func:`evaluate_classifier`, :func:`trial_variability` (:class:`VariabilityConfig`),
  :func:`repeated_trials`.
* The loop: :func:`fit` with :class:`TrainConfig` (optimiser, learning rate, epochs, batch,
  seed) and :class:`RunFolder` (where the run is kept: resume, force, save_every); a
  callable ``progress(row)`` follows it epoch by epoch.
* Measurements: :func:`van_rossum_distance`, :func:`firing_rates`, :func:`fano_factor`,
  :func:`isi_cv`.

Settings are frozen dataclasses checked when made (an error names the field and its valid
range). Randomness: a function that draws from a PRNG key takes it as its **first
positional argument** (:func:`repeated_trials`, :func:`evaluate_classifier`,
:func:`trial_variability`, the task makers), as ``jax.random`` does; a run that is saved and
resumed (:func:`train_spike_train`, :func:`train_classifier`, :func:`run_experiment`,
:func:`run_alignment`) draws from the integer ``seed`` of its config instead, which its run
folder records.
"""

from analysis.training import tasks
from analysis.training._alignment import RunAlignmentConfig, run_alignment
from analysis.training._classifier import ClassificationData, evaluate_classifier, train_classifier
from analysis.training._classifier_network import ClassifierRun
from analysis.training._fit import fit
from analysis.training._load_run import load_run
from analysis.training._metrics import fano_factor, firing_rates, isi_cv, van_rossum_distance
from analysis.training._nir_alignment import nir_alignment
from analysis.training._presets import randman_preset, shd_preset, spike_train_preset
from analysis.training._run import RunConfig, run_experiment
from analysis.training._spike_train_run import SpikeTrainRun, train_spike_train
from analysis.training._train_config import RunFolder, TrainConfig
from analysis.training._trials import repeated_trials
from analysis.training._variability import VariabilityConfig, trial_variability

__all__ = [
    "tasks",
    # experiments by name
    "RunConfig",
    "run_experiment",
    "RunAlignmentConfig",
    "run_alignment",
    "nir_alignment",
    "load_run",
    # spike-train matching
    "SpikeTrainRun",
    "spike_train_preset",
    "train_spike_train",
    # classification
    "ClassifierRun",
    "ClassificationData",
    "randman_preset",
    "shd_preset",
    "train_classifier",
    "evaluate_classifier",
    "VariabilityConfig",
    "trial_variability",
    "repeated_trials",
    # the loop
    "TrainConfig",
    "RunFolder",
    "fit",
    # measurements
    "van_rossum_distance",
    "firing_rates",
    "fano_factor",
    "isi_cv",
]
