"""Figure 7: classification with deterministic and stochastic SG (Gygax & Zenke 2025, Fig. 7).

randman as Zenke & Vogels (2021) define it, one data set (key :data:`DATA_SEED`) split
0.8 / 0.1 / 0.1 (``randman_preset``); every method trained from each seed of the profile.
A: accuracy vs epoch, training (running, dashed) and validation (solid), each network in
its own mode, mean +- SD over seeds, chance level dotted. B: test accuracy with the
training activation and with the other one swapped in (bars: mean over seeds, error bars:
SD, dots: seeds). C, D: firing rate and trial-to-trial Fano factor per hidden layer (spike
counts in sliding 10-step windows, one test sample repeated) as Gygax & Zenke measure them
(:func:`analysis.training._variability.variability_protocol`): the stochastic network before and after
training, and the deterministic network after training with stochastic spikes swapped in
(bars: mean over seeds, dots: seeds). E, F: rasters of the most active neurons of the
second hidden layer across the repeated trials (first seed).

Every run is trained in its own run folder ``<runs>/<method>-seed<k>`` (checkpoint per
epoch, :func:`analysis.training.train_classifier`), and its results (test accuracies,
variability) are written there as :data:`RESULT` once it is done: a second call trains only
what is missing and resumes an interrupted run from its last epoch. ``paper`` (the published
experiment, 3 seeds x 2 methods of ``randman_preset("paper")``; a GPU run) keeps its runs
in ``out/fig7-paper`` (``sgtheory figures fig7 --profile paper``); ``quick`` and ``full``
train in a temporary folder. Computation: :mod:`analysis.training`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from figures._style import figure, letters, save

METHODS = (("deterministic", "det", "C0"), ("stochastic", "stoch", "C3"))
PROFILES = ("quick", "full", "paper")
SEEDS = {"quick": (0, 1, 2), "full": (0, 1, 2, 3, 4), "paper": (0, 1, 2)}
N_TRIALS = {"quick": 100, "full": 400, "paper": 400}
#: the key of the one randman data set all runs of the quick and full profiles share; the
#: paper profile uses the authors' fixed data seed (``randman_data_seed("paper", ...)``)
DATA_SEED = 0


def _data_seed(profile: str) -> int:
    from analysis.training._presets import randman_data_seed

    return randman_data_seed(profile, DATA_SEED)


#: where ``sgtheory figures fig7 --profile paper`` keeps its runs by default
PAPER_RUNS = Path("out/fig7-paper")
#: a finished run's results, in its run folder (JSON; rasters in :data:`RASTERS`)
RESULT, RASTERS = "fig7_run.json", "fig7_rasters.npz"
RASTER_NEURONS, RASTER_TRIALS = 3, 30
#: the variability conditions shown: (method tag, protocol stage, label, colour)
CONDITIONS = (
    ("stoch", "before", "stoch., before training", "0.6"),
    ("stoch", "after", "stoch., after training", "C3"),
    ("det", "other", "det., after, stoch. spikes", "C0"),
)


def run_folders(root: Path, profile: str) -> list[tuple[str, int, Path]]:
    """(method, seed, run folder ``root/<method>-seed<k>``) of every run of ``profile``."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
    root = Path(root)
    return [(name, seed, root / f"{name}-seed{seed}") for name, _, _ in METHODS for seed in SEEDS[profile]]


def _preset(profile: str):
    """(RandmanConfig, ClassifierRun) of ``profile``: ``randman_preset(profile)``."""
    from analysis.training import randman_preset

    return randman_preset(profile)


def _setup(profile: str):
    """(ClassificationData, test set, the profile's ClassifierRun) of ``profile``."""
    import jax

    from analysis.training import ClassificationData
    from analysis.training.tasks import randman_splits

    data_cfg, run = _preset(profile)
    train, valid, test = randman_splits(jax.random.key(_data_seed(profile)), data_cfg, (0.8, 0.1, 0.1))
    return ClassificationData(train, valid, data_cfg.n_classes, task="randman"), test, run


def _epochs_done(folder: Path) -> int:
    """Epochs a run folder holds: its metrics.jsonl lines (0 without one)."""
    try:
        return (folder / "metrics.jsonl").read_bytes().count(b"\n")
    except OSError:
        return 0


def _finished(folder: Path, name: str, seed: int, epochs: int) -> dict | None:
    """The results of a finished run (None when there are none); ValueError when the folder
    holds the results of another run."""
    path = folder / RESULT
    if not path.is_file():
        return None
    try:
        res = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not readable ({exc}); delete it to evaluate the run again") from None
    if (res.get("method"), res.get("seed"), len(res.get("history", []))) != (name, seed, epochs):
        raise ValueError(
            f"{path} holds the results of another run (method {res.get('method')!r}, seed "
            f"{res.get('seed')!r}, {len(res.get('history', []))} epochs; wanted {name!r}, {seed}, "
            f"{epochs}); choose another runs folder"
        )
    with np.load(folder / RASTERS) as z:
        res["rasters"] = {k: z[k] for k in z.files}
    return res


def _train_one(name: str, seed: int, folder: Path, data, test, run0, n_trials: int) -> dict:
    """Train (or resume) one run in ``folder``, evaluate it, write its results."""
    import jax

    from analysis.runtime import write_json
    from analysis.runtime._io import atomic_write_bytes
    from analysis.training import RunFolder, VariabilityConfig, evaluate_classifier, train_classifier
    from analysis.training._checkpoints import epoch_checkpoints, load_epoch_params
    from analysis.training._variability import split_rasters, variability_protocol

    run = dataclasses.replace(run0, seed=seed)
    resume = (folder / "checkpoint.npz").is_file()
    # save_every = epochs keeps the initial params (epoch 0) for the "before training" stage
    where = RunFolder(folder, resume=resume, save_every=run.epochs)
    res = train_classifier(name, data, run, where, progress=False)
    params0, _ = load_epoch_params(epoch_checkpoints(folder)[0], res.params)
    key = jax.random.key(seed)
    tested = evaluate_classifier(key, res.params, test, run)
    opts = VariabilityConfig(n_trials, raster_layer=min(1, len(run.hidden) - 1), raster_neurons=5)
    protocol = variability_protocol(
        jax.random.fold_in(key, 400), (params0, res.params), test[0][0], run, name, opts
    )
    plain, rasters = split_rasters(protocol)
    buf = io.BytesIO()
    np.savez_compressed(buf, **rasters)
    atomic_write_bytes(folder / RASTERS, buf.getvalue())
    out = {"method": name, "seed": seed, "history": res.history, "test": tested, "variability": plain}
    write_json(folder / RESULT, out, seeds=[seed], profile=None)  # written last: the run is done
    return json.loads((folder / RESULT).read_text()) | {"rasters": rasters}


@contextlib.contextmanager
def _progress(total: int, done: int, enabled: bool):
    """A tqdm bar over the epochs of all runs (ETA included); ``watch(folder, before)``
    counts the epochs a training run in ``folder`` writes (polled every second)."""
    from tqdm import tqdm

    bar = tqdm(total=total, initial=done, desc="fig7 runs", unit="epoch", disable=not enabled, smoothing=0.1)
    state: dict = {"folder": None, "base": done, "stop": False}

    def poll():
        while not state["stop"]:
            if state["folder"] is not None:
                now = state["base"] + _epochs_done(state["folder"])
                if now > bar.n:
                    bar.update(now - bar.n)
            time.sleep(1.0)

    def watch(folder: Path | None, base: int, label: str = "") -> None:
        state["folder"], state["base"] = folder, base
        bar.set_postfix_str(label)
        if base > bar.n:
            bar.update(base - bar.n)

    thread = threading.Thread(target=poll, daemon=True)
    if enabled:
        thread.start()
    try:
        yield watch
    finally:
        state["stop"] = True
        if enabled:
            thread.join()
        bar.close()


def pending_epochs(root: Path, profile: str = "paper") -> dict[str, int]:
    """{method: epochs still to train} over the runs of ``profile`` in ``root`` (a run with
    :data:`RESULT` counts as done, an interrupted one by the epochs its folder holds)."""
    epochs = _preset(profile)[1].epochs
    left = {name: 0 for name, _, _ in METHODS}
    for name, _, folder in run_folders(root, profile):
        if not (folder / RESULT).is_file():
            left[name] += epochs - min(_epochs_done(folder), epochs)
    return left


def train_runs(root: Path, profile: str = "paper", *, progress: bool = True) -> list[dict]:
    """Train every run of ``profile`` (:func:`run_folders`) that is not finished, resuming an
    interrupted one; returns the results of all runs in :func:`run_folders` order. A run is
    finished when its folder holds :data:`RESULT`; it is then read, not retrained."""
    runs = run_folders(root, profile)
    data, test, run0 = _setup(profile)
    epochs = run0.epochs
    results: list[dict | None] = [_finished(f, n, s, epochs) for n, s, f in runs]
    done = [
        epochs if r is not None else min(_epochs_done(f), epochs)
        for r, (_, _, f) in zip(results, runs, strict=True)
    ]
    with _progress(epochs * len(runs), sum(done), progress) as watch:
        for i, ((name, seed, folder), res) in enumerate(zip(runs, results, strict=True)):
            if res is not None:
                continue
            watch(folder, sum(done) - done[i], f"{name} seed {seed}")
            results[i] = _train_one(name, seed, folder, data, test, run0, N_TRIALS[profile])
            done[i] = epochs
            watch(None, sum(done))
    return [r for r in results if r is not None]


def _collect(results: list[dict], profile: str, n_test: int, chance: float, dt_ms: float) -> dict:
    """The plotted data of the runs' results."""
    out: dict = {
        "profile": profile,
        "seeds": SEEDS[profile],
        "chance": chance,
        "dt_ms": dt_ms,
        "n_test": n_test,
        "history": {},
        "test": {},
        "variability": {},
        "rasters": {},
    }
    for name, tag, _ in METHODS:
        mine = [r for r in results if r["method"] == name]
        out["history"][tag] = [r["history"] for r in mine]
        out["test"][tag] = [r["test"] for r in mine]
        out["variability"][tag] = [r["variability"] for r in mine]
    for tag, stage, _, _ in CONDITIONS:
        first = next(r for r in results if r["method"] == _name_of(tag))
        if stage in first["rasters"]:
            var = first["variability"][stage]
            r = np.asarray(first["rasters"][stage]).transpose(2, 0, 1)  # [neuron, trial, T]
            out["rasters"][f"{tag}_{stage}"] = {"rasters": r, "raster_neurons": var["raster_neurons"]}
    return out


def _name_of(tag: str) -> str:
    return next(n for n, t, _ in METHODS if t == tag)


def _compute(profile: str, runs_dir: Path | None = None, progress: bool = False) -> dict:
    """Train (where needed) and collect every run of ``profile``; ``runs_dir`` None trains
    in a temporary folder."""
    data_cfg, run0 = _preset(profile)
    n = data_cfg.n_classes * data_cfg.n_samples
    n_test = n - int(np.round(0.9 * n))  # randman_splits' cut
    if runs_dir is None:
        with tempfile.TemporaryDirectory() as tmp:
            results = train_runs(Path(tmp), profile, progress=progress)
    else:
        results = train_runs(Path(runs_dir), profile, progress=progress)
    return _collect(results, profile, n_test, 1.0 / data_cfg.n_classes, run0.dt * 1e3)


def estimate_seconds(profile: str = "paper") -> dict:
    """Wall time of the whole ``profile`` experiment on this machine, extrapolated from one
    measured training step per method at the preset's batch size (compiled first, then
    timed) and one validation pass of a batch in both modes: {"step_s": {method: s},
    "eval_s": {method: s}, "steps_per_epoch", "epoch_s": {method: s}, "total_s", "runs",
    "epochs"}. The variability measurements and the test evaluation are not included (a
    few epochs' worth)."""
    import jax

    from analysis.training import ClassificationData, evaluate_classifier, train_classifier
    from analysis.training.tasks import make_randman

    data_cfg, run = _preset(profile)
    b = run.batch_size
    per_class = math.ceil(b / data_cfg.n_classes)
    x, y = make_randman(
        jax.random.key(_data_seed(profile)), dataclasses.replace(data_cfg, n_samples=per_class)
    )
    x, y = x[:b], y[:b]
    one = ClassificationData((x, y), (x[:1], y[:1]), data_cfg.n_classes)
    n_train = int(round(0.8 * data_cfg.n_classes * data_cfg.n_samples))
    n_valid = int(round(0.1 * data_cfg.n_classes * data_cfg.n_samples))
    steps = math.ceil(n_train / b)
    short = dataclasses.replace(run, epochs=1)
    out: dict = {"step_s": {}, "eval_s": {}, "epoch_s": {}, "steps_per_epoch": steps, "epochs": run.epochs}
    for name, _, _ in METHODS:
        params = train_classifier(name, one, short, progress=False).params  # compiles
        t0 = time.perf_counter()
        train_classifier(name, one, short, progress=False)
        step = time.perf_counter() - t0
        key = jax.random.key(0)
        jax.block_until_ready(evaluate_classifier(key, params, (x, y), run, prefix="valid"))  # compiles
        t0 = time.perf_counter()
        evaluate_classifier(key, params, (x, y), run, prefix="valid")
        ev = time.perf_counter() - t0
        out["step_s"][name], out["eval_s"][name] = step, ev
        out["epoch_s"][name] = steps * step + n_valid / b * ev
    seeds = len(SEEDS[profile])
    out["runs"] = seeds * len(METHODS)
    out["total_s"] = sum(seeds * run.epochs * e for e in out["epoch_s"].values())
    out["batch_size"] = b
    return out


def _band(ax, hists, key, color, label, ls="-"):
    y = np.array([[h[key] for h in hist] for hist in hists])
    ep = np.arange(1, y.shape[1] + 1)
    m, sd = y.mean(0), (y.std(0, ddof=1) if len(y) > 1 else np.zeros(y.shape[1]))
    ax.plot(ep, m, color=color, ls=ls, lw=1, label=label)
    ax.fill_between(ep, m - sd, m + sd, color=color, alpha=0.2, lw=0)


def make(
    out_dir: Path, profile: str = "quick", *, runs_dir: Path | None = None, progress: bool = False
) -> list[Path]:
    """Figure 7 of ``profile`` into ``out_dir``; ``runs_dir``: the run folders (default: a
    temporary folder for ``quick`` / ``full``, :data:`PAPER_RUNS` for ``paper``)."""
    if runs_dir is None and profile == "paper":
        runs_dir = PAPER_RUNS
    data = _compute(profile) if runs_dir is None else _compute(profile, runs_dir, progress)
    fig, axes = figure(2, 3, size=(10.5, 5.8), gridspec_kw={"width_ratios": [1.6, 1.0, 1.0]})
    axes = axes.ravel()
    ax = axes[0]
    for name, tag, color in METHODS:
        _band(ax, data["history"][tag], "train_acc", color, f"{name}, train", ls="--")
        _band(ax, data["history"][tag], f"{tag}_valid_acc", color, f"{name}, validation")
    ax.axhline(data["chance"], color="0.5", ls=":", lw=1, label="chance")
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=f"randman, {len(data['seeds'])} seeds")
    ax.legend(frameon=False, loc="lower right", bbox_to_anchor=(1.0, 0.12), fontsize=6)
    _test_bars(axes[1], data)
    _condition_bars(axes[2], data, "rate_hz", "firing rate (Hz)", "hidden firing rates")
    _condition_bars(axes[3], data, "fano", "Fano factor (10-step windows)", "trial-to-trial variability")
    raster_axes = axes[4:]
    labels = (("stoch_after", "stochastic network"), ("det_other", "det. network, stoch. spikes"))
    shown = [(k, lab) for k, lab in labels if k in data["rasters"]]
    for ax, (k, label) in zip(raster_axes, shown, strict=False):
        _rasters(ax, data["rasters"][k], data["dt_ms"], label)
    for ax in list(raster_axes)[len(shown) :]:
        ax.set_axis_off()
    letters(axes)
    n_seeds = len(data["seeds"])
    n_trials = N_TRIALS[profile]
    caption = {
        "profile": profile,
        "n_seeds": n_seeds,
        "n_test": data["n_test"],
        "split": "0.8 / 0.1 / 0.1 (train / validation / test)",
        "chance": data["chance"],
        "a_band": f"+-1 SD over n = {n_seeds} seeds (line: mean)",
        "b_errorbars": f"+-1 SD over n = {n_seeds} seeds (bar: mean, dots: seeds)",
        "c_rates": f"spikes / duration / units per hidden layer, mean over {n_trials} trials; bar: mean over "
        f"n = {n_seeds} seeds, dots: seeds",
        "d_fano": f"counts in sliding 10-step windows (T - 10 windows), one test sample repeated {n_trials} "
        f"times; bar: mean over n = {n_seeds} seeds, dots: seeds",
        "conditions": [label for _, _, label, _ in CONDITIONS],
        "n_trials_variability": n_trials,
        "raster_neurons": RASTER_NEURONS,
        "raster_trials": RASTER_TRIALS,
        "dt_ms": data["dt_ms"],
    }
    seeds = list(SEEDS[profile])
    return save(fig, out_dir, "fig7_classification", data, profile=profile, seeds=seeds, caption=caption)


def _values(rows: list, stage: str, key: str) -> np.ndarray:
    """Per seed: the stage's ``key`` per layer, [seeds, layers] (NaN where not measured)."""
    vals = []
    for row in rows:
        got = row.get(stage)
        vals.append([float(v) for v in got[key]] if got else None)
    width = max((len(v) for v in vals if v is not None), default=0)
    return np.array([v if v is not None else [np.nan] * width for v in vals], float).reshape(len(vals), width)


def _condition_bars(ax, data, key, ylabel, title):
    """One bar group per hidden layer, one bar per condition: mean over seeds, seed dots."""
    width = 0.26
    n_layers = 0
    top = 0.0
    for j, (tag, stage, label, color) in enumerate(CONDITIONS):
        vals = _values(data["variability"][tag], stage, key)  # [seeds, layers]
        if vals.size == 0 or np.all(np.isnan(vals)):
            continue
        n_layers = max(n_layers, vals.shape[1])
        x = np.arange(vals.shape[1]) + (j - 1) * width
        with warnings.catch_warnings():  # a layer silent in every seed: NaN, drawn as 0
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(vals, axis=0)
        ax.bar(x, np.nan_to_num(mean), width, color=color, alpha=0.75, label=label)
        for s in vals:
            ax.plot(x, s, "k.", ms=2)
        top = max(top, float(np.nanmax(vals)))
    ax.set_xticks(range(n_layers), [f"layer {k + 1}" for k in range(n_layers)])
    ax.set(ylabel=ylabel, title=title)
    ax.set_ylim(0, 1.45 * top if top > 0 else 1.0)  # room for the legend above the bars
    ax.legend(frameon=False, fontsize=6, loc="upper center", ncol=1)


def _rasters(ax, var, dt_ms, name, k=RASTER_NEURONS, trials=RASTER_TRIALS):
    """The first ``trials`` trials of the ``k`` most active second-layer neurons, stacked."""
    r = np.asarray(var["rasters"])[:k, :trials]  # [k, trials, T]
    n_t = r.shape[-1]
    ax.imshow(
        r.reshape(-1, n_t),
        aspect="auto",
        cmap="Greys",
        interpolation="nearest",
        vmin=0,
        vmax=1,
        extent=(0, n_t * dt_ms, len(r) * trials, 0),
    )
    for i in range(1, len(r)):
        ax.axhline(i * trials, color="C1", lw=0.8)
    ticks = [(i + 0.5) * trials for i in range(len(r))]
    ax.set_yticks(ticks, [f"n{j}" for j in var["raster_neurons"][: len(r)]])
    ax.set(xlabel="time (ms)", ylabel=f"neuron ({trials} trials each)")
    ax.set_title(f"{name}, hidden layer 2", fontsize=8)


def _test_bars(ax, data):
    """Test accuracy by training method x test mode: mean over seeds, SD bars, seed dots."""
    width = 0.35
    for j, (test, color) in enumerate((("det", "C0"), ("stoch", "C3"))):
        for i, (_, tag, _) in enumerate(METHODS):
            vals = np.array([t[f"{test}_test_acc"] for t in data["test"][tag]])
            x = i + (j - 0.5) * width
            ax.bar(x, vals.mean(), width, color=color, alpha=0.7, label=f"tested {test}." if i == 0 else None)
            sd = vals.std(ddof=1) if len(vals) > 1 else 0.0
            ax.errorbar(x, vals.mean(), yerr=sd, color="k", lw=0.8, capsize=2)
            ax.plot(np.full(len(vals), x), vals, "k.", ms=2)
    ax.axhline(data["chance"], color="0.5", ls=":", lw=1)
    ax.set_xticks(range(2), ["trained det.", "trained stoch."])
    ax.set(
        ylim=(0, 1.25),
        yticks=np.linspace(0, 1, 6),
        ylabel="test accuracy",
        title=f"test (n = {data['n_test']})",
    )
    ax.legend(frameon=False, loc="upper center", ncol=2, fontsize=6)
