"""Claim (measurement): in LIF networks in time the surrogate gradient is biased layer by
layer, and the bias is measured rather than assumed; even the last layer's weights need not be
exact, because a neuron's spikes act on its own future through the reset and membrane memory,
which the SG (reset detached, or differentiated) linearises (Gygax & Zenke 2025, sec. 4;
derivation in paper/sections/theory.typ).

Measured (library): per layer, the relative error ||E[SG] - g|| / ||g|| and the cosine of the
exact E[SG] (analysis.stochastic.exact_sg_mean: sum over all 2^K spike configurations S of
P(S) times jax.grad under the straight-through source) against the exact gradient g of E[L]
(exact_value_and_grad), for LIF networks with detached and differentiable reset and for the
recurrent LIF network of analysis.snn used by estimators_unbiased.

Predicted (independent path, this module): the same two numbers from a plain NumPy
enumeration that shares no code with the library (:func:`lif_enumeration_np`): the LIF
recursion written out, P(S) = prod_k p_k^S_k (1 - p_k)^(1 - S_k) with p_k = f(z_k) from
scipy's expit / ndtr, the SG of each configuration by a hand-written backward pass through
time (dS/dz = psi(z) = f'(z) written out, the reset's derivative -lambda_mem U[t] added for
the differentiable reset), and g = sum_S P(S) L(S) grad log P(S) by the same hand-written
backward pass with the spikes held fixed (the library differentiates the enumerated E[L] with
jax.grad instead).

Criterion (fixed 2026-12-06):
(a) every per-layer relative error and cosine agrees with its NumPy prediction to
    PREDICTION_TOL = 1e-6 (absolute): the two exact computations differ by rounding only
    (measured <= 1e-13), while a wrong backward rule (a dropped reset derivative, another
    surrogate steepness) moves them by 0.06 and 0.2 (tests/claims/test_failable_criteria.py);
(b) the predicted hidden-layer relative error exceeds 1e-3 on the feedforward-in-time networks
    (the statement: the hidden layer's SG is biased);
(c) sum_S P(S) = 1 to 1000 machine epsilons and the Monte-Carlo mean of the sampled SG
    estimator "sg_stochastic" (n samples) agrees with the exact E[SG] (Holm-corrected z
    tests; alpha 1e-3 split over the three networks, so the claim fails by chance with
    probability <= 1e-3).
The last layer's number is reported whatever it is (nothing about its size is assumed).
Measured (tiny, 2026-12-06): relative bias (hidden, readout) 0.376, 0.0740 (detached reset)
and 0.376, 0.0103 (differentiable); recurrent (hidden W, V, readout W) 0.049, 0.036, 0.190;
largest gap to the NumPy prediction 1.2e-14.

Recurrent part: 2 inputs, 2 hidden neurons with recurrent weights V, 1 LIF readout, 5 steps
(K = 15; first instance with all spike probabilities in [0.01, 0.99]), run as a stochastic
program (analysis.stochastic.snn_program); layers hidden W, recurrent V, readout W; probit
noise (beta 1.5) in the hidden layer, sigmoid (beta 3) in the readout, each with its matched
surrogate.
"""

from __future__ import annotations

import numpy as np

from proofs_numeric._registry import register, result

NAME = "sg_bias_lif_layers"
ALPHA = 1e-3
PREDICTION_TOL = 1e-6  # |measured - predicted| of every per-layer relative error and cosine
HIDDEN_BIAS_MIN = 1e-3  # the hidden layer's predicted relative error must exceed this
# Monte-Carlo samples and LIF steps of the feedforward-in-time networks (K = 3 x steps) per
# profile; tiny is the default suite's stand-in (the recurrent network is the same in all).
# Five steps are the fewest at which the hidden layer's weights reach the output (its input
# reaches its spikes two steps later). Every part of the criterion (two resets, the recurrent
# network, the NumPy predictions, the Monte-Carlo checks) runs at every profile.
SIZES = {
    "tiny": {"samples": 1000, "steps": 5},
    "quick": {"samples": 4000, "steps": 6},
    "full": {"samples": 40000, "steps": 7},
}


# ------------------------------------------------------------------ NumPy reference


def noise_np(name: str, beta: float):
    """(f, f') of the escape noise ``name`` in NumPy/SciPy: sigmoid f = expit(beta z),
    probit f = Phi(beta z) (written here, not taken from analysis.neuron)."""
    from scipy.special import expit, ndtr

    if name == "sigmoid":
        return (lambda z: expit(beta * z)), (lambda z: beta * expit(beta * z) * expit(-beta * z))
    if name == "probit":
        return (lambda z: ndtr(beta * z)), (
            lambda z: beta * np.exp(-0.5 * (beta * z) ** 2) / np.sqrt(2.0 * np.pi)
        )
    raise ValueError(f"noise name must be 'sigmoid' or 'probit', got {name!r}")


def _patterns(T: int, sizes) -> list:
    """All 2^K configurations as per-layer float arrays (2^K, T, n_l), K = T * sum(sizes)."""
    K = T * sum(sizes)
    bits = ((np.arange(2**K)[:, None] >> np.arange(K)[None, :]) & 1).astype(float)
    bits = bits.reshape(2**K, T, sum(sizes))
    cuts = np.cumsum((0, *sizes))
    return [bits[:, :, cuts[l] : cuts[l + 1]] for l in range(len(sizes))]


def _potentials_np(ws, vs, x, S, lif):
    """Teacher-forced U[t] - theta per layer, (P, T, n_l); lif = (theta, lam_mem, lam_syn)."""
    theta, lam_mem, lam_syn = lif
    P, T = S[0].shape[:2]
    z = [np.zeros_like(s) for s in S]
    cur = [np.zeros((P, s.shape[2])) for s in S]
    mem = [np.zeros((P, s.shape[2])) for s in S]
    for t in range(T):
        s_in = np.broadcast_to(x[t], (P, x.shape[1]))
        for l, w in enumerate(ws):
            s = S[l][:, t]
            z[l][:, t] = mem[l] - theta
            drive = s_in @ w + (s @ vs[l] if vs[l] is not None else 0.0)
            mem[l] = lam_mem * mem[l] * (1.0 - s) + (1.0 - lam_mem) * cur[l]
            cur[l] = lam_syn * cur[l] + drive
            s_in = s
    return z


def _log_prob_np(z, S, noises):
    out = np.zeros(S[0].shape[0])
    for zl, sl, (f, _) in zip(z, S, noises, strict=True):
        p = f(zl)
        out += np.sum(np.where(sl > 0, np.log(p), np.log1p(-p)), axis=(1, 2))
    return out


def _backward_np(ws, vs, x, S, z, dl_ds, lif, reset, surrogates, dl_dz=None):
    """Per-configuration SG of every weight, (P, *w.shape): backward pass through time by hand.
    With ``dl_dz`` (cotangents of the potentials z, per layer (P, T, n_l)) instead, the spikes
    are held fixed (no dS/dz, no reset derivative): the gradient of sum_k dl_dz_k z_k.

    Adjoints a_I, a_U of I[t+1], U[t+1] per layer, from t = T-1 down to 0:
    dL/dS_l[t] = dL/dS (direct) + a_I(l+1) W_{l+1}^T + a_I(l) V_l^T [- lam_mem U_l[t] a_U(l)
    for the differentiable reset]; dL/dz = dL/dS psi(z); a_U(t) = dL/dz + lam_mem (1 - S) a_U;
    a_I(t) = lam_syn a_I + (1 - lam_mem) a_U; dL/dW_l += S_in[t]^T a_I, dL/dV_l += S_l[t]^T a_I.
    """
    theta, lam_mem, lam_syn = lif
    P, T = S[0].shape[:2]
    n = len(ws)
    g_w = [np.zeros((P, *w.shape)) for w in ws]
    g_v = [None if v is None else np.zeros((P, *v.shape)) for v in vs]
    a_i = [np.zeros((P, s.shape[2])) for s in S]
    a_u = [np.zeros((P, s.shape[2])) for s in S]
    for t in range(T - 1, -1, -1):
        new_i, new_u = list(a_i), list(a_u)
        for l in range(n):
            s = S[l][:, t]
            s_in = S[l - 1][:, t] if l > 0 else np.broadcast_to(x[t], (P, x.shape[1]))
            g_w[l] += s_in[:, :, None] * a_i[l][:, None, :]
            if vs[l] is not None:
                g_v[l] += s[:, :, None] * a_i[l][:, None, :]
            if dl_dz is not None:
                g_z = dl_dz[l][:, t]
            else:
                g_s = dl_ds[l][:, t].copy()
                if l + 1 < n:
                    g_s += a_i[l + 1] @ ws[l + 1].T
                if vs[l] is not None:
                    g_s += a_i[l] @ vs[l].T
                if reset == "differentiable":
                    g_s -= lam_mem * (z[l][:, t] + theta) * a_u[l]
                g_z = g_s * surrogates[l](z[l][:, t])
            new_u[l] = g_z + lam_mem * (1.0 - s) * a_u[l]
            new_i[l] = lam_syn * a_i[l] + (1.0 - lam_mem) * a_u[l]
        a_i, a_u = new_i, new_u
    return g_w + [g for g in g_v if g is not None]


def lif_enumeration_np(ws, vs, x, lif, reset, noises, loss, surrogates=None):
    """Exact E[SG], grad E[L] and sum_S P(S) of a small LIF network in plain NumPy.

    ws: input weights per layer in the simulator's layout (n_in_l, n_l) (last = readout);
    vs: recurrent weights (n_l, n_l) or None per layer; x: (T, n_in) input spikes;
    lif = (theta, lam_mem, lam_syn); reset: "detached" | "differentiable"; noises: (f, f')
    per layer; loss(S) -> (L (P,), [dL/dS_l (P, T, n_l)]); surrogates: psi per layer
    (default f', the matched SG). Returns (E_SG, grad, p_sum), lists over ws then the vs that
    are not None. grad E[L] = sum_S P(S) L(S) grad log P(S) (L depends on the weights only
    through S), grad log P(S) = sum_k (S_k - p_k) f'(z_k) / (p_k (1 - p_k)) grad z_k: one
    backward pass with the spikes held fixed (checked against difference quotients in
    tests/claims/test_failable_criteria.py).
    """
    T = x.shape[0]
    S = _patterns(T, [w.shape[1] for w in ws])
    surrogates = surrogates or [df for _, df in noises]
    values, dl_ds = loss(S)
    z = _potentials_np(ws, vs, x, S, lif)
    prob = np.exp(_log_prob_np(z, S, noises))
    sg = _backward_np(ws, vs, x, S, z, dl_ds, lif, reset, surrogates)
    score = []
    for zl, sl, (f, df) in zip(z, S, noises, strict=True):
        p = f(zl)
        score.append(values[:, None, None] * (sl - p) * df(zl) / (p * (1.0 - p)))
    grad = _backward_np(ws, vs, x, S, z, dl_ds, lif, reset, surrogates, dl_dz=score)
    mean = lambda gs: [np.tensordot(prob, g, axes=1) for g in gs]
    return mean(sg), mean(grad), float(prob.sum())


def expected_loss_np(ws, vs, x, lif, noises, loss) -> float:
    """E[L] = sum_S P(S) L(S) by the same NumPy enumeration (for difference quotients)."""
    S = _patterns(x.shape[0], [w.shape[1] for w in ws])
    prob = np.exp(_log_prob_np(_potentials_np(ws, vs, x, S, lif), S, noises))
    return float(prob @ loss(S)[0])


def mean_readout_loss(S):
    """L = mean over time and readout neurons of the readout spikes, and dL/dS."""
    out = S[-1]
    grads = [np.zeros_like(s) for s in S]
    grads[-1][:] = 1.0 / (out.shape[1] * out.shape[2])
    return out.mean(axis=(1, 2)), grads


def recurrent_loss_np(S):
    """The loss of estimators_unbiased._recurrent_lif written out, and dL/dS:
    L = (sum_t out[t] - 1.5)^2 + 0.5 sum_t h0[t] h1[t] - 0.3 sum_{t>=1} h0[t] h1[t-1]."""
    h, out = S
    r = out.sum(axis=(1, 2)) - 1.5
    val = r**2 + 0.5 * np.sum(h[:, :, 0] * h[:, :, 1], 1) - 0.3 * np.sum(h[:, 1:, 0] * h[:, :-1, 1], 1)
    g_h = np.zeros_like(h)
    g_h[:, :, 0] = 0.5 * h[:, :, 1]
    g_h[:, 1:, 0] -= 0.3 * h[:, :-1, 1]
    g_h[:, :, 1] = 0.5 * h[:, :, 0]
    g_h[:, :-1, 1] -= 0.3 * h[:, 1:, 0]
    g_out = np.broadcast_to(2.0 * r[:, None, None], out.shape).copy()
    return val, [g_h, g_out]


def layer_numbers(sg, grad) -> tuple[list[float], list[float]]:
    """Per layer: relative error ||sg - g|| / ||g|| and cosine(sg, g)."""
    rel, cos = [], []
    for a, b in zip(sg, grad, strict=True):
        a, b = np.ravel(np.asarray(a, float)), np.ravel(np.asarray(b, float))
        rel.append(float(np.linalg.norm(a - b) / np.linalg.norm(b)))
        cos.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))
    return rel, cos


def agreement(measured: dict, predicted: dict, tol: float = PREDICTION_TOL) -> dict:
    """Largest |measured - predicted| over the per-layer relative errors and cosines, and
    whether it is <= ``tol`` (criterion (a))."""
    gap = max(
        abs(a - b)
        for key in ("relative_bias_per_layer", "cosine_per_layer")
        for a, b in zip(measured[key], predicted[key], strict=True)
    )
    return {"max_gap": float(gap), "tolerance": tol, "agrees": bool(gap <= tol)}


# ------------------------------------------------------------------ the networks


def feedforward_net(reset: str, steps: int):
    """The feedforward-in-time LIF network (2, 2, 1) of the claim and its instance."""
    import jax

    from analysis import escape_noise
    from analysis.stochastic import Network, random_instance

    net = Network(
        "lif",
        (2, 2, 1),
        escape_noise("sigmoid", 4.0),
        theta=0.2,
        steps=steps,
        loss="mean",
        tau_mem=5.0,
        tau_syn=2.0,
        reset=reset,
    )
    params, x = random_instance(jax.random.key(3), net, weight_scale=3.0, input_rate=0.7)
    return net, params, x


def predict_feedforward(net, params, x, reset=None, surrogate_beta=None) -> dict:
    """NumPy prediction for a feedforward-in-time ``net`` (layout W_l (n_l, n_{l-1})); reset and
    surrogate_beta override the network's (for the mutant tests: a wrong theory)."""
    import math

    beta = net.noise.beta
    f = noise_np(net.noise.name, beta)
    psi = noise_np(net.noise.name, surrogate_beta)[1] if surrogate_beta is not None else f[1]
    lif = (net.theta, math.exp(-net.dt / net.tau_mem), math.exp(-net.dt / net.tau_syn))
    ws = [np.asarray(w, float).T for w in params]
    sg, grad, p_sum = lif_enumeration_np(
        ws,
        [None] * len(ws),
        np.asarray(x, float),
        lif,
        reset or net.reset,
        [f] * len(ws),
        mean_readout_loss,
        surrogates=[psi] * len(ws),
    )
    rel, cos = layer_numbers([a.T for a in sg], [g.T for g in grad])
    return {"relative_bias_per_layer": rel, "cosine_per_layer": cos, "probability_sum": p_sum}


def measure(program, params, x) -> tuple[dict, object]:
    """Library measurement: per-layer relative error and cosine of exact E[SG] vs exact grad."""
    import jax

    from analysis.stochastic import exact_sg_mean, exact_value_and_grad

    g = exact_value_and_grad(program, params, x)[1]
    sg = exact_sg_mean(program, params, x)
    leaves = lambda t: jax.tree_util.tree_leaves(t) if not isinstance(t, dict) else _snn_layers(t)
    rel, cos = layer_numbers(leaves(sg), leaves(g))
    return {"relative_bias_per_layer": rel, "cosine_per_layer": cos}, sg


def _snn_layers(t: dict) -> list:
    """hidden W, recurrent V, readout W of the recurrent network's pytree."""
    return [t["hidden"][0]["w"], t["hidden"][0]["v"], t["readout"]["w"]]


@register(
    NAME,
    "LIF networks in time: SG bias measured layer by layer (exact E[SG] vs exact "
    "gradient) agrees with an independent NumPy enumeration; hidden layer biased; "
    "last-layer bias reported, not assumed zero.",
    tiny=True,
)
def check(profile: str = "quick"):
    import jax

    from analysis.stochastic import check_unbiased, estimate

    n, steps = SIZES[profile]["samples"], SIZES[profile]["steps"]
    rows, ok = [], True
    for reset in ("detached", "differentiable"):
        net, params, x = feedforward_net(reset, steps)
        measured, sg_exact = measure(net, params, x)
        predicted = predict_feedforward(net, params, x)
        agree = agreement(measured, predicted)
        mc = jax.jit(lambda p, net=net, x=x: estimate("sg_stochastic", net, p, x, n, key=jax.random.key(4)))(
            params
        )
        rep = check_unbiased(
            None, params, n, key=jax.random.key(0), reference=sg_exact, samples=mc, alpha=ALPHA / 3
        )
        p_ok = _probability_sum_ok(predicted["probability_sum"])
        biased = predicted["relative_bias_per_layer"][0] > HIDDEN_BIAS_MIN
        ok &= agree["agrees"] and rep.passed and biased and p_ok
        rows.append(
            {
                "reset": reset,
                "K": net.n_spikes,
                **measured,
                "predicted_relative_bias_per_layer": predicted["relative_bias_per_layer"],
                "predicted_cosine_per_layer": predicted["cosine_per_layer"],
                "prediction_gap": agree["max_gap"],
                "hidden_layer_biased": biased,
                "probability_sum": predicted["probability_sum"],
                "mc_matches_exact_mean_sg": rep.passed,
                "mc_min_p": rep.min_p_value,
            }
        )
    recurrent = _check_recurrent(n)
    ok &= recurrent["mc_matches_exact_mean_sg"] and recurrent["probability_sum_ok"]
    ok &= recurrent["prediction_gap"] <= PREDICTION_TOL
    gaps = [r["prediction_gap"] for r in rows] + [recurrent["prediction_gap"]]
    return result(
        NAME,
        [r["relative_bias_per_layer"] for r in rows] + [recurrent["relative_bias_per_layer"]],
        [r["predicted_relative_bias_per_layer"] for r in rows]
        + [recurrent["predicted_relative_bias_per_layer"]],
        PREDICTION_TOL,
        ok,
        layers=rows,
        recurrent_lif=recurrent,
        worst_prediction_gap=max(gaps),
        samples=n,
        sizes=SIZES[profile],
        criterion=(
            f"(a) per-layer relative bias and cosine (library: exact E[SG] vs exact grad) equal "
            f"the independent NumPy enumeration to {PREDICTION_TOL:g} on all three networks; (b) "
            f"predicted hidden-layer relative bias > {HIDDEN_BIAS_MIN:g} (both resets); (c) "
            "sum_S P(S) = 1 and the Monte-Carlo SG mean agrees with exact E[SG] (Holm; alpha "
            "1e-3 over the three networks); the last layer's bias is reported, not tested"
        ),
    )


def _probability_sum_ok(p_sum: float) -> bool:
    return abs(p_sum - 1.0) < 1e3 * float(np.finfo(float).eps)


def _check_recurrent(n: int) -> dict:
    """Per-layer bias of the SG on the recurrent LIF network of estimators_unbiased, measured
    by the library and predicted by :func:`lif_enumeration_np`."""
    import jax

    from analysis.stochastic import check_unbiased, estimate
    from proofs_numeric.estimators_unbiased import RECURRENT_T, recurrent_instance

    cfg, program, params, x, info = recurrent_instance(30)
    measured, sg_mean = measure(program, params, x)
    mc = jax.jit(lambda p: estimate("sg_stochastic", program, p, x, n, key=jax.random.key(41)))(params)
    rep = check_unbiased(
        None, params, n, key=jax.random.key(0), reference=sg_mean, samples=mc, alpha=ALPHA / 3
    )
    lif = (cfg.lif.theta, cfg.lif.lambda_mem, cfg.lif.lambda_syn)
    ws = [np.asarray(params["hidden"][0]["w"], float), np.asarray(params["readout"]["w"], float)]
    vs = [np.asarray(params["hidden"][0]["v"], float), None]
    sg, grad, p_sum = lif_enumeration_np(
        ws,
        vs,
        np.asarray(x, float)[0],
        lif,
        cfg.lif.reset,
        [noise_np("probit", 1.5), noise_np("sigmoid", 3.0)],
        recurrent_loss_np,
    )
    order = [0, 2, 1]  # hidden W, recurrent V, readout W (the numpy lists: ws then vs)
    rel, cos = layer_numbers([sg[i] for i in order], [grad[i] for i in order])
    predicted = {"relative_bias_per_layer": rel, "cosine_per_layer": cos}
    label = f"snn recurrent hidden={cfg.hidden} n_out={cfg.n_out} readout={cfg.readout} T={RECURRENT_T}"
    return {
        "network": label,
        **info,
        "K": program.K,
        "layers": ["hidden W", "recurrent V", "readout W"],
        **measured,
        "predicted_relative_bias_per_layer": rel,
        "predicted_cosine_per_layer": cos,
        "prediction_gap": agreement(measured, predicted)["max_gap"],
        "probability_sum": p_sum,
        "probability_sum_ok": _probability_sum_ok(p_sum),
        "mc_matches_exact_mean_sg": rep.passed,
        "mc_min_p": rep.min_p_value,
    }
