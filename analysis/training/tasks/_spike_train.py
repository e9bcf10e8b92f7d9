"""Spike-train matching: frozen Poisson inputs and a dithered-image target raster.

The task of Gygax & Zenke (2025, sec. 6, Fig. 6): 200 frozen Poisson input trains
(50 Hz, 1 ms bins) drive a 200-200 LIF network whose output raster must reproduce a
black-and-white image (time = image columns, neurons = image rows). The image is a
grey-scale photograph reduced to 1 bit by Floyd-Steinberg error diffusion (Floyd &
Steinberg 1976); by default the photograph that ships with matplotlib's sample data
(``grace_hopper.jpg``), so nothing is downloaded; any image file may be given instead.

Example
-------
>>> import jax
>>> from analysis.training.tasks import SpikeTrainConfig, make_spike_train_task
>>> task = make_spike_train_task(jax.random.key(0), SpikeTrainConfig(n_inputs=20, n_neurons=30, n_steps=25))
>>> task.inputs.shape, task.target.shape
((1, 25, 20), (1, 25, 30))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from jax.typing import DTypeLike

from analysis import _validate

# Floyd-Steinberg weights: (row offset, column offset, weight). (1, -1) comes before (0, 1):
# a pixel receiving both within one wavefront then sums them in raster order, so the
# result equals the pixel-by-pixel loop exactly, not just up to rounding.
_FS = ((1, -1, 3 / 16), (0, 1, 7 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16))


class SpikeTrainTask(NamedTuple):
    """inputs: [1, T, N_in] frozen Poisson spikes; target: [1, T, N_out] image raster."""

    inputs: jax.Array
    target: jax.Array


def default_image_path() -> Path:
    """Path of the photograph shipped in matplotlib's sample data (Grace Hopper)."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not path.is_file():
        raise FileNotFoundError(
            f"matplotlib's sample image {path} is missing; pass image=<path to any image>"
        )
    return path


def load_gray_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as grey levels in [0, 1], shape [rows, columns] (float64)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image {str(path)!r} does not exist or is not a file")
    try:
        with Image.open(path) as im:
            gray = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"image {str(path)!r} cannot be read as an image ({exc})") from None
    return gray


def dither(gray: npt.ArrayLike, threshold: float = 0.5) -> np.ndarray:
    """Floyd-Steinberg error diffusion of grey levels in [0, 1] -> boolean (True = white).

    Each pixel is set to 1[value + diffused error > threshold] and its quantisation error
    is passed on with weights 7/16 (right), 3/16 (below left), 5/16 (below), 1/16 (below
    right); error leaving the image is dropped. Vectorised over anti-diagonal wavefronts:
    pixel (i, j) depends only on pixels with smaller ``2 i + j``, so all pixels with the
    same ``2 i + j`` are processed at once: 2 H + W - 2 NumPy steps instead of H W.
    """
    g = np.asarray(gray, dtype=np.float64)
    if g.ndim != 2 or min(g.shape) < 1:
        raise ValueError(f"gray must be a non-empty 2-D array, got shape {g.shape}")
    _validate.no_nan(g, "gray")
    h, w = g.shape
    val = g.copy()
    out = np.zeros((h, w), dtype=bool)
    rows, cols = np.indices((h, w))
    wave = (2 * rows + cols).ravel()
    order = np.argsort(wave, kind="stable")
    bounds = np.searchsorted(wave[order], np.arange(2 * (h - 1) + w + 1))
    flat_val, flat_out = val.ravel(), out.ravel()
    for s in range(len(bounds) - 1):
        idx = order[bounds[s] : bounds[s + 1]]
        _dither_front(idx, flat_val, flat_out, h, w, threshold)
    return out


def _dither_front(idx, val, out, h, w, threshold):
    i, j = np.divmod(idx, w)
    on = val[idx] > threshold
    out[idx] = on
    err = val[idx] - on
    for di, dj, wt in _FS:
        ii, jj = i + di, j + dj
        ok = (ii < h) & (jj >= 0) & (jj < w)
        np.add.at(val, ii[ok] * w + jj[ok], wt * err[ok])


def image_raster(
    image: str | os.PathLike | None = None, n_neurons: int = 200, n_steps: int = 190, spike_on: str = "light"
) -> np.ndarray:
    """Target raster [n_steps, n_neurons] (float32 0/1) from an image file.

    The image is resized to ``n_neurons`` rows x ``n_steps`` columns, dithered, and
    transposed so that time runs along the image columns; neuron 0 is the bottom image row,
    so a raster plot with neuron 0 at the bottom shows the image upright. ``spike_on`` = "light" (default,
    ~30% of bins for the default photograph) or "dark" picks which pixels are spikes.
    """
    from PIL import Image

    n_neurons = _validate.positive_int(n_neurons, "n_neurons")
    n_steps = _validate.positive_int(n_steps, "n_steps")
    if spike_on not in ("dark", "light"):
        raise ValueError(f"spike_on must be 'dark' or 'light', got {spike_on!r}")
    gray = load_gray_image(default_image_path() if image is None else image)
    small = Image.fromarray((gray * 255).astype(np.uint8)).resize(
        (n_steps, n_neurons), Image.Resampling.LANCZOS
    )
    white = dither(np.asarray(small, dtype=np.float64) / 255.0)
    spikes = ~white if spike_on == "dark" else white
    return spikes[::-1].T.astype(np.float32)  # neuron 0 = bottom row: rasters show it upright


def poisson_inputs(
    key: jax.Array,
    n_steps: int,
    n_inputs: int,
    rate_hz: float = 50.0,
    dt: float = 1e-3,
    dtype: DTypeLike = jnp.float32,
) -> jax.Array:
    """Poisson spike trains [n_steps, n_inputs]: P(spike in a bin) = rate_hz * dt."""
    p = _validate.positive_scalar(rate_hz, "rate_hz") * _validate.positive_scalar(dt, "dt")
    _validate.probability(p, "rate_hz * dt")
    shape = (_validate.positive_int(n_steps, "n_steps"), _validate.positive_int(n_inputs, "n_inputs"))
    flat = jax.random.bernoulli(key, p, (shape[0] * shape[1],))  # 1-D: compiles faster
    return flat.reshape(shape).astype(dtype)


@dataclass(frozen=True)
class SpikeTrainConfig:
    """The task's sizes (paper: 200 inputs at 50 Hz, 200 output neurons, 190 bins of 1 ms).

    image : target image file (None: matplotlib's sample photograph); n_inputs, n_neurons,
    n_steps : frozen Poisson inputs, output neurons (image rows), time bins (image columns);
    rate_hz, dt : input rate and bin (P(spike in a bin) = rate_hz * dt <= 1); spike_on :
    ``light`` or ``dark`` pixels are spikes.
    """

    image: str | os.PathLike | None = None
    n_inputs: int = 200
    n_neurons: int = 200
    n_steps: int = 190
    rate_hz: float = 50.0
    dt: float = 1e-3
    spike_on: str = "light"

    def __post_init__(self):
        for name in ("n_inputs", "n_neurons", "n_steps"):
            _validate.positive_int(getattr(self, name), name)
        rate = _validate.positive_scalar(self.rate_hz, "rate_hz")
        _validate.probability(rate * _validate.positive_scalar(self.dt, "dt"), "rate_hz * dt")
        if self.spike_on not in ("dark", "light"):
            raise ValueError(f"spike_on must be 'dark' or 'light', got {self.spike_on!r}")


def make_spike_train_task(key: jax.Array, cfg: SpikeTrainConfig = SpikeTrainConfig()) -> SpikeTrainTask:
    """Frozen inputs (from ``key``) and the dithered ``cfg.image`` target, batch of one."""
    _validate.prng_key(key)
    if not isinstance(cfg, SpikeTrainConfig):
        raise TypeError(f"cfg must be a SpikeTrainConfig, got {type(cfg).__name__}")
    target = image_raster(cfg.image, cfg.n_neurons, cfg.n_steps, cfg.spike_on)
    inputs = poisson_inputs(key, cfg.n_steps, cfg.n_inputs, cfg.rate_hz, cfg.dt)
    return SpikeTrainTask(inputs[None], jnp.asarray(target)[None])
