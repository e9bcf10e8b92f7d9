"""Alignment at scale on analysis.snn networks (analysis.stochastic._alignment): the sampled
reference is checked against exact enumeration, the cosines the tool reports against cosines
computed directly from independently computed gradients, the matched stochastic SG of the
program against the training path on the same spikes, and the streamed moments against the
stored per-sample gradients."""

import dataclasses

import jax
import numpy as np
import pytest

from analysis.neuron import surrogate
from analysis.snn import Method, simulate
from analysis.stochastic import (
    AlignmentBudget,
    AlignmentConfig,
    alignment_sweep,
    cosine,
    estimate,
    snn_alignment,
)
from analysis.stochastic._alignment import REFERENCE, _reference_sampler, _sg_sampler, default_variants
from analysis.stochastic._alignment_stats import _moments, _reference_stats, _segments, flatten_jnp
from tests.stochastic._enumerable import case, flat, small_networks

TINY = small_networks(n_ref=4000)  # enumerable: K = 12 spike variables each


def _case(kind):
    return case(TINY[kind])


@pytest.mark.parametrize("kind", sorted(TINY))
def test_sampled_reference_agrees_with_enumeration(kind):
    """The streamed reference (coupled_flip_sub, chunks of 1000, 4000 samples) vs the exact
    gradient by enumeration: every coordinate within 4.5 SE (Bonferroni over the <= 20
    coordinates: false-failure rate < 20 * 6.8e-6 = 1.4e-4 per network), up to round-off."""
    cfg, net, params, x, loss, program, exact = _case(kind)
    sample = _reference_sampler(program, 1000, cfg.n_flips)
    moments = _moments(sample, (params, x, jax.random.key(5)), cfg.n_ref, 1000)
    ref, se, ceiling, _ = _reference_stats(*moments, cfg.n_ref)
    ex = flat(exact)
    assert np.abs(ex).max() > 1e-3 and se.max() > 0
    assert REFERENCE == "coupled_flip_sub"
    # 1e-10: round-off where the gradient is exactly 0 (kernel taps that never see input)
    np.testing.assert_array_less(np.abs(ref - ex), 4.5 * se + 1e-10)


@pytest.mark.parametrize("kind", ["recurrent", pytest.param("conv1d", marks=pytest.mark.slow)])
def test_reported_cosines_equal_direct_cosines(kind):
    """With the exact gradient given as the reference, the tool's cos_det_* equal the cosine of
    jax.grad through the deterministic simulator, and cos_stoch_mismatched the cosine of the
    mean of jax.grad through the stochastic simulator over the same keys (fold_in of the SG key)."""
    cfg, net, params, x, loss, program, exact = _case(kind)
    key, n_sg = jax.random.key(9), 6
    mism = surrogate("superspike", cfg.beta_mismatch)
    variants = default_variants(cfg.method(), mism)
    row = snn_alignment(
        net,
        params,
        x,
        loss,
        key=key,
        method=cfg.method(),
        budget=AlignmentBudget(n_sg=n_sg, chunk=4),
        variants=variants,
        reference=exact,
    )
    ex = flat(exact)
    for name in ("det_matched", "det_mismatched"):
        g = flat(jax.grad(lambda p, m=variants[name]: loss(simulate(p, x, net, m), x))(params))
        assert row[f"cos_{name}"] == pytest.approx(cosine(g, ex), abs=1e-12)
        assert row[f"sign_{name}"] == pytest.approx(np.mean(np.sign(g[ex != 0]) == np.sign(ex[ex != 0])))
    k_sg = jax.random.split(key)[1]
    m = variants["stoch_mismatched"]
    keys = [jax.random.fold_in(k_sg, i) for i in range(n_sg)]
    gs = [flat(jax.grad(lambda p, k=k: loss(simulate(p, x, net, m, key=k), x))(params)) for k in keys]
    assert row["cos_stoch_mismatched"] == pytest.approx(cosine(np.mean(gs, 0), ex), abs=1e-12)
    assert row["reference"] == "given" and np.isnan(row["ceiling"]) and row["K"] == 12


@pytest.mark.parametrize("kind", sorted(TINY))
def test_program_sg_sees_the_spikes_of_the_training_path(kind):
    """stoch_matched (program estimator, uniforms snn_uniforms(key_i)) equals jax.grad of the
    training path simulate(..., Method('stochastic'), key_i) sample by sample."""
    cfg, net, params, x, loss, *_ = _case(kind)
    from analysis.stochastic._alignment import _Loss

    wrapped = _Loss(loss, cfg.method().hidden_noise, cfg.method().output_noise)
    key = jax.random.key(4)
    prog = jax.jit(lambda a: _sg_sampler(net, None, wrapped, 8)(a, 1))((params, x, key))
    train = jax.jit(lambda a: _sg_sampler(net, cfg.method(), wrapped, 8)(a, 1))((params, x, key))
    assert np.abs(np.asarray(prog)).max() > 0
    np.testing.assert_allclose(prog, train, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(TINY))
def test_deterministic_variant_equals_the_program_estimator(kind):
    """det_matched (jax.grad through simulate with Method('deterministic')) equals the program
    estimator sg_deterministic (Heaviside source 1[z > 0], matched derivative) on the same network."""
    cfg, net, params, x, loss, program, _ = _case(kind)
    det = default_variants(cfg.method(), surrogate("superspike", 20.0))["det_matched"]
    g = flat(jax.grad(lambda p: loss(simulate(p, x, net, det), x))(params))
    prog = np.asarray(flatten_jnp(estimate("sg_deterministic", program, params, x, 1, key=jax.random.key(0))))
    assert np.abs(g).max() > 0
    np.testing.assert_allclose(prog[0], g, rtol=1e-9, atol=1e-12)


def test_streamed_moments_equal_per_sample_statistics():
    """_moments keeps only segment sums and the sum of squares (O(P) memory); they equal the
    statistics of the stored per-sample gradients (n not a multiple of the chunk or of 10)."""
    cfg, net, params, x, loss, program, _ = _case("recurrent")
    key, n, chunk = jax.random.key(2), 133, 40
    sample = _reference_sampler(program, chunk, 3)
    sums, sumsq = _moments(sample, (params, x, key), n, chunk)
    per_sample = np.concatenate([np.asarray(jax.jit(sample)((params, x, key), c)) for c in range(4)])[:n]
    batch, half = _segments(n)
    for b in range(10):
        np.testing.assert_allclose(sums[b], per_sample[batch == b].sum(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sums[10], per_sample[: n // 2].sum(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sums[11], per_sample[n // 2 :].sum(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sumsq, (per_sample**2).sum(0), rtol=1e-12, atol=1e-12)
    assert np.abs(per_sample).sum() > 0


_SLOW = pytest.mark.slow


@_SLOW
@pytest.mark.parametrize("kind", ["dense", "recurrent", "conv1d"])
def test_alignment_point_on_each_connectivity(kind):
    """Mechanics of a full row on a small (not enumerable) network of each kind (10-20 s each)."""
    from analysis.stochastic import alignment_point

    extra = {"recurrent": {"recurrent": True}, "conv1d": {"connectivity": "conv1d", "width": 6}}.get(kind, {})
    cfg = AlignmentConfig(
        **{"depth": 2, "width": 4, "steps": 8, "n_ref": 100, "n_sg": 16, "chunk": 50, **extra}
    )
    row = alignment_point(cfg)
    for m in ("stoch_matched", "stoch_mismatched", "det_matched", "det_mismatched"):
        assert -1.0 <= row[f"cos_{m}"] <= 1.0 and row[f"cos_se_{m}"] >= 0.0
        assert len(row[f"loo_cos_{m}"]) == 10
    per_bin = 2 * 4 + 4 if kind != "conv1d" else 2 * (6 - 2) + 2 * (6 - 4) + 4  # hidden + readout
    assert row["K"] == cfg.batch * 8 * per_bin
    assert row["ref_snr"] > 0 and row["connectivity"] == cfg.connectivity


def test_alignment_sweep_and_config_reject_bad_input():
    with pytest.raises(ValueError, match="profile"):
        alignment_sweep("medium")
    with pytest.raises(ValueError, match="unknown axis"):
        alignment_sweep("quick", axes={"colour": (1,)})
    with pytest.raises(ValueError, match="n_ref must be at least 20"):
        AlignmentConfig(n_ref=10)
    with pytest.raises(ValueError, match="input_rate"):
        AlignmentConfig(input_rate=1.5)
    with pytest.raises(ValueError, match="unknown connectivity"):
        dataclasses.replace(AlignmentConfig(), connectivity="sparse").snn()
    from analysis.stochastic import alignment_point

    for methods in (("stoch_matched", "nope"), ()):
        with pytest.raises(ValueError, match="methods must be a non-empty subset"):
            alignment_point(AlignmentConfig(), methods)
    cfg, net, params, x, loss, *_ = _case("dense")
    with pytest.raises(ValueError, match="stochastic analysis.snn.Method"):
        snn_alignment(net, params, x, loss, key=jax.random.key(0), method=Method("deterministic"))


def test_fig8_plot_draws_given_rows(tmp_path):
    """figures.fig8_alignment.plot (used by ``sgtheory align --figure``) draws rows it is
    given, without recomputing them, and stores them beside the figure."""
    import json

    from analysis.stochastic._alignment_sweep import METHODS
    from figures.fig8_alignment import plot
    from proofs_numeric.cli import build_parser

    base = AlignmentConfig(depth=2, width=8, steps=10, beta=5.0)
    axes = {"depth": (1, 2, 3), "width": (4, 8), "steps": (10, 20), "beta": (2.0, 5.0)}
    cfgs = [base] + [
        dataclasses.replace(base, **{a: v}) for a, vs in axes.items() for v in vs if getattr(base, a) != v
    ]
    rows = [
        {
            "depth": c.depth,
            "width": c.width,
            "steps": c.steps,
            "beta": c.beta,
            "ceiling": 0.9,
            **{f"cos_{m}": 0.5 + 0.1 * k for k, m in enumerate(METHODS)},
            **{f"cos_se_{m}": 0.01 for m in METHODS},
        }
        for c in cfgs
    ]
    paths = plot(rows, base, axes, tmp_path)
    assert {p.suffix for p in paths} == {".svg", ".png", ".pdf", ".json"} and all(
        p.stat().st_size > 0 for p in paths
    )
    saved = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert saved["rows"] == rows
    assert build_parser().parse_args(["align", "--figure", str(tmp_path)]).figure == str(tmp_path)


def _naive_cos(a, b):
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def test_paired_jackknife_against_a_naive_one():
    """leave_one_out_cosines / paired_cos_difference vs a loop that deletes batch i of the
    per-sample reference and SG arrays and recomputes both cosines; jackknife_se of the
    leave-one-out means of single-sample groups is the usual standard error of a mean."""
    from analysis.stochastic import paired_cos_difference
    from analysis.stochastic._alignment_stats import jackknife_se, leave_one_out_cosines

    rng = np.random.default_rng(3)
    n_ref, n_sg, P = 53, 37, 6
    R = rng.normal(1.0, 2.0, (n_ref, P))
    Ga = R[:n_sg] * 0.3 + rng.normal(0.8, 1.0, (n_sg, P))  # correlated with each other
    Gb = Ga + rng.normal(0.2, 0.5, (n_sg, P))
    b_ref, b_sg = _segments(n_ref)[0], _segments(n_sg)[0]

    def sums(X, ids):
        out = np.zeros((10, X.shape[1]))
        np.add.at(out, ids, X)
        return out, np.bincount(ids, minlength=10)

    loo = {
        k: leave_one_out_cosines(G.mean(0), *sums(R, b_ref), *sums(G, b_sg))
        for k, G in (("a", Ga), ("b", Gb))
    }
    naive = {
        k: [_naive_cos(G[b_sg != i].mean(0), R[b_ref != i].mean(0)) for i in range(10)]
        for k, G in (("a", Ga), ("b", Gb))
    }
    for k in loo:
        np.testing.assert_allclose(loo[k], naive[k], rtol=1e-12)
    d = np.subtract(naive["a"], naive["b"])
    se_naive = np.sqrt(9 / 10 * np.sum((d - d.mean()) ** 2))
    row = {
        "cos_a": _naive_cos(Ga.mean(0), R.mean(0)),
        "cos_b": _naive_cos(Gb.mean(0), R.mean(0)),
        "loo_cos_a": list(loo["a"]),
        "loo_cos_b": list(loo["b"]),
    }
    diff, se = paired_cos_difference(row, "a", "b")
    assert diff == pytest.approx(row["cos_a"] - row["cos_b"]) and se == pytest.approx(se_naive, rel=1e-10)
    # g fixed: only the reference's batches are deleted
    fixed = leave_one_out_cosines(Ga.mean(0), *sums(R, b_ref))
    np.testing.assert_allclose(fixed, [_naive_cos(Ga.mean(0), R[b_ref != i].mean(0)) for i in range(10)])
    x = rng.normal(size=10)
    assert jackknife_se([(x.sum() - v) / 9 for v in x]) == pytest.approx(x.std(ddof=1) / np.sqrt(10))
    with pytest.raises(ValueError, match="at least 2"):
        jackknife_se([1.0])
    assert paired_cos_difference({**row, "loo_cos_b": None}, "a", "b")[1] == 0.0
