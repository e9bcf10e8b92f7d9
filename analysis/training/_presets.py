"""The experiments' presets by profile: ``quick`` (seconds to minutes on a CPU), ``full``
(larger) and ``paper`` (the published configuration of Gygax & Zenke 2025)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, NamedTuple

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


#: the authors' released code that produced the paper's classification figures
#: (fmi-basel/surrogate-gradient-theory at 950927c, run on fmi-basel/stork at 6dd5824 and
#: fzenke/randman at d3e22f5); the sources of :data:`PAPER` name files of these three
#: repositories with line numbers at those commits
AUTHORS_CODE = {
    "surrogate-gradient-theory": "950927c3e63904f1c9403e597b15220da2c7d565",
    "stork": "6dd58245779fd4ce37cc852c3fefb59087aca771",
    "randman": "d3e22f5eb6d6aa65b7867abb76b6839c85d419c2",
}
_EXP = "Classification/experiments/"
_DEEP = _EXP + "deep_convSNN.py"
_CFG = _EXP + "config_stork/config.yaml"
_RM = _EXP + "config_stork/dataset/randman.yaml"
_SHD = _EXP + "config_stork/dataset/SHD.yaml"
_REG = _EXP + "config_stork/regularizer/default.yaml"
_METHOD = _EXP + "config_stork/method/"


class Entry(NamedTuple):
    """One value of the paper profile and where the authors' code sets it."""

    value: Any
    source: str


#: The paper profile, every value with its source: ``common`` (both tasks), ``randman`` and
#: ``shd`` (data and network of each task), ``methods`` (per training method). Keys are
#: the fields of :class:`ClassifierRun` (and of :class:`RandmanConfig` / the SHD binning
#: under ``data``). ``sgtheory train TASK --profile paper --dry-run`` prints it.
PAPER: dict[str, dict[str, Any]] = {
    "common": {
        "epochs": Entry(200, f"{_CFG}:33 nb_epochs"),
        "batch_size": Entry(400, f"{_CFG}:49 batch_size"),
        "optimizer": Entry("smorms3", f"{_CFG}:22 optimizer; {_DEEP}:302-305"),
        "tau_mem": Entry(20e-3, f"{_CFG}:36 tau_mem"),
        "tau_syn": Entry(10e-3, f"{_CFG}:37 tau_syn"),
        "dt": Entry(2e-3, f"{_RM}:13, {_SHD}:13 dt"),
        "reg_kind": Entry("population", f"{_REG}:3 dims [-2, -1] (UpperBoundL2 per sample over the layer)"),
        "reg_bound": Entry(7.0, f"{_REG}:2 upperBoundL2Threshold"),
        "reg_strength": Entry(0.1, f"{_REG}:1 upperBoundL2Strength"),
        "recurrent_fraction": Entry(
            0.1, f"{_RM}:35, {_SHD}:29 alpha 0.9 (feed-forward share); {_DEEP}:369-374"
        ),
        "reset_scope": Entry("update", "stork/nodes/lif/base.py:116-118 (reset multiplies the whole update)"),
        "delay": Entry(1, "stork/models.py:218-221 (groups evolve before connections propagate)"),
        "readout_tau_syn": Entry(10e-3, f"{_DEEP}:445 tau_syn=cfg.tau_syn"),
        "readout_scale": Entry("fan_in", f"{_DEEP}:378-380 Normal(0, 1), scaling 1/sqrt(k)"),
        "readout_value": Entry("after", "stork/nodes/readout.py:41-43 (out = the updated potential)"),
        "readout_u0": Entry(-1e-3, f"{_DEEP}:446 initial_state=-1e-3"),
        "surrogate": Entry("superspike", f"{_CFG}:21 sigm False -> {_DEEP}:200-205, 225-230"),
        "surrogate_beta": Entry(10.0, f"{_CFG}:47 beta"),
    },
    "randman": {
        "data": {
            "n_classes": Entry(15, f"{_RM}:4 nb_classes"),
            "n_units": Entry(20, f"{_RM}:5 nb_inputs"),
            "n_steps": Entry(100, f"{_RM}:11 nb_time_steps"),
            "dim": Entry(1, f"{_RM}:3 dim_manifold"),
            "alpha": Entry(0.5, f"{_RM}:20 alpha_randman"),
            "n_spikes": Entry(1, f"{_RM}:19 nb_spikes"),
            "n_samples": Entry(1000, f"{_RM}:18 nb_samples"),
            "step_frac": Entry(0.5, f"{_RM}:17 step_frac"),
            "spectrum": Entry(
                "torch", "stork/datasets.py:228 randman.Randman = TorchRandman (randman/torch_randman.py:63)"
            ),
        },
        "data_seed": Entry(1, f"{_RM}:21 randmanseed (the same data set for every training seed)"),
        "splits": Entry((0.8, 0.1, 0.1), f"{_DEEP}:76-78 split_dataset"),
        "hidden": Entry((32, 64, 128), f"{_RM}:26 nb_filters"),
        "connectivity": Entry("conv1d", f"{_DEEP}:417-430 ConvLayer"),
        "kernel_size": Entry((11, 5, 5), f"{_RM}:27 kernel_size"),
        "stride": Entry(1, f"{_RM}:28 stride"),
        "recurrent": Entry(False, f"{_RM}:31 rec"),
        "nu_in": Entry(5.0, f"{_RM}:15 nu"),
        "readout_tau_mem": Entry(0.2, f"{_CFG}:39 tau_readout = {_RM}:12 duration"),
    },
    "shd": {
        "data": {
            "n_steps": Entry(349, f"{_DEEP}:739 int(0.7 / 2e-3) (floating point: 349.99... -> 349)"),
            "dt": Entry(2e-3, f"{_SHD}:12 time_step"),
        },
        "validation_split": Entry(0.9, f"{_SHD}:16; {_DEEP}:113-120 (random, from the training file)"),
        "hidden": Entry((16, 32, 64), f"{_SHD}:20 nb_filters"),
        "connectivity": Entry("conv1d", f"{_DEEP}:417-430 ConvLayer"),
        "kernel_size": Entry((21, 7, 7), f"{_SHD}:21 kernel_size"),
        "stride": Entry((10, 3, 3), f"{_SHD}:22 stride"),
        "recurrent": Entry(True, f"{_SHD}:25 rec"),
        "recurrent_kernel_size": Entry(5, f"{_SHD}:26-28 rec_kernel_size (stride 1, padding 2)"),
        "nu_in": Entry(15.8, f"{_SHD}:9 nu"),
        "readout_tau_mem": Entry(0.7, f"{_CFG}:39 tau_readout = {_SHD}:11 duration"),
    },
    "methods": {
        "deterministic": {
            "learning_rate": Entry(0.01, f"{_METHOD}superspike.yaml:4 lr"),
            "sigma_u": Entry(1.0, f"{_METHOD}superspike.yaml:6 target_sigma_u"),
        },
        "stochastic": {
            "learning_rate": Entry(0.01, f"{_METHOD}stochasticsuperspike.yaml:4 lr"),
            "sigma_u": Entry(1.3, f"{_METHOD}stochasticsuperspike.yaml:6 target_sigma_u"),
            "escape_noise": Entry(("sigmoid", 10.0, 0.5), f"{_DEEP}:220-223 sigmoid, beta {_CFG}:47"),
        },
        "multilayer_spiker": {
            "learning_rate": Entry(20.0, f"{_METHOD}multilayerspiker.yaml:4 lr"),
            "sigma_u": Entry(1.0, f"{_METHOD}multilayerspiker.yaml:6 target_sigma_u"),
            "escape_noise": Entry(
                ("exponential", 1 / 0.133, 2 / 3),
                f"{_DEEP}:216-218 p0 exp(u / delta_uh): {_CFG}:42 p0, :46 delta_uh",
            ),
        },
    },
}

#: Where the paper profile still differs from the authors' code (each a known, stated gap).
PAPER_DIFFERENCES = (
    "MultilayerSpiker hidden derivative: this toolkit uses beta S = S / delta_u (Gardner et al. "
    "2015, rho'/rho); the authors' code uses S (stork/activations.py:210-219), 7.5x smaller per layer",
    "random numbers: JAX keys instead of torch / NumPy generators (same distributions, other draws)",
)

_RUN_KEYS = {f.name for f in dataclasses.fields(ClassifierRun)}


def _values(table: dict) -> dict:
    return {k: v.value for k, v in table.items() if isinstance(v, Entry) and k in _RUN_KEYS}


def paper_run(task: str, method: str | None = None) -> dict:
    """The :class:`ClassifierRun` fields of the paper profile of ``task`` (``randman`` or
    ``shd``), from :data:`PAPER`. ``method``: apply that method's learning rate, sigma_U and
    escape noise; None: the deterministic values, with ``sigma_u_stochastic`` for the
    stochastic methods (the two networks of Fig. 7 from one run record)."""
    if task not in ("randman", "shd"):
        raise ValueError(f"the paper profile has tasks randman and shd, got {task!r}")
    fields = {**_values(PAPER["common"]), **_values(PAPER[task])}
    if method is None:
        fields |= _values(PAPER["methods"]["deterministic"])
        fields["sigma_u_stochastic"] = PAPER["methods"]["stochastic"]["sigma_u"].value
    elif method in PAPER["methods"]:
        fields |= _values(PAPER["methods"][method])
    else:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(PAPER['methods'])}")
    return fields


def paper_table(task: str, method: str | None = None) -> list[tuple[str, Any, str]]:
    """[(field, value, source)] of the paper profile of ``task`` (and ``method``), in the
    order of :data:`PAPER`: what ``--dry-run`` prints."""
    rows = []
    sections = [("", PAPER["common"]), ("", {k: v for k, v in PAPER[task].items() if k != "data"})]
    sections.append(("data.", PAPER[task]["data"]))
    for name in [method] if method else list(PAPER["methods"]):
        sections.append((f"{name}.", PAPER["methods"][name]))
    for prefix, table in sections:
        rows += [(prefix + k, e.value, e.source) for k, e in table.items()]
    return rows


def randman_data_seed(profile: str, seed: int) -> int:
    """The seed of the randman data set of a run: fixed (:data:`PAPER`) in the paper profile,
    the training seed otherwise."""
    return PAPER["randman"]["data_seed"].value if profile == "paper" else seed


def randman_preset(
    profile: str = "quick", method: str | None = None, **overrides: Any
) -> tuple[RandmanConfig, ClassifierRun]:
    """(RandmanConfig, ClassifierRun), ``n_samples`` per class before the 0.8 / 0.1 / 0.1
    split: ``quick`` 10 classes x 200 samples, 20 units, 50 steps of 2 ms (spikes in the
    first 25), manifold dimension 1, alpha 1, LIF layers of 64 and 32, 30 epochs (test
    accuracy ~0.9, clearly below 1 and above chance: a setting that can tell methods
    apart); ``full`` 10 classes x 500 samples, 50 units, 100 steps, manifold
    dimension 3 (dimension 1 at this size is solved in ~5 epochs), 128 hidden, 60 epochs;
    ``paper`` the authors' experiment, every value from :data:`PAPER` (15 classes x 1000
    samples of the torch randman generator from the fixed data seed 1, three conv1d LIF
    layers of 32 / 64 / 128 filters, a 0.2 s readout, ...). ``method`` picks the paper
    profile's per-method values (learning rate, sigma_U, escape noise); other profiles
    ignore it."""
    from analysis.training.tasks import RandmanConfig

    paper_data = {k: e.value for k, e in PAPER["randman"]["data"].items()}
    data = {
        "quick": RandmanConfig(n_classes=10, n_units=20, n_steps=50, dim=1, alpha=1.0, n_samples=200),
        "full": RandmanConfig(n_classes=10, n_units=50, n_steps=100, dim=3, n_samples=500),
        "paper": RandmanConfig(**paper_data),
    }
    runs = {
        "quick": dict(hidden=(64, 32), epochs=30, batch_size=32, learning_rate=5e-3, nu_in=10.0, dt=2e-3),
        "full": dict(hidden=(128,), epochs=60, batch_size=64, learning_rate=2e-3),
        "paper": paper_run("randman", method) if profile == "paper" else {},
    }
    _preset(runs, profile)
    return data[profile], ClassifierRun(**{**runs[profile], **overrides})


def shd_preset(
    profile: str = "quick", method: str | None = None, **overrides: Any
) -> tuple[int, int, ClassifierRun]:
    """(train samples, test samples, ClassifierRun) for SHD, inputs binned at the network's
    step (dt = the 2 ms bin): ``quick`` a random subset of 512 training (10 % of them for
    validation) and 256 test samples, 5 epochs; ``full`` all samples, a recurrent 128-unit
    layer, 40 epochs; ``paper`` the authors' experiment, every value from :data:`PAPER`
    (349 steps of 2 ms, three recurrent conv1d LIF layers of 16 / 32 / 64 filters, a 0.7 s
    readout, ...; a GPU run). Train / test sizes None: the whole file. ``method``: as for
    :func:`randman_preset`."""
    presets = {
        "quick": (512, 256, dict(hidden=(64,), epochs=5, batch_size=64, nu_in=5.0, dt=2e-3)),
        "full": (
            None,
            None,
            dict(hidden=(128,), recurrent=True, epochs=40, batch_size=128, nu_in=5.0, dt=2e-3),
        ),
        "paper": (None, None, paper_run("shd", method) if profile == "paper" else {}),
    }
    n_tr, n_te, run = _preset(presets, profile)
    return n_tr, n_te, ClassifierRun(**{**run, **overrides})


#: the time bin of ``sgtheory train classify`` unless ``--dt`` gives another (seconds)
CLASSIFY_DT = 1e-3


def classify_preset(profile: str = "quick", **overrides: Any) -> ClassifierRun:
    """ClassifierRun for the user's own data (``sgtheory train classify``): the SHD presets'
    networks at a 1 ms bin (:data:`CLASSIFY_DT`; the bin the data were made with, override
    ``dt``): ``quick`` one dense LIF layer of 64, 20 epochs, batch 64; ``full`` one
    recurrent LIF layer of 128, 40 epochs, batch 128; Adam at 2e-3 in both. The
    initialisation's input rate ``nu_in`` (Hz) belongs to the data: ``sgtheory train
    classify`` sets it to the training inputs' mean rate, mean(x) / dt. No ``paper`` profile
    (no published setting exists for arbitrary data)."""
    presets = {
        "quick": dict(hidden=(64,), epochs=20, batch_size=64, learning_rate=2e-3, dt=CLASSIFY_DT),
        "full": dict(
            hidden=(128,), recurrent=True, epochs=40, batch_size=128, learning_rate=2e-3, dt=CLASSIFY_DT
        ),
    }
    return ClassifierRun(**{**_preset(presets, profile), **overrides})


#: the SHD raster of each profile: 2 ms bins (the network's dt), 350 bins (0.7 s) except the
#: paper profile's 349 (:data:`PAPER`)
def shd_steps(profile: str) -> int:
    """Number of 2 ms bins of the SHD inputs of a profile."""
    return PAPER["shd"]["data"]["n_steps"].value if profile == "paper" else 350


def _preset(presets: dict, profile: str):
    if profile not in presets:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(presets)}")
    return presets[profile]
