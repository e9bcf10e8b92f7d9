"""``sgtheory align --nir FILE --data NPZ`` (analysis.training.nir_alignment): the table of a
network exported here, its cosines equal to a direct snn_alignment call with the same key,
and one-line errors; with Norse installed, the same on a norse.torch.to_nir export."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers import assert_one_line_error, run_cli

pytest.importorskip("nir", reason="align --nir needs the optional nir package")

FAST = ["--n-ref", "20", "--n-sg", "4", "--n-flips", "2"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A dense 6 -> 5 -> 3 network written as NIR, and an npz of 3 inputs with labels."""
    from analysis.snn import SNNConfig, init_params, write_nir

    root = tmp_path_factory.mktemp("nir")
    cfg = SNNConfig(n_in=6, hidden=(5,), n_out=3)
    params = jax.tree.map(lambda a: 3 * a, init_params(jax.random.key(0), cfg, nu=20.0, dtype=jnp.float64))
    write_nir(root / "m.nir", params, cfg)
    rng = np.random.default_rng(0)
    x = (rng.random((3, 10, 6)) < 0.4).astype(np.float32)
    np.savez(root / "d.npz", x=x, y=np.array([0, 1, 2]))
    np.savez(root / "x_only.npz", x=x)
    return root, cfg, params, x


def _direct(cfg, params, x, y, loss):
    from analysis.neuron import EscapeNoise
    from analysis.snn import Method
    from analysis.stochastic import AlignmentBudget, snn_alignment

    noise = Method("stochastic", hidden_noise=EscapeNoise("sigmoid", 10.0))
    det = Method("deterministic", noise.hidden_noise, noise.output_noise)
    variants = {"trained": det, "stoch_matched": None}
    xj = jnp.asarray(x, jnp.float64)
    inputs = (xj, jnp.asarray(y, jnp.int32)) if y is not None else xj
    budget = AlignmentBudget(n_ref=20, n_flips=2, n_sg=4)
    return snn_alignment(
        cfg, params, inputs, loss, key=jax.random.key(0), method=noise, budget=budget, variants=variants
    )  # fmt: skip


@pytest.mark.parametrize("labels", [True, False])
def test_align_nir_table_equals_direct_snn_alignment(exported, capsys, tmp_path, labels):
    from analysis.snn import method, simulate
    from analysis.training._losses import max_over_time_cross_entropy
    from analysis.training._nir_alignment import MaxOverTimeCE, ReadoutMean

    root, cfg, params, x = exported
    data = root / ("d.npz" if labels else "x_only.npz")
    out = tmp_path / "a.json"
    argv = ["align", "--nir", root / "m.nir", "--data", data, *FAST, "--json", out]
    rc, stdout, err = run_cli(capsys, argv)
    assert rc == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0].startswith("network: n_in 6, hidden [5], n_out 3, readout integrator; batch 3, T 10")
    assert ("loss max_over_time_ce" in lines[0]) == labels and "beta 10" in lines[0]
    cols = ["epoch", "cos_trained", "sign_trained", "cos_stoch_matched", "sign_stoch_matched"]
    assert lines[1].split() == [*cols, "ref_snr", "ceiling"]
    cells = lines[2].split()
    assert len(cells) == 7 and cells[0] == "-"
    # the losses the module states (instances equal to the CLI's, so compiled samplers are shared)
    loss = MaxOverTimeCE() if labels else ReadoutMean()
    sim = simulate(params, jnp.asarray(x, jnp.float64), cfg, method("deterministic"))
    y = jnp.asarray([0, 1, 2])
    assert float(loss(sim, (x, y))) == float(
        max_over_time_cross_entropy(sim.output, y) if labels else jnp.mean(sim.output)
    )
    ref = _direct(cfg, params, x, np.array([0, 1, 2]) if labels else None, loss)
    got = json.loads(out.read_text())["row"]
    for name in ("trained", "stoch_matched"):
        assert got[f"cos_{name}"] == pytest.approx(ref[f"cos_{name}"], abs=1e-12)
        shown = f"{ref[f'cos_{name}']:.3f}+-{ref[f'cos_se_{name}']:.3f}"
        assert cells[1 if name == "trained" else 3] == shown
    assert -1 <= got["cos_trained"] <= 1 and got["n_ref"] == 20


def test_align_nir_errors_are_one_line(exported, capsys, tmp_path):
    root = exported[0]
    m, d = root / "m.nir", root / "d.npz"
    cases = [
        (["--nir", tmp_path / "nope.nir", "--data", d], r"--nir .*nope.nir does not exist"),
        (["--nir", m], r"--nir needs --data NPZ"),
        (["--nir", m, "--data", tmp_path / "no.npz"], r"--data .*no.npz does not exist"),
        (["--nir", m, "--data", m], r"--data .* is not a readable .npz"),
        (["--nir", d, "--data", d], r"--nir .* is not a readable NIR file"),
        (["--nir", m, "--data", d, "--beta", "-1"], r"beta must be a finite number > 0"),
        (["--nir", m, "--data", d, "--run", tmp_path], r"--run applies to a run folder, not to --nir"),
        (["--nir", m, "--data", d, "--shd-path", tmp_path], r"--shd-path applies to --run DIR only"),
        (["--data", d], r"--data applies to --nir FILE only"),
    ]
    for argv, pattern in cases:
        rc, out, err = run_cli(capsys, ["align", *argv])
        assert_one_line_error(rc, out, err, pattern)
    np.savez(tmp_path / "bad.npz", x=np.zeros((2, 5, 4)))
    rc, out, err = run_cli(capsys, ["align", "--nir", m, "--data", tmp_path / "bad.npz"])
    assert_one_line_error(rc, out, err, r"x must have shape \[B, T, 6\]")
    np.savez(tmp_path / "bady.npz", x=np.zeros((2, 5, 6)), y=np.array([0, 3]))
    rc, out, err = run_cli(capsys, ["align", "--nir", m, "--data", tmp_path / "bady.npz"])
    assert_one_line_error(rc, out, err, r"y must be labels in \[0, 3\)")
    np.savez(tmp_path / "nox.npz", z=np.zeros(2))
    rc, out, err = run_cli(capsys, ["align", "--nir", m, "--data", tmp_path / "nox.npz"])
    assert_one_line_error(rc, out, err, r"has no array x \(it has z\)")


@pytest.mark.slow
def test_align_nir_on_a_norse_export(tmp_path, capsys):
    """Norse 1.1.0: Linear -> LIFCell -> Linear -> LIBoxCell, exported by norse.torch.to_nir,
    written by write_nir_graph, analysed with --source norse (~7 s: torch and Norse import)."""
    torch = pytest.importorskip("torch", reason="the Norse peer needs torch")
    norse_torch = pytest.importorskip("norse.torch", reason="peer test against Norse (pip install norse)")
    from analysis.snn import write_nir_graph

    torch.manual_seed(0)
    model = norse_torch.SequentialState(
        torch.nn.Linear(6, 5, bias=False), norse_torch.LIFCell(),
        torch.nn.Linear(5, 3, bias=False), norse_torch.LIBoxCell(),
    )  # fmt: skip
    with torch.no_grad():
        model[0].weight.mul_(10.0)
    write_nir_graph(tmp_path / "norse.nir", norse_torch.to_nir(model, torch.zeros(1, 6)))
    x = (np.random.default_rng(0).random((3, 20, 6)) < 0.3).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=np.array([0, 1, 2]))
    argv = ["align", "--nir", tmp_path / "norse.nir", "--data", tmp_path / "d.npz", "--source", "norse"]
    argv += FAST
    rc, stdout, err = run_cli(capsys, argv)
    assert rc == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0].startswith("network: n_in 6, hidden [5], n_out 3, readout integrator")
    assert len(lines) == 3 and len(lines[2].split()) == 7


def test_align_nir_without_nir_names_the_extra(exported, capsys, monkeypatch):
    root = exported[0]
    monkeypatch.setitem(__import__("sys").modules, "nir", None)  # import nir raises ImportError
    rc, out, err = run_cli(capsys, ["align", "--nir", root / "m.nir", "--data", root / "d.npz"])
    assert_one_line_error(rc, out, err, r'needs the nir package: pip install "sgtheory\[nir\]"')


def test_nir_alignment_refuses_bad_network_and_options(exported):
    from analysis.training import RunAlignmentConfig, nir_alignment

    root, cfg, params, x = exported
    with pytest.raises(TypeError, match=r"\(SNNConfig, params\) pair"):
        nir_alignment((params, cfg), x)
    with pytest.raises(ValueError, match="source applies to a NIR path or graph"):
        nir_alignment((cfg, params), x, source="norse")
    with pytest.raises(ValueError, match="shd_path is used by shd runs only"):
        nir_alignment((cfg, params), x, config=RunAlignmentConfig(shd_path="data/shd"))
    with pytest.raises(FileNotFoundError, match="NIR file .*nope.nir does not exist"):
        nir_alignment(root / "nope.nir", x)
    with pytest.raises(ValueError, match=r"y must be integer labels of shape \(3,\)"):
        nir_alignment((cfg, params), x, np.array([0.0, 1.0, 2.0]))
