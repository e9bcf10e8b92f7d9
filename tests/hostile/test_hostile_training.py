"""Hostile input for the main entry points of :mod:`analysis.snn` and :mod:`analysis.training`.

``BAD``: each call must raise the stated exception with a message naming the argument and
the valid range, before anything is computed. ``EXTREME``: legal but unusual inputs must
give the correct value, checked against a reference computed independently.
"""

from __future__ import annotations

import io
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import analysis.training as training
from analysis.neuron import escape_noise, surrogate
from analysis.snn import LIFParams, SNNConfig, init_params, method, simulate
from analysis.training import (
    RunConfig,
    RunFolder,
    TrainConfig,
    fano_factor,
    firing_rates,
    fit,
    isi_cv,
    van_rossum_distance,
)
from analysis.training._checkpoints import load_checkpoint
from analysis.training._metrics import l2_spike_distance, van_rossum_loss
from analysis.training.tasks import (
    RandmanConfig,
    SHDConfig,
    SpikeTrainConfig,
    load_shd,
    make_randman,
    make_spike_train_task,
)

KEY = jax.random.key(0)
CFG = SNNConfig(n_in=4, hidden=(3,), n_out=2)
X = jnp.zeros((2, 5, 4), jnp.float32)


def _params():
    return init_params(KEY, CFG)


def _loss(p, key, x, y):
    return jnp.mean((p["w"] * x - y) ** 2), {}


P0 = {"w": jnp.ones(3, jnp.float32)}
DATA = (jnp.ones((4, 3), jnp.float32), jnp.zeros((4, 3), jnp.float32))


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _ckpt(tmp, data: bytes):
    (tmp / "checkpoint.npz").write_bytes(data)
    return tmp


def _meta(obj):
    return np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)


def _h5(tmp, **datasets):
    import h5py

    path = tmp / "shd_train.h5"
    with h5py.File(path, "w") as fh:
        for name, value in datasets.items():
            if isinstance(value, list):  # ragged
                dt = h5py.vlen_dtype(np.dtype(value[0].dtype))
                ds = fh.create_dataset(name.replace("__", "/"), (len(value),), dtype=dt)
                for i, v in enumerate(value):
                    ds[i] = v
            else:
                fh[name.replace("__", "/")] = value
    return path


_GOOD_CFG = {"epochs": 2, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.001, "seed": 0}

# (id, call(tmp_path), exception, message regex)
BAD = [
    # --- SNNConfig ---
    ("cfg-n_in-zero", lambda t: SNNConfig(n_in=0), ValueError, r"n_in must be a positive integer, got 0"),
    (
        "cfg-n_in-negative",
        lambda t: SNNConfig(n_in=-4),
        ValueError,
        r"n_in must be a positive integer, got -4",
    ),
    (
        "cfg-n_in-float",
        lambda t: SNNConfig(n_in=2.5),
        ValueError,
        r"n_in must be a positive integer, got 2\.5",
    ),
    (
        "cfg-n_in-nan",
        lambda t: SNNConfig(n_in=float("nan")),
        ValueError,
        r"n_in must be a positive integer, got nan",
    ),
    (
        "cfg-n_in-inf",
        lambda t: SNNConfig(n_in=float("inf")),
        ValueError,
        r"n_in must be a positive integer, got inf",
    ),
    ("cfg-n_in-str", lambda t: SNNConfig(n_in="4"), ValueError, r"n_in must be a positive integer, got '4'"),
    (
        "cfg-n_in-bool",
        lambda t: SNNConfig(n_in=True),
        ValueError,
        r"n_in must be a positive integer, got True",
    ),
    ("cfg-n_out-zero", lambda t: SNNConfig(n_in=4, n_out=0), ValueError, r"n_out must be a positive integer"),
    (
        "cfg-hidden-zero",
        lambda t: SNNConfig(n_in=4, hidden=(0,)),
        ValueError,
        r"hidden sizes must be a positive integer, got 0",
    ),
    (
        "cfg-hidden-negative",
        lambda t: SNNConfig(n_in=4, hidden=(8, -2)),
        ValueError,
        r"hidden sizes must be a positive integer, got -2",
    ),
    (
        "cfg-hidden-float",
        lambda t: SNNConfig(n_in=4, hidden=(7.5,)),
        ValueError,
        r"hidden sizes must be a positive integer, got 7\.5",
    ),
    (
        "cfg-hidden-int",
        lambda t: SNNConfig(n_in=4, hidden=16),
        TypeError,
        r"hidden must be a tuple of layer sizes, got 16",
    ),
    (
        "cfg-hidden-str",
        lambda t: SNNConfig(n_in=4, hidden="16"),
        TypeError,
        r"hidden must be a tuple of layer sizes, got '16'",
    ),
    (
        "cfg-in_channels-zero",
        lambda t: SNNConfig(n_in=4, in_channels=0),
        ValueError,
        r"in_channels must be a positive integer",
    ),
    (
        "cfg-connectivity",
        lambda t: SNNConfig(n_in=4, connectivity="conv2d"),
        ValueError,
        r"unknown connectivity 'conv2d'; valid: dense, conv1d",
    ),
    (
        "cfg-readout",
        lambda t: SNNConfig(n_in=4, readout="softmax"),
        ValueError,
        r"unknown readout 'softmax'; valid: integrator, lif",
    ),
    (
        "cfg-conv-kernel-too-big",
        lambda t: SNNConfig(n_in=5, hidden=(2,), connectivity="conv1d", kernel_size=7),
        ValueError,
        r"kernel 7 does not fit input length 5",
    ),
    (
        "cfg-conv-second-layer-empty",
        lambda t: SNNConfig(n_in=8, hidden=(2, 2), connectivity="conv1d", kernel_size=(5, 5)),
        ValueError,
        r"kernel 5 does not fit input length 4",
    ),
    (
        "cfg-conv-channels",
        lambda t: SNNConfig(n_in=10, hidden=(2,), connectivity="conv1d", in_channels=3, kernel_size=1),
        ValueError,
        r"n_in=10 is not divisible by in_channels=3",
    ),
    (
        "cfg-conv-stride-zero",
        lambda t: SNNConfig(n_in=8, hidden=(2,), connectivity="conv1d", stride=0),
        ValueError,
        r"stride must be a positive integer, got 0",
    ),
    (
        "cfg-conv-kernel-zero",
        lambda t: SNNConfig(n_in=8, hidden=(2,), connectivity="conv1d", kernel_size=0),
        ValueError,
        r"kernel_size must be a positive integer, got 0",
    ),
    (
        "cfg-kernel-count",
        lambda t: SNNConfig(n_in=8, hidden=(2,), kernel_size=(3, 3)),
        ValueError,
        r"kernel_size must be an int or 1 positive ints",
    ),
    (
        "cfg-conv-event",
        lambda t: SNNConfig(n_in=8, hidden=(2,), connectivity="conv1d", kernel_size=3, event_driven=True),
        ValueError,
        r"event_driven is implemented for connectivity='dense' only",
    ),
    (
        "cfg-checkpoint-block",
        lambda t: SNNConfig(n_in=4, checkpoint_block=-1),
        ValueError,
        r"checkpoint_block and max_active must be >= 0",
    ),
    (
        "cfg-max-active",
        lambda t: SNNConfig(n_in=4, max_active=-5),
        ValueError,
        r"checkpoint_block and max_active must be >= 0",
    ),
    (
        "cfg-lif-type",
        lambda t: SNNConfig(n_in=4, lif="fast"),
        TypeError,
        r"lif must be a LIFParams, got 'fast'",
    ),
    (
        "cfg-readout-lif-type",
        lambda t: SNNConfig(n_in=4, readout_lif=3),
        TypeError,
        r"readout_lif must be a LIFParams or None, got 3",
    ),
    (
        "lif-tau-mem-zero",
        lambda t: LIFParams(tau_mem=0.0),
        ValueError,
        r"tau_mem must be a finite number > 0, got 0",
    ),
    (
        "lif-tau-syn-negative",
        lambda t: LIFParams(tau_syn=-5e-3),
        ValueError,
        r"tau_syn must be a finite number > 0",
    ),
    (
        "lif-dt-nan",
        lambda t: LIFParams(dt=float("nan")),
        ValueError,
        r"dt must be a finite number > 0, got nan",
    ),
    (
        "lif-theta-inf",
        lambda t: LIFParams(theta=float("inf")),
        ValueError,
        r"theta must be a finite number > 0, got inf",
    ),
    (
        "lif-reset",
        lambda t: LIFParams(reset="soft"),
        ValueError,
        r"unknown reset 'soft'; valid: detached, differentiable",
    ),
    # --- init_params ---
    ("init-key-int", lambda t: init_params(0, CFG), TypeError, r"key must be a JAX PRNG key"),
    ("init-cfg-type", lambda t: init_params(KEY, {"n_in": 4}), TypeError, r"cfg must be an SNNConfig"),
    (
        "init-nu-zero",
        lambda t: init_params(KEY, CFG, nu=0.0),
        ValueError,
        r"nu must be a finite number > 0, got 0",
    ),
    (
        "init-nu-nan",
        lambda t: init_params(KEY, CFG, nu=float("nan")),
        ValueError,
        r"nu must be a finite number > 0, got nan",
    ),
    (
        "init-sigma-negative",
        lambda t: init_params(KEY, CFG, sigma_u=-1.0),
        ValueError,
        r"sigma_u must be a finite number > 0",
    ),
    (
        "init-nu-hidden-inf",
        lambda t: init_params(KEY, SNNConfig(n_in=4, hidden=(3, 3)), nu_hidden=float("inf")),
        ValueError,
        r"nu_hidden must be a finite number > 0, got inf",
    ),
    (
        "init-recurrent-fraction-one",
        lambda t: init_params(KEY, CFG, recurrent_fraction=1.0),
        ValueError,
        r"recurrent_fraction must lie in \[0, 1\), got 1\.0",
    ),
    (
        "init-recurrent-fraction-nan",
        lambda t: init_params(KEY, CFG, recurrent_fraction=float("nan")),
        ValueError,
        r"recurrent_fraction must lie in \[0, 1\), got nan",
    ),
    (
        "init-dtype-int",
        lambda t: init_params(KEY, CFG, dtype=jnp.int32),
        ValueError,
        r"dtype must be a floating-point dtype, got int32",
    ),
    # --- simulate ---
    (
        "sim-inputs-2d",
        lambda t: simulate(_params(), X[0], CFG, method()),
        ValueError,
        r"inputs must have shape \[batch, time, n_in=4\], got \(5, 4\)",
    ),
    (
        "sim-inputs-n_in",
        lambda t: simulate(_params(), jnp.zeros((2, 5, 3)), CFG, method()),
        ValueError,
        r"n_in=4\], got \(2, 5, 3\)",
    ),
    (
        "sim-inputs-list",
        lambda t: simulate(_params(), [[[0.0] * 4]], CFG, method()),
        ValueError,
        r"inputs must have shape \[batch, time, n_in=4\], got None",
    ),
    (
        "sim-inputs-nan",
        lambda t: simulate(_params(), X.at[0, 1, 2].set(jnp.nan), CFG, method()),
        ValueError,
        r"inputs contains NaN",
    ),
    (
        "sim-inputs-inf",
        lambda t: simulate(_params(), X.at[1, 0, 0].set(jnp.inf), CFG, method()),
        ValueError,
        r"inputs must be finite",
    ),
    (
        "sim-inputs-complex",
        lambda t: simulate(_params(), np.zeros((2, 5, 4), complex), CFG, method()),
        TypeError,
        r"inputs must be real numbers \(float, int or bool\), got complex128",
    ),
    (
        "sim-inputs-str",
        lambda t: simulate(_params(), np.full((2, 5, 4), "a"), CFG, method()),
        TypeError,
        r"inputs must be real numbers .*got <U1",
    ),
    (
        "sim-no-key",
        lambda t: simulate(_params(), X, CFG, method("stochastic")),
        ValueError,
        r"method 'stochastic' samples spikes: pass a PRNG key",
    ),
    (
        "sim-key-int",
        lambda t: simulate(_params(), X, CFG, method("multilayer_spiker"), key=3),
        TypeError,
        r"key must be a JAX PRNG key",
    ),
    (
        "sim-params-shape",
        lambda t: simulate(init_params(KEY, SNNConfig(n_in=4, hidden=(5,), n_out=2)), X, CFG, method()),
        ValueError,
        r"params do not match cfg",
    ),
    ("sim-params-list", lambda t: simulate([1, 2], X, CFG, method()), ValueError, r"params do not match cfg"),
    (
        "sim-params-nan",
        lambda t: simulate(jax.tree.map(lambda a: a * jnp.nan, _params()), X, CFG, method()),
        ValueError,
        r"params contains NaN",
    ),
    (
        "sim-empty-batch",
        lambda t: simulate(_params(), jnp.zeros((0, 5, 4)), CFG, method()),
        ValueError,
        r"inputs need at least one sample and one time bin, got shape \(0, 5, 4\)",
    ),
    (
        "sim-empty-time",
        lambda t: simulate(_params(), jnp.zeros((2, 0, 4)), CFG, method()),
        ValueError,
        r"inputs need at least one sample and one time bin, got shape \(2, 0, 4\)",
    ),
    (
        "sim-record",
        lambda t: simulate(_params(), X, CFG, method(), record="voltages"),
        ValueError,
        r"unknown record 'voltages'; valid: output, spikes, all",
    ),
    (
        "sim-method-str",
        lambda t: simulate(_params(), X, CFG, "stochastic"),
        TypeError,
        r"method must be a Method",
    ),
    (
        "sim-cfg-type",
        lambda t: simulate(_params(), X, None, method()),
        TypeError,
        r"cfg must be an SNNConfig, got NoneType",
    ),
    # --- method ---
    (
        "method-unknown",
        lambda t: method("eprop"),
        ValueError,
        r"unknown method 'eprop'; valid names: deterministic, stochastic, multilayer_spiker",
    ),
    (
        "method-noise-str",
        lambda t: method("stochastic", hidden_noise="sigmoid"),
        TypeError,
        r"hidden_noise must be an EscapeNoise",
    ),
    (
        "method-surrogate-num",
        lambda t: method("stochastic", surrogate=3.0),
        TypeError,
        r"surrogate must be a Surrogate or None",
    ),
    (
        "method-output-noise-surrogate",
        lambda t: method("stochastic", output_noise=surrogate("superspike", 5.0)),
        TypeError,
        r"output_noise must be an EscapeNoise",
    ),
    (
        "method-kwarg",
        lambda t: method("stochastic", beta=3),
        TypeError,
        r"unexpected keyword argument 'beta'",
    ),
    # --- TrainConfig ---
    (
        "tc-epochs-zero",
        lambda t: TrainConfig(epochs=0),
        ValueError,
        r"epochs must be a positive integer, got 0",
    ),
    (
        "tc-epochs-float",
        lambda t: TrainConfig(epochs=2.5),
        ValueError,
        r"epochs must be a positive integer, got 2\.5",
    ),
    (
        "tc-epochs-nan",
        lambda t: TrainConfig(epochs=float("nan")),
        ValueError,
        r"epochs must be a positive integer, got nan",
    ),
    (
        "tc-epochs-inf",
        lambda t: TrainConfig(epochs=float("inf")),
        ValueError,
        r"epochs must be a positive integer, got inf",
    ),
    (
        "tc-epochs-str",
        lambda t: TrainConfig(epochs="10"),
        ValueError,
        r"epochs must be a positive integer, got '10'",
    ),
    (
        "tc-batch-zero",
        lambda t: TrainConfig(batch_size=0),
        ValueError,
        r"batch_size must be a positive integer, got 0",
    ),
    (
        "tc-batch-negative",
        lambda t: TrainConfig(batch_size=-32),
        ValueError,
        r"batch_size must be a positive integer",
    ),
    (
        "tc-lr-zero",
        lambda t: TrainConfig(learning_rate=0.0),
        ValueError,
        r"learning_rate must be a finite number > 0",
    ),
    (
        "tc-lr-nan",
        lambda t: TrainConfig(learning_rate=float("nan")),
        ValueError,
        r"learning_rate must be a finite number > 0, got nan",
    ),
    (
        "tc-lr-inf",
        lambda t: TrainConfig(learning_rate=float("inf")),
        ValueError,
        r"learning_rate must be a finite number > 0, got inf",
    ),
    (
        "tc-lr-str",
        lambda t: TrainConfig(learning_rate="fast"),
        TypeError,
        r"learning_rate must be a positive number, got 'fast'",
    ),
    (
        "tc-optimizer",
        lambda t: TrainConfig(optimizer="rmsprop"),
        ValueError,
        r"unknown optimizer 'rmsprop'; valid names: adam, smorms3, sgd",
    ),
    (
        "tc-seed-negative",
        lambda t: TrainConfig(seed=-1),
        ValueError,
        r"seed must be an integer in \[0, 2\*\*32\), got -1",
    ),
    (
        "tc-seed-float",
        lambda t: TrainConfig(seed=0.5),
        ValueError,
        r"seed must be an integer in \[0, 2\*\*32\), got 0\.5",
    ),
    (
        "tc-seed-huge",
        lambda t: TrainConfig(seed=2**32),
        ValueError,
        r"seed must be an integer in \[0, 2\*\*32\)",
    ),
    # --- fit ---
    (
        "fit-loss-not-callable",
        lambda t: fit(3, P0, DATA, TrainConfig()),
        TypeError,
        r"loss_fn must be callable",
    ),
    ("fit-cfg-type", lambda t: fit(_loss, P0, DATA, {"epochs": 1}), TypeError, r"cfg must be a TrainConfig"),
    (
        "fit-data-single",
        lambda t: fit(_loss, P0, DATA[0], TrainConfig()),
        ValueError,
        r"data must be a pair \(x, y\)",
    ),
    (
        "fit-data-lengths",
        lambda t: fit(_loss, P0, (DATA[0], DATA[1][:3]), TrainConfig()),
        ValueError,
        r"x and y must have the same number of samples, got 4 and 3",
    ),
    (
        "fit-data-empty",
        lambda t: fit(_loss, P0, (DATA[0][:0], DATA[1][:0]), TrainConfig()),
        ValueError,
        r"data holds no samples",
    ),
    (
        "fit-evaluate",
        lambda t: fit(_loss, P0, DATA, TrainConfig(), evaluate="acc"),
        TypeError,
        r"evaluate must be callable or None",
    ),
    (
        "fit-resume-no-out",
        lambda t: fit(_loss, P0, DATA, TrainConfig(), folder=RunFolder(None, resume=True)),
        ValueError,
        r"resume=True needs out_dir",
    ),
    (
        "fit-resume-no-ckpt",
        lambda t: fit(_loss, P0, DATA, TrainConfig(), folder=RunFolder(t, resume=True)),
        FileNotFoundError,
        r"no checkpoint .*checkpoint\.npz to resume from",
    ),
    (
        "fit-resume-and-force",
        lambda t: fit(_loss, P0, DATA, TrainConfig(), folder=RunFolder(t, resume=True, force=True)),
        ValueError,
        r"resume and force exclude each other",
    ),
    (
        "fit-existing-run",
        lambda t: fit(
            _loss, P0, DATA, TrainConfig(), folder=RunFolder((t / "metrics.jsonl").write_text("") * 0 or t)
        ),
        ValueError,
        r"already holds a run \(metrics\.jsonl\)",
    ),
    (
        "fit-out-file",
        lambda t: fit(
            _loss, P0, DATA, TrainConfig(), folder=RunFolder((t / "f").write_text("x") * 0 or t / "f")
        ),
        ValueError,
        r"out_dir: .*f is a file, not a folder",
    ),
    (
        "fit-out-unwritable",
        lambda t: fit(_loss, P0, DATA, TrainConfig(), folder=RunFolder("/proc/sgtheory/run")),
        ValueError,
        r"out_dir: cannot create",
    ),
    # --- load_checkpoint ---
    (
        "ckpt-missing",
        lambda t: load_checkpoint(t, P0, None, TrainConfig()),
        FileNotFoundError,
        r"no checkpoint .*checkpoint\.npz",
    ),
    (
        "ckpt-empty",
        lambda t: load_checkpoint(_ckpt(t, b""), P0, None, TrainConfig()),
        ValueError,
        r"checkpoint\.npz is damaged \(empty file\)",
    ),
    (
        "ckpt-truncated",
        lambda t: load_checkpoint(_ckpt(t, _npz(a=np.zeros(100))[:200]), P0, None, TrainConfig()),
        ValueError,
        r"checkpoint\.npz is damaged",
    ),
    (
        "ckpt-random",
        lambda t: load_checkpoint(_ckpt(t, bytes(range(256)) * 3), P0, None, TrainConfig()),
        ValueError,
        r"checkpoint\.npz is damaged \(not an \.npz \(zip\) archive: unrecognised bytes\)",
    ),
    (
        "ckpt-npy-not-npz",
        lambda t: load_checkpoint(
            _ckpt(t, (lambda b: (np.save(b, np.zeros(3)), b.getvalue())[1])(io.BytesIO())),
            P0,
            None,
            TrainConfig(),
        ),
        ValueError,
        r"checkpoint\.npz is damaged",
    ),
    (
        "ckpt-no-meta",
        lambda t: load_checkpoint(_ckpt(t, _npz(p0=np.zeros(3))), P0, None, TrainConfig()),
        ValueError,
        r"damaged \(no 'meta' entry",
    ),
    (
        "ckpt-bad-json",
        lambda t: load_checkpoint(
            _ckpt(t, _npz(meta=np.frombuffer(b"\xff\xfe", np.uint8))), P0, None, TrainConfig()
        ),
        ValueError,
        r"damaged \(meta is not .*JSON",
    ),
    (
        "ckpt-meta-list",
        lambda t: load_checkpoint(_ckpt(t, _npz(meta=_meta([1, 2]))), P0, None, TrainConfig()),
        ValueError,
        r"damaged \(meta lacks",
    ),
    (
        "ckpt-other-config",
        lambda t: load_checkpoint(
            _ckpt(t, _npz(meta=_meta({"config": {**_GOOD_CFG, "seed": 5}, "run": {}, "history": []}))),
            P0,
            None,
            TrainConfig(),
        ),
        ValueError,
        r"written with config .* cannot resume",
    ),
    (
        "ckpt-structure",
        lambda t: load_checkpoint(
            _ckpt(t, _npz(meta=_meta({"config": _GOOD_CFG, "run": {}, "history": []}))),
            P0,
            None,
            TrainConfig(epochs=2),
        ),
        ValueError,
        r"checkpoint does not match the model/optimiser structure",
    ),
    (
        "ckpt-shape",
        lambda t: load_checkpoint(
            _ckpt(t, _npz(p0=np.zeros(5), meta=_meta({"config": _GOOD_CFG, "run": {}, "history": []}))),
            P0,
            None,
            TrainConfig(epochs=2),
        ),
        ValueError,
        r"checkpointed array has shape \(5,\) but model array has shape \(3,\)",
    ),
    (
        "ckpt-is-folder",
        lambda t: load_checkpoint(((t / "checkpoint.npz").mkdir(), t)[1], P0, None, TrainConfig()),
        ValueError,
        r"checkpoint\.npz is a folder",
    ),
    # --- run_experiment ---
    (
        "exp-task",
        lambda t: training.run_experiment(RunConfig("mnist", "stochastic")),
        ValueError,
        r"unknown task 'mnist'; valid: spike-train, randman, shd",
    ),
    (
        "exp-method",
        lambda t: training.run_experiment(RunConfig("randman", "bptt")),
        ValueError,
        r"unknown method 'bptt'; valid: deterministic",
    ),
    (
        "exp-profile",
        lambda t: training.run_experiment(RunConfig("randman", "stochastic", "huge")),
        ValueError,
        r"unknown profile 'huge'; valid: quick, full",
    ),
    (
        "exp-epochs",
        lambda t: training.run_experiment(RunConfig("randman", "stochastic", epochs=-1)),
        ValueError,
        r"epochs must be a positive integer, got -1",
    ),
    (
        "exp-lr",
        lambda t: training.run_experiment(RunConfig("spike-train", "stochastic", learning_rate=float("nan"))),
        ValueError,
        r"learning_rate must be a finite number > 0, got nan",
    ),
    (
        "exp-optimizer",
        lambda t: training.run_experiment(RunConfig("shd", "stochastic", optimizer="lion")),
        ValueError,
        r"unknown optimizer 'lion'",
    ),
    (
        "exp-seed",
        lambda t: training.run_experiment(RunConfig("randman", "deterministic", seed=-2)),
        ValueError,
        r"seed must be an integer in \[0, 2\*\*32\), got -2",
    ),
    (
        "exp-image-randman",
        lambda t: training.run_experiment(RunConfig("randman", "stochastic", image="x.png")),
        ValueError,
        r"image is used by the spike-train task only",
    ),
    (
        "exp-out-file",
        lambda t: training.run_experiment(
            RunConfig("randman", "stochastic"), RunFolder((t / "f").write_text("x") * 0 or t / "f")
        ),
        ValueError,
        r"out_dir: .* is a file, not a folder",
    ),
    (
        "exp-resume-missing",
        lambda t: training.run_experiment(
            RunConfig("randman", "stochastic"), RunFolder(t / "none", resume=True)
        ),
        FileNotFoundError,
        r"no checkpoint .*to resume from",
    ),
    # --- tasks ---
    (
        "st-key-int",
        lambda t: make_spike_train_task(0, SpikeTrainConfig(n_inputs=5, n_neurons=5, n_steps=5)),
        TypeError,
        r"key must be a JAX PRNG key",
    ),
    (
        "st-n_inputs-zero",
        lambda t: make_spike_train_task(KEY, SpikeTrainConfig(n_inputs=0, n_neurons=5, n_steps=5)),
        ValueError,
        r"n_inputs must be a positive integer, got 0",
    ),
    (
        "st-n_neurons-negative",
        lambda t: make_spike_train_task(KEY, SpikeTrainConfig(n_neurons=-5, n_steps=5)),
        ValueError,
        r"n_neurons must be a positive integer, got -5",
    ),
    (
        "st-n_steps-float",
        lambda t: make_spike_train_task(KEY, SpikeTrainConfig(n_neurons=5, n_steps=4.5)),
        ValueError,
        r"n_steps must be a positive integer, got 4\.5",
    ),
    (
        "st-rate-zero",
        lambda t: make_spike_train_task(
            KEY, SpikeTrainConfig(n_inputs=5, n_neurons=5, n_steps=5, rate_hz=0.0)
        ),
        ValueError,
        r"rate_hz must be a finite number > 0",
    ),
    (
        "st-rate-too-high",
        lambda t: make_spike_train_task(
            KEY, SpikeTrainConfig(n_inputs=5, n_neurons=5, n_steps=5, rate_hz=2000.0)
        ),
        ValueError,
        r"rate_hz \* dt must lie in \[0, 1\]",
    ),
    (
        "st-dt-nan",
        lambda t: make_spike_train_task(
            KEY, SpikeTrainConfig(n_inputs=5, n_neurons=5, n_steps=5, dt=float("nan"))
        ),
        ValueError,
        r"dt must be a finite number > 0, got nan",
    ),
    (
        "st-spike-on",
        lambda t: make_spike_train_task(KEY, SpikeTrainConfig(n_neurons=5, n_steps=5, spike_on="grey")),
        ValueError,
        r"spike_on must be 'dark' or 'light', got 'grey'",
    ),
    (
        "st-image-missing",
        lambda t: make_spike_train_task(KEY, SpikeTrainConfig(t / "cat.png", n_neurons=5, n_steps=5)),
        FileNotFoundError,
        r"image .*cat\.png.* does not exist",
    ),
    (
        "st-image-text",
        lambda t: make_spike_train_task(
            KEY, SpikeTrainConfig((t / "a.png").write_text("hi") * 0 or t / "a.png", n_neurons=5, n_steps=5)
        ),
        ValueError,
        r"cannot be read as an image",
    ),
    (
        "rm-classes-zero",
        lambda t: RandmanConfig(n_classes=0),
        ValueError,
        r"n_classes must be a positive integer, got 0",
    ),
    ("rm-dim-negative", lambda t: RandmanConfig(dim=-1), ValueError, r"dim must be a positive integer"),
    (
        "rm-units-nan",
        lambda t: RandmanConfig(n_units=float("nan")),
        ValueError,
        r"n_units must be a positive integer, got nan",
    ),
    ("rm-alpha-zero", lambda t: RandmanConfig(alpha=0.0), ValueError, r"alpha must be a finite number > 0"),
    (
        "rm-step-frac-zero",
        lambda t: RandmanConfig(step_frac=0.0),
        ValueError,
        r"step_frac must lie in \(0, 1\], got 0\.0",
    ),
    (
        "rm-step-frac-big",
        lambda t: RandmanConfig(step_frac=1.5),
        ValueError,
        r"step_frac must lie in \(0, 1\], got 1\.5",
    ),
    (
        "rm-step-frac-nan",
        lambda t: RandmanConfig(step_frac=float("nan")),
        ValueError,
        r"step_frac must lie in \(0, 1\], got nan",
    ),
    ("rm-cfg-type", lambda t: make_randman(KEY, {"n_classes": 2}), TypeError, r"cfg must be a RandmanConfig"),
    (
        "rm-key-int",
        lambda t: make_randman(1, RandmanConfig(n_classes=2, n_units=3, n_steps=5, n_samples=2)),
        TypeError,
        r"key must be a JAX PRNG key",
    ),
    (
        "rm-n_samples-zero",
        lambda t: make_randman(KEY, RandmanConfig(n_classes=2), n_samples=0),
        ValueError,
        r"n_samples must be a positive integer, got 0",
    ),
    (
        "shd-missing",
        lambda t: load_shd(t / "nothing"),
        FileNotFoundError,
        r"SHD file .* not found\. Download",
    ),
    ("shd-folder-empty", lambda t: load_shd(t), FileNotFoundError, r"shd_train\.h5.* not found"),
    (
        "shd-split",
        lambda t: load_shd(t, "valid"),
        ValueError,
        r"split must be 'train' or 'test', got 'valid'",
    ),
    (
        "shd-garbage",
        lambda t: load_shd(((t / "shd_train.h5").write_bytes(b"x" * 100), t)[1]),
        ValueError,
        r"is not a readable HDF5 file",
    ),
    (
        "shd-layout",
        lambda t: load_shd(_h5(t, labels=np.zeros(2, np.int32))),
        ValueError,
        r"lacks the SHD datasets \['spikes/times', 'spikes/units'\]",
    ),
    (
        "shd-lengths",
        lambda t: load_shd(
            _h5(
                t,
                labels=np.zeros(3, np.int32),
                spikes__times=[np.zeros(1)] * 2,
                spikes__units=[np.zeros(1, np.int32)] * 2,
            )
        ),
        ValueError,
        r"inconsistent lengths \(2, 2, 3\)",
    ),
    (
        "shd-units-range",
        lambda t: load_shd(
            _h5(
                t,
                labels=np.zeros(1, np.int32),
                spikes__times=[np.array([0.01])],
                spikes__units=[np.array([900], np.int32)],
            )
        ),
        ValueError,
        r"unit indices must lie in \[0, 700\), got \[900, 900\]",
    ),
    (
        "shd-times-nan",
        lambda t: load_shd(
            _h5(
                t,
                labels=np.zeros(1, np.int32),
                spikes__times=[np.array([np.nan])],
                spikes__units=[np.array([3], np.int32)],
            )
        ),
        ValueError,
        r"spike times .* NaN",
    ),
    (
        "shd-n_steps",
        lambda t: load_shd(t, cfg=SHDConfig(n_steps=0)),
        ValueError,
        r"n_steps must be a positive integer, got 0",
    ),
    ("shd-dt", lambda t: load_shd(t, cfg=SHDConfig(dt=-2e-3)), ValueError, r"dt must be a finite number > 0"),
    (
        "shd-max-samples",
        lambda t: load_shd(
            _h5(
                t,
                labels=np.zeros(1, np.int32),
                spikes__times=[np.zeros(1)],
                spikes__units=[np.zeros(1, np.int32)],
            ),
            max_samples=0,
        ),
        ValueError,
        r"max_samples must be a positive integer, got 0",
    ),
    # --- metrics ---
    (
        "vr-shape",
        lambda t: van_rossum_distance(np.zeros((5, 3)), np.zeros((5, 4))),
        ValueError,
        r"a has shape \(5, 3\) but b has shape \(5, 4\)",
    ),
    (
        "vr-1d",
        lambda t: van_rossum_distance(np.zeros(5), np.zeros(5)),
        ValueError,
        r"spike trains must have shape \[\.\.\., T, N\], got \(5,\)",
    ),
    (
        "vr-tau-zero",
        lambda t: van_rossum_distance(np.zeros((5, 3)), np.zeros((5, 3)), tau=0.0),
        ValueError,
        r"tau must be a finite number > 0, got 0",
    ),
    (
        "vr-tau-negative",
        lambda t: van_rossum_loss(np.zeros((5, 3)), np.zeros((5, 3)), tau=-10.0),
        ValueError,
        r"tau must be a finite number > 0",
    ),
    (
        "vr-tau-nan",
        lambda t: van_rossum_loss(np.zeros((5, 3)), np.zeros((5, 3)), tau=float("nan")),
        ValueError,
        r"tau must be a finite number > 0, got nan",
    ),
    (
        "vr-dt-zero",
        lambda t: van_rossum_distance(np.zeros((5, 3)), np.zeros((5, 3)), dt=0.0),
        ValueError,
        r"dt must be a finite number > 0",
    ),
    (
        "vr-empty-time",
        lambda t: van_rossum_distance(np.zeros((0, 3)), np.zeros((0, 3))),
        ValueError,
        r"spike trains need at least one time bin",
    ),
    (
        "l2-shape",
        lambda t: l2_spike_distance(np.zeros((2, 5, 3)), np.zeros((5, 3))),
        ValueError,
        r"a has shape \(2, 5, 3\) but b has shape \(5, 3\)",
    ),
    (
        "rates-dt",
        lambda t: firing_rates(np.zeros((5, 3)), dt=-1e-3),
        ValueError,
        r"dt must be a finite number > 0",
    ),
    (
        "rates-empty-time",
        lambda t: firing_rates(np.zeros((0, 3))),
        ValueError,
        r"spikes need at least one time bin",
    ),
    (
        "rates-1d",
        lambda t: firing_rates(np.zeros(5)),
        ValueError,
        r"spikes must have shape \[\.\.\., T, N\], got \(5,\)",
    ),
    (
        "fano-one-trial",
        lambda t: fano_factor(np.zeros((1, 5, 3))),
        ValueError,
        r"fano_factor needs >= 2 trials on axis 0",
    ),
    (
        "isi-3d",
        lambda t: isi_cv(np.zeros((2, 5, 3))),
        ValueError,
        r"spikes must have shape \[T, N\], got \(2, 5, 3\)",
    ),
]


def _vr_reference(t_spike: int, n_bins: int, tau: float) -> float:
    """D for one spike at bin t_spike against an empty train: (1/tau) sum_{k>=0} lam^(2k)."""
    lam = math.exp(-1.0 / tau)
    return math.sqrt(sum(lam ** (2 * k) for k in range(n_bins - t_spike)) / tau)


def _single_spike(t, n, neuron=0, n_neurons=2):
    a = np.zeros((n, n_neurons))
    a[t, neuron] = 1.0
    return a


# (id, value(tmp_path), reference(tmp_path))
EXTREME = [
    ("vr-identical", lambda t: float(van_rossum_distance(np.ones((7, 3)), np.ones((7, 3)))), lambda t: 0.0),
    (
        "vr-one-spike",
        lambda t: float(van_rossum_distance(_single_spike(2, 9), np.zeros((9, 2)), tau=3.0)),
        lambda t: _vr_reference(2, 9, 3.0),
    ),
    (
        "vr-one-bin",
        lambda t: float(van_rossum_distance(_single_spike(0, 1), np.zeros((1, 2)), tau=5.0)),
        lambda t: math.sqrt(1 / 5.0),
    ),
    (
        "vr-huge-tau",
        lambda t: float(van_rossum_loss(_single_spike(0, 4), np.zeros((4, 2)), tau=1e12)),
        lambda t: 4 / 1e12,
    ),
    (
        "vr-tiny-tau",
        lambda t: float(van_rossum_loss(_single_spike(1, 4), np.zeros((4, 2)), tau=1e-3)),
        lambda t: 1 / 1e-3,
    ),
    (
        "l2-all-differ",
        lambda t: float(l2_spike_distance(np.ones((6, 5)), np.zeros((6, 5)))),
        lambda t: math.sqrt(30),
    ),
    (
        "rates-single-bin",
        lambda t: np.asarray(firing_rates(np.ones((1, 2)), dt=1e-3)),
        lambda t: np.array([1000.0, 1000.0]),
    ),
    (
        "fano-silent-neuron",
        lambda t: np.asarray(fano_factor(np.stack([_single_spike(0, 3), np.zeros((3, 2))]))),
        lambda t: np.array([1.0, np.nan]),
    ),
    (
        "isi-cv-regular",
        lambda t: isi_cv(np.tile(np.array([[1.0], [0.0]]), (5, 1))),
        lambda t: np.array([0.0]),
    ),
    ("cfg-no-hidden", lambda t: SNNConfig(n_in=3, hidden=(), n_out=2).layer_sizes, lambda t: ()),
    (
        "cfg-conv-exact-fit",
        lambda t: SNNConfig(n_in=6, hidden=(2,), connectivity="conv1d", kernel_size=6).layer_sizes,
        lambda t: (2,),
    ),
    (
        "sim-zero-inputs-silent",
        lambda t: np.asarray(simulate(_params(), X, CFG, method(), record="all").output),
        lambda t: np.zeros((2, 5, 2)),
    ),
    (
        "sim-bool-inputs",
        lambda t: np.asarray(simulate(_params(), np.zeros((2, 5, 4), bool), CFG, method()).output),
        lambda t: np.zeros((2, 5, 2)),
    ),
    (
        "randman-one-class-one-sample",
        lambda t: tuple(
            x.shape for x in make_randman(KEY, RandmanConfig(n_classes=1, n_units=2, n_steps=3, n_samples=1))
        ),
        lambda t: ((1, 3, 2), (1,)),
    ),
    ("tc-lr-huge", lambda t: TrainConfig(learning_rate=1e30).learning_rate, lambda t: 1e30),
    ("tc-seed-max", lambda t: TrainConfig(seed=2**32 - 1).seed, lambda t: 2**32 - 1),
    (
        "method-noise-steep",
        lambda t: method("stochastic", hidden_noise=escape_noise("sigmoid", 1e6)).hidden_noise.beta,
        lambda t: 1e6,
    ),
]


@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_is_refused(call, exc, pattern, tmp_path):
    with pytest.raises(exc, match=pattern):
        call(tmp_path)


@pytest.mark.parametrize("value, reference", [c[1:] for c in EXTREME], ids=[c[0] for c in EXTREME])
def test_extreme_legal_input_gives_the_right_value(value, reference, tmp_path):
    got, want = value(tmp_path), reference(tmp_path)
    if isinstance(want, np.ndarray):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-12)
    else:
        assert got == want


def test_battery_size():
    assert len(BAD) + len(EXTREME) >= 110
    assert len({c[0] for c in BAD + EXTREME}) == len(BAD) + len(EXTREME)


def test_resume_refused_fit_writes_nothing(tmp_path):
    """A refused fit leaves an existing run untouched (nothing lost)."""
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1}\n')
    with pytest.raises(ValueError, match="already holds a run"):
        fit(_loss, P0, DATA, TrainConfig(epochs=1), folder=RunFolder(tmp_path), progress=False)
    assert (tmp_path / "metrics.jsonl").read_text() == '{"epoch": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.jsonl"]
