"""Tasks of the paper's network experiments (Gygax & Zenke 2025, Figs. 6-7).

* :func:`make_spike_train_task` -- frozen Poisson inputs and a dithered-image target
  raster for spike-train matching.
* :func:`make_randman` -- random-manifold spike-timing data sets as Zenke & Vogels
  (2021) define them (products of smooth random series, min-max standardised spike times).
* :func:`load_shd` -- loader for the Spiking Heidelberg Digits HDF5 files
  (Cramer et al. 2020), from a local path only.

Nothing here downloads anything.
"""

from analysis.training.tasks._randman import (
    RandmanConfig,
    make_randman,
    manifold_coefficients,
    manifold_values,
    randman_spike_times,
    randman_splits,
    train_valid_split,
)
from analysis.training.tasks._shd import N_CHANNELS, N_CLASSES, load_shd, shd_file
from analysis.training.tasks._spike_train import (
    SpikeTrainTask,
    default_image_path,
    dither,
    image_raster,
    make_spike_train_task,
    poisson_inputs,
)

__all__ = [
    "RandmanConfig",
    "make_randman",
    "manifold_coefficients",
    "manifold_values",
    "randman_spike_times",
    "randman_splits",
    "train_valid_split",
    "N_CHANNELS",
    "N_CLASSES",
    "load_shd",
    "shd_file",
    "SpikeTrainTask",
    "default_image_path",
    "dither",
    "image_raster",
    "make_spike_train_task",
    "poisson_inputs",
]
