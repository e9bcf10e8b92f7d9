"""Three gradients of one spiking network, compared: EventProp, SG-BPTT of the discretised
network, and the gradient of the expected loss of the escape-noise network.

One small feedforward network (:class:`CompareSetup`: ``n_in`` Poisson inputs -> one LIF
layer -> a leaky-integrator readout, tau_mem = 2 tau_syn) on fixed inputs and labels, with
the loss L = cross-entropy of softmax(max_t V_o(t)) (the max-over-time readout of the paper's
classifiers), is differentiated three ways:

(a) ``eventprop``: the exact gradient of the continuous-time network
    (:func:`analysis.eventprop.eventprop_grad`, the adjoint method with jumps at the spike
    times; Wunderlich & Pehle 2021);
(b) ``sg``: jax.grad of the discretised network (:func:`analysis.snn.simulate`, bins of
    ``dt``, Heaviside forward, SuperSpike surrogate psi(z) = 1 / (1 + beta_SG |z|)^2 backward,
    reset detached; Zenke & Ganguli 2018) with the same loss on max_t U_o[t];
(c) ``escape``: grad E[L] of the escape-noise network at bin ``dt`` (S ~ Bernoulli(sigma(beta
    (U - theta))) per bin: :class:`analysis.snn.Method` ``"stochastic"``), estimated by the
    unbiased subsampled coupled-flip estimator (stochastic AD; Arya et al., NeurIPS 2022;
    Gygax & Zenke 2025, sec. 4) with per-coordinate standard errors and a delete-one-batch
    jackknife SE for every cosine; beside it the SG at the same dt with the matched
    surrogate psi = f' (deterministic forward) and E[SG] of the stochastic network (the
    paper's matched-surrogate statement).

Every comparison reports, per parameter group (``hidden`` = the input weights of the LIF
layer, ``readout`` = the readout weights, ``all``), the cosine similarity and the relative
difference ||g - g_ref|| / ||g_ref||. The readout weights' gradient involves no spike
derivative (the readout is linear in them given the hidden spikes), so there the
discretisation error alone separates (a) and (b); the hidden weights' gradient is where the
three notions of a spike derivative differ.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate
from analysis.eventprop._adjoint import eventprop_grad
from analysis.eventprop._losses import _cross_entropy, max_voltage_cross_entropy
from analysis.eventprop._simulate import ct_simulate, discretise_inputs
from analysis.neuron import Surrogate, escape_noise, matched_surrogate, surrogate
from analysis.snn import LIFParams, Method, SNNConfig, init_params, simulate
from analysis.stochastic._alignment_stats import jackknife_se
from analysis.stochastic._compare import cosine

GROUPS = ("hidden", "readout", "all")
JACKKNIFE_BATCHES = 10


@dataclass(frozen=True)
class CompareSetup:
    """The network and inputs of the comparison (times in seconds).

    n_in inputs -> ``hidden`` LIF neurons -> ``n_out`` leaky integrators; ``tau_mem``,
    ``tau_syn``, ``theta`` for both layers; ``t_max`` the trial length; ``batch`` samples of
    independent Poisson inputs of ``rate_hz`` (at most ``max_inputs`` spikes per input unit);
    labels ``b mod n_out``; weights :func:`analysis.snn.init_params` with ``nu = rate_hz``
    and ``sigma_u`` (membrane fluctuations of sigma_u theta), readout ``fan_in``;
    ``max_spikes`` the EventProp buffer per neuron; ``seed`` fixes inputs and weights.
    """

    n_in: int = 20
    hidden: int = 12
    n_out: int = 3
    tau_mem: float = 10e-3
    tau_syn: float = 5e-3
    theta: float = 1.0
    t_max: float = 50e-3
    batch: int = 4
    rate_hz: float = 40.0
    sigma_u: float = 1.0
    max_inputs: int = 16
    max_spikes: int = 48
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_in", "hidden", "n_out", "batch", "max_inputs", "max_spikes"):
            _validate.positive_int(getattr(self, name), name)
        for name in ("tau_mem", "tau_syn", "theta", "t_max", "rate_hz", "sigma_u"):
            _validate.positive_scalar(getattr(self, name), name)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")

    def n_steps(self, dt: float) -> int:
        """Bins of width ``dt`` in [0, t_max); t_max must be a whole number of bins."""
        dt = _validate.positive_scalar(dt, "dt")
        n = round(self.t_max / dt)
        if n < 1 or abs(n * dt - self.t_max) > 1e-9 * self.t_max:
            raise ValueError(f"dt={dt!r} must divide t_max={self.t_max!r} into whole bins")
        return n

    def config(self, dt: float = 1e-3) -> SNNConfig:
        """The :class:`analysis.snn.SNNConfig` with bins of ``dt`` (dense, integrator readout)."""
        lif = LIFParams(tau_mem=self.tau_mem, tau_syn=self.tau_syn, dt=dt, theta=self.theta)
        return SNNConfig(n_in=self.n_in, hidden=(self.hidden,), n_out=self.n_out, lif=lif)

    def instance(self) -> tuple[dict, jax.Array, jax.Array]:
        """(params, input_times [B, n_in, max_inputs] padded with +inf, labels [B])."""
        dtype = jnp.result_type(float)
        rng = np.random.default_rng(self.seed)
        counts = np.minimum(rng.poisson(self.rate_hz * self.t_max, (self.batch, self.n_in)), self.max_inputs)
        times = np.sort(rng.uniform(0.0, self.t_max, (self.batch, self.n_in, self.max_inputs)), axis=-1)
        times = np.where(np.arange(self.max_inputs) < counts[..., None], times, np.inf)
        params = init_params(
            jax.random.key(self.seed),
            self.config(),
            nu=self.rate_hz,
            sigma_u=self.sigma_u * self.theta,
            readout_scale="fan_in",
            dtype=dtype,
        )
        labels = jnp.arange(self.batch) % self.n_out
        return params, jnp.asarray(times, dtype), labels


# ------------------------------------------------------------------ losses


def cross_entropy_of_max(readout_max: jax.Array, labels: jax.Array) -> jax.Array:
    """mean_b [-log softmax(readout_max[b])[labels[b]]] (readout_max [B, n_out]): the
    continuous network's loss (:func:`max_voltage_cross_entropy`) on a given maximum."""
    return _cross_entropy(readout_max, labels)


def discrete_loss(params: dict, x: jax.Array, labels: jax.Array, cfg: SNNConfig, method: Method, key=None):
    """The comparison's loss on the discretised network: cross-entropy of softmax(max_t U_o[t])."""
    out = simulate(params, x, cfg, method, key=key, record="output").output
    return cross_entropy_of_max(jnp.max(out, axis=1), labels)


def _program_loss(result, inputs):
    return cross_entropy_of_max(jnp.max(result.output, axis=1), inputs[1])


# ------------------------------------------------------------------ the three gradients


def eventprop_gradient(setup: CompareSetup, params: dict, input_times: jax.Array, labels: jax.Array):
    """(loss, grads) of the continuous-time network by :func:`analysis.eventprop.eventprop_grad`."""
    return eventprop_grad(
        params,
        input_times,
        setup.config(),
        max_voltage_cross_entropy,
        t_max=setup.t_max,
        max_spikes=setup.max_spikes,
        labels=labels,
    )


def binned_inputs(setup: CompareSetup, input_times: jax.Array, dt: float) -> jax.Array:
    """Input spike counts [B, T, n_in] of the bins [k dt, (k+1) dt) (analysis.eventprop)."""
    return discretise_inputs(input_times, dt, setup.n_steps(dt))


def sg_gradient(
    setup: CompareSetup,
    params: dict,
    x: jax.Array,
    labels: jax.Array,
    dt: float,
    psi: Surrogate,
    *,
    reset: str = "detached",
):
    """(loss, grads) of SG-BPTT on the network discretised at ``dt`` (Heaviside forward,
    surrogate ``psi`` backward, reset ``detached`` or ``differentiable``); ``x`` from
    :func:`binned_inputs`."""
    cfg = setup.config(dt)
    cfg = dataclasses.replace(cfg, lif=dataclasses.replace(cfg.lif, reset=reset))
    m = Method("deterministic", surrogate=psi)
    return _value_and_grad(params, x, labels, cfg, m)


@partial(jax.jit, static_argnums=(3, 4))
def _value_and_grad(params, x, labels, cfg, m):
    return jax.value_and_grad(discrete_loss)(params, x, labels, cfg, m)


def _flat(g: Any, group: str) -> np.ndarray:
    parts = {
        "hidden": [g["hidden"][0]["w"]],
        "readout": [g["readout"]["w"]],
        "all": [g["hidden"][0]["w"], g["readout"]["w"]],
    }[group]
    return np.concatenate([np.ravel(np.asarray(p, np.float64)) for p in parts])


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / ||b||; nan when b is zero."""
    nb = float(np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / nb) if nb > 0 else float("nan")


def compare(g: Any, ref: Any, prefix: str = "") -> dict:
    """{prefix}cos_<group>, {prefix}rel_<group> and {prefix}norm_<group} of ``g`` against
    ``ref`` (pytrees like params) for every group of :data:`GROUPS`."""
    out = {}
    for grp in GROUPS:
        a, b = _flat(g, grp), _flat(ref, grp)
        out[f"{prefix}cos_{grp}"] = cosine(a, b)
        out[f"{prefix}rel_{grp}"] = relative_difference(a, b)
        out[f"{prefix}norm_{grp}"] = float(np.linalg.norm(a))
    return out


def escape_gradient(
    setup: CompareSetup,
    params: dict,
    x: jax.Array,
    labels: jax.Array,
    dt: float,
    beta: float,
    *,
    n_samples: int,
    key: jax.Array,
    n_flips: int = 8,
    chunk: int = 250,
) -> dict:
    """grad E[L] of the escape-noise network (sigmoid noise of steepness ``beta`` at bin
    ``dt``) by the unbiased subsampled coupled-flip estimator, with E[SG] of the same
    network (matched psi = f', the same spike samples).

    Returns {"mean", "se" (per coordinate, flat, group "all"), "batches" (the means of
    :data:`JACKKNIFE_BATCHES` consecutive batches of samples), "sg_mean", "sg_batches",
    "loss" (mean sampled loss), "rate" (mean hidden spike probability per bin)}; flat
    vectors in the order of group ``all``.
    """
    from analysis.stochastic import snn_program

    n_samples = _validate.positive_int(n_samples, "n_samples")
    if n_samples % JACKKNIFE_BATCHES:
        raise ValueError(f"n_samples must be a multiple of {JACKKNIFE_BATCHES}, got {n_samples}")
    cfg = setup.config(dt)
    noise = escape_noise("sigmoid", beta)
    m = Method("stochastic", hidden_noise=noise, output_noise=noise)
    program = snn_program(cfg, m, _program_loss, setup.batch, setup.n_steps(dt))
    chunk = math.gcd(n_samples, chunk)
    run = _escape_chunk(program, chunk, n_flips)
    refs, sgs = [], []
    for c in range(n_samples // chunk):
        r, s = run(params, (x, labels), jax.random.fold_in(key, c))
        refs.append(np.asarray(r))
        sgs.append(np.asarray(s))
    ref, sg = np.concatenate(refs), np.concatenate(sgs)
    rate = float(np.mean(np.asarray(_rate(params, x, cfg, m, jax.random.fold_in(key, 10**6)))))
    loss = float(_loss_mean(params, x, labels, cfg, m, key))
    return {
        "mean": ref.mean(0),
        "se": ref.std(0, ddof=1) / math.sqrt(n_samples),
        "batches": ref.reshape(JACKKNIFE_BATCHES, -1, ref.shape[1]).mean(1),
        "sg_mean": sg.mean(0),
        "sg_batches": sg.reshape(JACKKNIFE_BATCHES, -1, sg.shape[1]).mean(1),
        "loss": loss,
        "rate": rate,
    }


_ESCAPE_CACHE: dict = {}


def _escape_chunk(program, chunk, n_flips):
    key_ = (program, chunk, n_flips)
    if key_ not in _ESCAPE_CACHE:
        from analysis.stochastic import estimate_many

        def run(params, inputs, key):
            est = estimate_many(
                ["coupled_flip_sub", "sg_stochastic"],
                program,
                params,
                inputs,
                chunk,
                key=key,
                n_flips=n_flips,
            )
            flat = lambda g: jnp.concatenate(
                [g["hidden"][0]["w"].reshape(chunk, -1), g["readout"]["w"].reshape(chunk, -1)], axis=1
            )
            return flat(est["coupled_flip_sub"]), flat(est["sg_stochastic"])

        _ESCAPE_CACHE[key_] = jax.jit(run)
    return _ESCAPE_CACHE[key_]


@partial(jax.jit, static_argnums=(2, 3))
def _rate(params, x, cfg, m, key):
    return jnp.mean(simulate(params, x, cfg, m, key=key).spikes[0])


@partial(jax.jit, static_argnums=(3, 4))
def _loss_mean(params, x, labels, cfg, m, key):
    keys = jax.random.split(key, 64)
    return jnp.mean(jax.vmap(lambda k: discrete_loss(params, x, labels, cfg, m, key=k))(keys))


def _unflat(v: np.ndarray, like: Any) -> dict:
    nh = like["hidden"][0]["w"].size
    return {
        "hidden": [{"w": v[:nh].reshape(like["hidden"][0]["w"].shape)}],
        "readout": {"w": v[nh:].reshape(like["readout"]["w"].shape)},
    }


def jackknife_cosine_se(batches: np.ndarray, other: np.ndarray, group_slice: slice) -> float:
    """Delete-one-batch jackknife SE of cosine(mean of ``batches``, ``other``) over the
    coordinates ``group_slice`` (``batches`` [n_batches, P]; ``other`` fixed)."""
    n = batches.shape[0]
    total = batches.sum(0)
    loo = [cosine(((total - batches[i]) / (n - 1))[group_slice], other[group_slice]) for i in range(n)]
    return jackknife_se(loo)


def _slices(params) -> dict:
    nh = int(params["hidden"][0]["w"].size)
    return {"hidden": slice(0, nh), "readout": slice(nh, None), "all": slice(None)}


# ------------------------------------------------------------------ the comparison


#: the grids of fig10 and the EventProp claims, per profile: instance seeds, bin widths dt (s),
#: SuperSpike steepnesses, escape-noise betas,
#: bin of the escape-noise network (s) and samples of its unbiased estimator
COMPARE_PROFILES: dict[str, dict] = {
    "tiny": {
        "seeds": (1,),
        "dts": (0.5e-3, 0.2e-3, 0.1e-3, 0.05e-3),
        "beta_sgs": (20.0,),
        "betas": (2.0, 20.0),
        "dt_noise": 1e-3,
        "n_samples": 500,
    },
    "quick": {
        "seeds": (1, 2),
        "dts": (1e-3, 0.5e-3, 0.25e-3, 0.1e-3, 0.05e-3),
        "beta_sgs": (2.0, 5.0, 20.0, 100.0),
        "betas": (2.0, 5.0, 10.0, 20.0, 50.0),
        "dt_noise": 1e-3,
        "n_samples": 1000,
    },
    "full": {
        "seeds": (1, 2, 3, 4),
        "dts": (1e-3, 0.5e-3, 0.25e-3, 0.1e-3, 0.05e-3, 0.02e-3),
        "beta_sgs": (2.0, 5.0, 20.0, 100.0),
        "betas": (2.0, 5.0, 10.0, 20.0, 50.0),
        "dt_noise": 1e-3,
        "n_samples": 5000,
    },
}


def compare_gradients(
    setup: CompareSetup = CompareSetup(),
    *,
    dts: tuple = (1e-3, 0.5e-3, 0.25e-3, 0.1e-3, 0.05e-3),
    beta_sgs: tuple = (2.0, 5.0, 20.0, 100.0),
    betas: tuple = (2.0, 5.0, 10.0, 20.0),
    dt_noise: float = 1e-3,
    n_samples: int = 1000,
    n_flips: int = 8,
    key: jax.Array | None = None,
) -> dict:
    """The three gradients of :class:`CompareSetup`'s network and their cosines.

    Returns {"setup", "eventprop": {loss, norms, hidden_spikes}, "sg": rows over dts x
    beta_sgs (dt, beta_sg, loss, cos_/rel_/norm_<group> against EventProp, hidden_spikes),
    "escape": rows over betas at ``dt_noise`` (beta, rate, loss, SE-normalised size of the
    estimate, and against EventProp: cos_/rel_<group> with jackknife SE cos_se_<group>; the
    matched SG (Heaviside forward, psi = f') and E[SG] of the stochastic network against the
    escape gradient: sg_cos_<group>, esg_cos_<group> (+ SE); the SuperSpike SG of beta_SG =
    beta against it: ss_cos_<group>; the split-half ceiling of the estimate's own noise)}.
    Pass ``betas=()`` to skip part (c).
    """
    if not isinstance(setup, CompareSetup):
        raise TypeError(f"setup must be a CompareSetup, got {type(setup).__name__}")
    key = jax.random.key(setup.seed + 1) if key is None else key
    params, times, labels = setup.instance()
    loss_ep, g_ep = eventprop_gradient(setup, params, times, labels)
    res = ct_simulate(params, times, setup.config(), t_max=setup.t_max, max_spikes=setup.max_spikes)
    out: dict = {
        "setup": dataclasses.asdict(setup),
        "eventprop": {
            "loss": float(loss_ep),
            "hidden_spikes": int(np.sum(np.asarray(res.counts[0]))),
            **{f"norm_{g}": float(np.linalg.norm(_flat(g_ep, g))) for g in GROUPS},
            "fd_check": directional_check(setup, params, times, labels, g_ep),
        },
        "sg": [],
        "escape": [],
    }
    for dt in dts:
        x = binned_inputs(setup, times, dt)
        spikes = _hidden_spikes(params, x, setup.config(dt))
        for beta_sg in beta_sgs:
            loss, g = sg_gradient(setup, params, x, labels, dt, surrogate("superspike", beta_sg))
            row = {"dt": float(dt), "beta_sg": float(beta_sg), "loss": float(loss), "hidden_spikes": spikes}
            out["sg"].append(row | compare(g, g_ep))
    if betas:
        x = binned_inputs(setup, times, dt_noise)
        for beta in betas:
            out["escape"].append(
                _escape_row(setup, params, x, labels, g_ep, dt_noise, beta, n_samples, n_flips, key)
            )
    return out


def directional_check(setup: CompareSetup, params: dict, input_times, labels, g_ep, h: float = 1e-6) -> dict:
    """EventProp's hidden-weight gradient against central differences of the continuous-time
    loss (:func:`analysis.eventprop.ct_simulate`), (L(w + h d) - L(w - h d)) / 2h, along its own
    unit direction and along one random unit direction (key ``seed``): {"along_gradient",
    "random"} each with ``fd``, ``eventprop`` and ``rel_error`` = |fd - g.d| / ||g_hidden||."""
    w = np.asarray(params["hidden"][0]["w"], np.float64)
    g = np.asarray(g_ep["hidden"][0]["w"], np.float64)
    rand = np.random.default_rng(setup.seed).normal(size=w.shape)
    cfg = setup.config()

    def loss(wh):
        p = {"hidden": [{"w": jnp.asarray(wh, params["hidden"][0]["w"].dtype)}], "readout": params["readout"]}
        r = ct_simulate(p, input_times, cfg, t_max=setup.t_max, max_spikes=setup.max_spikes)
        return float(max_voltage_cross_entropy(r, labels))

    out = {}
    for name, d in (("along_gradient", g), ("random", rand)):
        d = d / np.linalg.norm(d)
        fd = (loss(w + h * d) - loss(w - h * d)) / (2 * h)
        pred = float(np.sum(g * d))
        out[name] = {"fd": fd, "eventprop": pred, "rel_error": abs(fd - pred) / float(np.linalg.norm(g))}
    return out


@partial(jax.jit, static_argnums=(2,))
def _count(params, x, cfg):
    return jnp.sum(simulate(params, x, cfg, Method("deterministic")).spikes[0])


def _hidden_spikes(params, x, cfg) -> int:
    return int(_count(params, x, cfg))


@partial(jax.jit, static_argnums=(2,))
def _counts(params, x, cfg):
    return jnp.sum(simulate(params, x, cfg, Method("deterministic")).spikes[0], axis=1)


def _hidden_counts(params, x, cfg) -> np.ndarray:
    """Spike counts of the hidden neurons [B, N] of the discretised network (Heaviside)."""
    return np.asarray(_counts(params, x, cfg)).astype(int)


def _escape_row(setup, params, x, labels, g_ep, dt, beta, n_samples, n_flips, key) -> dict:
    est = escape_gradient(
        setup,
        params,
        x,
        labels,
        dt,
        beta,
        n_samples=n_samples,
        key=jax.random.fold_in(key, int(beta * 1000)),
        n_flips=n_flips,
    )
    ref, se, batches = est["mean"], est["se"], est["batches"]
    ep = np.concatenate([_flat(g_ep, "hidden"), _flat(g_ep, "readout")])
    noise = escape_noise("sigmoid", beta)
    _, g_m = sg_gradient(setup, params, x, labels, dt, matched_surrogate(noise))
    _, g_ss = sg_gradient(setup, params, x, labels, dt, surrogate("superspike", beta))
    sg_m = np.concatenate([_flat(g_m, "hidden"), _flat(g_m, "readout")])
    sg_ss = np.concatenate([_flat(g_ss, "hidden"), _flat(g_ss, "readout")])
    row: dict = {"beta": float(beta), "dt": float(dt), "n_samples": n_samples, "loss": est["loss"]}
    row["rate"] = est["rate"]
    half = JACKKNIFE_BATCHES // 2
    for grp, sl in _slices(params).items():
        r = ref[sl]
        row[f"snr_{grp}"] = float(np.linalg.norm(r) / np.sqrt(np.sum(se[sl] ** 2)))
        row[f"ceiling_{grp}"] = cosine(batches[:half].mean(0)[sl], batches[half:].mean(0)[sl])
        row[f"cos_{grp}"] = cosine(r, ep[sl])
        row[f"cos_se_{grp}"] = jackknife_cosine_se(batches, ep, sl)
        row[f"rel_{grp}"] = relative_difference(r, ep[sl])
        row[f"sg_cos_{grp}"] = cosine(sg_m[sl], r)
        row[f"sg_cos_se_{grp}"] = jackknife_cosine_se(batches, sg_m, sl)
        row[f"ss_cos_{grp}"] = cosine(sg_ss[sl], r)
        row[f"ss_cos_se_{grp}"] = jackknife_cosine_se(batches, sg_ss, sl)
        row[f"esg_cos_{grp}"] = cosine(est["sg_mean"][sl], r)
        row[f"sg_ep_cos_{grp}"] = cosine(sg_m[sl], ep[sl])
    return row
