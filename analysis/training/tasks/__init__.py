"""Tasks of the paper's network experiments (Gygax & Zenke 2025, Figs. 6-7).

* :func:`make_spike_train_task` -- frozen Poisson inputs and a dithered-image target
  raster for spike-train matching.
* :func:`make_randman` -- random-manifold spike-timing data sets as Zenke & Vogels
  (2021) define them (products of smooth random series, min-max standardised spike times).
* :func:`load_shd` -- loader for the Spiking Heidelberg Digits HDF5 files (:func:`shd_size`:
  the number of samples of a file)
  (Cramer et al. 2020), from a local path only.
* :func:`from_tonic` -- event data sets of the ``tonic`` library (or lists of (events,
  label) in its format) as binary rasters, binned as :func:`load_shd` bins SHD.

Each task's settings are a frozen config (:class:`SpikeTrainConfig`, :class:`RandmanConfig`,
:class:`SHDConfig`) checked when it is made; the PRNG key is the first argument. The
building blocks (dithering, Poisson inputs, manifolds) live in the private modules.

Nothing here downloads anything.
"""

from analysis.training.tasks._randman import RandmanConfig, make_randman, randman_splits
from analysis.training.tasks._shd import N_CLASSES, SHDConfig, load_shd, shd_size
from analysis.training.tasks._spike_train import SpikeTrainConfig, SpikeTrainTask, make_spike_train_task
from analysis.training.tasks._tonic import from_tonic

__all__ = [
    "RandmanConfig",
    "make_randman",
    "randman_splits",
    "N_CLASSES",
    "SHDConfig",
    "load_shd",
    "shd_size",
    "SpikeTrainConfig",
    "SpikeTrainTask",
    "make_spike_train_task",
    "from_tonic",
]
