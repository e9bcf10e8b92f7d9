"""Every integer argument of the enumeration and estimator APIs is validated up front.

Each bad value (a bool, zero or a negative count, a float, a string, an absurd size) must
raise one clear error naming the argument, before anything is computed.
"""

import re

import jax
import jax.numpy as jnp
import pytest

from analysis import escape_noise
from analysis.stochastic import (
    AlignmentBudget,
    Network,
    check_unbiased,
    compare_estimators,
    estimate,
    estimate_many,
    estimator_memory,
    exact_mean,
    exact_sg_mean,
    exact_value_and_grad,
    spike_probability_range,
)

NET = Network("feedforward", (1, 1, 1), escape_noise("sigmoid", 2.0), theta=0.2)
PARAMS = (jnp.ones((1, 1)), jnp.ones((1, 1)))
X = jnp.ones(1)
KEY = jax.random.key(0)
BAD = [True, 0, -3, 2.5, "4", None]


def _one(params, inputs, spikes):
    return jnp.ones(())


CALLS = {
    "exact_value_and_grad max_k": lambda v: exact_value_and_grad(NET, PARAMS, X, max_k=v),
    "exact_value_and_grad chunk": lambda v: exact_value_and_grad(NET, PARAMS, X, chunk=v),
    "exact_mean chunk": lambda v: exact_mean(NET, PARAMS, X, _one, chunk=v),
    "exact_mean max_k": lambda v: exact_mean(NET, PARAMS, X, _one, max_k=v),
    "exact_sg_mean chunk": lambda v: exact_sg_mean(NET, PARAMS, X, chunk=v),
    "spike_probability_range max_k": lambda v: spike_probability_range(NET, PARAMS, X, max_k=v),
    "estimate n": lambda v: estimate("score", NET, PARAMS, X, v, key=KEY),
    "estimate n_flips": lambda v: estimate("coupled_flip_sub", NET, PARAMS, X, 4, key=KEY, n_flips=v),
    "estimate_many n": lambda v: estimate_many(["score"], NET, PARAMS, X, v, key=KEY),
    "estimator_memory n": lambda v: estimator_memory("score", NET, PARAMS, v),
    "estimator_memory itemsize": lambda v: estimator_memory("score", NET, PARAMS, 4, itemsize=v),
    "compare_estimators n": lambda v: compare_estimators(NET, PARAMS, X, ["score"], v, key=KEY),
    "check_unbiased n": lambda v: check_unbiased(None, PARAMS, v, key=KEY, reference=PARAMS, samples=PARAMS),
    "AlignmentBudget chunk": lambda v: AlignmentBudget(chunk=v),
    "AlignmentBudget n_ref": lambda v: AlignmentBudget(n_ref=v),
}


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("call", list(CALLS))
def test_bad_integer_is_refused_naming_the_argument(call, bad):
    name = call.split()[-1]
    with pytest.raises((ValueError, TypeError)) as err:
        CALLS[call](bad)
    message = str(err.value)
    assert re.search(rf"\b{name}\b", message), message
    assert "\n" not in message


@pytest.mark.parametrize("call", ["exact_value_and_grad chunk", "exact_mean chunk"])
def test_absurd_chunk_is_refused(call):
    with pytest.raises(ValueError, match="chunk"):
        CALLS[call](2**40)
