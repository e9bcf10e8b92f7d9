"""The variability measurements of the classification figure as Gygax & Zenke (2025) take
them: the windowed Fano factor against naive loops (T - window windows, unbiased variance,
mean over active windows and neurons), rates and Fano factors of trial_variability against
NumPy loops over the same trials, evaluation in a chosen mode, and the before / after /
other-activation protocol."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.snn import init_params
from analysis.training import ClassifierRun, VariabilityConfig, trial_variability
from analysis.training._classifier_network import classifier_network
from analysis.training._metrics import windowed_fano_factor
from analysis.training._trials import repeated_trials, sigmoid_method
from analysis.training._variability import forward_mode, other_mode, split_rasters, variability_protocol


def _naive_windowed_fano(s: np.ndarray, window: int, n_windows: int) -> tuple[float, int]:
    """(mean of Var_r / E_r of the window counts over the (j, n) with E_r > 0, their number),
    with Python loops; the variance with the (R - 1) denominator written out."""
    r_, _, n_ = s.shape
    vals = []
    for j in range(n_windows):
        for n in range(n_):
            c = [float(s[r, j : j + window, n].sum()) for r in range(r_)]
            m = sum(c) / r_
            if m > 0:
                vals.append(sum((ci - m) ** 2 for ci in c) / (r_ - 1) / m)
    return sum(vals) / len(vals), len(vals)


def test_windowed_fano_factor_takes_the_published_windows():
    """deep_convSNN.py takes j = 0 .. T - w - 1 (T - w windows); last_window adds j = T - w."""
    s = np.asarray(jax.random.uniform(jax.random.key(1), (6, 25, 3)) < 0.3, np.float32)
    s[:, :, 2] = 0.0  # a silent neuron is left out
    want, n = _naive_windowed_fano(s, 10, 25 - 10)
    assert n == 30 and float(windowed_fano_factor(s, 10)) == pytest.approx(want, rel=1e-6)
    want_all, n_all = _naive_windowed_fano(s, 10, 25 - 10 + 1)
    assert n_all == 32 and float(windowed_fano_factor(s, 10, last_window=True)) == pytest.approx(
        want_all, rel=1e-6
    )
    # a neuron that fires only in the last bin is seen by the last window only: NaN without it
    late = np.zeros((4, 12, 1), np.float32)
    late[:2, -1, 0] = 1.0
    assert np.isnan(float(windowed_fano_factor(late, 3)))
    assert float(windowed_fano_factor(late, 3, last_window=True)) == pytest.approx((4 / 3 / 4) / 0.5)
    # identical trials: variance 0 wherever a neuron fires
    assert float(windowed_fano_factor(np.repeat(s[:1], 5, axis=0), 4)) == 0.0
    with pytest.raises(ValueError, match="R >= 2"):
        windowed_fano_factor(s[:1], 10)
    with pytest.raises(ValueError, match="too long for the 25 time bins"):
        windowed_fano_factor(s, 25)
    assert np.isfinite(float(windowed_fano_factor(s, 25, last_window=True)))
    with pytest.raises(TypeError, match="last_window"):
        windowed_fano_factor(s, 5, last_window=1)


def _network(seed=0):
    run = ClassifierRun(hidden=(8, 6), nu_in=40.0, dt=2e-3)
    cfg = classifier_network(run, 5, 3)
    params = init_params(jax.random.key(seed), cfg, nu=run.nu_in, sigma_u=1.5)
    x = (jax.random.uniform(jax.random.key(9), (30, 5)) < 0.2).astype(jnp.float32)
    return run, cfg, params, x


def test_trial_variability_equals_numpy_loops_over_the_same_trials():
    """rate = spikes / (T dt) / units averaged over trials, Fano as above, from the very
    trials repeated_trials draws with the same key; mode="stochastic" of a deterministic
    method is the stochastic method's forward pass."""
    run, cfg, params, x = _network()
    opts = VariabilityConfig(n_trials=40, window=5, raster_layer=0, raster_neurons=3)
    as_stoch = dataclasses.replace(opts, mode="stochastic")
    got = trial_variability(jax.random.key(3), params, x, run, "deterministic", as_stoch)
    same = trial_variability(jax.random.key(3), params, x, run, "stochastic", opts)
    assert got["mode"] == same["mode"] == "stochastic"
    assert got["fano"] == same["fano"] and got["rate_hz"] == same["rate_hz"]
    sim = repeated_trials(jax.random.key(3), params, x[None], cfg, sigmoid_method("stochastic"), 40)
    for layer, spikes in enumerate(sim.spikes):
        s = np.asarray(spikes[:, 0], np.float64)  # [R, T, N]
        r_, t_, n_ = s.shape
        rate = sum(s[r].sum() / (t_ * 2e-3) / n_ for r in range(r_)) / r_
        assert got["rate_hz"][layer] == pytest.approx(rate, rel=1e-5)
        assert got["fano"][layer] == pytest.approx(_naive_windowed_fano(s, 5, t_ - 5)[0], rel=1e-5)
    assert any(f > 0.05 for f in got["fano"])
    as_det = dataclasses.replace(opts, mode="deterministic")
    det = trial_variability(jax.random.key(3), params, x, run, "stochastic", as_det)
    assert det["mode"] == "deterministic" and all(f == 0.0 or np.isnan(f) for f in det["fano"])
    np.testing.assert_array_equal(np.asarray(det["rasters"][0]), np.asarray(det["rasters"][-1]))
    with pytest.raises(ValueError, match="unknown mode 'noisy'"):
        VariabilityConfig(mode="noisy")


def test_protocol_takes_the_published_stages():
    """stochastic training: before (init) and after, in the training mode; deterministic
    training: the trained network with stochastic spikes ("other"); each stage drawn from
    fold_in(key, stage index); the result without rasters is JSON."""
    run, _, p0, x = _network(0)
    _, _, p1, _ = _network(1)  # stands in for the trained params
    opts = VariabilityConfig(n_trials=20, window=5, raster_layer=1, raster_neurons=2)
    key = jax.random.key(11)
    sto = variability_protocol(key, (p0, p1), x, run, "stochastic", opts)
    assert sto["other"] is None and sto["method"] == "stochastic" and sto["n_trials"] == 20
    for i, (stage, params) in enumerate((("before", p0), ("after", p1))):
        want = trial_variability(jax.random.fold_in(key, i), params, x, run, "stochastic", opts)
        assert sto[stage]["fano"] == want["fano"] and sto[stage]["rate_hz"] == want["rate_hz"]
    assert sto["before"]["rate_hz"] != sto["after"]["rate_hz"]
    det = variability_protocol(key, (p0, p1), x, run, "deterministic", opts)
    assert det["before"] is None and det["after"] is None and det["other"]["mode"] == "stochastic"
    want = trial_variability(jax.random.fold_in(key, 2), p1, x, run, "stochastic", opts)
    assert det["other"]["fano"] == want["fano"]
    plain, rasters = split_rasters(sto)
    assert set(rasters) == {"before", "after"} and rasters["after"].shape == (20, x.shape[0], 2)
    back = json.loads(json.dumps(plain))
    assert back["after"]["fano"] == sto["after"]["fano"] and back["other"] is None
    assert variability_protocol(key, (None, p1), x, run, "stochastic", opts)["before"] is None
    with pytest.raises(ValueError, match="params must be a pair"):
        variability_protocol(key, p1, x, run, "stochastic", opts)


def test_modes_of_the_training_methods():
    assert (forward_mode("deterministic"), other_mode("deterministic")) == ("deterministic", "stochastic")
    assert forward_mode("multilayer_spiker") == "stochastic" and other_mode("stochastic") == "deterministic"
    with pytest.raises(ValueError, match="unknown method"):
        forward_mode("superspike")
