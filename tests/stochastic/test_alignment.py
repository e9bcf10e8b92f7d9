"""Alignment at scale (analysis.stochastic._alignment): the reference is validated against enumeration."""

import jax
import pytest

from analysis.stochastic import check_unbiased, estimate, exact_value_and_grad, random_instance
from analysis.stochastic._alignment import AlignmentConfig, _network, alignment_point, alignment_sweep


def test_alignment_reference_is_unbiased_on_an_enumerable_network():
    """The reference estimator of alignment_point (coupled_flip_sub, M flips) agrees with the
    exact gradient on a network small enough to enumerate (Holm, alpha 1e-3)."""
    cfg = AlignmentConfig(depth=1, width=2, steps=6, n_flips=3)
    net = _network(cfg)
    params, x = random_instance(jax.random.key(cfg.seed), net, cfg.weight_scale, 0.5)
    exact = exact_value_and_grad(net, params, x)[1]
    n = 4000
    g = jax.jit(lambda p: estimate("coupled_flip_sub", jax.random.key(3), net, p, x, n, n_flips=3))(params)
    rep = check_unbiased(None, jax.random.key(0), params, n, reference=exact, samples=g)
    assert rep.passed, str(rep)


@pytest.mark.slow
def test_alignment_point_reports_bounded_cosines_and_signs():
    row = alignment_point(AlignmentConfig(depth=1, width=4, steps=12, n_ref=300, n_sg=32, chunk=150))
    for m in ("stoch_matched", "stoch_mismatched", "det_matched", "det_mismatched"):
        assert -1.0 <= row[f"cos_{m}"] <= 1.0 and row[f"cos_se_{m}"] >= 0.0
    assert row["K"] == 4 * 12 and row["ref_snr"] > 0


def test_alignment_sweep_rejects_bad_profile_and_axis():
    with pytest.raises(ValueError, match="profile"):
        alignment_sweep("medium")
    with pytest.raises(ValueError, match="unknown axis"):
        alignment_sweep("quick", axes={"colour": (1,)})


def test_streamed_moments_equal_per_sample_statistics():
    """_batched keeps only segment sums and the sum of squares (O(P) memory); they equal the
    statistics of the stored per-sample gradients (n not a multiple of the chunk or of 10)."""
    import numpy as np

    from analysis.stochastic import draw_uniforms, estimate_from_uniforms
    from analysis.stochastic._alignment import _batched, _segments, flatten_jnp

    cfg = AlignmentConfig(depth=2, width=4, steps=8, n_flips=3)
    net = _network(cfg)
    params, x = random_instance(jax.random.key(1), net, cfg.weight_scale, cfg.input_rate)
    key, n, chunk = jax.random.key(2), 133, 40
    sums, sumsq = _batched("coupled_flip_sub", net, params, x, key, n, chunk, cfg.n_flips)
    per_sample = np.concatenate(
        [
            np.asarray(
                flatten_jnp(
                    estimate_from_uniforms(
                        "coupled_flip_sub",
                        net,
                        params,
                        x,
                        *draw_uniforms(jax.random.fold_in(key, c), net, chunk, 3, x.dtype),
                    )
                )
            )
            for c in range(4)
        ]
    )[:n]
    batch, half = _segments(n)
    for b in range(10):
        np.testing.assert_allclose(sums[b], per_sample[batch == b].sum(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sums[10], per_sample[: n // 2].sum(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sums[11], per_sample[n // 2 :].sum(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sumsq, (per_sample**2).sum(0), rtol=1e-12, atol=1e-12)
    assert np.abs(per_sample).sum() > 0


def test_fig8_plot_draws_given_rows(tmp_path):
    """figures.fig8_alignment.plot (used by ``sgtheory align --figure``) draws rows it is
    given, without recomputing them, and stores them beside the figure."""
    import dataclasses
    import json

    from analysis.stochastic import METHODS
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
    assert {p.suffix for p in paths} == {".png", ".pdf", ".json"} and all(p.stat().st_size > 0 for p in paths)
    saved = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert saved["rows"] == rows
    assert build_parser().parse_args(["align", "--figure", str(tmp_path)]).figure == str(tmp_path)
