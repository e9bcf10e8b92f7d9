"""Hostile input for ``sgtheory train``, ``align``, ``figures``, ``verify``, ``bench`` and ``paper``.

Each case is a command line and the regex its one-line error must match. Every case must
be refused before anything is computed: exit code 2, exactly one line on stderr, no
traceback, and the files under the test folder unchanged (nothing written, nothing lost).
The command line runs in-process (``proofs_numeric.cli.main``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os

import numpy as np
import pytest

from tests.helpers import run_cli

UNWRITABLE = "/proc/sgtheory-hostile/x"  # not creatable, even for root
TRAIN_OUT = ["--out", "{new}"]

CASES = [
    # --- the parser itself ---
    ("no-command", [], r"required: command"),
    ("unknown-command", ["trian"], r"invalid choice: 'trian'"),
    ("unknown-option", ["train", "randman", "--epoch", "3"], r"unrecognized arguments: --epoch"),
    # --- train: names ---
    (
        "train-unknown-task",
        ["train", "mnist"],
        r"invalid choice: 'mnist' \(choose from '?spike-train'?, '?randman'?, '?shd'?, '?classify'?\)",
    ),
    (
        "train-unknown-method",
        ["train", "randman", "--method", "sgd", *TRAIN_OUT],
        r"unknown method 'sgd'.*deterministic, stochastic, multilayer_spiker",
    ),
    (
        "train-empty-method",
        ["train", "randman", "--method", "", *TRAIN_OUT],
        r"unknown method ''.*deterministic",
    ),
    (
        "train-method-case",
        ["train", "randman", "--method", "Stochastic", *TRAIN_OUT],
        r"unknown method 'Stochastic'",
    ),
    (
        "train-unknown-optimizer",
        ["train", "randman", "--optimizer", "rmsprop", *TRAIN_OUT],
        r"unknown optimizer 'rmsprop'.*adam, smorms3, sgd",
    ),
    (
        "train-empty-optimizer",
        ["train", "spike-train", "--optimizer", "", *TRAIN_OUT],
        r"unknown optimizer ''.*adam",
    ),
    (
        "train-unknown-profile",
        ["train", "randman", "--profile", "huge"],
        r"invalid choice: 'huge' \(choose from '?quick'?, '?full'?, '?paper'?\) "
        r"\(see sgtheory train --help\)",
    ),
    # --- train: numbers ---
    (
        "train-epochs-zero",
        ["train", "randman", "--epochs", "0", *TRAIN_OUT],
        r"epochs must be a positive integer, got 0",
    ),
    (
        "train-epochs-negative",
        ["train", "spike-train", "--epochs", "-3", *TRAIN_OUT],
        r"epochs must be a positive integer, got -3",
    ),
    (
        "train-epochs-text",
        ["train", "randman", "--epochs", "ten"],
        r"argument --epochs: invalid int value: 'ten'",
    ),
    (
        "train-epochs-float",
        ["train", "randman", "--epochs", "1.5"],
        r"argument --epochs: invalid int value: '1.5'",
    ),
    (
        "train-lr-zero",
        ["train", "randman", "--lr", "0", *TRAIN_OUT],
        r"learning_rate must be a finite number > 0, got 0",
    ),
    (
        "train-lr-negative",
        ["train", "randman", "--lr=-1e-3", *TRAIN_OUT],
        r"learning_rate must be a finite number > 0",
    ),
    (
        "train-lr-nan",
        ["train", "spike-train", "--lr", "nan", *TRAIN_OUT],
        r"learning_rate must be a finite number > 0, got nan",
    ),
    (
        "train-lr-inf",
        ["train", "randman", "--lr", "inf", *TRAIN_OUT],
        r"learning_rate must be a finite number > 0, got inf",
    ),
    ("train-lr-text", ["train", "randman", "--lr", "fast"], r"argument --lr: invalid float value: 'fast'"),
    (
        "train-seed-negative",
        ["train", "randman", "--seed", "-1", *TRAIN_OUT],
        r"seed must be an integer in \[0, 2\*\*32\), got -1",
    ),
    (
        "train-seed-huge",
        ["train", "randman", "--seed", str(2**40), *TRAIN_OUT],
        r"seed must be an integer in \[0, 2\*\*32\)",
    ),
    ("train-seed-float", ["train", "randman", "--seed", "0.5"], r"argument --seed: invalid int value"),
    # --- train: options that do not apply ---
    (
        "train-image-for-randman",
        ["train", "randman", "--image", "{file}", *TRAIN_OUT],
        r"image.*spike-train task only",
    ),
    (
        "train-shd-path-for-randman",
        ["train", "randman", "--shd-path", "{dir}", *TRAIN_OUT],
        r"shd_path.*shd task only",
    ),
    (
        "train-resume-and-force",
        ["train", "randman", "--resume", "--force", "--out", "{run}"],
        r"resume and force exclude each other",
    ),
    # --- train: output folder ---
    (
        "train-out-is-file",
        ["train", "randman", "--out", "{file}"],
        r"--out: .*plain\.txt is a file, not a folder",
    ),
    (
        "train-out-under-file",
        ["train", "spike-train", "--out", "{file}/run"],
        r"--out: .* lies under .*plain\.txt, which is a file",
    ),
    ("train-out-empty", ["train", "randman", "--out", ""], r"--out: empty path"),
    (
        "train-out-unwritable",
        ["train", "randman", "--out", UNWRITABLE],
        r"--out: cannot create .*: folder /proc is not writable",
    ),
    (
        "train-out-existing-run",
        ["train", "randman", "--out", "{run}"],
        r"run folder .*/run already holds a run \(checkpoint\.npz, metrics\.jsonl, metrics\.csv, "
        r"summary\.json\); continue it with --resume \(resume=True\) or start over with --force",
    ),
    (
        "train-out-existing-run-other-task",
        ["train", "spike-train", "--method", "deterministic", "--out", "{run}"],
        r"already holds a run",
    ),
    (
        "train-out-existing-summary-only",
        ["train", "randman", "--out", "{summary_only}"],
        r"already holds a run \(summary\.json\)",
    ),
    # --- train: resume ---
    (
        "train-resume-no-folder",
        ["train", "randman", "--resume", "--out", "{new}"],
        r"no checkpoint .*new/checkpoint\.npz to resume from; run without --resume",
    ),
    (
        "train-resume-empty-folder",
        ["train", "spike-train", "--resume", "--out", "{dir}"],
        r"no checkpoint .*empty/checkpoint\.npz to resume from",
    ),
    (
        "train-resume-ckpt-empty",
        ["train", "randman", "--resume", "--out", "{ck_empty}"],
        r"checkpoint .*ck_empty/checkpoint\.npz is damaged \(empty file\); "
        r"delete it and start over with --force",
    ),
    (
        "train-resume-ckpt-truncated",
        ["train", "randman", "--resume", "--out", "{ck_truncated}"],
        r"checkpoint .*ck_truncated/checkpoint\.npz is damaged \(.*\); delete it",
    ),
    (
        "train-resume-ckpt-random",
        ["train", "spike-train", "--resume", "--out", "{ck_random}"],
        r"ck_random/checkpoint\.npz is damaged \(not an \.npz \(zip\) archive: unrecognised bytes\)",
    ),
    (
        "train-resume-ckpt-no-meta",
        ["train", "randman", "--resume", "--out", "{ck_no_meta}"],
        r"ck_no_meta/checkpoint\.npz is damaged \(no 'meta' entry",
    ),
    (
        "train-resume-ckpt-bad-json",
        ["train", "randman", "--resume", "--out", "{ck_bad_json}"],
        r"ck_bad_json/checkpoint\.npz is damaged \(.*JSON",
    ),
    (
        "train-resume-ckpt-meta-keys",
        ["train", "randman", "--resume", "--out", "{ck_meta_keys}"],
        r"ck_meta_keys/checkpoint\.npz is damaged \(meta lacks",
    ),
    (
        "train-resume-ckpt-folder",
        ["train", "randman", "--resume", "--out", "{ck_folder}"],
        r"ck_folder/checkpoint\.npz is a folder",
    ),
    (
        "train-resume-ckpt-other-config",
        ["train", "randman", "--resume", "--out", "{ck_other}"],
        r"was written with config .* cannot resume with",
    ),
    (
        "train-resume-ckpt-other-run",
        ["train", "randman", "--method", "deterministic", "--resume", "--out", "{ck_same_cfg}"],
        r"belongs to run .* cannot resume run",
    ),
    # --- train: input files ---
    (
        "train-image-missing",
        ["train", "spike-train", "--image", "{new}/cat.png", *TRAIN_OUT],
        r"image .*cat\.png.* does not exist",
    ),
    (
        "train-image-not-an-image",
        ["train", "spike-train", "--image", "{file}", *TRAIN_OUT],
        r"image .*plain\.txt.* cannot be read as an image",
    ),
    (
        "train-image-folder",
        ["train", "spike-train", "--image", "{dir}", *TRAIN_OUT],
        r"image .*empty.* does not exist or is not a file",
    ),
    (
        "train-shd-missing",
        ["train", "shd", "--shd-path", "{new}", *TRAIN_OUT],
        r"SHD file .*new' not found\. Download shd_train\.h5\.gz",
    ),
    (
        "train-shd-empty-folder",
        ["train", "shd", "--shd-path", "{dir}", *TRAIN_OUT],
        r"SHD file .*empty/shd_train\.h5.* not found",
    ),
    (
        "train-shd-not-hdf5",
        ["train", "shd", "--shd-path", "{shd_garbage}", *TRAIN_OUT],
        r"shd_train\.h5.* is not a readable HDF5 file",
    ),
    (
        "train-shd-wrong-layout",
        ["train", "shd", "--shd-path", "{shd_layout}", *TRAIN_OUT],
        r"lacks the SHD datasets \['spikes/units'\]",
    ),
    # --- align ---
    ("align-unknown-profile", ["align", "--profile", "tiny"], r"invalid choice: 'tiny'"),
    ("align-json-folder", ["align", "--json", "{dir}"], r"--json: .*empty is a folder; give a file name"),
    (
        "align-json-under-file",
        ["align", "--json", "{file}/a.json"],
        r"--json: .* lies under .*plain\.txt, which is a file",
    ),
    ("align-json-empty", ["align", "--json", ""], r"--json: empty path"),
    (
        "align-json-unwritable",
        ["align", "--json", UNWRITABLE],
        r"--json: cannot create .*: folder /proc is not writable",
    ),
    ("align-figure-file", ["align", "--figure", "{file}"], r"--figure: .*plain\.txt is a file, not a folder"),
    ("align-figure-unwritable", ["align", "--figure", UNWRITABLE], r"--figure: cannot create"),
    ("align-figure-empty", ["align", "--figure", ""], r"--figure: empty path"),
    # --- figures ---
    (
        "figures-unknown",
        ["figures", "fig99", "--out", "{new}"],
        r"unknown figure\(s\) fig99; available: fig1, fig2, .*fig8",
    ),
    (
        "figures-one-unknown",
        ["figures", "fig1", "neuron", "--out", "{new}"],
        r"unknown figure\(s\) neuron; available",
    ),
    ("figures-empty-name", ["figures", "", "--out", "{new}"], r"unknown figure\(s\) ''; available"),
    ("figures-twice", ["figures", "fig1", "fig1", "--out", "{new}"], r"figure fig1 named twice"),
    ("figures-unknown-profile", ["figures", "fig1", "--profile", "huge"], r"invalid choice: 'huge'"),
    (
        "figures-paper-not-fig7",
        ["figures", "fig1", "--profile", "paper"],
        r"--profile paper is fig7's published experiment",
    ),
    ("figures-yes-without-paper", ["figures", "fig7", "--yes"], r"--runs and --yes belong to fig7"),
    (
        "figures-out-file",
        ["figures", "fig1", "--out", "{file}"],
        r"--out: .*plain\.txt is a file, not a folder",
    ),
    ("figures-out-under-file", ["figures", "fig1", "--out", "{file}/figs"], r"--out: .* lies under"),
    ("figures-out-empty", ["figures", "fig1", "--out", ""], r"--out: empty path"),
    ("figures-out-unwritable", ["figures", "fig1", "--out", UNWRITABLE], r"--out: cannot create"),
    # --- verify ---
    (
        "verify-unknown",
        ["verify", "no_such_claim"],
        r"unknown claim name\(s\): no_such_claim; valid names: .*single_neuron_sg",
    ),
    (
        "verify-unknown-among-known",
        ["verify", "single_neuron_sg", "typo"],
        r"unknown claim name\(s\): typo; valid names:",
    ),
    (
        "verify-twice",
        ["verify", "single_neuron_sg", "single_neuron_sg"],
        r"claim single_neuron_sg named twice",
    ),
    ("verify-unknown-profile", ["verify", "--profile", "slow"], r"invalid choice: 'slow'"),
    ("verify-json-folder", ["verify", "single_neuron_sg", "--json", "{dir}"], r"--json: .*empty is a folder"),
    (
        "verify-json-under-file",
        ["verify", "single_neuron_sg", "--json", "{file}/c.json"],
        r"--json: .* lies under",
    ),
    ("verify-json-empty", ["verify", "single_neuron_sg", "--json", ""], r"--json: empty path"),
    (
        "verify-json-unwritable",
        ["verify", "single_neuron_sg", "--json", UNWRITABLE],
        r"--json: cannot create",
    ),
    # --- bench ---
    (
        "bench-unknown",
        ["bench", "gpu"],
        r"unknown benchmark\(s\) gpu; available: cfsub, eventprop, exact, fields, snn, spikes",
    ),
    ("bench-twice", ["bench", "spikes", "spikes"], r"benchmark spikes named twice"),
    ("bench-unknown-profile", ["bench", "--profile", "x"], r"invalid choice: 'x'"),
    ("bench-json-folder", ["bench", "spikes", "--json", "{dir}"], r"--json: .*empty is a folder"),
    ("bench-json-under-file", ["bench", "spikes", "--json", "{file}/b.json"], r"--json: .* lies under"),
    ("bench-json-empty", ["bench", "spikes", "--json", ""], r"--json: empty path"),
    ("bench-json-unwritable", ["bench", "spikes", "--json", UNWRITABLE], r"--json: cannot create"),
    # --- paper ---
    ("paper-unknown-profile", ["paper", "--profile", "paper"], r"invalid choice: 'paper'"),
    ("paper-preview-alone", ["paper", "--preview", "--out", "{new}"], r"--preview needs --from DIR"),
    (
        "paper-from-and-rerun",
        ["paper", "--from", "{dir}", "--rerun", "--out", "{new}"],
        r"exclude each other",
    ),
    ("paper-max-age", ["paper", "--max-age-days", "-1", "--out", "{new}"], r"--max-age-days must be > 0"),
    ("paper-out-file", ["paper", "--out", "{file}"], r"--out: .*plain\.txt is a file, not a folder"),
    ("paper-from-missing", ["paper", "--from", "{new}", "--out", "{dir}"], r"--from: folder .*new not found"),
    (
        "paper-from-no-claims",
        ["paper", "--from", "{dir}", "--preview", "--out", "{new}"],
        r"claims file not found: .*empty/claims\.json",
    ),
]


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _meta(obj) -> np.ndarray:
    return np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)


def _make_tree(root):
    """Files and folders the cases refer to, by placeholder name."""
    paths = {"new": root / "new", "file": root / "plain.txt", "dir": root / "empty"}
    paths["file"].write_text("not a folder, not an image\n")
    paths["dir"].mkdir()
    run = paths["run"] = root / "run"
    run.mkdir()
    for name in ("metrics.jsonl", "metrics.csv", "summary.json"):
        (run / name).write_text("{}\n")
    (run / "checkpoint.npz").write_bytes(_npz(p0=np.zeros(2)))
    (root / "summary_only").mkdir()
    (root / "summary_only" / "summary.json").write_text("{}\n")
    paths["summary_only"] = root / "summary_only"
    cfg = {"epochs": 40, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.005, "seed": 0}
    good = _npz(p0=np.zeros(3), meta=_meta({"config": cfg, "run": {}, "history": []}))
    contents = {
        "ck_empty": b"",
        "ck_truncated": good[: len(good) // 2],
        "ck_random": np.random.default_rng(0).bytes(300),
        "ck_no_meta": _npz(p0=np.zeros(3)),
        "ck_bad_json": _npz(meta=np.frombuffer(b"{not json", dtype=np.uint8)),
        "ck_meta_keys": _npz(meta=_meta({"history": []})),
        "ck_other": _npz(meta=_meta({"config": {**cfg, "learning_rate": 0.5}, "run": {}, "history": []})),
        "ck_same_cfg": _npz(meta=_meta({"config": cfg, "run": {"task": "other"}, "history": []})),
    }
    for name, data in contents.items():
        (root / name).mkdir()
        (root / name / "checkpoint.npz").write_bytes(data)
        paths[name] = root / name
    (root / "ck_folder" / "checkpoint.npz").mkdir(parents=True)
    paths["ck_folder"] = root / "ck_folder"
    (root / "shd_garbage").mkdir()
    (root / "shd_garbage" / "shd_train.h5").write_bytes(b"\x00" * 64)
    paths["shd_garbage"] = root / "shd_garbage"
    import h5py

    (root / "shd_layout").mkdir()
    with h5py.File(root / "shd_layout" / "shd_train.h5", "w") as fh:
        fh["labels"] = np.zeros(2, dtype=np.int32)
        fh.create_group("spikes")["times"] = np.zeros(2)
    paths["shd_layout"] = root / "shd_layout"
    return {k: str(v) for k, v in paths.items()}


def _snapshot(root) -> dict:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in files:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


@pytest.mark.parametrize("argv, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_command_line_is_refused_before_computing(argv, pattern, tmp_path, capsys, monkeypatch):
    import re

    monkeypatch.chdir(tmp_path)
    paths = _make_tree(tmp_path)
    before = _snapshot(tmp_path)
    rc, out, err = run_cli(capsys, [a.format(**paths) for a in argv])
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert rc == 2, (rc, out, err)
    assert len(lines) == 1, err
    assert re.search(pattern, lines[0]), lines[0]
    assert lines[0].startswith("sgtheory"), lines[0]
    assert _snapshot(tmp_path) == before, "a refused command changed files"


def test_battery_is_large_enough():
    assert len(CASES) >= 80
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
@pytest.mark.parametrize(
    "argv", [["train", "randman", "--out", "{ro}/x"], ["verify", "--json", "{ro}/c.json"]]
)
def test_read_only_folder_is_refused(argv, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        rc, _, err = run_cli(capsys, [a.format(ro=ro) for a in argv])
    finally:
        ro.chmod(0o700)
    assert rc == 2 and "not writable" in err and "Traceback" not in err


META_KEYS = {"version", "commit", "time_utc", "seeds", "profile", "x64", "jax", "backend", "device_count"}


def _fake_claims(monkeypatch):
    from proofs_numeric import _registry

    fake = lambda c, profile: _registry.ClaimResult(c.name, c.statement, 1.0, 1.0, 0.1, True, {"seed": 7})
    monkeypatch.setattr(_registry, "run_claim", fake)
    return ["verify", "single_neuron_sg", "--quiet", "--json", "{out}"], "quick", [7]


def _fake_bench(monkeypatch):
    import proofs_numeric.bench.spikes as spikes

    monkeypatch.setattr(spikes, "run", lambda profile: {"median_s": 1.0})
    return ["bench", "spikes", "--profile", "full", "--json", "{out}"], "full", None


def _fake_align(monkeypatch):
    import analysis.stochastic as stochastic
    from proofs_numeric.cli.align import _COLS

    monkeypatch.setattr(
        stochastic, "alignment_sweep", lambda profile, progress=None: [dict.fromkeys(_COLS, 0.5)]
    )
    return ["align", "--json", "{out}"], "quick", [0]


def _fake_train(monkeypatch):
    from analysis.training import _spike_train_run
    from analysis.training._train_config import TrainResult

    monkeypatch.setattr(
        _spike_train_run, "train_spike_train", lambda *a, **k: TrainResult({}, [{"epoch": 1, "loss": 0.5}])
    )
    return ["train", "spike-train", "--seed", "3", "--quiet", "--out", "{dir}"], "quick", [3]


@pytest.mark.parametrize("kind", ["claims", "bench", "align", "train"])
def test_every_json_of_a_command_carries_the_meta_block(kind, tmp_path, capsys, monkeypatch):
    """The computation is replaced by a stand-in; what is checked is the file written."""
    argv, profile, seeds = {
        "claims": _fake_claims,
        "bench": _fake_bench,
        "align": _fake_align,
        "train": _fake_train,
    }[kind](monkeypatch)
    out, run_dir = tmp_path / "out.json", tmp_path / "run"
    rc, _, err = run_cli(capsys, [a.format(out=out, dir=run_dir) for a in argv])
    assert rc == 0, err
    data = json.loads((run_dir / "summary.json" if kind == "train" else out).read_text())
    assert list(data)[0] == "meta" and set(data["meta"]) == META_KEYS
    assert data["meta"]["profile"] == profile and data["meta"]["seeds"] == seeds


def test_figure_data_json_carries_the_meta_block(tmp_path):
    from figures._style import figure, save

    fig, _ = figure()
    paths = save(fig, tmp_path, "figx", {"y": [1.0, 2.0]}, profile="full", seeds=[11])
    data = json.loads(paths[-1].read_text())
    assert (
        set(data["meta"]) == META_KEYS and data["meta"]["profile"] == "full" and data["meta"]["seeds"] == [11]
    )
    assert data["y"] == [1.0, 2.0]
