"""The shipped ``sgtheory compare`` specs give the numbers of the two-stack code they replaced.

tests/fixtures/compare_ede056b.json holds ``sgtheory compare SPEC --samples 500 --seed 0``
of the four shipped specs, computed before the Network estimators and the program
estimators became one stack. The exact value and gradient, and the mean of every estimator
whose definition did not change, must agree to 1e-12 (same key, same spikes). Two changed on
purpose: ``coupled_flip_sub`` draws its flip uniforms from one stream for every program
(fold_in(key, 0x5F11B), no longer fold_in(key, 1)) and orders a LIF network's variables
layer-major, so its samples differ; its mean must still agree with the old one within the
two runs' combined standard error (z <= 4.5 per coordinate: false-failure <= 1e-4 over the
specs' coordinates).
"""

import json
from pathlib import Path

import jax
import numpy as np
import pytest

from analysis.stochastic import estimate_many, exact_value_and_grad, flatten, load_spec

ROOT = Path(__file__).resolve().parents[2]
OLD = json.loads((ROOT / "tests/fixtures/compare_ede056b.json").read_text())
SPECS = ("chain", "feedforward", "lif", "recurrent")
SAME = (
    "sg_stochastic",
    "sg_deterministic",
    "score",
    "score_loo",
    "coupled_flip",
    "disarm",
    "linearised",
    "mean_field",
)


@pytest.mark.parametrize("spec", SPECS)
def test_shipped_spec_gives_the_same_numbers(spec):
    net, params, x, opts = load_spec(ROOT / f"analysis/stochastic/specs/{spec}.json")
    old = OLD[spec]
    value, grad = exact_value_and_grad(net, params, x)
    assert abs(float(value) - old["exact_value"]) <= 1e-12
    np.testing.assert_allclose(flatten(grad), old["exact_grad"], rtol=0, atol=1e-12)
    names = [nm for nm in (opts["estimators"] or list(OLD[spec]["estimators"])) if nm in old["estimators"]]
    est = jax.jit(
        lambda p: estimate_many(
            names, net, p, x, old["samples"], key=jax.random.key(old["seed"]), n_flips=opts["n_flips"]
        )
    )(params)
    for name in names:
        g = flatten(est[name], lead=1)
        mean, ref = g.mean(0), np.asarray(old["estimators"][name]["mean"])
        if name in SAME:
            np.testing.assert_allclose(mean, ref, rtol=0, atol=1e-12, err_msg=name)
        else:
            se = np.hypot(g.std(0, ddof=1) / np.sqrt(g.shape[0]), old["estimators"][name]["se"])
            assert np.all(np.abs(mean - ref) <= 4.5 * se + 1e-12), name
