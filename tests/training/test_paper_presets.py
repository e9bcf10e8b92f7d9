"""The paper's classification configuration (the experiment as published): presets,
network geometry, surrogate choice, the population regulariser against a naive loop, the
data splits of the paper profile, and test evaluation in both modes."""

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


def test_surrogate_choice_applies_to_deterministic_training_only():
    run = ClassifierRun(surrogate="superspike")
    det, sto = classifier_method("deterministic", run), classifier_method("stochastic", run)
    assert det.surrogate is not None and det.surrogate.name == "superspike" and det.surrogate.beta == 10.0
    assert sto.surrogate is None  # matched sigma'_10
    assert classifier_method("deterministic", ClassifierRun()).surrogate is None
    with pytest.raises(ValueError, match="surrogate"):
        ClassifierRun(surrogate="tanh")
    with pytest.raises(ValueError, match="reg_kind"):
        ClassifierRun(reg_kind="l1")


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
