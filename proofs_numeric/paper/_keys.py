"""Everything the reproduction paper reads from the result files, in one place.

When a claim's ``details`` change, update the paths here (and, if a value disappears, the
prose that shows it): the paper reads nothing else. A path is a tuple of steps into a
claim (``("details", "loops", {"beta_sg": 20.0}, "loop_integral")``): a string is a dict
key, an integer a list index, a dict selects the first list item whose fields match. A
path that does not resolve gives ``None`` (shown as ``n/a``), never an exception.
"""

from __future__ import annotations

from typing import Any

#: claim -> paper section (results); claims not listed go to "other claims"
SECTIONS = {
    "single-neuron": (
        "symbolic_surrogate_pairs",
        "single_neuron_sg",
        "single_neuron_nonlinear_loss",
        "smoothed_spike_derivative",
        "bernoulli_constructs_unbiased",
        "bernoulli_nonlinear_downstream",
    ),
    "multilayer": (
        "sg_bias_feedforward",
        "sg_bias_table",
        "sg_bias_lif_layers",
        "sg_equals_linearised_stochad",
        "sg_deterministic_limit",
        "estimators_unbiased",
    ),
    "fields": (
        "fields_exact_conservative",
        "fields_sg_not_conservative",
        "fields_shrinking_loops",
        "fields_stokes",
        "fields_sign_flip",
        "fields_sg_descent_bias",
        "fields_sg_enable_learning",
    ),
    "spike-train": ("snn_spike_train_learning",),
    "classification": ("snn_randman_accuracy",),
    "alignment": ("alignment_matched_surrogate",),
    "eventprop": ("eventprop_discrete_limit", "eventprop_sg_dt_limit", "eventprop_escape_noise"),
}

_LOOPS = ("details", "loops")
_SWEEPS = ("details", "sweeps")
_RUNS = ("details", "sg_runs")
_DET = ("details", "deterministic_first_last")
_STO = ("details", "stochastic_first_last")

#: value name -> (claim, path). The prose and the tables show these, formatted.
CLAIM_VALUES: dict[str, tuple[str, tuple]] = {
    # closed loops (Fig. 4)
    **{
        f"loop.{tag}.{field}": ("fields_sg_not_conservative", (*_LOOPS, i, field))
        for i, tag in enumerate(("a", "b", "c"))
        for field in ("beta_sg", "loop_integral", "quad_error", "snr", "n_points")
    },
    "loop.grows": ("fields_sg_not_conservative", ("details", "grows_with_beta_sg")),
    "loop.numpy": ("fields_sg_not_conservative", ("details", "agrees_with_numpy_reference")),
    "loop.min_snr": ("fields_sg_not_conservative", ("measured",)),
    "exact.worst": ("fields_exact_conservative", ("measured",)),
    "exact.tolerance": ("fields_exact_conservative", ("tolerance",)),
    "curl.centre": ("fields_shrinking_loops", ("details", "curl_at_centre")),
    "curl.order": ("fields_shrinking_loops", ("measured",)),
    "curl.gap": ("fields_shrinking_loops", ("details", "relative_gap_smallest_loop")),
    "stokes.worst": ("fields_stokes", ("measured",)),
    # sign-flip sweep (Fig. 5 left); sweep a: the smaller beta_SG, sweep b: the larger
    **{
        f"flip.{tag}.{field}": ("fields_sign_flip", (*_SWEEPS, i, field))
        for i, tag in enumerate(("a", "b"))
        for field in (
            "beta_sg",
            "sg_zero_crossings",
            "true_zero_crossings",
            "sign_agreement",
            "argmin_loss",
            "argmin_integrated_sg",
        )
    },
    "descent.w": ("fields_sg_descent_bias", ("measured",)),
    "descent.loss": ("fields_sg_descent_bias", ("details", "loss_at_end", 0)),
    "descent.loss_min": ("fields_sg_descent_bias", ("details", "loss_min_on_sweep")),
    "descent.true_grad": ("fields_sg_descent_bias", ("details", "true_gradient_at_end_fd", 0)),
    "descent.a_w": ("fields_sg_descent_bias", ("details", "beta_sg_15_end_w", 0)),
    # plateau (Fig. 5 right)
    "plateau.start": ("fields_sg_enable_learning", ("details", "start")),
    "plateau.true_grad": ("fields_sg_enable_learning", ("measured",)),
    "plateau.wide_drop": ("fields_sg_enable_learning", (*_RUNS, "2.0", "loss_drop")),
    "plateau.narrow_drop": ("fields_sg_enable_learning", (*_RUNS, "20.0", "loss_drop")),
    "plateau.true_drop": ("fields_sg_enable_learning", ("details", "true_descent_loss_drop")),
    # multilayer bias
    "chain.grad": ("sg_bias_feedforward", ("details", "chain", "enum_grad_w")),
    "chain.esg": ("sg_bias_feedforward", ("details", "chain", "enum_E_sg_w")),
    "chain.single": ("sg_bias_feedforward", ("details", "single_neuron_bias")),
    "bias.samples": ("sg_bias_feedforward", ("details", "samples")),
    "bias.last_binary": ("sg_bias_feedforward", ("details", "networks", -1, "max_abs_bias_per_layer", -1)),
    "lif.last_detached": (
        "sg_bias_lif_layers",
        ("details", "layers", {"reset": "detached"}, "relative_bias_per_layer", -1),
    ),
    "lif.last_differentiable": (
        "sg_bias_lif_layers",
        ("details", "layers", {"reset": "differentiable"}, "relative_bias_per_layer", -1),
    ),
    "limit.slope": ("sg_deterministic_limit", ("details", "fitted_log_slope")),
    "limit.measured": ("sg_deterministic_limit", ("measured",)),
    "limit.reference": ("sg_deterministic_limit", ("reference",)),
    "unbiased.rejections": ("estimators_unbiased", ("measured",)),
    "unbiased.samples": ("estimators_unbiased", ("details", "samples")),
    "unbiased.alpha": ("estimators_unbiased", ("details", "alpha_total")),
    "unbiased.readout_z": (
        "estimators_unbiased",
        ("details", "sg_bias_recurrent_lif", "readout W", "max_abs_z"),
    ),
    "linearised.worst": ("sg_equals_linearised_stochad", ("measured",)),
    "single.worst": ("single_neuron_sg", ("measured",)),
    "symbolic.worst": ("symbolic_surrogate_pairs", ("measured",)),
    # spike-train matching
    "train.vr_det": ("snn_spike_train_learning", ("measured", "vr_ratio_det")),
    "train.vr_stoch": ("snn_spike_train_learning", ("measured", "vr_ratio_stoch")),
    "train.fano_stoch": ("snn_spike_train_learning", (*_STO, "hidden_fano_final", "mean")),
    "train.fano_stoch_se": ("snn_spike_train_learning", (*_STO, "hidden_fano_final", "se")),
    "train.fano_stoch_n": ("snn_spike_train_learning", (*_STO, "hidden_fano_final", "n_neurons")),
    "train.fano_det": ("snn_spike_train_learning", (*_DET, "hidden_fano_final", "mean")),
    "train.vr_max": ("snn_spike_train_learning", ("reference", "vr_ratio_max")),
    # classification
    "randman.det": ("snn_randman_accuracy", ("measured", "det_test_acc")),
    "randman.stoch": ("snn_randman_accuracy", ("measured", "stoch_test_acc")),
    "randman.gap": ("snn_randman_accuracy", ("measured", "gap")),
    "randman.gap_se": ("snn_randman_accuracy", ("details", "gap_se")),
    "randman.tol": ("snn_randman_accuracy", ("tolerance",)),
    "randman.passed": ("snn_randman_accuracy", ("passed",)),
    "randman.ci_low": ("snn_randman_accuracy", ("details", "tost", "ci", 0)),
    "randman.ci_high": ("snn_randman_accuracy", ("details", "tost", "ci", 1)),
    "randman.sd_det": ("snn_randman_accuracy", ("details", "test_acc_sd", "deterministic")),
    "randman.sd_stoch": ("snn_randman_accuracy", ("details", "test_acc_sd", "stochastic")),
    "randman.n_test": ("snn_randman_accuracy", ("details", "n_test")),
    "randman.seeds": ("snn_randman_accuracy", ("details", "test_acc_per_seed", "deterministic")),
    # alignment
    "align.rows": ("alignment_matched_surrogate", ("details", "rows")),
    "align.worst": ("alignment_matched_surrogate", ("measured",)),
    # three gradients: EventProp, SG-BPTT, escape noise (beyond the paper)
    "ep.network": ("eventprop_discrete_limit", ("details", "network")),
    "ep.seeds": ("eventprop_discrete_limit", ("details", "seeds")),
    "ep.dts": ("eventprop_sg_dt_limit", ("details", "dts_ms")),
    "ep.beta_sgs": ("eventprop_sg_dt_limit", ("details", "beta_sgs")),
    "ep.betas": ("eventprop_escape_noise", ("details", "betas")),
    "ep.dt_noise": ("eventprop_escape_noise", ("details", "dt_noise_ms")),
    "ep.n_samples": ("eventprop_escape_noise", ("details", "n_samples")),
    "ep.loss_rel": ("eventprop_discrete_limit", ("details", "max_rel_loss")),
    "ep.readout_rel": ("eventprop_discrete_limit", ("measured",)),
    "ep.readout_rel_coarse": ("eventprop_discrete_limit", ("details", "min_rel_readout_dt_max")),
    "ep.slopes": ("eventprop_sg_dt_limit", ("measured",)),
    "ep.max_cos_sg": ("eventprop_sg_dt_limit", ("details", "max_cos_dt_min")),
    "ep.min_cos_sg": ("eventprop_sg_dt_limit", ("details", "min_cos_dt_min")),
    "ep.max_cos_escape": ("eventprop_escape_noise", ("measured",)),
    "ep.min_sg_cos": ("eventprop_escape_noise", ("details", "min_sg_cos")),
}

#: figure -> keys of its data JSON that the paper reads (the fixture keeps only these)
FIGURE_KEYS: dict[str, tuple[str, ...]] = {
    "fig1": ("beta", "theta", "caption"),
    "fig2": ("network", "caption"),
    "fig3": ("n_samples", "caption"),
    "fig4": ("claim_numbers", "grid_betas", "caption"),
    "fig5": ("claim_numbers", "caption"),
    "fig6": ("target_rate_hz", "caption"),
    "fig7": ("seeds", "n_test", "chance", "caption"),
    "fig8": ("axes", "caption"),
    "fig9": ("align", "save_every", "caption"),
    "fig10": ("seeds", "n_samples", "caption"),
}
"""Every figure's ``caption`` dict (written by figures._style.save) is kept: its error-bar
and band entries become the last sentence of the figure's caption (:func:`error_note`)."""


def error_note(caption: Any) -> str | None:
    """How a figure's error bars and bands are defined, from the entries of its ``caption``
    data whose key names error bars or a band (``a_errorbars`` -> "(A) ..."), joined by "; "
    (``+-`` written as ``±``);
    None when the figure states none.

    >>> error_note({"a_band": "+-1 SD over n = 3 seeds", "errorbars": "+-1 SE", "n": 3})
    '(A) ±1 SD over n = 3 seeds; ±1 SE'
    """
    if not isinstance(caption, dict):
        return None
    notes = []
    for key, text in caption.items():
        if not isinstance(text, str) or not (key.endswith("errorbars") or key.endswith("band")):
            continue
        panel, _, rest = key.partition("_")
        text = text.replace("+-", "±")
        notes.append(f"({panel.upper()}) {text}" if len(panel) == 1 and rest else text)
    return "; ".join(notes) or None


def dig(obj: Any, path: tuple) -> Any:
    """Follow ``path`` into ``obj``; ``None`` where a step does not resolve.

    >>> doc = {"details": {"loops": [{"beta_sg": 1.0, "loop_integral": -0.5}]}}
    >>> dig(doc, ("details", "loops", {"beta_sg": 1.0}, "loop_integral"))
    -0.5
    >>> dig(doc, ("details", "loops", 3, "loop_integral")) is None
    True
    """
    for step in path:
        if isinstance(step, dict):
            if not isinstance(obj, list):
                return None
            obj = next(
                (x for x in obj if isinstance(x, dict) and all(x.get(k) == v for k, v in step.items())), None
            )
        elif isinstance(step, int):
            obj = obj[step] if isinstance(obj, list) and -len(obj) <= step < len(obj) else None
        else:
            obj = obj.get(step) if isinstance(obj, dict) else None
        if obj is None:
            return None
    return obj


def describe(claim: str, path: tuple) -> str:
    """``claims.json: fields_sign_flip.details.sweeps[1].sign_agreement``."""
    text = claim
    for step in path:
        if isinstance(step, dict):
            text += "[" + ", ".join(f"{k}={v}" for k, v in step.items()) + "]"
        elif isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if step.isidentifier() else f"[{step!r}]"
    return f"claims.json: {text}"
