"""Training pieces: SMORMS3 vs a naive NumPy implementation, losses, resumable loop."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from analysis.training import (
    RunFolder,
    TrainConfig,
    fit,
)
from analysis.training._checkpoints import epoch_checkpoints, load_epoch_params
from analysis.training._losses import (
    accuracy_max_over_time,
    max_over_time_cross_entropy,
    upper_bound_regularizer,
)
from analysis.training._optimizers import optimizer, smorms3


def _naive_smorms3(grads_seq, x0, lr, eps=1e-16):
    """Funk (2015) SMORMS3, written element by element in plain Python floats."""
    x = [float(v) for v in x0]
    mem, g, g2 = [1.0] * len(x), [0.0] * len(x), [0.0] * len(x)
    for grads in grads_seq:
        for i, d in enumerate(grads):
            r = 1.0 / (mem[i] + 1.0)
            g[i] = (1 - r) * g[i] + r * d
            g2[i] = (1 - r) * g2[i] + r * d * d
            ratio = g[i] * g[i] / (g2[i] + eps)
            x[i] -= d * min(lr, ratio) / (np.sqrt(g2[i]) + eps)
            mem[i] = 1.0 + mem[i] * (1.0 - ratio)
    return np.array(x)


def test_smorms3_matches_naive_implementation():
    rng = np.random.default_rng(0)
    grads_seq = rng.normal(size=(25, 6)) * rng.uniform(0.01, 3, size=6)
    x0 = rng.normal(size=6)
    opt = smorms3(learning_rate=3e-3)
    params = {"w": jnp.asarray(x0)}
    state = opt.init(params)
    for gr in grads_seq:
        upd, state = opt.update({"w": jnp.asarray(gr)}, state, params)
        params = optax.apply_updates(params, upd)
    np.testing.assert_allclose(
        np.asarray(params["w"]), _naive_smorms3(grads_seq, x0, 3e-3), rtol=1e-12, atol=1e-14
    )


def test_smorms3_minimises_a_quadratic():
    opt = optimizer("smorms3", 0.05)
    p = jnp.array([3.0, -2.0])
    s = opt.init(p)
    for _ in range(300):
        u, s = opt.update(2 * p, s, p)
        p = optax.apply_updates(p, u)
    assert float(jnp.max(jnp.abs(p))) < 0.05


def test_optimizer_registry_rejects_unknown_names():
    with pytest.raises(ValueError, match="adam, smorms3, sgd"):
        optimizer("rmsprop")
    with pytest.raises(ValueError, match="learning_rate"):
        optimizer("adam", -1.0)


def test_max_over_time_cross_entropy_vs_naive():
    rng = np.random.default_rng(1)
    out = rng.normal(size=(4, 7, 3))
    y = np.array([0, 2, 1, 2])
    ref = 0.0
    for b in range(4):
        logits = out[b].max(axis=0)
        ref += -(logits[y[b]] - np.log(np.exp(logits).sum())) / 4
    assert float(max_over_time_cross_entropy(out, y)) == pytest.approx(ref, rel=1e-12)
    acc = np.mean([out[b].max(0).argmax() == y[b] for b in range(4)])
    assert float(accuracy_max_over_time(out, y)) == acc
    with pytest.raises(ValueError, match=r"\[B, T, C\]"):
        max_over_time_cross_entropy(out[0], y)


def test_upper_bound_regularizer_vs_naive():
    s = (np.random.default_rng(2).random((5, 30, 4)) < np.array([0.05, 0.3, 0.6, 0.9])).astype(float)
    counts = s.sum(axis=1).mean(axis=0)
    ref = 0.5 * np.mean(np.maximum(counts - 8.0, 0.0) ** 2)
    assert float(upper_bound_regularizer(s, 8.0, 0.5)) == pytest.approx(ref, rel=1e-12)
    assert float(upper_bound_regularizer(s, 100.0)) == 0.0


def _noisy_regression():
    """A stochastic loss (noise drawn from the step key) on a linear model."""
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.normal(size=(40, 3)), jnp.float32)
    y = x @ jnp.array([1.0, -2.0, 0.5], jnp.float32)

    def loss_fn(params, key, xb, yb):
        noise = 0.1 * jax.random.normal(key, yb.shape, jnp.float32)
        err = xb @ params["w"] + params["b"] - yb + noise
        return jnp.mean(err**2), {"abs_err": jnp.mean(jnp.abs(err))}

    params = {"w": jnp.zeros(3, jnp.float32), "b": jnp.zeros((), jnp.float32)}
    return loss_fn, params, (x, y)


def test_resume_after_interruption_is_bitwise_identical(tmp_path):
    loss_fn, p0, data = _noisy_regression()
    cfg4 = TrainConfig(epochs=4, batch_size=16, optimizer="adam", learning_rate=0.05, seed=7)
    cfg2 = TrainConfig(epochs=2, batch_size=16, optimizer="adam", learning_rate=0.05, seed=7)
    full = fit(loss_fn, p0, data, cfg4, folder=RunFolder(tmp_path / "a"), progress=False)
    fit(loss_fn, p0, data, cfg2, folder=RunFolder(tmp_path / "b"), progress=False)  # "crash" here
    resumed = fit(loss_fn, p0, data, cfg4, folder=RunFolder(tmp_path / "b", resume=True), progress=False)
    for a, b in zip(jax.tree.leaves(full.params), jax.tree.leaves(resumed.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert full.history == resumed.history
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(l)["epoch"] for l in lines] == [1, 2, 3, 4]
    csv_lines = (tmp_path / "b" / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("epoch,loss,abs_err") and len(csv_lines) == 5
    assert full.history[-1]["loss"] < full.history[0]["loss"]
    assert not list((tmp_path / "b").glob(".*.tmp"))  # atomic writes leave no temp files


def test_resume_with_a_different_config_is_refused(tmp_path):
    loss_fn, p0, data = _noisy_regression()
    fit(loss_fn, p0, data, TrainConfig(epochs=1, seed=1), folder=RunFolder(tmp_path), progress=False)
    with pytest.raises(ValueError, match="cannot resume"):
        fit(
            loss_fn,
            p0,
            data,
            TrainConfig(epochs=2, seed=2),
            folder=RunFolder(tmp_path, resume=True),
            progress=False,
        )


def test_train_config_validation():
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="unknown optimizer"):
        TrainConfig(optimizer="lion")


def _epoch_params(out):
    p0 = _noisy_regression()[1]
    return {e: load_epoch_params(p, p0)[0] for e, p in epoch_checkpoints(out).items()}


def test_save_every_keeps_initial_every_kth_and_last_epoch(tmp_path):
    """save_every=2 over 5 epochs keeps epochs 0, 2, 4, 5; epoch 0 is the initialisation, the
    last the returned params, and each equals the params of a run stopped at that epoch."""
    loss_fn, p0, data = _noisy_regression()
    cfg = lambda e: TrainConfig(epochs=e, batch_size=16, learning_rate=0.05, seed=7)
    res = fit(loss_fn, p0, data, cfg(5), folder=RunFolder(tmp_path / "a", save_every=2), progress=False)
    kept = _epoch_params(tmp_path / "a")
    assert sorted(kept) == [0, 2, 4, 5]
    assert sorted(p.name for p in (tmp_path / "a" / "checkpoints").iterdir()) == [
        "epoch_0000.npz",
        "epoch_0002.npz",
        "epoch_0004.npz",
        "epoch_0005.npz",
    ]
    for a, b in ((kept[0], p0), (kept[5], res.params)):
        for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
            np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    short = fit(loss_fn, p0, data, cfg(2), folder=RunFolder(tmp_path / "b"), progress=False)
    for u, v in zip(jax.tree.leaves(kept[2]), jax.tree.leaves(short.params), strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    assert not list((tmp_path / "a" / "checkpoints").glob(".*.tmp"))  # atomic writes


def test_save_every_survives_resume_and_force_clears_old_epochs(tmp_path):
    """A run interrupted after epoch 3 and resumed to 6 keeps the same files, with the same
    params, as an uninterrupted one; --force (start over) removes the replaced run's epochs."""
    loss_fn, p0, data = _noisy_regression()
    cfg = lambda e: TrainConfig(epochs=e, batch_size=16, learning_rate=0.05, seed=7)
    fit(loss_fn, p0, data, cfg(6), folder=RunFolder(tmp_path / "a", save_every=2), progress=False)
    fit(loss_fn, p0, data, cfg(3), folder=RunFolder(tmp_path / "b", save_every=2), progress=False)
    fit(
        loss_fn, p0, data, cfg(6), folder=RunFolder(tmp_path / "b", resume=True, save_every=2), progress=False
    )
    a, b = _epoch_params(tmp_path / "a"), _epoch_params(tmp_path / "b")
    assert sorted(a) == [0, 2, 4, 6] and sorted(b) == [0, 2, 3, 4, 6]  # 3: the last of the first leg
    for e in a:
        for u, v in zip(jax.tree.leaves(a[e]), jax.tree.leaves(b[e]), strict=True):
            np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    fit(loss_fn, p0, data, cfg(1), folder=RunFolder(tmp_path / "a", force=True), progress=False)
    assert epoch_checkpoints(tmp_path / "a") == {}


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "3"])
def test_save_every_must_be_a_positive_int_with_a_run_folder(tmp_path, bad):
    loss_fn, p0, data = _noisy_regression()
    with pytest.raises((ValueError, TypeError), match="save_every"):
        fit(
            loss_fn,
            p0,
            data,
            TrainConfig(epochs=1),
            folder=RunFolder(tmp_path, save_every=bad),
            progress=False,
        )
    with pytest.raises(ValueError, match="save_every needs out_dir"):
        fit(loss_fn, p0, data, TrainConfig(epochs=1), folder=RunFolder(None, save_every=2), progress=False)
    assert not (tmp_path / "checkpoint.npz").exists()
