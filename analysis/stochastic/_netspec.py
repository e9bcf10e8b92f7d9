"""Networks given as JSON specs (``sgtheory compare SPEC.json``): parse and validate.

Schema (keys not listed are rejected; every error names the offending field)::

    {
      "kind": "feedforward" | "lif",
      "weights": [W_1, ..., W_L],          # W_l: list of rows, shape (n_l, n_{l-1})
      "recurrent": [V_1, ..., V_{L-1}],    # optional, lif only: V_l of shape (n_l, n_l) of
                                           # hidden layer l (V_l[i][j]: from neuron j to i)
      "input": x,                          # feedforward: [n_0]; lif: [steps][n_0]
      "threshold": 1.0,                    # optional, default 1.0
      "escape_noise": {"name": "sigmoid", "beta": 4.0, "p0": 0.5},   # p0 optional
      "surrogate": null | {"name": "superspike", "beta": 4.0},       # null: matched psi = f'
      "loss": {"name": "mean"} | {"name": "mse", "target": [...]} | {"name": "xent", "target": 0},
      "lif": {"tau_mem": 10.0, "tau_syn": 5.0, "dt": 1.0, "reset": "detached"},  # lif only
      "estimators": ["score", ...],        # optional, default: all of analysis.stochastic._estimators
                                           # (an empty list is an error)
      "n_flips": 2                         # optional, M of coupled_flip_sub
    }

For LIF networks the number of steps is the length of ``input``. A LIF network is simulated
by :func:`analysis.snn.simulate` (see :func:`analysis.stochastic._network.snn_view`): hidden
layers 1..L-1 (recurrent when ``recurrent`` is given), the last layer a spiking readout.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from analysis import _validate
from analysis.neuron import escape_noise, surrogate
from analysis.stochastic._network import NETWORK_KINDS, Network

SPEC_KEYS = (
    "kind",
    "weights",
    "recurrent",
    "input",
    "threshold",
    "escape_noise",
    "surrogate",
    "loss",
    "lif",
    "estimators",
    "n_flips",
)
#: valid keys of the nested blocks (unknown keys are rejected at every level)
BLOCK_KEYS = {
    "escape_noise": ("name", "beta", "p0"),
    "surrogate": ("name", "beta", "p0"),
    "loss": ("name", "target"),
    "lif": ("tau_mem", "tau_syn", "dt", "reset"),
}


class SpecError(ValueError):
    """An invalid network spec; the message names the field."""


def _field(spec, key, kind=None, required=True):
    if key not in spec:
        if required:
            raise SpecError(f"spec field '{key}' is missing")
        return None
    v = spec[key]
    if kind is not None and not isinstance(v, kind):
        raise SpecError(
            f"spec field '{key}' must be a {getattr(kind, '__name__', kind)}, got {type(v).__name__}"
        )
    return v


def _array(value, name, ndim):
    flat = np.ravel(np.asarray(value, dtype=object)) if isinstance(value, list) else None
    if flat is None or any(isinstance(v, (bool, str)) or v is None for v in flat):
        raise SpecError(f"spec field '{name}' must be a rectangular array of numbers")
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise SpecError(f"spec field '{name}' must be a rectangular array of numbers") from None
    if a.ndim != ndim:
        raise SpecError(f"spec field '{name}' must have {ndim} dimension(s), got shape {a.shape}")
    if a.size == 0:
        raise SpecError(f"spec field '{name}' is empty (shape {a.shape})")
    if not np.isfinite(a).all():
        raise SpecError(f"spec field '{name}' contains NaN or infinite values")
    return a


def _block(spec, key, required=True):
    """The nested block ``spec[key]`` (a dict with known keys only), or None when absent/null."""
    if not required and spec.get(key) is None:
        return None
    d = _field(spec, key, dict, required)
    try:
        _validate.known_keys(d, BLOCK_KEYS[key], f"spec field '{key}'")
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    if "name" in BLOCK_KEYS[key] and "name" not in d:
        raise SpecError(f"spec field '{key}.name' is missing")
    if "name" in d and not isinstance(d["name"], str):
        raise SpecError(f"spec field '{key}.name' must be a string, got {d['name']!r}")
    return d


def _named(spec, key, maker, required=True):
    d = _block(spec, key, required)
    if d is None:
        return None
    try:
        return maker(d["name"], d.get("beta", 1.0), **({"p0": d["p0"]} if "p0" in d else {}))
    except (ValueError, TypeError) as exc:
        raise SpecError(f"spec field '{key}': {exc}") from None


def _lif_options(spec, kind, steps):
    lif = _block(spec, "lif", required=False)
    if kind != "lif":
        if lif is not None:
            raise SpecError(f"spec field 'lif' is only valid for kind 'lif', not {kind!r}")
        return {}
    lif = lif or {}
    for k in ("tau_mem", "tau_syn", "dt"):
        if k in lif:
            try:
                _validate.positive_scalar(lif[k], f"lif.{k}")
            except (ValueError, TypeError) as exc:
                raise SpecError(f"spec field {exc}") from None
    return dict(steps=steps, **{k: lif[k] for k in BLOCK_KEYS["lif"] if k in lif})


def _loss(spec):
    loss = _block(spec, "loss")
    target = loss.get("target")
    if isinstance(target, bool) or (
        isinstance(target, list)
        and any(isinstance(t, bool) or not isinstance(t, (int, float)) for t in target)
    ):
        raise SpecError(f"spec field 'loss.target' must be numbers, got {target!r}")
    if "target" in loss and loss["name"] == "mean":
        raise SpecError("spec field 'loss.target' is not used by loss 'mean'; remove it")
    return loss["name"], target


def _estimators(spec):
    from analysis.stochastic._estimators import ESTIMATORS

    ests = spec.get("estimators")
    if ests is None:
        return None
    if not isinstance(ests, list) or not all(isinstance(e, str) for e in ests):
        raise SpecError("spec field 'estimators' must be a list of estimator names")
    if not ests:
        raise SpecError(
            f"spec field 'estimators' is an empty list; name at least one of {', '.join(ESTIMATORS)} "
            "(or leave the field out for all)"
        )
    unknown = [e for e in ests if e not in ESTIMATORS]
    if unknown:
        raise SpecError(f"spec field 'estimators': unknown {unknown}; valid: {', '.join(ESTIMATORS)}")
    if len(set(ests)) != len(ests):
        raise SpecError(f"spec field 'estimators' lists a name twice: {ests}")
    return ests


def _recurrent(spec, kind, sizes):
    """The recurrent weights V_1 .. V_{L-1} of the hidden layers, or None when absent/null."""
    if spec.get("recurrent") is None:
        return None
    if kind != "lif":
        raise SpecError(f"spec field 'recurrent' is only valid for kind 'lif', not {kind!r}")
    vs = _field(spec, "recurrent", list)
    hidden = sizes[1:-1]
    if len(vs) != len(hidden):
        raise SpecError(
            f"spec field 'recurrent' must list {len(hidden)} matrices (one per hidden layer, "
            f"the last layer is the readout), got {len(vs)}"
        )
    out = [_array(v, f"recurrent[{i}]", 2) for i, v in enumerate(vs)]
    for i, (v, n) in enumerate(zip(out, hidden, strict=True)):
        if v.shape != (n, n):
            raise SpecError(f"spec field 'recurrent[{i}]' has shape {v.shape}; expected ({n}, {n})")
    return out


def network_from_spec(spec: dict) -> tuple[Network, tuple[jax.Array, ...], jax.Array, dict]:
    """(Network, params, x, options) from a spec dict; raises SpecError naming the field.

    Unknown keys are rejected at every level (top level and the ``escape_noise``,
    ``surrogate``, ``loss`` and ``lif`` blocks), with the list of valid keys; numbers must be
    finite JSON numbers (not booleans or strings); ``estimators``, when given, must be a
    non-empty list of distinct known names.
    """
    if not isinstance(spec, dict):
        raise SpecError("the spec must be a JSON object")
    unknown = sorted(str(k) for k in set(spec) - set(SPEC_KEYS))
    if unknown:
        raise SpecError(f"unknown spec field(s) {unknown}; valid fields: {', '.join(SPEC_KEYS)}")
    kind = _field(spec, "kind", str)
    if kind not in NETWORK_KINDS:
        raise SpecError(f"spec field 'kind' must be one of {', '.join(NETWORK_KINDS)}, got {kind!r}")
    ws = [_array(w, f"weights[{i}]", 2) for i, w in enumerate(_field(spec, "weights", list))]
    if not ws:
        raise SpecError("spec field 'weights' must list at least one matrix")
    x = _array(_field(spec, "input"), "input", 1 if kind == "feedforward" else 2)
    sizes = [x.shape[-1]] + [w.shape[0] for w in ws]
    for i, w in enumerate(ws):
        if w.shape[1] != sizes[i]:
            raise SpecError(
                f"spec field 'weights[{i}]' has shape {w.shape}; expected ({w.shape[0]}, {sizes[i]})"
            )
    vs = _recurrent(spec, kind, sizes)
    theta = spec.get("threshold", 1.0)
    if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not np.isfinite(theta):
        raise SpecError(f"spec field 'threshold' must be a finite number, got {theta!r}")
    loss_name, target = _loss(spec)
    kw = _lif_options(spec, kind, x.shape[0])
    noise = _named(spec, "escape_noise", escape_noise)
    sg = _named(spec, "surrogate", surrogate, required=False)
    try:
        net = Network(
            kind,
            tuple(sizes),
            noise,
            sg,
            theta=float(theta),
            loss=loss_name,
            target=target,
            recurrent=vs is not None,
            **kw,
        )
    except (ValueError, TypeError) as exc:
        raise SpecError(f"invalid spec: {exc}") from None
    n_flips = spec.get("n_flips", 2)
    if isinstance(n_flips, bool) or not isinstance(n_flips, int) or n_flips < 1:
        raise SpecError(f"spec field 'n_flips' must be a positive integer, got {n_flips!r}")
    options = {"estimators": _estimators(spec), "n_flips": n_flips}
    return net, tuple(jnp.asarray(w) for w in ws + (vs or [])), jnp.asarray(x), options


def load_spec(path: str | os.PathLike) -> tuple[Network, tuple[jax.Array, ...], jax.Array, dict]:
    """Read a spec file; a missing file raises FileNotFoundError, a path of the wrong type
    an InputTypeError (a TypeError), anything else a SpecError (a ValueError)."""
    try:
        spec = _validate.read_json_file(path, "spec file")
    except _validate.InputTypeError:
        raise
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return network_from_spec(spec)
