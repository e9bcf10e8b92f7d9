"""Estimators (analysis.stochastic._estimators), the unbiasedness check and network specs
(their claims: tests/claims/; the compare command: tests/cli/test_compare.py)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis import escape_noise
from analysis.neuron import Surrogate
from analysis.stochastic import (
    UNBIASED,
    Network,
    check_unbiased,
    estimate,
    estimate_many,
    exact_value_and_grad,
    flatten,
    format_table,
    random_instance,
    summarize,
)


class _RaisingSurrogate(Surrogate):
    """A surrogate whose evaluation raises: any use of a spike derivative rule fails."""

    def __call__(self, z):
        raise RuntimeError("surrogate derivative was called")


def test_unbiased_estimators_pass_never_call_a_surrogate_and_sg_is_rejected():
    """Every unbiased estimator passes check_unbiased on a recurrent LIF network (the training
    simulator run as a program) whose surrogate raises when evaluated: score, coupled flip and
    DisARM never use a spike derivative rule; the stochastic SG (matched) is rejected. Soft
    escape noise (beta = 1.5): every coordinate of the gradient is carried by frequent events
    (min |grad| > 1e-4), so the z tests' normal approximation holds at n = 4000. Fixed keys;
    Holm at family-wise alpha = 1e-3 per estimator (false-failure rate <= 1e-3 each under the
    normal approximation, the five together <= 5e-3)."""
    net = Network(
        "lif",
        (2, 2, 1),
        escape_noise("sigmoid", 1.5),
        _RaisingSurrogate("superspike", 1.0),
        theta=0.3,
        steps=5,
        loss="mse",
        target=(0.4,),
        tau_mem=2.0,
        tau_syn=1.5,
        recurrent=True,
    )
    params, x = random_instance(jax.random.key(4), net, weight_scale=2.5, input_rate=0.7)
    with pytest.raises(RuntimeError, match="surrogate derivative was called"):
        estimate("sg_stochastic", net, params, x, 4, key=jax.random.key(1))  # the rule is live
    exact = exact_value_and_grad(net, params, x)[1]
    assert np.abs(flatten(exact)).min() > 1e-4
    n = 4000
    names = ("score", "score_loo", "coupled_flip", "coupled_flip_sub", "disarm")
    assert set(names) == set(UNBIASED)
    est = jax.jit(lambda p: estimate_many(names, net, p, x, n, key=jax.random.key(12), n_flips=2))(params)
    for name in names:
        rep = check_unbiased(None, params, n, key=jax.random.key(0), reference=exact, samples=est[name])
        assert rep.passed, (name, str(rep))
    matched = dataclasses.replace(net, surrogate=None)
    sg = jax.jit(lambda p: estimate("sg_stochastic", matched, p, x, n, key=jax.random.key(12)))(params)
    rep = check_unbiased(None, params, n, key=jax.random.key(0), reference=exact, samples=sg)
    assert not rep.passed, str(rep)


def test_estimators_return_per_sample_pytrees_and_reject_bad_names():
    net = Network("feedforward", (2, 3, 1), escape_noise("probit", 2.0), theta=0.1)
    params, x = random_instance(jax.random.key(0), net)
    out = jax.jit(
        lambda p: estimate_many(
            ("sg_deterministic", "score_loo", "coupled_flip_sub"), net, p, x, 5, key=jax.random.key(1)
        )
    )(params)
    for name, g in out.items():
        assert [v.shape for v in g] == [(5, 3, 2), (5, 1, 3)], name
    with pytest.raises(ValueError, match="valid names"):
        estimate("reinforce", net, params, x, 5, key=jax.random.key(0))
    with pytest.raises(ValueError, match="n_flips"):
        estimate("coupled_flip_sub", net, params, x, 5, key=jax.random.key(0), n_flips=0)
    with pytest.raises(ValueError, match="score_loo"):
        estimate("score_loo", net, params, x, 1, key=jax.random.key(0))


def test_check_unbiased_names_biased_coordinates_and_accepts_unbiased():
    p = jnp.array([1.0, -2.0, 0.5])
    shifted = lambda k, q: q + jnp.array([0.0, 0.3, 0.0]) + jax.random.normal(k, q.shape)
    rep = check_unbiased(shifted, p, 3000, key=jax.random.key(0), reference=p)
    assert not rep.passed and [d["coordinate"] for d in rep.disagreeing] == ["[1]"]
    fair = lambda k, q: q + 2 * jax.random.normal(k, q.shape)
    assert check_unbiased(
        fair, p, 3000, key=jax.random.key(1), other=lambda k, q: q + jax.random.uniform(k, q.shape) - 0.5
    ).passed
    with pytest.raises(ValueError, match="exactly one"):
        check_unbiased(fair, p, 10, key=jax.random.key(1))


def test_summarize_statistics_against_hand_computation():
    samples = jnp.array([[1.0, 0.0], [3.0, 2.0]])
    row = summarize("x", samples, jnp.array([2.0, 2.0]))
    assert row["cosine"] == pytest.approx(6 / np.sqrt(40))
    assert row["sign_agreement"] == 1.0 and row["variance"] == pytest.approx(4.0)
    assert row["rel_error"] == pytest.approx(1 / np.sqrt(8))
    assert "estimator" in format_table([row])


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda s: s.pop("kind"), "kind"),
        (lambda s: s["weights"][0].append([1.0]), "weights[0]"),
        (lambda s: s.update(escape_noise={"name": "nope", "beta": 1}), "escape_noise"),
        (lambda s: s.update(loss={"target": 1}), "loss.name"),
        (lambda s: s.update(colour="red"), "colour"),
        (lambda s: s.update(input=[1.0, "a"]), "input"),
        (lambda s: s.update(threshold="high"), "threshold"),
        (lambda s: s.update(n_flips=0), "n_flips"),
    ],
)
def test_invalid_specs_name_the_field(mutate, field):
    from analysis.stochastic import network_from_spec

    spec = {
        "kind": "feedforward",
        "weights": [[[1.0, 0.5]]],
        "input": [1.0, 0.0],
        "escape_noise": {"name": "sigmoid", "beta": 2.0},
        "loss": {"name": "mean"},
    }
    mutate(spec)
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        network_from_spec(spec)


def test_sg_equals_linearised_on_a_small_network():
    """Cheap default-suite version of the claim sg_equals_linearised_stochad (LIF, mismatched)."""
    from analysis import surrogate

    net = Network(
        "lif",
        (2, 2, 1),
        escape_noise("sigmoid", 3.0),
        surrogate("superspike", 2.0),
        theta=0.2,
        steps=5,
        loss="mse",
        target=(0.3,),
        tau_mem=4.0,
        tau_syn=2.0,
    )
    params, x = random_instance(jax.random.key(5), net, weight_scale=2.0)
    est = jax.jit(
        lambda p: estimate_many(("sg_stochastic", "linearised"), net, p, x, 16, key=jax.random.key(6))
    )(params)
    a, b = flatten(est["sg_stochastic"], lead=1), flatten(est["linearised"], lead=1)
    assert np.abs(a).max() > 0 and np.abs(a - b).max() <= 1e-12
