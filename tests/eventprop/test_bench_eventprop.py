"""proofs_numeric.bench.eventprop: the rule that picks BPTT's bin for an accuracy level."""

from proofs_numeric.bench import eventprop as bench


def _ladder(pairs):
    return [{"dt_ms": dt, "rel_loss": l, "spike_mismatch": s} for dt, l, s in pairs]


def test_pick_takes_the_largest_bin_meeting_both_tolerances():
    ladder = _ladder([(1.0, 0.002, 0.09), (0.1, 0.005, 0.008), (0.02, 0.0005, 0.001), (0.01, 0.0001, 0.0)])
    assert bench._pick(ladder, *bench.LEVELS["loose"]) == (1e-4, True)
    assert bench._pick(ladder, *bench.LEVELS["tight"]) == (2e-5, True)
    # the loss alone is not enough (1 ms: loss within 1 %, spikes 9 % off)
    assert bench._pick(ladder[:1], 0.01, 0.01) == (1e-3, False)


def test_pick_reports_the_smallest_bin_when_no_bin_is_accurate():
    ladder = _ladder([(0.1, 0.5, 0.5), (0.01, 0.2, 0.1)])
    assert bench._pick(ladder, 0.01, 0.01) == (1e-5, False)
