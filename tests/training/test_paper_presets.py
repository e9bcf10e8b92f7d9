"""The paper's classification configuration (the experiment as published): presets,
network geometry, surrogate choice, the population regulariser against a naive loop, the
data splits of the paper profile, and test evaluation in both modes."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.training import (
    ClassificationData,
    ClassifierRun,
    RunConfig,
    RunFolder,
    VariabilityConfig,
    evaluate_classifier,
    randman_preset,
    shd_preset,
    train_classifier,
)
from analysis.training._classifier_network import classifier_method, classifier_network
from analysis.training._losses import population_upper_bound_regularizer
from analysis.training.tasks import RandmanConfig
from analysis.training.tasks._randman import train_valid_split
from tests.helpers import write_shd


def test_paper_presets_have_the_published_geometry():
    data, run = randman_preset("paper")
    assert (data.n_classes, data.n_units, data.dim, data.alpha, data.n_samples) == (15, 20, 1, 0.5, 1000)
    assert (data.n_steps, data.step_frac, data.n_terms) == (100, 0.5, 1000)
    cfg = classifier_network(run, data.n_units, data.n_classes)
    assert cfg.layer_sizes == (32 * 10, 64 * 6, 128 * 2) and not cfg.recurrent
    assert (run.optimizer, run.learning_rate, run.batch_size, run.epochs) == ("smorms3", 0.01, 400, 200)
    assert cfg.lif.dt == 2e-3 and cfg.lif.tau_mem == 20e-3 and cfg.lif.tau_syn == 10e-3
    assert (run.sigma_u_for("deterministic"), run.sigma_u_for("stochastic"), run.nu_in) == (1.0, 1.3, 5.0)
    _, _, shd = shd_preset("paper")
    cfg = classifier_network(shd, 700, 20)
    assert cfg.layer_sizes == (16 * 68, 32 * 21, 64 * 5) and cfg.recurrent
    assert cfg.recurrent_kernel_size == (5, 5, 5) and shd.nu_in == 15.8


#: values transcribed by hand from the authors' code (fmi-basel/surrogate-gradient-theory
#: 950927c, Classification/experiments: config_stork/*.yaml and deep_convSNN.py; stork
#: 6dd5824), independently of the table in analysis/training/_presets.py
AUTHORS = {
    "randman": dict(readout_tau_mem=0.2, n_steps=100, hidden=(32, 64, 128), data_seed=1),
    "shd": dict(readout_tau_mem=0.7, n_steps=349, hidden=(16, 32, 64), data_seed=None),
    "methods": {
        "deterministic": (0.01, 1.0, ("sigmoid", 10.0)),
        "stochastic": (0.01, 1.3, ("sigmoid", 10.0)),
        "multilayer_spiker": (20.0, 1.0, ("exponential", 1 / 0.133)),
    },
}


@pytest.mark.parametrize("task", ["randman", "shd"])
@pytest.mark.parametrize("method", ["deterministic", "stochastic", "multilayer_spiker"])
def test_the_built_paper_configuration_is_the_table(task, method):
    """Every entry of PAPER reaches the network, the method and the data that a run builds."""
    from analysis.training._presets import PAPER, paper_table, randman_data_seed, shd_steps

    if task == "randman":
        data, run = randman_preset("paper", method)
        n_in, n_cls, n_steps = data.n_units, data.n_classes, data.n_steps
        for k, e in PAPER["randman"]["data"].items():
            assert getattr(data, k) == e.value, k
        assert (
            randman_data_seed("paper", 5)
            == randman_data_seed("paper", 0)
            == PAPER["randman"]["data_seed"].value
        )
    else:
        _, _, run = shd_preset("paper", method)
        n_in, n_cls, n_steps = 700, 20, shd_steps("paper")
    rows = {k.split(".", 1)[-1]: v for k, v, _ in paper_table(task, method)}
    for field, value in rows.items():
        if hasattr(run, field):
            assert getattr(run, field) == value, field
    cfg = classifier_network(run, n_in, n_cls)
    common = {k: e.value for k, e in PAPER["common"].items()}
    assert (cfg.lif.tau_mem, cfg.lif.tau_syn, cfg.lif.dt) == (
        common["tau_mem"],
        common["tau_syn"],
        common["dt"],
    )
    assert cfg.lif.reset_scope == common["reset_scope"] == "update"
    assert cfg.lif.reset == "detached"
    assert cfg.out_lif.tau_mem == PAPER[task]["readout_tau_mem"].value
    assert cfg.out_lif.tau_syn == common["readout_tau_syn"]
    assert (cfg.delay, cfg.readout_value, cfg.readout_u0) == (1, "after", -1e-3)
    m = classifier_method(method, run)
    assert m.surrogate is not None and (m.surrogate.name, m.surrogate.beta) == ("superspike", 10.0)
    # against the hand transcription
    lr, sigma_u, (family, beta) = AUTHORS["methods"][method]
    assert (run.learning_rate, run.sigma_u_for(method)) == (lr, sigma_u)
    assert (m.hidden_noise.name, m.hidden_noise.beta) == (family, pytest.approx(beta))
    assert (cfg.out_lif.tau_mem, n_steps, tuple(run.hidden)) == (
        AUTHORS[task]["readout_tau_mem"],
        AUTHORS[task]["n_steps"],
        AUTHORS[task]["hidden"],
    )
    assert run.readout_scale == "fan_in"
    assert every_source_names_a_file(paper_table(task, method))


def every_source_names_a_file(rows) -> bool:
    return all(re.search(r"[\w/]+\.(py|yaml):\d+", src) for _, _, src in rows)


def test_surrogate_choice_applies_to_every_method():
    run = ClassifierRun(surrogate="superspike")
    for name in ("deterministic", "stochastic", "multilayer_spiker"):
        m = classifier_method(name, run)
        assert m.surrogate is not None and m.surrogate.name == "superspike" and m.surrogate.beta == 10.0
    assert classifier_method("stochastic", ClassifierRun()).surrogate is None  # matched sigma'_10
    assert (
        classifier_method(
            "deterministic", ClassifierRun(surrogate_beta=5.0, surrogate="superspike")
        ).surrogate.beta
        == 5.0
    )
    with pytest.raises(ValueError, match="surrogate"):
        ClassifierRun(surrogate="tanh")
    with pytest.raises(ValueError, match="reg_kind"):
        ClassifierRun(reg_kind="l1")


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(delay=2), "delay"),
        (dict(delay=True), "delay"),
        (dict(readout_value="later"), "readout_value"),
        (dict(reset_scope="all"), "reset_scope"),
        (dict(readout_scale="xavier"), "readout_scale"),
        (dict(readout_u0=float("nan")), "readout_u0"),
        (dict(readout_tau_mem=-1.0), "readout_tau_mem"),
        (dict(escape_noise=("sigmoid", 10.0)), "escape_noise"),
        (dict(escape_noise=("logistic", 10.0, 0.5)), "logistic"),
    ],
)
def test_classifier_run_names_the_bad_network_option(kw, match):
    with pytest.raises(ValueError, match=match):
        ClassifierRun(**kw)


def test_population_regulariser_equals_a_naive_loop():
    s = (jax.random.uniform(jax.random.key(0), (5, 30, 4)) < 0.35).astype(jnp.float32)
    got = float(population_upper_bound_regularizer(s, 7.0, 0.1))
    a = np.asarray(s)
    terms = []
    for b in range(a.shape[0]):
        c = sum(a[b, :, n].sum() for n in range(a.shape[2])) / a.shape[2]
        terms.append(max(c - 7.0, 0.0) ** 2)
    ref = 0.1 * sum(terms) / len(terms)
    assert ref > 0 and got == pytest.approx(ref, rel=1e-6)


def test_evaluate_classifier_reports_both_modes_on_held_out_data():
    cfg = RandmanConfig(n_classes=2, n_units=6, n_steps=12, n_samples=8)
    train, valid = train_valid_split(jax.random.key(0), cfg)
    run = ClassifierRun(hidden=(3,), connectivity="conv1d", kernel_size=3, epochs=1, batch_size=8)
    res = train_classifier("deterministic", ClassificationData(train, valid), run, progress=False)
    out = evaluate_classifier(jax.random.key(0), res.params, valid, run, prefix="valid")
    for k in ("det_valid_acc", "stoch_valid_acc", "det_valid_loss", "stoch_valid_loss"):
        assert k in out
    last = res.history[-1]
    assert out["det_valid_acc"] == pytest.approx(last["det_valid_acc"], abs=1e-6)  # same network, same data
    assert out["det_valid_loss"] == pytest.approx(last["det_valid_loss"], rel=1e-5)
    with pytest.raises(ValueError, match="data must be"):
        evaluate_classifier(jax.random.key(0), res.params, (valid[0][:0], valid[1][:0]), run)
    with pytest.raises(ValueError, match="params must be a classifier's params"):
        evaluate_classifier(jax.random.key(0), {"w": 1.0}, valid, run)


def _write_small_shd(folder, n, n_test, spikes, t_max):
    """shd_train.h5 with n random samples (``spikes`` events before ``t_max`` s each) and
    shd_test.h5 with the first ``n_test`` of them, labelled 1 .. n_test."""
    rng = np.random.default_rng(0)
    times = [list(np.sort(rng.random(spikes) * t_max)) for _ in range(n)]
    units = [list(rng.integers(0, 700, spikes)) for _ in range(n)]
    write_shd(folder / "shd_train.h5", times, units, list(rng.integers(0, 20, n)))
    write_shd(folder / "shd_test.h5", times[:n_test], units[:n_test], list(range(1, n_test + 1)))


def test_paper_profile_splits(tmp_path):
    pytest.importorskip("h5py")
    from analysis.training._run import _classification_data

    _write_small_shd(tmp_path, n=20, n_test=5, spikes=3, t_max=0.6)
    data, test, run = _classification_data(RunConfig("shd", profile="paper", shd_path=tmp_path))
    (train, valid), n_classes = (data.train, data.valid), data.n_classes
    assert (len(train[1]), len(valid[1]), len(test[1]), n_classes) == (18, 2, 5, 20)
    rows = {r.tobytes() for r in np.concatenate([train[0], valid[0]])}
    assert len(rows) == len({r.tobytes() for r in np.asarray(train[0])}) + len(
        {r.tobytes() for r in np.asarray(valid[0])}
    )  # disjoint
    assert run.connectivity == "conv1d" and run.recurrent


def test_shd_quick_profile_takes_random_subsets_binned_at_the_network_step(tmp_path):
    """quick: 512 random training rows (10 % of them validate), 256 random test rows, 2 ms
    bins = the network's dt; sample i is identified by its one spike, on channel i."""
    pytest.importorskip("h5py")
    from analysis.training._run import _classification_data

    n = 600
    write_shd(tmp_path / "shd_train.h5", [[0.0035]] * n, [[i] for i in range(n)], [i % 20 for i in range(n)])
    write_shd(tmp_path / "shd_test.h5", [[0.0035]] * n, [[i] for i in range(n)], [i % 20 for i in range(n)])
    data, test, run = _classification_data(RunConfig("shd", profile="quick", shd_path=tmp_path))
    assert run.dt == 2e-3 and data.train[0].shape[1] == 350
    ids = lambda x: set(np.argmax(np.asarray(x).sum(axis=1), axis=1).tolist())
    tr, va, te = ids(data.train[0]), ids(data.valid[0]), ids(test[0])
    assert (len(tr), len(va), len(te)) == (460, 52, 256) and not tr & va
    assert tr | va != set(range(512)) and te != set(range(256))  # random, not the first rows
    assert np.asarray(data.train[0]).sum(axis=(0, 2))[1] == 460  # 3.5 ms -> bin 1 of 2 ms
    labels = np.asarray(data.train[1])
    x_ids = np.argmax(np.asarray(data.train[0]).sum(axis=1), axis=1)
    assert np.array_equal(labels, x_ids % 20)  # rows and labels stay paired
    with pytest.raises(ValueError, match="indices must lie in"):
        from analysis.training.tasks import load_shd

        load_shd(tmp_path, "train", indices=[0, n])


def test_trial_variability_of_deterministic_and_stochastic_networks():
    from analysis.training import trial_variability

    cfg = RandmanConfig(n_classes=2, n_units=6, n_steps=20, n_samples=8)
    train, valid = train_valid_split(jax.random.key(0), cfg)
    run = ClassifierRun(hidden=(8, 6), epochs=1, batch_size=8, nu_in=40.0)
    params = train_classifier("stochastic", ClassificationData(train, valid), run, progress=False).params
    opts = VariabilityConfig(n_trials=50)
    det = trial_variability(jax.random.key(2), params, valid[0][0], run, "deterministic", opts)
    sto = trial_variability(jax.random.key(2), params, valid[0][0], run, "stochastic", opts)
    assert len(det["fano"]) == 2 and det["rasters"].shape == (50, 20, 5)
    # identical trials: zero variance wherever a neuron fires; stochastic trials vary
    assert all(f == 0.0 or np.isnan(f) for f in det["fano"])
    assert any(f > 0.05 for f in sto["fano"]) and max(sto["rate_hz"]) > 0
    with pytest.raises(ValueError, match="raster_layer must lie in"):
        trial_variability(
            jax.random.key(2), params, valid[0][0], run, "stochastic", VariabilityConfig(2, 5, 2)
        )


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(n_trials=1), "n_trials must be >= 2"),
        (dict(n_trials=0), "n_trials must be a positive integer"),
        (dict(window=0), "window must be a positive integer"),
        (dict(raster_layer=-1), "raster_layer must be an int >= 0"),
        (dict(raster_neurons=1.5), "raster_neurons must be a positive integer"),
    ],
)
def test_variability_config_names_the_bad_field(kw, match):
    with pytest.raises(ValueError, match=match):
        VariabilityConfig(**kw)


def test_training_step_memory_of_the_shd_paper_network_fits_16_gib():
    """XLA's buffer assignment for one training step at batch 400 (compiled, not run)."""
    from analysis.training._classifier import training_step_memory

    _, _, run = shd_preset("paper")
    lw = training_step_memory(run, "stochastic", 700, 349, 20, input_dtype=jnp.uint8)
    ck = training_step_memory(run, "stochastic", 700, 349, 20, checkpoint=True, input_dtype=jnp.uint8)
    assert 0 < ck["temp_gib"] < lw["temp_gib"] and ck["temp_gib"] < 16.0
    # lower bound for the layer-wise simulator: spikes of the three layers [B, T, N] in float32
    assert lw["temp_gib"] > 400 * 349 * (1088 + 672 + 320) * 4 / 2**30


@pytest.mark.slow
def test_shd_paper_profile_trains_end_to_end_on_a_written_file(tmp_path):
    """`train shd --profile paper` for one epoch on small generated HDF5 files (about 30 s):
    the paper network trains, the test set is evaluated in both modes and the variability
    statistics of three hidden layers are written."""
    pytest.importorskip("h5py")
    from analysis.training import run_experiment

    _write_small_shd(tmp_path, n=24, n_test=6, spikes=40, t_max=0.69)
    out = tmp_path / "run"
    res = run_experiment(
        RunConfig("shd", "stochastic", "paper", epochs=1, shd_path=tmp_path), RunFolder(out), progress=False
    )
    assert {"det_test_acc", "stoch_test_acc"} <= set(res.test)
    assert len(res.variability["fano"]) == 3 and np.asarray(res.variability["rasters"]).shape[0] == 400
    assert (out / "variability.npz").is_file() and (out / "summary.json").is_file()
