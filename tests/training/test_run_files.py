"""Run folders a colleague can open: checkpoints with named arrays (format 2; format 1 still
read and resumed), load_run (network + trained params + method, bit for bit), and following
a run with a progress callback."""

import io
import json
from dataclasses import asdict

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.snn import init_params
from analysis.training import (
    ClassifierRun,
    RunFolder,
    TrainConfig,
    fit,
    load_run,
)
from analysis.training._checkpoints import load_checkpoint
from analysis.training._classifier_network import classifier_method, classifier_network
from analysis.training._optimizers import optimizer


def _net_regression():
    """A stochastic loss on a two-layer linear model with the params tree of an SNN."""
    rng = np.random.default_rng(5)
    x = jnp.asarray(rng.normal(size=(24, 3)), jnp.float32)
    y = x @ jnp.array([1.0, -1.0, 0.5], jnp.float32)

    def loss_fn(params, key, xb, yb):
        h = xb @ params["hidden"][0]["w"] @ params["hidden"][0]["v"]
        err = h @ params["readout"]["w"] - yb + 0.1 * jax.random.normal(key, yb.shape, jnp.float32)
        return jnp.mean(err**2), {}

    params = {
        "hidden": [{"w": jnp.full((3, 2), 0.1, jnp.float32), "v": jnp.eye(2, dtype=jnp.float32)}],
        "readout": {"w": jnp.full((2,), 0.2, jnp.float32)},
    }
    return loss_fn, params, (x, y)


CFG = TrainConfig(epochs=4, batch_size=8, optimizer="adam", learning_rate=0.05, seed=2)


def _npz(path):
    with np.load(path) as z:
        return {k: np.asarray(z[k]) for k in z.files}


def test_checkpoints_store_arrays_under_their_tree_paths(tmp_path):
    loss_fn, p0, data = _net_regression()
    res = fit(loss_fn, p0, data, CFG, folder=RunFolder(tmp_path, save_every=2), progress=False)
    z = _npz(tmp_path / "checkpoint.npz")
    leaves = ["hidden/0/v", "hidden/0/w", "readout/w"]
    want = {"meta", "opt/0/count"} | {f"params/{n}" for n in leaves}
    want |= {f"opt/0/{m}/{n}" for m in ("mu", "nu") for n in leaves}
    assert set(z) == want
    assert z["opt/0/count"].dtype == np.int32 and int(z["opt/0/count"]) == 4 * 3  # 3 batches an epoch
    np.testing.assert_array_equal(z["params/readout/w"], np.asarray(res.params["readout"]["w"]))
    np.testing.assert_array_equal(z["params/hidden/0/v"], np.asarray(res.params["hidden"][0]["v"]))
    meta = json.loads(z["meta"].tobytes().decode())
    assert meta["format_version"] == 2 and len(meta["history"]) == 4
    e4 = _npz(tmp_path / "checkpoints" / "epoch_0004.npz")
    assert set(e4) == {"meta"} | {f"params/{n}" for n in leaves}
    assert json.loads(e4["meta"].tobytes().decode())["format_version"] == 2
    np.testing.assert_array_equal(e4["params/hidden/0/w"], np.asarray(res.params["hidden"][0]["w"]))


def _write_format1(out, params, opt_state, drop_network=False):
    """Rewrite out/checkpoint.npz as format 1 wrote it: leaves p0.. and o0.. in
    jax.tree.leaves order, meta without format_version."""
    z = _npz(out / "checkpoint.npz")
    meta = json.loads(z["meta"].tobytes().decode())
    meta.pop("format_version")
    if drop_network:
        meta["run"].pop("network")
    arrays = {f"p{i}": np.asarray(a) for i, a in enumerate(jax.tree.leaves(params))}
    arrays |= {f"o{i}": np.asarray(a) for i, a in enumerate(jax.tree.leaves(opt_state))}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (out / "checkpoint.npz").write_bytes(buf.getvalue())


def test_a_format1_checkpoint_resumes_bit_for_bit(tmp_path):
    loss_fn, p0, data = _net_regression()
    full = fit(loss_fn, p0, data, CFG, folder=RunFolder(tmp_path / "a"), progress=False)
    half = TrainConfig(**{**asdict(CFG), "epochs": 2})
    fit(loss_fn, p0, data, half, folder=RunFolder(tmp_path / "b"), progress=False)
    opt0 = optimizer(CFG.optimizer, CFG.learning_rate).init(p0)
    params, opt_state, _ = load_checkpoint(tmp_path / "b", p0, opt0, half)
    _write_format1(tmp_path / "b", params, opt_state)
    assert "p0" in _npz(tmp_path / "b" / "checkpoint.npz")
    resumed = fit(loss_fn, p0, data, CFG, folder=RunFolder(tmp_path / "b", resume=True), progress=False)
    for a, b in zip(jax.tree.leaves(full.params), jax.tree.leaves(resumed.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert resumed.history == full.history
    assert "params/readout/w" in _npz(tmp_path / "b" / "checkpoint.npz")  # written in format 2 again
    # a format-1 checkpoint of another structure is still refused
    _write_format1(tmp_path / "b", {"w": np.zeros(3, np.float32)}, opt_state)
    with pytest.raises(ValueError, match="does not match the model/optimiser structure"):
        fit(loss_fn, p0, data, CFG, folder=RunFolder(tmp_path / "b", resume=True), progress=False)


def test_load_run_reads_a_format1_classifier_without_recorded_sizes(tmp_path):
    """A classifier checkpoint as format 1 wrote it (anonymous leaves, no network sizes in the
    record) loads with the sizes read off its dense weights."""
    run = ClassifierRun(hidden=(6,), recurrent=True, epochs=1, dt=2e-3, seed=1)
    cfg = classifier_network(run, 5, 3)
    params = init_params(jax.random.key(0), cfg)
    meta = {
        "config": asdict(run.train_config()),
        "run": {"task": "toy", "method": "stochastic", "n_train": 16, "n_valid": 8, **asdict(run)},
        "run_id": "ab",
        "save_every": None,
        "history": [{"epoch": 1, "loss": 1.5}],
    }
    arrays = {f"p{i}": np.asarray(a) for i, a in enumerate(jax.tree.leaves(params))}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "checkpoint.npz", **arrays)
    got = load_run(tmp_path)
    assert got.config == cfg and got.run_settings == run and got.epoch == 1
    assert got.history == meta["history"] and got.method == classifier_method("stochastic", run)
    for a, b in zip(jax.tree.leaves(got.params), jax.tree.leaves(params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    conv = ClassifierRun(hidden=(2,), connectivity="conv1d", kernel_size=3, epochs=1, seed=1)
    meta["run"] = {"task": "toy", "method": "stochastic", **asdict(conv)}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "checkpoint.npz", **arrays)
    with pytest.raises(ValueError, match="predates recorded network sizes and is a conv1d network"):
        load_run(tmp_path)


def test_progress_callback_gets_every_epochs_row_and_its_exceptions_propagate(tmp_path):
    loss_fn, p0, data = _net_regression()
    rows = []
    res = fit(loss_fn, p0, data, CFG, folder=RunFolder(tmp_path / "a"), progress=rows.append)
    assert rows == res.history and [r["epoch"] for r in rows] == [1, 2, 3, 4]
    rows[0]["loss"] = -1.0  # the callback gets copies
    assert res.history[0]["loss"] != -1.0

    class Stop(Exception):
        pass

    def stop_after_2(row):
        if row["epoch"] == 2:
            raise Stop

    with pytest.raises(Stop):
        fit(loss_fn, p0, data, CFG, folder=RunFolder(tmp_path / "b"), progress=stop_after_2)
    more = fit(loss_fn, p0, data, CFG, folder=RunFolder(tmp_path / "b", resume=True), progress=False)
    assert more.history == res.history  # epoch 2 was saved before the callback stopped the run
    with pytest.raises(TypeError, match="progress must be True, False or a callable"):
        fit(loss_fn, p0, data, CFG, progress="yes")


def test_load_run_errors_are_one_line_naming_the_folder(tmp_path):
    loss_fn, p0, data = _net_regression()
    bare = RunFolder(tmp_path / "bare", run_info={"task": "mine"})
    fit(loss_fn, p0, data, CFG, folder=bare, progress=False)
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    cases = [
        (tmp_path / "nope", r"run folder .*nope does not exist"),
        (tmp_path / "file", r"run folder .*file is a file, not a folder"),
        (tmp_path / "empty", r"run folder .*empty holds no checkpoint\.npz"),
        (tmp_path / "bare", r"bare.checkpoint\.npz holds a run of task 'mine' that load_run cannot rebuild"),
    ]
    for path, match in cases:
        with pytest.raises(ValueError, match=match) as err:
            load_run(path)
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=r"keeps no params of epoch 3 in checkpoints/; kept: none"):
        load_run(tmp_path / "bare", epoch=3)
    (tmp_path / "bare" / "checkpoint.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match=r"checkpoint .*checkpoint\.npz is damaged"):
        load_run(tmp_path / "bare")
    with pytest.raises(TypeError, match="path must be a run folder path"):
        load_run(3)
