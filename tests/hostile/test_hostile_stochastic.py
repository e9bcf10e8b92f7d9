"""Hostile inputs for ``sgtheory compare`` and the public API of analysis.neuron and
analysis.stochastic: each bad input gets one clear line (command line: exit 2, no
traceback) or exception before anything is computed; each extreme but legal input gives a
finite value checked against a reference.

Tables: COMPARE_SPECS (a spec file with one defect), COMPARE_ARGS (bad options or paths),
API_ERRORS (library calls), and the extreme-but-legal checks at the end.
"""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.neuron import (
    ESCAPE_NOISE_NAMES,
    SURROGATE_NAMES,
    bernoulli_spike,
    bernoulli_spike_from_uniform,
    escape_noise,
    heaviside_spike,
    surrogate,
)
from analysis.stochastic import (
    Network,
    check_unbiased,
    compare_estimators,
    compare_spec,
    estimate,
    estimate_many,
    exact_value_and_grad,
    load_spec,
    network_from_spec,
)
from tests.helpers import assert_one_line_error, run_cli

BASE = {
    "kind": "feedforward",
    "weights": [[[0.8]], [[1.5]]],
    "input": [1.2],
    "threshold": 0.5,
    "escape_noise": {"name": "sigmoid", "beta": 3.0},
    "loss": {"name": "mean"},
}
LIF = {
    "kind": "lif",
    "weights": [[[1.5]]],
    "input": [[1.0], [0.0]],
    "threshold": 0.2,
    "escape_noise": {"name": "sigmoid", "beta": 4.0},
    "loss": {"name": "mean"},
    "lif": {"tau_mem": 5.0, "tau_syn": 2.0},
}


def spec_with(base=BASE, **changes):
    spec = json.loads(json.dumps(base))
    for path, value in changes.items():
        *head, last = path.split("__")
        d = spec
        for h in head:
            d = d[h]
        if value is DELETE:
            del d[last]
        else:
            d[last] = value
    return spec


DELETE = object()
NAN, INF = float("nan"), float("inf")

# (id, spec dict or raw text, regex of the one-line error)
COMPARE_SPECS = [
    # NaN / inf
    ("mse-target-nan", spec_with(loss={"name": "mse", "target": [NAN]}), r"target.*NaN"),
    ("mse-target-inf", spec_with(loss={"name": "mse", "target": [INF]}), r"target.*NaN or infinite"),
    ("input-nan", spec_with(input=[NAN]), r"'input'.*NaN"),
    ("weights-nan", spec_with(weights=[[[NAN]], [[1.5]]]), r"'weights\[0\]'.*NaN"),
    ("weights-inf", spec_with(weights=[[[0.8]], [[-INF]]]), r"'weights\[1\]'.*infinite"),
    ("threshold-nan", spec_with(threshold=NAN), r"'threshold' must be a finite number"),
    ("noise-beta-nan", spec_with(escape_noise__beta=NAN), r"escape_noise.*beta must be a finite number > 0"),
    ("noise-beta-inf", spec_with(escape_noise__beta=INF), r"escape_noise.*beta must be a finite number > 0"),
    ("noise-p0-nan", spec_with(escape_noise__p0=NAN), r"escape_noise.*p0 must be finite"),
    ("lif-dt-nan", spec_with(LIF, lif__dt=NAN), r"lif\.dt must be a finite number > 0"),
    ("sg-beta-nan", spec_with(surrogate={"name": "superspike", "beta": NAN}), r"surrogate.*beta"),
    # typo keys at every level
    ("top-typo", spec_with(weigths=1), r"unknown spec field\(s\) \['weigths'\]; valid fields: kind, weights"),
    ("noise-typo", spec_with(escape_noise__bta=5), r"unknown key\(s\) \['bta'\].*valid keys: name, beta, p0"),
    ("sg-typo", spec_with(surrogate={"name": "superspike", "betta": 2}), r"\['betta'\].*'surrogate'"),
    ("loss-typo", spec_with(loss__targt=1), r"\['targt'\] in spec field 'loss'; valid keys: name, target"),
    ("lif-typo", spec_with(LIF, lif__tau_men=3), r"\['tau_men'\].*valid keys: tau_mem, tau_syn, dt, reset"),
    ("lif-on-feedforward", spec_with(lif={"tau_mem": 3.0}), r"'lif' is only valid for kind 'lif'"),
    ("mean-with-target", spec_with(loss__target=[1.0]), r"not used by loss 'mean'"),
    # wrong types
    ("noise-beta-string", spec_with(escape_noise__beta="3"), r"beta must be a positive number"),
    ("noise-beta-bool", spec_with(escape_noise__beta=True), r"beta must be a positive number"),
    ("noise-name-int", spec_with(escape_noise__name=5), r"'escape_noise\.name' must be a string"),
    ("noise-list", spec_with(escape_noise=["sigmoid", 3.0]), r"'escape_noise' must be a dict"),
    ("noise-name-missing", spec_with(escape_noise={"beta": 3.0}), r"'escape_noise\.name' is missing"),
    ("noise-missing", spec_with(escape_noise=DELETE), r"'escape_noise' is missing"),
    ("loss-missing", spec_with(loss=DELETE), r"'loss' is missing"),
    ("kind-missing", spec_with(kind=DELETE), r"'kind' is missing"),
    ("kind-int", spec_with(kind=3), r"'kind' must be a str"),
    ("threshold-string", spec_with(threshold="0.5"), r"'threshold' must be a finite number"),
    ("threshold-bool", spec_with(threshold=True), r"'threshold' must be a finite number"),
    ("weights-string", spec_with(weights="[[0.8]]"), r"'weights' must be a list"),
    ("weights-bool-entry", spec_with(weights=[[[True]], [[1.5]]]), r"rectangular array of numbers"),
    ("weights-ragged", spec_with(weights=[[[0.8, 1.0], [0.5]], [[1.5, 1.0]]]), r"rectangular array"),
    ("weights-1d", spec_with(weights=[[0.8], [1.5]]), r"must have 2 dimension"),
    ("input-strings", spec_with(input=["a"]), r"'input' must be a rectangular array"),
    (
        "loss-target-strings",
        spec_with(loss={"name": "mse", "target": ["a"]}),
        r"'loss\.target' must be numbers",
    ),
    ("xent-target-bool", spec_with(loss={"name": "xent", "target": True}), r"'loss\.target' must be numbers"),
    ("xent-target-float", spec_with(loss={"name": "xent", "target": 0.5}), r"class index"),
    ("n-flips-float", spec_with(n_flips=2.5), r"'n_flips' must be a positive integer"),
    ("n-flips-bool", spec_with(n_flips=True), r"'n_flips' must be a positive integer"),
    ("estimators-string", spec_with(estimators="score"), r"'estimators' must be a list"),
    ("estimators-ints", spec_with(estimators=[1]), r"'estimators' must be a list of estimator names"),
    # unknown names / empty lists / values out of range
    ("estimators-empty", spec_with(estimators=[]), r"'estimators' is an empty list"),
    ("estimators-unknown", spec_with(estimators=["scor"]), r"unknown \['scor'\]; valid: sg_stochastic"),
    ("estimators-duplicate", spec_with(estimators=["score", "score"]), r"lists a name twice"),
    ("kind-unknown", spec_with(kind="recurrent"), r"'kind' must be one of feedforward, lif"),
    ("noise-unknown", spec_with(escape_noise__name="sigmod"), r"unknown escape noise 'sigmod'; valid names"),
    ("sg-unknown", spec_with(surrogate={"name": "supersp1ke"}), r"unknown surrogate 'supersp1ke'"),
    ("loss-unknown", spec_with(loss={"name": "l1"}), r"loss must be one of"),
    ("lif-reset-unknown", spec_with(LIF, lif__reset="soft"), r"reset must be one of"),
    ("noise-beta-negative", spec_with(escape_noise__beta=-1.0), r"beta must be a finite number > 0"),
    ("noise-beta-zero", spec_with(escape_noise__beta=0), r"beta must be a finite number > 0"),
    ("noise-p0-two", spec_with(escape_noise__p0=2.0), r"p0 must lie in \(0, 1\]"),
    ("lif-tau-zero", spec_with(LIF, lif__tau_mem=0), r"lif\.tau_mem must be a finite number > 0"),
    ("mse-target-length", spec_with(loss={"name": "mse", "target": [0.1, 0.2]}), r"must have 1 entries"),
    ("mse-target-missing", spec_with(loss={"name": "mse"}), r"target must be a list of 1 numbers"),
    ("xent-target-range", spec_with(loss={"name": "xent", "target": 3}), r"class index in \[0, 1\)"),
    ("n-flips-zero", spec_with(n_flips=0), r"'n_flips' must be a positive integer"),
    # sizes / memory
    ("weights-empty", spec_with(weights=[]), r"at least one matrix"),
    ("weights-empty-matrix", spec_with(weights=[[[]], [[1.5]]]), r"'weights\[0\]' is empty"),
    ("input-empty", spec_with(input=[]), r"'input' is empty"),
    ("weights-shape", spec_with(weights=[[[0.8, 0.1]], [[1.5]]]), r"expected \(1, 1\)"),
    ("lif-input-1d", spec_with(LIF, input=[1.0, 0.0]), r"'input' must have 2 dimension"),
    ("lif-too-many-spikes", spec_with(LIF, input=[[1.0]] * 30), r"2\^K = 2\^30.*max_k = 22"),
    ("n-flips-huge", spec_with(n_flips=10**7), r"needs an estimated .* GiB.*--max-memory-gib"),
    # malformed files
    ("top-level-list", "[1, 2, 3]", r"the spec must be a JSON object"),
    ("malformed-json", '{"kind": "feedforward",', r"is not valid JSON"),
    ("empty-file", "", r"is not valid JSON"),
    ("not-utf8", b"\xff\xfe\x00{", r"is not a UTF-8 text file"),
    ("nested-too-deep", "[" * 200000 + "]" * 200000, r"nested too deeply|the spec must be a JSON object"),
]


@pytest.mark.parametrize("spec, pattern", [c[1:] for c in COMPARE_SPECS], ids=[c[0] for c in COMPARE_SPECS])
def test_compare_rejects_bad_spec(tmp_path, capsys, spec, pattern):
    path = tmp_path / "spec.json"
    if isinstance(spec, bytes):
        path.write_bytes(spec)
    else:
        path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
    out_json = tmp_path / "out.json"
    rc, out, err = run_cli(capsys, ["compare", path, "--samples", "10", "--json", out_json])
    assert_one_line_error(rc, out, err, pattern)
    assert not out_json.exists()


def _folder(tmp_path):
    (tmp_path / "d").mkdir()
    return tmp_path / "d"


def _file(tmp_path):
    (tmp_path / "f").write_text("x")
    return tmp_path / "f"


# (id, argv after "compare" given tmp_path ("SPEC" is replaced by a valid spec), regex, argparse error?)
COMPARE_ARGS = [
    ("missing-spec", lambda t: [t / "nope.json"], r"spec file .*nope\.json does not exist", False),
    ("spec-is-folder", lambda t: [_folder(t)], r"spec file .* is a folder", False),
    ("samples-one", lambda t: ["SPEC", "--samples", "1"], r"samples must lie in \[2, ", False),
    ("samples-zero", lambda t: ["SPEC", "--samples", "0"], r"samples must lie in \[2, ", False),
    ("samples-negative", lambda t: ["SPEC", "--samples", "-5"], r"samples must lie in \[2, ", False),
    (
        "samples-huge",
        lambda t: ["SPEC", "--samples", "1000000000"],
        r"estimated .* GiB.*--max-memory-gib",
        False,
    ),
    ("samples-text", lambda t: ["SPEC", "--samples", "many"], r"invalid int value", True),
    ("samples-float", lambda t: ["SPEC", "--samples", "1e9"], r"invalid int value", True),
    ("seed-negative", lambda t: ["SPEC", "--seed", "-1"], r"seed must lie in \[0, 4294967295\]", False),
    ("seed-huge", lambda t: ["SPEC", "--seed", str(2**40)], r"seed must lie in \[0, 4294967295\]", False),
    (
        "max-mem-zero",
        lambda t: ["SPEC", "--max-memory-gib", "0"],
        r"max_memory_gib must be a finite number > 0",
        False,
    ),
    ("max-mem-nan", lambda t: ["SPEC", "--max-memory-gib", "nan"], r"max_memory_gib must be a finite", False),
    (
        "max-mem-tiny",
        lambda t: ["SPEC", "--max-memory-gib", "1e-9"],
        r"above the limit max_memory_gib = 1e-09",
        False,
    ),
    ("json-folder", lambda t: ["SPEC", "--json", _folder(t)], r"--json: .* is a folder", False),
    ("json-under-file", lambda t: ["SPEC", "--json", _file(t) / "out.json"], r"--json: .*", False),
    ("json-empty", lambda t: ["SPEC", "--json", ""], r"--json: empty path", False),
    ("csv-folder", lambda t: ["SPEC", "--csv", _folder(t)], r"--csv: .* is a folder", False),
    ("csv-under-file", lambda t: ["SPEC", "--csv", _file(t) / "x" / "out.csv"], r"--csv: .*", False),
    ("unknown-option", lambda t: ["SPEC", "--sampels", "10"], r"unrecognized arguments", True),
]


@pytest.mark.parametrize(
    "make, pattern, argparse_error", [c[1:] for c in COMPARE_ARGS], ids=[c[0] for c in COMPARE_ARGS]
)
def test_compare_rejects_bad_arguments(tmp_path, capsys, make, pattern, argparse_error):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(BASE))
    argv = ["compare"] + [spec if a == "SPEC" else a for a in make(tmp_path)]
    rc, out, err = run_cli(capsys, argv)
    assert_one_line_error(rc, out, err, pattern, argparse_error)


def _net(**kw):
    base = dict(kind="feedforward", sizes=(1, 1, 1), noise=escape_noise("sigmoid", 3.0), theta=0.5)
    return Network(**{**base, **kw})


NET = _net()
P = (jnp.array([[0.8]]), jnp.array([[1.5]]))
X = jnp.array([1.2])
GRAD = (jnp.array([[0.1]]), jnp.array([[0.2]]))


def _est(k, p):
    return p


# (id, thunk, exception type, regex)
API_ERRORS = [
    # neuron: names, types, ranges, NaN/inf, dtype overflow
    (
        "noise-unknown",
        lambda: escape_noise("sigmod"),
        ValueError,
        r"unknown escape noise 'sigmod'; valid names: sigmoid",
    ),
    ("noise-name-type", lambda: escape_noise(None), TypeError, r"escape noise name must be a str"),
    ("noise-beta-nan", lambda: escape_noise("sigmoid", NAN), ValueError, r"beta must be a finite number > 0"),
    ("noise-beta-inf", lambda: escape_noise("sigmoid", INF), ValueError, r"beta must be a finite number > 0"),
    (
        "noise-beta-zero",
        lambda: escape_noise("sigmoid", 0.0),
        ValueError,
        r"beta must be a finite number > 0",
    ),
    ("noise-beta-str", lambda: escape_noise("sigmoid", "3"), TypeError, r"beta must be a positive number"),
    ("noise-beta-bool", lambda: escape_noise("sigmoid", True), TypeError, r"beta must be a positive number"),
    (
        "noise-p0-zero",
        lambda: escape_noise("exponential", 1.0, p0=0.0),
        ValueError,
        r"p0 must lie in \(0, 1\]",
    ),
    ("noise-p0-nan", lambda: escape_noise("exponential", 1.0, p0=NAN), ValueError, r"p0 must be finite"),
    (
        "noise-f32-beta-1e39",
        lambda: escape_noise("sigmoid", 1e39).prob(jnp.zeros(3, jnp.float32)),
        ValueError,
        r"beta = 1e\+39 overflows float32 \(largest 3.4e\+38\); use float64",
    ),
    (
        "noise-f32-deriv-beta-1e39",
        lambda: escape_noise("probit", 1e39).deriv(jnp.zeros(3, jnp.float32)),
        ValueError,
        r"overflows float32",
    ),
    (
        "noise-f16-beta-1e5",
        lambda: escape_noise("sigmoid", 1e5).prob(jnp.zeros(3, jnp.float16)),
        ValueError,
        r"overflows float16",
    ),
    (
        "sg-unknown",
        lambda: surrogate("supersp1ke"),
        ValueError,
        r"unknown surrogate 'supersp1ke'; valid names",
    ),
    ("sg-name-type", lambda: surrogate(["superspike"]), TypeError, r"surrogate name must be a str"),
    (
        "sg-beta-negative",
        lambda: surrogate("superspike", -1.0),
        ValueError,
        r"beta must be a finite number > 0",
    ),
    ("sg-p0-big", lambda: surrogate("exponential", 1.0, p0=1.5), ValueError, r"p0 must lie in \(0, 1\]"),
    (
        "sg-f32-beta-1e39",
        lambda: surrogate("sigmoid_prime", 1e39)(jnp.zeros(2, jnp.float32)),
        ValueError,
        r"overflows float32",
    ),
    (
        "heaviside-no-sg",
        lambda: heaviside_spike(jnp.zeros(2), "superspike"),
        TypeError,
        r"surrogate must be a Surrogate",
    ),
    (
        "bernoulli-noise-type",
        lambda: bernoulli_spike(jax.random.key(0), jnp.zeros(2), "sigmoid"),
        TypeError,
        r"noise must be an EscapeNoise",
    ),
    (
        "bernoulli-u-shape",
        lambda: bernoulli_spike_from_uniform(jnp.zeros(2), jnp.zeros(3), escape_noise()),
        ValueError,
        r"z has shape \(2,\) but u has shape \(3,\)",
    ),
    # Network
    ("net-kind", lambda: _net(kind="recurrent"), ValueError, r"kind must be one of"),
    ("net-kind-type", lambda: _net(kind=None), ValueError, r"kind must be one of"),
    ("net-sizes-short", lambda: _net(sizes=(2,)), ValueError, r"sizes must list the input width"),
    ("net-sizes-zero", lambda: _net(sizes=(1, 0, 1)), ValueError, r"sizes\[i\] must be a positive integer"),
    ("net-sizes-float", lambda: _net(sizes=(1, 2.5, 1)), ValueError, r"must be a positive integer, got 2.5"),
    ("net-sizes-inf", lambda: _net(sizes=(1, INF, 1)), ValueError, r"must be a positive integer, got inf"),
    ("net-sizes-str", lambda: _net(sizes="111"), TypeError, r"sizes must be a tuple"),
    ("net-noise-type", lambda: _net(noise="sigmoid"), TypeError, r"noise must be an EscapeNoise"),
    (
        "net-sg-type",
        lambda: _net(surrogate="superspike"),
        TypeError,
        r"surrogate must be a Surrogate or None",
    ),
    ("net-loss", lambda: _net(loss="l2"), ValueError, r"loss must be one of"),
    ("net-mse-nan", lambda: _net(loss="mse", target=(NAN,)), ValueError, r"target contains NaN"),
    ("net-mse-len", lambda: _net(loss="mse", target=(0.1, 0.2)), ValueError, r"must have 1 entries"),
    (
        "net-mse-scalar",
        lambda: _net(loss="mse", target=0.5),
        ValueError,
        r"target must be a list of 1 numbers",
    ),
    ("net-mean-target", lambda: _net(target=(1.0,)), ValueError, r"loss 'mean' takes no target"),
    ("net-xent-range", lambda: _net(loss="xent", target=1), ValueError, r"class index in \[0, 1\)"),
    ("net-xent-bool", lambda: _net(loss="xent", target=False), ValueError, r"class index"),
    ("net-theta-nan", lambda: _net(theta=NAN), ValueError, r"theta must be finite"),
    ("net-theta-str", lambda: _net(theta="1"), TypeError, r"theta must be a number"),
    (
        "net-tau-zero",
        lambda: _net(kind="lif", tau_mem=0.0),
        ValueError,
        r"tau_mem must be a finite number > 0",
    ),
    ("net-steps-ff", lambda: _net(steps=3), ValueError, r"steps must be 1 for a feedforward network"),
    ("net-reset", lambda: _net(kind="lif", reset="soft"), ValueError, r"reset must be one of"),
    # exact enumeration
    (
        "exact-params-count",
        lambda: exact_value_and_grad(NET, P[:1], X),
        ValueError,
        r"params must be a tuple of 2",
    ),
    (
        "exact-params-shape",
        lambda: exact_value_and_grad(NET, (P[0], jnp.ones((2, 1))), X),
        ValueError,
        r"params\[1\] has shape",
    ),
    (
        "exact-x-shape",
        lambda: exact_value_and_grad(NET, P, jnp.ones(2)),
        ValueError,
        r"x has shape \(2,\), expected \(1,\)",
    ),
    (
        "exact-params-nan",
        lambda: exact_value_and_grad(NET, (P[0] * NAN, P[1]), X),
        ValueError,
        r"params\[0\] contains NaN",
    ),
    ("exact-x-inf", lambda: exact_value_and_grad(NET, P, X * INF), ValueError, r"x contains NaN or infinite"),
    (
        "exact-too-large",
        lambda: exact_value_and_grad(_net(sizes=(1, 30)), (jnp.ones((30, 1)),), X),
        ValueError,
        r"2\^K = 2\^30 .*above the limit max_k = 22",
    ),
    # estimators
    (
        "est-unknown",
        lambda: estimate("scor", NET, P, X, 4, key=jax.random.key(0)),
        ValueError,
        r"unknown estimator 'scor'",
    ),
    (
        "est-name-type",
        lambda: estimate(None, NET, P, X, 4, key=jax.random.key(0)),
        ValueError,
        r"unknown estimator None",
    ),
    (
        "est-n-zero",
        lambda: estimate("score", NET, P, X, 0, key=jax.random.key(0)),
        ValueError,
        r"n must be a positive integer",
    ),
    (
        "est-n-float",
        lambda: estimate("score", NET, P, X, 2.5, key=jax.random.key(0)),
        ValueError,
        r"n must be a positive integer",
    ),
    (
        "est-n-bool",
        lambda: estimate("score", NET, P, X, True, key=jax.random.key(0)),
        ValueError,
        r"n must be a positive integer",
    ),
    (
        "est-n-nan",
        lambda: estimate("score", NET, P, X, NAN, key=jax.random.key(0)),
        ValueError,
        r"n must be a positive integer",
    ),
    (
        "est-n-inf",
        lambda: estimate("score", NET, P, X, INF, key=jax.random.key(0)),
        ValueError,
        r"n must be a positive integer",
    ),
    (
        "est-flips-zero",
        lambda: estimate("coupled_flip_sub", NET, P, X, 4, key=jax.random.key(0), n_flips=0),
        ValueError,
        r"n_flips",
    ),
    (
        "est-option",
        lambda: estimate("score", NET, P, X, 4, key=jax.random.key(0), nflips=2),
        TypeError,
        r"unexpected keyword argument 'nflips'",
    ),
    (
        "est-net-type",
        lambda: estimate("score", "net", P, X, 4, key=jax.random.key(0)),
        TypeError,
        r"expected a Program\(fn, sites\) \(or an object with a \.program\(\) builder such as a "
        r"Network\), got str",
    ),
    (
        "est-memory-n",
        lambda: estimate("coupled_flip", NET, P, X, 10**10, key=jax.random.key(0)),
        ValueError,
        r"n = 10000000000 samples .*needs an estimated [\d.e+]+ GiB.*max_memory_gib = 4",
    ),
    (
        "est-memory-flips",
        lambda: estimate("coupled_flip_sub", NET, P, X, 2000, key=jax.random.key(0), n_flips=10**7),
        ValueError,
        r"n_flips = 10000000 .*GiB",
    ),
    (
        "est-memory-limit",
        lambda: estimate("score", NET, P, X, 4, key=jax.random.key(0), max_memory_gib=0),
        ValueError,
        r"max_memory_gib must be",
    ),
    (
        "many-empty",
        lambda: estimate_many([], NET, P, X, 4, key=jax.random.key(0)),
        ValueError,
        r"names must be a non-empty list",
    ),
    (
        "many-memory",
        lambda: estimate_many(["score", "coupled_flip"], NET, P, X, 10**10, key=jax.random.key(0)),
        ValueError,
        r"GiB",
    ),
    # compare_estimators / check_unbiased
    (
        "cmp-empty",
        lambda: compare_estimators(NET, P, X, [], 10, key=jax.random.key(0)),
        ValueError,
        r"names is empty",
    ),
    (
        "cmp-string",
        lambda: compare_estimators(NET, P, X, "score", 10, key=jax.random.key(0)),
        TypeError,
        r"names must be a list",
    ),
    (
        "cmp-dup",
        lambda: compare_estimators(NET, P, X, ["score", "score"], 10, key=jax.random.key(0)),
        ValueError,
        r"twice",
    ),
    (
        "cmp-unknown",
        lambda: compare_estimators(NET, P, X, ["scoer"], 10, key=jax.random.key(0)),
        ValueError,
        r"unknown estimator",
    ),
    (
        "cmp-n-one",
        lambda: compare_estimators(NET, P, X, ["score"], 1, key=jax.random.key(0)),
        ValueError,
        r"n must be >= 2",
    ),
    (
        "cmp-option",
        lambda: compare_estimators(NET, P, X, ["score"], 10, key=jax.random.key(0), flips=1),
        TypeError,
        r"unexpected keyword argument 'flips'",
    ),
    (
        "cmp-memory",
        lambda: compare_estimators(NET, P, X, ["coupled_flip"], 10**10, key=jax.random.key(0)),
        ValueError,
        r"GiB",
    ),
    (
        "unb-n-zero",
        lambda: check_unbiased(_est, P, 0, key=jax.random.key(0), reference=GRAD),
        ValueError,
        r"n must be a positive",
    ),
    (
        "unb-both",
        lambda: check_unbiased(_est, P, 10, key=jax.random.key(0), reference=GRAD, other=_est),
        ValueError,
        r"exactly one",
    ),
    ("unb-neither", lambda: check_unbiased(_est, P, 10, key=jax.random.key(0)), ValueError, r"exactly one"),
    (
        "unb-method",
        lambda: check_unbiased(_est, P, 10, key=jax.random.key(0), reference=GRAD, method="fdr"),
        ValueError,
        r"holm",
    ),
    (
        "unb-alpha",
        lambda: check_unbiased(_est, P, 10, key=jax.random.key(0), reference=GRAD, alpha=0.0),
        ValueError,
        r"alpha",
    ),
    (
        "unb-alpha-nan",
        lambda: check_unbiased(_est, P, 10, key=jax.random.key(0), reference=GRAD, alpha=NAN),
        ValueError,
        r"alpha",
    ),
    # specs and compare_spec through the API
    ("spec-not-dict", lambda: network_from_spec([BASE]), ValueError, r"must be a JSON object"),
    ("spec-typo", lambda: network_from_spec(spec_with(escape_noise__betaa=1)), ValueError, r"\['betaa'\]"),
    ("spec-missing", lambda: load_spec("/nonexistent/spec.json"), FileNotFoundError, r"does not exist"),
    ("spec-path-type", lambda: load_spec(3), TypeError, r"spec file must be a file path"),
    (
        "cspec-samples-bool",
        lambda: compare_spec(BASE, samples=True),
        TypeError,
        r"samples must be an integer",
    ),
    (
        "cspec-samples-float",
        lambda: compare_spec(BASE, samples=100.0),
        TypeError,
        r"samples must be an integer",
    ),
    ("cspec-seed", lambda: compare_spec(BASE, seed=-1), ValueError, r"seed must lie in"),
    ("cspec-max-k", lambda: compare_spec(BASE, max_k=100), ValueError, r"max_k must lie in \[1, 62\]"),
    ("cspec-spec-type", lambda: compare_spec(42), TypeError, r"spec file must be a file path"),
]


@pytest.mark.parametrize("thunk, exc, pattern", [c[1:] for c in API_ERRORS], ids=[c[0] for c in API_ERRORS])
def test_api_rejects_bad_input(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


# --- extreme but legal: finite and correct ----------------------------------------------

_TAILS = {  # 1 - f(x) at x = 1e6 (and f(-x) by symmetry), closed forms
    "sigmoid": 0.0,
    "exponential": None,  # clipped at 1 above threshold; f(-1e6) = p0 e^{-1e6} = 0
    "probit": 0.0,
    "fast_sigmoid": 0.5 / (1.0 + 1e6),
    "arctan": math.atan(1e-6) / math.pi,
    "triangle": 0.0,
    "laplace": 0.0,
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ESCAPE_NOISE_NAMES)
def test_escape_noise_finite_and_correct_at_beta_z_1e6(name, dtype):
    f = escape_noise(name, 1e3)
    z = jnp.asarray([-1e3, 1e3, -INF, INF, 0.0], dtype)  # beta z = -+1e6, -+inf, 0
    p, d = np.asarray(f.prob(z), float), np.asarray(f.deriv(z), float)
    assert np.isfinite(p).all() and np.isfinite(d).all(), (p, d)
    assert p.dtype == np.float64 and f.prob(z).dtype == jnp.dtype(dtype)
    tail = _TAILS[name]
    tol = 1e-6 if dtype == "float32" else 1e-12
    assert p[0] == pytest.approx(tail if tail is not None else 0.0, abs=tol)
    assert p[1] == pytest.approx(1.0 - (tail or 0.0), abs=tol)
    assert (p[2], p[3]) == (0.0, 1.0)
    assert np.all(d[:4] >= 0) and np.all(d[:4] <= 1e3 * 1e-6 + tol)  # density ~ beta / x^2 in the tails
    assert p[4] == pytest.approx(0.5 if name != "exponential" else 0.5, abs=tol)


@pytest.mark.parametrize("name", SURROGATE_NAMES)
def test_surrogates_finite_at_beta_z_1e6_float32(name):
    psi = surrogate(name, 1e3)
    v = np.asarray(psi(jnp.asarray([-1e3, 1e3, -INF, INF], jnp.float32)), float)
    assert np.isfinite(v).all(), v


def test_float32_beta_near_the_largest_float_is_correct():
    f = escape_noise("sigmoid", 3e38)
    z = jnp.asarray([0.0, 1e-30, -1e-30], jnp.float32)
    assert np.asarray(f.prob(z)).tolist() == pytest.approx([0.5, 1.0, 0.0])
    assert float(f.deriv(z)[0]) == pytest.approx(0.75e38, rel=1e-6)


def test_compare_extreme_beta_gives_the_closed_form(tmp_path, capsys):
    """beta = 1e300 (float64): spikes are deterministic, E[L] = f(v - theta) with f = Theta."""
    spec = spec_with(escape_noise__beta=1e300, estimators=["score"])
    out = tmp_path / "c.json"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(spec))
    rc, text, err = run_cli(capsys, ["compare", path, "--samples", "4", "--json", out])
    assert rc == 0, err
    data = json.loads(out.read_text())
    assert data["exact_value"] == 1.0  # z1 = 0.8 * 1.2 - 0.5 > 0 -> S1 = 1; z2 = 1.5 - 0.5 > 0 -> S2 = 1
    assert data["exact_grad"] == [0.0, 0.0]
    assert data["meta"]["seeds"] == [0]
    assert "Traceback" not in text + err


def test_compare_overflow_is_an_error_not_nan(tmp_path, capsys):
    """1e308 * 1e308 - 1e308 * 1e308 rounds to inf in XLA's dot (not to the true 0): refused."""
    spec = spec_with(weights=[[[1e308, 1e308]], [[1.5]]], input=[1e308, -1e308], estimators=["score"])
    path = tmp_path / "s.json"
    path.write_text(json.dumps(spec))
    rc, out, err = run_cli(capsys, ["compare", path, "--samples", "4"])
    assert_one_line_error(rc, out, err, r"can reach inf, where potentials overflow float64")
