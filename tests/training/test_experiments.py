"""Experiments on LIF networks (analysis.training._spike_train_run, _classifier): resume equality, cross-mode
evaluation, bad input (their claims: tests/claims/; the train command: tests/cli/test_train.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.snn import simulate
from analysis.training import (
    ClassificationData,
    ClassifierRun,
    RunFolder,
    SpikeTrainRun,
    load_run,
    train_classifier,
    train_spike_train,
)
from analysis.training._classifier_network import classifier_method, classifier_network
from analysis.training.tasks import RandmanConfig
from analysis.training.tasks._randman import train_valid_split

TINY_ST = SpikeTrainRun(
    n_inputs=30, n_hidden=20, n_neurons=8, n_steps=40, epochs=3, eval_trials=3, output_beta=10.0
)


def _tiny_randman():
    cfg = RandmanConfig(n_classes=2, n_units=6, n_steps=12, n_samples=8)
    return train_valid_split(jax.random.key(0), cfg)


def test_snn_training_resumes_bitwise_identically(tmp_path):
    train, valid = _tiny_randman()
    run4 = ClassifierRun(hidden=(8,), epochs=4, batch_size=5, seed=3)
    run2 = ClassifierRun(hidden=(8,), epochs=2, batch_size=5, seed=3)
    data = ClassificationData(train, valid)
    full = train_classifier("stochastic", data, run4, RunFolder(tmp_path / "a"), progress=False)
    train_classifier("stochastic", data, run2, RunFolder(tmp_path / "b"), progress=False)
    resumed = train_classifier(
        "stochastic", data, run4, RunFolder(tmp_path / "b", resume=True), progress=False
    )
    for a, b in zip(jax.tree.leaves(full.params), jax.tree.leaves(resumed.params), strict=True):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert full.history == resumed.history
    # the run folder read back: the same network, params and method, simulating bit for bit
    got = load_run(tmp_path / "a")
    assert got.config == classifier_network(run4, 6, 2) and got.run_settings == run4 and got.epoch == 4
    assert got.method == classifier_method("stochastic", run4) and got.history == full.history
    for a, b in zip(jax.tree.leaves(got.params), jax.tree.leaves(full.params), strict=True):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    sim = jax.jit(lambda p, x, k: simulate(p, x, got.config, got.method, key=k).output)
    x, key = jnp.asarray(valid[0], jnp.float32), jax.random.key(5)
    np.testing.assert_array_equal(np.asarray(sim(got.params, x, key)), np.asarray(sim(full.params, x, key)))
    with pytest.raises(ValueError, match="cannot resume"):
        train_classifier("deterministic", data, run4, RunFolder(tmp_path / "b", resume=True), progress=False)


def test_spike_train_metrics_in_both_modes():
    res = train_spike_train("deterministic", TINY_ST, progress=False)
    last = res.history[-1]
    for tag in ("det", "stoch"):
        for k in ("van_rossum", "l2", "output_rate_hz", "hidden_rate_hz", "hidden_fano"):
            assert np.isfinite(last[f"{tag}_{k}"])
        assert last[f"{tag}_hidden_rate_hz"] > 0
    assert last["det_hidden_fano"] == 0.0  # deterministic evaluation repeats itself exactly
    assert last["stoch_hidden_fano"] > 0.0  # the same weights run stochastically vary


def test_unknown_method_and_inconsistent_shapes():
    train, valid = _tiny_randman()
    with pytest.raises(ValueError, match="deterministic, stochastic, multilayer_spiker"):
        train_spike_train("adjoint", TINY_ST, progress=False)
    with pytest.raises(ValueError, match="matching T, N"):
        ClassificationData(train, (valid[0][:, :5], valid[1]))


def test_classification_data_checks_labels_and_infers_the_classes():
    train, valid = _tiny_randman()
    assert ClassificationData(train, valid).n_classes == 2
    assert ClassificationData(train, valid, n_classes=5).n_classes == 5
    with pytest.raises(ValueError, match=r"labels must lie in \[0, n_classes\) = \[0, 1\)"):
        ClassificationData(train, valid, n_classes=1)
    with pytest.raises(ValueError, match="at least one sample"):
        ClassificationData(train, (valid[0][:0], valid[1][:0]))
    with pytest.raises(TypeError, match="must be a ClassificationData"):
        train_classifier("deterministic", train, ClassifierRun(hidden=(4,), epochs=1), progress=False)
