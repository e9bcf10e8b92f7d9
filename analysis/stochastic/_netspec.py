"""Networks given as JSON specs (``sgtheory compare SPEC.json``): parse and validate.

Schema (keys not listed are rejected; every error names the offending field)::

    {
      "kind": "feedforward" | "lif",
      "weights": [W_1, ..., W_L],          # W_l: list of rows, shape (n_l, n_{l-1})
      "input": x,                          # feedforward: [n_0]; lif: [steps][n_0]
      "threshold": 1.0,                    # optional, default 1.0
      "escape_noise": {"name": "sigmoid", "beta": 4.0, "p0": 0.5},   # p0 optional
      "surrogate": null | {"name": "superspike", "beta": 4.0},       # null: matched psi = f'
      "loss": {"name": "mean"} | {"name": "mse", "target": [...]} | {"name": "xent", "target": 0},
      "lif": {"tau_mem": 10.0, "tau_syn": 5.0, "dt": 1.0, "reset": "detached"},  # lif only
      "estimators": ["score", ...],        # optional, default: all of analysis.stochastic._estimators
      "n_flips": 2                         # optional, M of coupled_flip_sub
    }

For LIF networks the number of steps is the length of ``input``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from analysis.neuron import escape_noise, surrogate
from analysis.stochastic._exact import Network

__all__ = ["network_from_spec", "load_spec", "SPEC_KEYS"]

SPEC_KEYS = (
    "kind",
    "weights",
    "input",
    "threshold",
    "escape_noise",
    "surrogate",
    "loss",
    "lif",
    "estimators",
    "n_flips",
)


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
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise SpecError(f"spec field '{name}' must be a rectangular array of numbers") from None
    if a.ndim != ndim:
        raise SpecError(f"spec field '{name}' must have {ndim} dimension(s), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise SpecError(f"spec field '{name}' contains NaN or infinite values")
    return a


def _named(spec, key, maker, required=True):
    if not required and spec.get(key) is None:
        return None
    d = _field(spec, key, dict, required)
    try:
        return maker(d["name"], d.get("beta", 1.0), **({"p0": d["p0"]} if "p0" in d else {}))
    except KeyError:
        raise SpecError(f"spec field '{key}.name' is missing") from None
    except (ValueError, TypeError) as exc:
        raise SpecError(f"spec field '{key}': {exc}") from None


def network_from_spec(spec: dict) -> tuple[Network, tuple[jax.Array, ...], jax.Array, dict]:
    """(Network, params, x, options) from a spec dict; raises SpecError naming the field."""
    if not isinstance(spec, dict):
        raise SpecError("the spec must be a JSON object")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise SpecError(f"unknown spec field(s) {unknown}; valid fields: {', '.join(SPEC_KEYS)}")
    kind = _field(spec, "kind", str)
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
    theta = spec.get("threshold", 1.0)
    if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not np.isfinite(theta):
        raise SpecError(f"spec field 'threshold' must be a finite number, got {theta!r}")
    loss = _field(spec, "loss", dict)
    if "name" not in loss:
        raise SpecError("spec field 'loss.name' is missing")
    lif = _field(spec, "lif", dict, required=False) or {}
    kw = (
        dict(steps=x.shape[0], **{k: lif[k] for k in ("tau_mem", "tau_syn", "dt", "reset") if k in lif})
        if kind == "lif"
        else {}
    )
    try:
        net = Network(
            kind,
            tuple(sizes),
            _named(spec, "escape_noise", escape_noise),
            _named(spec, "surrogate", surrogate, required=False),
            theta=float(theta),
            loss=loss["name"],
            target=loss.get("target"),
            **kw,
        )
    except SpecError:
        raise
    except (ValueError, TypeError) as exc:
        raise SpecError(f"invalid spec: {exc}") from None
    n_flips = spec.get("n_flips", 2)
    if isinstance(n_flips, bool) or not isinstance(n_flips, int) or n_flips < 1:
        raise SpecError(f"spec field 'n_flips' must be a positive integer, got {n_flips!r}")
    ests = spec.get("estimators")
    if ests is not None and (not isinstance(ests, list) or not all(isinstance(e, str) for e in ests)):
        raise SpecError("spec field 'estimators' must be a list of estimator names")
    options = {"estimators": ests, "n_flips": n_flips}
    return net, tuple(jnp.asarray(w) for w in ws), jnp.asarray(x), options


def load_spec(path: str | os.PathLike) -> tuple[Network, tuple[jax.Array, ...], jax.Array, dict]:
    """Read a spec file; a missing file raises FileNotFoundError, bad JSON a SpecError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"spec file {path} does not exist")
    try:
        return network_from_spec(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path} is not valid JSON: {exc}") from None
