"""``sgtheory train``: errors for a missing data set and an unknown method, and an end-to-end
run on a written SHD-format file."""

import numpy as np
import pytest

from tests.helpers import write_shd


def test_cli_train_errors(capsys, tmp_path):
    from proofs_numeric.cli import main

    assert main(["train", "shd", "--shd-path", str(tmp_path)]) == 2
    assert "zenkelab.org/datasets" in capsys.readouterr().err
    assert main(["train", "randman", "--method", "nope"]) == 2
    assert "valid: deterministic" in capsys.readouterr().err


def test_cli_trains_on_a_written_shd_file(tmp_path, capsys):
    """End to end: SHD layout written with h5py -> ``sgtheory train shd`` -> metrics files."""
    pytest.importorskip("h5py")
    import json

    from proofs_numeric.cli import main

    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("test", 6)):
        labels = np.arange(n) % 3
        times = [rng.uniform(0, 0.05, 20) for _ in labels]
        units = [rng.integers(0, 700, 20) for _ in labels]
        write_shd(tmp_path / f"shd_{split}.h5", times, units, labels)
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "shd",
                "--shd-path",
                str(tmp_path),
                "--epochs",
                "1",
                "--out",
                str(out),
                "--quiet",
                "--method",
                "deterministic",
            ]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final"]["epoch"] == 1 and 0.0 <= summary["final"]["det_valid_acc"] <= 1.0
    assert (out / "metrics.csv").read_text().startswith("epoch,loss")


def test_cli_dry_run_prints_the_paper_configuration_and_trains_nothing(tmp_path, capsys, monkeypatch):
    """``--dry-run``: every value of the paper profile with its source, the layer sizes, the
    parameter count (against a count by hand) and the memory estimate; no folder written."""
    from proofs_numeric.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "randman", "--profile", "paper", "--method", "multilayer_spiker", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        "learning_rate = 20.0  <- Classification/experiments/config_stork/method/multilayerspiker.yaml:4"
        in out
    )
    assert "readout_tau_mem = 0.2  <- " in out and "readout_u0 = -0.001  <- " in out
    assert "data_seed = 1" in out and "layer sizes (neurons; hidden..., readout): (320, 384, 256, 15)" in out
    # conv kernels 11x1x32, 5x32x64, 5x64x128, readout 256x15
    n = 11 * 1 * 32 + 5 * 32 * 64 + 5 * 64 * 128 + 256 * 15
    assert f"parameters: {n:,}" in out and "GiB temporaries" in out
    assert not (tmp_path / "out").exists()
