"""The experiments' presets by profile: ``quick`` (seconds to minutes on a CPU), ``full``
(larger) and ``paper`` (the published configuration of Gygax & Zenke 2025)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analysis.training._classifier_network import ClassifierRun
from analysis.training._spike_train_run import SpikeTrainRun

if TYPE_CHECKING:
    from analysis.training.tasks import RandmanConfig


def spike_train_preset(profile: str = "quick", **overrides) -> SpikeTrainRun:
    """``quick``: 50 -> 50 -> 50 neurons, 50 steps, 150 epochs (seconds on a CPU), output
    beta 10 (with beta 100 the small network barely learns in 150 epochs: van Rossum distance
    45 -> 31 instead of 45 -> 11); ``full``: the paper's 200 -> 200 -> 200 network, 190
    steps, betas 10 / 100."""
    presets = {
        "quick": dict(
            n_inputs=50,
            n_hidden=50,
            n_neurons=50,
            n_steps=50,
            epochs=150,
            optimizer="smorms3",
            learning_rate=1e-2,
            output_beta=10.0,
        ),
        "full": dict(epochs=1000, optimizer="smorms3", learning_rate=3e-3),
    }
    return SpikeTrainRun(**{**_preset(presets, profile), **overrides})


#: the paper's classification training (Gygax & Zenke 2025; their published configuration):
#: SMORMS3, lr 0.01, batch 400, 200 epochs, tau_mem 20 ms, tau_syn 10 ms, dt 2 ms, population
#: upper-bound regulariser 0.1 relu(c - 7)^2 per hidden layer, fluctuation-driven init with
#: 90 % feedforward share and target sigma_U 1 (deterministic) / 1.3 (stochastic), SuperSpike
#: surrogate beta 10 for the deterministic network
PAPER_TRAINING = dict(
    epochs=200,
    batch_size=400,
    learning_rate=0.01,
    optimizer="smorms3",
    reg_kind="population",
    reg_bound=7.0,
    reg_strength=0.1,
    sigma_u=1.0,
    sigma_u_stochastic=1.3,
    recurrent_fraction=0.1,
    tau_mem=20e-3,
    tau_syn=10e-3,
    dt=2e-3,
    surrogate="superspike",
)


def randman_preset(profile: str = "quick", **overrides: Any) -> tuple[RandmanConfig, ClassifierRun]:
    """(RandmanConfig, ClassifierRun), ``n_samples`` per class before the 0.8 / 0.1 / 0.1
    split: ``quick`` 10 classes x 200 samples, 20 units, 50 steps of 2 ms (spikes in the
    first 25), manifold dimension 1, alpha 1, LIF layers of 64 and 32, 30 epochs (test
    accuracy ~0.9, clearly below 1 and above chance: a setting that can tell methods
    apart); ``full`` 10 classes x 500 samples, 50 units, 100 steps, manifold
    dimension 3 (dimension 1 at this size is solved in ~5 epochs), 128 hidden, 60 epochs;
    ``paper`` the published experiment: 15 classes x 1000 samples, 20 units, manifold
    dimension 1, alpha 0.5, one spike per unit in the first 50 of 100 bins of 2 ms (split
    0.8 / 0.1 / 0.1), three conv1d LIF layers of 32 / 64 / 128 filters, kernels 11 / 5 / 5,
    stride 1, no recurrence (32 x 10, 64 x 6, 128 x 2 neurons), input rate 5 Hz, and
    :data:`PAPER_TRAINING`."""
    from analysis.training.tasks import RandmanConfig

    data = {
        "quick": RandmanConfig(n_classes=10, n_units=20, n_steps=50, dim=1, alpha=1.0, n_samples=200),
        "full": RandmanConfig(n_classes=10, n_units=50, n_steps=100, dim=3, n_samples=500),
        "paper": RandmanConfig(
            n_classes=15, n_units=20, n_steps=100, dim=1, alpha=0.5, n_spikes=1, n_samples=1000, step_frac=0.5
        ),
    }
    runs = {
        "quick": dict(hidden=(64, 32), epochs=30, batch_size=32, learning_rate=5e-3, nu_in=10.0, dt=2e-3),
        "full": dict(hidden=(128,), epochs=60, batch_size=64, learning_rate=2e-3),
        "paper": dict(
            PAPER_TRAINING,
            hidden=(32, 64, 128),
            connectivity="conv1d",
            kernel_size=(11, 5, 5),
            stride=1,
            recurrent=False,
            nu_in=5.0,
        ),
    }
    _preset(runs, profile)
    return data[profile], ClassifierRun(**{**runs[profile], **overrides})


def shd_preset(profile: str = "quick", **overrides: Any) -> tuple[int, int, ClassifierRun]:
    """(max train samples, max test samples, ClassifierRun) for SHD: ``quick`` uses 512 /
    256 samples and 5 epochs; ``full`` all samples, a recurrent 128-unit layer, 40 epochs;
    ``paper`` the published experiment: 700 channels, 0.7 s in 2 ms bins, three conv1d LIF
    layers (16 filters kernel 21 stride 10, 32 kernel 7 stride 3, 64 kernel 7 stride 3;
    16 x 68, 32 x 21, 64 x 5 neurons), each with a recurrent stride-1 conv of kernel 5,
    input rate 15.8 Hz, and :data:`PAPER_TRAINING` (a GPU run)."""
    presets = {
        "quick": (512, 256, dict(hidden=(64,), epochs=5, batch_size=64, nu_in=5.0)),
        "full": (None, None, dict(hidden=(128,), recurrent=True, epochs=40, batch_size=128, nu_in=5.0)),
        "paper": (
            None,
            None,
            dict(
                PAPER_TRAINING,
                hidden=(16, 32, 64),
                connectivity="conv1d",
                kernel_size=(21, 7, 7),
                stride=(10, 3, 3),
                recurrent=True,
                recurrent_kernel_size=5,
                nu_in=15.8,
            ),
        ),
    }
    n_tr, n_te, run = _preset(presets, profile)
    return n_tr, n_te, ClassifierRun(**{**run, **overrides})


def _preset(presets: dict, profile: str):
    if profile not in presets:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(presets)}")
    return presets[profile]
