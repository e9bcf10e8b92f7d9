"""The ceiling-targeted reference of snn_alignment (AlignmentBudget.ref_ceiling): the size
rule against a naive computation and a Monte Carlo split-half ceiling, the pilot's
independence from the reference samples (n recorded, the reference the mean of exactly n
fresh samples), one compilation per network, and the DisARM reference against exact
enumeration."""

import math

import jax
import numpy as np
import pytest

from analysis.stochastic import AlignmentBudget, AlignmentConfig, snn_program
from analysis.stochastic._alignment import (
    _PILOT_TAG,
    _reference,
    _reference_sampler,
    reference_size,
)
from analysis.stochastic._alignment_stats import _moments, _moments_jit, _reference_stats
from tests.stochastic._enumerable import SMALL, case, flat, small_networks

TINY = {
    **small_networks(),  # enumerable: K = 12 spike variables each
    # two hidden layers of one neuron, recurrent: the wavefront groups join draws of both
    "deep": AlignmentConfig(**{**SMALL, "width": 1, "depth": 2}, recurrent=True),
}


def _case(kind):
    """(cfg, net, params, x, loss, program, exact gradient by enumeration) of TINY[kind]."""
    return case(TINY[kind])


def _naive_size(samples, target, n_min, n_max, chunk):
    """The size rule written out: r = tr C / (|m|^2 - tr C / n0), n = 2 r c / (1 - c)."""
    n0 = len(samples)
    m = [sum(s[j] for s in samples) / n0 for j in range(len(samples[0]))]
    tr = sum(sum((s[j] - m[j]) ** 2 for s in samples) / (n0 - 1) for j in range(len(m)))
    signal = sum(v * v for v in m) - tr / n0
    if signal <= 0:
        return n_max
    want = 2 * (tr / signal) * target / (1 - target)
    n = n_max if want >= n_max else chunk * math.ceil(want / chunk)
    return min(max(n, n_min), n_max)


@pytest.mark.parametrize("scale", [0.3, 3.0, 30.0])
def test_reference_size_against_the_rule_written_out(scale):
    """Pilot samples g + noise: n from the moments equals the loop's n; a small ratio r is
    clipped up to n_min, a large one down to n_max, and an unresolved pilot (|m|^2 below
    its noise; here a pilot whose mean is exactly 0) gives r = inf and n_max."""
    rng = np.random.default_rng(1)
    samples = rng.normal(1.0, scale, (40, 5))
    for target, n_min, n_max, chunk in ((0.95, 20, 400, 7), (0.8, 50, 10_000, 1), (0.99, 20, 60, 20)):
        n, r = reference_size(samples.sum(0), (samples**2).sum(0), 40, target, n_min, n_max, chunk)
        assert n == _naive_size(samples.tolist(), target, n_min, n_max, chunk)
        assert n_min <= n <= n_max
    n, r = reference_size(samples.sum(0), (samples**2).sum(0), 40, 0.95, 20, 10**6)
    if scale == 0.3:
        assert n == 20  # 2 r 0.95 / 0.05 < 20
    else:
        assert 20 < n < 10**6 and n == _naive_size(samples.tolist(), 0.95, 20, 10**6, 1)
    symmetric = np.concatenate([samples, -samples])
    n, r = reference_size(symmetric.sum(0), (symmetric**2).sum(0), 80, 0.95, 20, 500)
    assert n == 500 and r == float("inf")


def test_reference_size_reaches_the_target_ceiling_in_monte_carlo():
    """With the true r (P = 400 coordinates, isotropic Gaussian noise, r = 25), n = 2 r c /
    (1 - c) samples give a mean split-half cosine within 0.004 of c = 0.9 over 300 replicates
    (the half means drawn exactly as N(g, 2 C / n)); the SE of that mean is about 0.0006,
    and the first-order rule's own error at this P is about 1e-3, so 0.004 fails by chance
    with probability < 1e-9."""
    rng = np.random.default_rng(7)
    P, c, r = 400, 0.9, 25.0
    g = rng.normal(0.0, 1.0, P)
    sigma2 = r * (g @ g) / P  # tr C = P sigma2 = r |g|^2
    n = round(2 * r * c / (1 - c))
    halves = g + rng.normal(0.0, np.sqrt(2 * sigma2 / n), (300, 2, P))
    a, b = halves[:, 0], halves[:, 1]
    cos = np.sum(a * b, 1) / np.sqrt(np.sum(a * a, 1) * np.sum(b * b, 1))
    assert cos.std() / np.sqrt(len(cos)) < 0.001
    assert abs(cos.mean() - c) < 0.004
    # and the rule, given the moments of 10^6 samples of that distribution (exact mean and
    # second moment), returns that n (rounded up; ddof 1 inflates tr C by 1e-6)
    n0 = 10**6
    sums, sumsq = g * n0, n0 * (g**2 + sigma2)
    assert reference_size(sums, sumsq, n0, c, 20, 10**6)[0] in (n, n + 1)


_SLOW = pytest.mark.slow


def _budget(**kw):
    base = dict(n_ref=400, n_sg=8, chunk=50, estimator="disarm", ref_ceiling=0.99, n_pilot=20)
    return AlignmentBudget(**{**base, **kw})


def test_adaptive_reference_is_n_fresh_samples_within_min_and_max_and_compiles_once():
    """The reference is the mean of exactly the recorded n samples drawn with the reference
    key (the pilot's key is fold_in(key, _PILOT_TAG), its samples are not reused); n follows
    reference_size of the pilot's moments; a target below what n_ref_min gives -> n_ref_min,
    above what n_ref allows -> n_ref; the pilot and every reference chunk of every size share
    one compiled step (jax.jit cache size 1)."""
    cfg, net, params, x, loss, program, _ = _case("dense")
    key = jax.random.key(11)
    ref, se, ceiling, _, size = _reference(program, params, x, key, _budget(), None)
    chunk = 20  # _balanced(n_pilot = 20, min(memory fit, 20))
    sample = _reference_sampler(program, chunk, 8, "disarm")
    pilot = _moments(sample, (params, x, jax.random.fold_in(key, _PILOT_TAG)), 20, chunk)
    n, ratio = reference_size(pilot[0][:10].sum(0), pilot[1], 20, 0.99, 20, 400, chunk)
    assert size == {"n_ref": n, "ratio": ratio} and 20 < n < 400 and n % chunk == 0
    again = _reference_stats(*_moments(sample, (params, x, key), n, chunk), n)
    np.testing.assert_array_equal(ref, again[0])
    assert ceiling == again[2]
    low = _reference(program, params, x, key, _budget(ref_ceiling=0.01, n_ref_min=60), None)[4]
    high = _reference(program, params, x, key, _budget(ref_ceiling=0.999, n_ref=120), None)[4]
    assert low["n_ref"] == 60 and high["n_ref"] == 120 and low["ratio"] == ratio
    assert _moments_jit(sample)._cache_size() == 1


@pytest.mark.parametrize(
    "kind,estimator",
    [
        ("dense", "disarm"),
        ("deep", "disarm_wavefront"),
        pytest.param("recurrent", "disarm", marks=_SLOW),
        pytest.param("conv1d", "disarm", marks=_SLOW),
        pytest.param("deep", "disarm", marks=_SLOW),
    ],
)
def test_adaptive_disarm_reference_agrees_with_enumeration(kind, estimator):
    """The DisARM reference (one group per draw, or the wavefront groups t + l, whose
    validity rests on the network's structure: tested on two recurrent layers of one neuron;
    at this size an invalid grouping (layer 1 at step t with layer 0 at t - 1, on which it
    depends) was not detected with 20000 samples either, max |z| 1.3, so this guards against
    gross errors only; the argument is in _wavefront_groups' docstring) whose size
    the pilot picks (target ceiling 0.999, at most 4000) vs the exact gradient by
    enumeration: every coordinate within 4.5 SE (Bonferroni over the
    <= 20 coordinates: false-failure rate < 20 * 6.8e-6 = 1.4e-4 per network), up to
    round-off. Where no sample moved a coordinate (SE exactly 0) the estimate may miss up to
    1e-5 (4e-5 of the gradient's norm): DisARM reaches a coordinate only through the sampled
    spikes, and e.g. a recurrent weight out of a neuron that spikes with probability << 1/4000
    per sample has a mean of -3e-6 that 4000 samples do not resolve (coupled_flip_sub,
    which forces flips, does)."""
    cfg, net, params, x, loss, program, exact = _case(kind)
    budget = _budget(n_ref=4000, ref_ceiling=0.999, estimator=estimator)
    ref, se, ceiling, _, size = _reference(program, params, x, jax.random.key(5), budget, None)
    ex = flat(exact)
    assert np.abs(ex).max() > 1e-3 and se.max() > 0 and size["n_ref"] >= 200
    unresolved = np.where(se == 0, 1e-5, 0.0)
    np.testing.assert_array_less(np.abs(ref - ex), 4.5 * se + 1e-10 + unresolved)


def test_budget_and_config_reject_bad_sizes():
    for kw, match in (
        ({"estimator": "score"}, "estimator must be one of"),
        ({"ref_ceiling": 1.0}, "ref_ceiling"),
        ({"ref_ceiling": 0.0}, "ref_ceiling"),
        ({"ref_ceiling": True}, "ref_ceiling"),
        ({"ref_ceiling": "0.9"}, "ref_ceiling"),
        ({"n_ref_min": 10}, "n_ref_min must be at least 20"),
        ({"n_ref_min": 3000}, r"n_ref_min \(3000\) must not exceed n_ref \(2000\)"),
        ({"n_pilot": 1}, "n_pilot must be at least 2"),
    ):
        with pytest.raises(ValueError, match=match):
            AlignmentBudget(**kw)
        with pytest.raises(ValueError, match=match):
            AlignmentConfig(**kw)
    assert AlignmentConfig(estimator="disarm", ref_ceiling=0.9).budget() == AlignmentBudget(
        estimator="disarm", ref_ceiling=0.9
    )


def test_wavefront_groups_of_an_snn_program():
    """Draw t of layer l (readout = layer L) in group t + l: for 3 hidden layers, a LIF
    readout and 5 steps, T + L = 8 groups instead of 20; a program whose sites are not an
    snn_program's is refused."""
    from analysis.snn import SNNConfig
    from analysis.stochastic import Program
    from analysis.stochastic._alignment import _wavefront_groups
    from analysis.stochastic._alignment_sweep import RateMSE

    cfg = AlignmentConfig(depth=3, width=2, steps=5)
    net = cfg.snn()
    assert isinstance(net, SNNConfig) and net.readout == "lif"
    groups = _wavefront_groups(snn_program(net, cfg.method(), RateMSE((0.1,) * 4), 2, 5))
    assert set(groups) == {"layer0", "layer1", "layer2", "readout"}
    for off, name in enumerate(("layer0", "layer1", "layer2", "readout")):
        np.testing.assert_array_equal(groups[name], np.arange(5) + off)
    coin = Program(lambda w, x, src: src.bernoulli("c", jax.nn.sigmoid(w * x), 0).sum(), {"c": (1, 3)})
    with pytest.raises(ValueError, match="disarm_wavefront needs an snn_program"):
        _wavefront_groups(coin)
