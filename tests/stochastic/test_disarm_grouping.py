"""DisARM's grouping: one group per draw is unbiased; uniting dependent draws is biased.

A feedforward network's second layer draws from probabilities that depend on the first
layer's spikes, so a group uniting the two layers (as "a union of layers within one step")
is not conditionally independent and DisARM is biased there (Dong, Mnih & Tucker 2020
need independent Bernoullis within a group). The default grouping (one group per draw)
must pass the unbiasedness test at a sample size that sees a 5 % relative bias with
probability >= 0.99; the united grouping must be rejected at the same size.
"""

import jax
import numpy as np
import pytest
from scipy import stats

from analysis import escape_noise
from analysis.stochastic import Network, check_unbiased, exact_value_and_grad, flatten, random_instance
from analysis.stochastic._estimators import _disarm_one

N = 200_000  # 0.5 s of DisARM samples on this network
ALPHA = 1e-3  # family-wise false-rejection rate of each check_unbiased call (Holm)
REL_BIAS = 0.05
Z_POWER = stats.norm.ppf(0.99)


@pytest.fixture(scope="module")
def setup():
    net = Network(
        "feedforward", (2, 2, 2), escape_noise("sigmoid", 2.0), theta=0.2, loss="mse", target=(1.0, 0.0)
    )
    program = net.program()
    params, x = random_instance(jax.random.key(1), net, weight_scale=1.5)
    exact = exact_value_and_grad(program, params, x)[1]
    u = program.draw_uniforms(jax.random.key(1), N)
    united = {name: np.zeros(1, int) for name, _ in program.sites}  # both layers: one group

    @jax.jit
    def draw(u):
        default = jax.vmap(lambda ui: _disarm_one(program, params, x, ui))(u)
        joined = jax.vmap(lambda ui: _disarm_one(program, params, x, ui, united))(u)
        return default, joined

    default, joined = draw(u)
    return params, exact, default, joined


def test_power_to_see_a_five_percent_relative_bias(setup):
    """A bias of 5 % of grad E[L] along grad E[L] is detected with probability >= 0.99: in the
    best-measured coordinate its z exceeds the Bonferroni critical value by z_0.99."""
    params, exact, default, _ = setup
    g, samples = flatten(exact), flatten(default, lead=1)
    se = samples.std(0, ddof=1) / np.sqrt(N)
    z_crit = stats.norm.isf(ALPHA / (2 * g.size))
    z_of_bias = np.abs(REL_BIAS * g) / se
    assert z_of_bias.max() >= z_crit + Z_POWER, (z_of_bias.max(), z_crit)
    # positive control: the same samples shifted by that bias are rejected
    shifted = jax.tree_util.tree_map(lambda s, e: s + REL_BIAS * e, default, exact)
    rep = check_unbiased(
        None, params, N, key=jax.random.key(0), reference=exact, samples=shifted, alpha=ALPHA
    )
    assert not rep.passed


def test_one_group_per_draw_is_unbiased(setup):
    """Fails by chance with probability <= ALPHA = 1e-3."""
    params, exact, default, _ = setup
    rep = check_unbiased(
        None, params, N, key=jax.random.key(0), reference=exact, samples=default, alpha=ALPHA
    )
    assert rep.passed, str(rep)


def test_uniting_dependent_layers_is_biased(setup):
    """The united grouping's relative bias (about 5 %) is rejected at the same n."""
    params, exact, _, joined = setup
    g, mean = flatten(exact), flatten(joined, lead=1).mean(0)
    assert np.linalg.norm(mean - g) / np.linalg.norm(g) > 0.02
    rep = check_unbiased(None, params, N, key=jax.random.key(0), reference=exact, samples=joined, alpha=ALPHA)
    assert not rep.passed
