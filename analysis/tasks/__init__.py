"""Tasks of the paper's network experiments (Gygax & Zenke 2025, sec. 6; THEORY.md sec. 6).

* :mod:`analysis.tasks.spike_train` -- frozen Poisson inputs and a dithered-image target
  raster for spike-train matching.
* :mod:`analysis.tasks.randman` -- random-manifold spike-timing data sets (Zenke & Vogels
  2021).
* :mod:`analysis.tasks.shd` -- loader for the Spiking Heidelberg Digits HDF5 files
  (Cramer et al. 2020), from a local path only.

Nothing here downloads anything.
"""

from analysis.tasks import randman, shd, spike_train
from analysis.tasks.randman import RandmanConfig, make_randman
from analysis.tasks.shd import load_shd
from analysis.tasks.spike_train import (
    SpikeTrainTask,
    default_image_path,
    dither,
    image_raster,
    make_spike_train_task,
    poisson_inputs,
)

__all__ = [
    "randman", "shd", "spike_train", "RandmanConfig", "make_randman", "load_shd",
    "SpikeTrainTask", "default_image_path", "dither", "image_raster",
    "make_spike_train_task", "poisson_inputs",
]
