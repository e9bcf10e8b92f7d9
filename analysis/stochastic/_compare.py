"""Compare gradient estimators with a reference: bias with SE, variance, alignment, cost.

* :func:`summarize` -- one row of statistics for per-sample gradients against a reference
  gradient (exact, or the mean of an unbiased estimator): mean, per-coordinate standard
  error, max |bias|/SE, relative error ||mean - ref|| / ||ref||, cosine similarity and sign
  agreement of the mean with the reference, total variance (trace of the per-sample
  covariance), seconds per sample.
* :func:`compare_spec` -- everything ``sgtheory compare`` prints, as a :class:`CompareReport`.
* :func:`compare_estimators` -- the rows for several named estimators of
  :mod:`analysis.stochastic._estimators` on one network; :func:`format_table`, :func:`write_csv`.
The unbiasedness test :func:`analysis.stochastic.check_unbiased` lives in
:mod:`analysis.stochastic._unbiased`.
"""

from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from analysis import _validate


def flatten(tree: Any, lead: int = 0) -> np.ndarray:
    """Concatenate the leaves of a pytree into one array of shape (lead axes..., n_coords)."""
    leaves = jax.tree_util.tree_leaves(tree)
    return np.concatenate(
        [np.asarray(v, np.float64).reshape(v.shape[:lead] + (-1,)) for v in leaves], axis=-1
    )


def coordinate_names(tree: Any) -> list[str]:
    """Readable names of the flattened coordinates, e.g. ``[1][0, 2]``."""
    names = []
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        p = jax.tree_util.keystr(path)
        names += [p + (str(list(ix)) if ix else "") for ix in np.ndindex(np.shape(leaf))]
    return names


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two flat vectors (nan when either is 0)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else float("nan")


def summarize(name: str, samples: Any, reference: Any, seconds: float | None = None) -> dict:
    """Statistics of per-sample gradients ``samples`` (leading axis n) against ``reference``."""
    g = flatten(samples, lead=1)
    ref = flatten(reference)
    n = g.shape[0]
    mean = g.mean(0)
    se = g.std(0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros_like(mean)
    se = np.where(se <= 1e-13 * (np.abs(mean).max() + 1e-300), 0.0, se)  # rounding of a constant
    bias = mean - ref
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(bias) / se, np.where(np.abs(bias) > 1e-12, np.inf, 0.0))
    sign = np.sign(mean) == np.sign(ref)
    return {
        "estimator": name,
        "n": n,
        "bias_norm": float(np.linalg.norm(bias)),
        "max_abs_z": float(z.max()),
        "rel_error": float(np.linalg.norm(bias) / max(float(np.linalg.norm(ref)), 1e-300)),
        "cosine": cosine(mean, ref),
        "sign_agreement": float(sign.mean()),
        "variance": float(g.var(0, ddof=1).sum()) if n > 1 else 0.0,
        "seconds_per_sample": None if seconds is None else seconds / n,
        "mean": mean.tolist(),
        "se": se.tolist(),
    }


def compare_estimators(
    program: Any,
    params: Any,
    inputs: Any,
    names: Sequence[str],
    n: int,
    *,
    key: jax.Array,
    reference: Any = None,
    n_flips: int = 8,
    max_memory_gib: float = _validate.DEFAULT_MAX_MEMORY_GIB,
) -> list[dict]:
    """Rows of :func:`summarize` for estimators ``names`` (same key: common random numbers).

    ``program``: a Program or a builder (a Network). ``reference`` defaults to the exact
    gradient (:func:`analysis.stochastic.exact_value_and_grad`). Cost is measured after
    compilation (second call), in seconds per sample. ``names``: a non-empty list of distinct
    estimator names; ``n`` >= 2. Everything (names, sizes, the memory of each estimator
    against ``max_memory_gib``) is checked before anything is computed.
    """
    from analysis.stochastic._estimators import ESTIMATORS, _check_name, _guard_memory, estimate
    from analysis.stochastic._program import check_program, exact_value_and_grad

    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise TypeError(f"names must be a list of estimator names, got {names!r}")
    if not names:
        raise ValueError(f"names is empty; give at least one of {', '.join(ESTIMATORS)}")
    names = [_check_name(nm) for nm in names]
    if len(set(names)) != len(names):
        raise ValueError(f"names lists an estimator twice: {names}")
    n = _validate.positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n must be >= 2 (a standard error needs two samples), got {n}")
    n_flips = _validate.positive_int(n_flips, "n_flips")
    program = check_program(program, params, inputs)
    for name in names:  # run one at a time: the largest must fit
        _guard_memory([name], program, params, n, n_flips, max_memory_gib)
    if reference is None:
        reference = exact_value_and_grad(program, params, inputs)[1]
    rows = []
    for name in names:
        kw = dict(n_flips=n_flips, max_memory_gib=max_memory_gib)
        fn = jax.jit(lambda k, p, name=name, kw=kw: estimate(name, program, p, inputs, n, key=k, **kw))
        jax.block_until_ready(fn(key, params))
        t0 = time.perf_counter()
        g = jax.block_until_ready(fn(key, params))
        rows.append(summarize(name, g, reference, time.perf_counter() - t0))
    return rows


@dataclass(frozen=True)
class CompareReport:
    """Result of :func:`compare_spec`: the exact value and gradient and one row per estimator.

    ``rows`` are :func:`summarize` dicts; ``exact_grad`` and ``coordinates`` are flat.
    ``lines()`` is the printed report; ``to_dict()`` the JSON record (without provenance).
    """

    spec: str
    kind: str
    sizes: tuple
    K: int
    exact_value: float
    exact_grad: tuple
    coordinates: tuple
    rows: tuple
    samples: int
    seed: int

    def lines(self) -> list[str]:
        out = [
            f"{self.kind} network, sizes {self.sizes}, K = {self.K} spike variables",
            f"exact E[L] = {self.exact_value:.10g}",
        ]
        out += [f"  dE[L]/d{c} = {g:+.6g}" for c, g in zip(self.coordinates, self.exact_grad, strict=True)]
        return out + [format_table(list(self.rows))]

    def to_dict(self) -> dict:
        return {
            "spec": self.spec,
            "K": self.K,
            "samples": self.samples,
            "seed": self.seed,
            "exact_value": self.exact_value,
            "exact_grad": list(self.exact_grad),
            "coordinates": list(self.coordinates),
            "estimators": list(self.rows),
        }


def _load(spec):
    """(label, net, params, x, options) of a spec path or parsed dict."""
    from analysis.stochastic._netspec import load_spec, network_from_spec

    if isinstance(spec, dict):
        return ("<dict>", *network_from_spec(spec))
    return (str(spec), *load_spec(spec))


def _finite_exact(program, params, x, max_k):
    """The exact (E[L], grad); ValueError when not finite."""
    from analysis.stochastic._program import exact_value_and_grad

    value, grad = exact_value_and_grad(program, params, x, max_k=max_k)
    if not (np.isfinite(float(value)) and np.isfinite(flatten(grad)).all()):
        raise ValueError(
            "the exact E[L] or its gradient is not finite (overflow): use smaller weights, inputs or beta"
        )
    return value, grad


def _potential_bound(net, params, x) -> None:
    """Refuse weights and inputs whose membrane potentials could overflow float64.

    |z_l| <= max_row sum|W_l| * max|input of layer l| * steps (spikes are in {0, 1}; a LIF
    potential is a decaying sum over at most ``steps`` inputs), plus |theta|.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        ins = [float(np.max(np.abs(np.asarray(x))))] + [1.0] * (len(params) - 1)
        bound = max(
            float(np.max(np.sum(np.abs(np.asarray(w)), axis=1))) * a * net.steps
            for w, a in zip(params, ins, strict=True)
        )
    if not bound <= 1e300:
        raise ValueError(
            f"weights x inputs can reach {bound:.3g}, where potentials overflow float64 "
            "(rounding to inf would give wrong spike probabilities); rescale the weights or inputs"
        )


def compare_spec(
    spec,
    *,
    samples: int = 2000,
    seed: int = 0,
    max_memory_gib: float = _validate.DEFAULT_MAX_MEMORY_GIB,
    max_k: int | None = None,
) -> CompareReport:
    """Exact E[L], grad E[L] and every estimator's statistics for a network given as a spec.

    ``spec``: a path to a JSON spec (:func:`analysis.stochastic.load_spec`) or the parsed
    dict. ``samples`` (>= 2) per estimator, ``seed`` in [0, 2^32). Validates the spec, the
    sizes, the enumeration (K <= ``max_k``, default :data:`DEFAULT_MAX_K`) and the memory of
    each estimator before computing; raises ValueError if the exact value or gradient, or an
    estimator's mean, is not finite (overflow) instead of reporting NaN.

    >>> import jax; jax.config.update("jax_enable_x64", True)
    >>> spec = {"kind": "feedforward", "weights": [[[0.8]], [[1.5]]], "input": [1.2],
    ...         "threshold": 0.5, "escape_noise": {"name": "sigmoid", "beta": 3.0},
    ...         "loss": {"name": "mean"}, "estimators": ["coupled_flip"]}
    >>> r = compare_spec(spec, samples=100)
    >>> r.K, round(r.exact_value, 6), [row["estimator"] for row in r.rows]
    (2, 0.797767, ['coupled_flip'])
    """
    from analysis.stochastic._estimators import ESTIMATORS, _guard_memory
    from analysis.stochastic._program import DEFAULT_MAX_K, _guard

    samples = _validate.integer(samples, "samples", 2, 2**31 - 1)
    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    max_k = DEFAULT_MAX_K if max_k is None else _validate.integer(max_k, "max_k", 1, 62)
    label, net, params, x, opts = _load(spec)
    names = opts["estimators"] or list(ESTIMATORS)
    _potential_bound(net, params, x)
    program = net.program()
    _guard(program, max_k)
    for name in names:
        _guard_memory([name], program, params, samples, opts["n_flips"], max_memory_gib)
    value, grad = _finite_exact(program, params, x, max_k)
    key = jax.random.key(seed)
    rows = compare_estimators(
        program, params, x, names, samples, key=key, reference=grad, n_flips=opts["n_flips"]
    )
    for r in rows:
        if not (np.isfinite(r["mean"]).all() and np.isfinite(r["se"]).all()):
            raise ValueError(f"estimator {r['estimator']} gave a non-finite mean or SE (overflow)")
    exact = (float(value), tuple(float(g) for g in flatten(grad)), tuple(net.coordinate_names()))
    return CompareReport(label, net.kind, tuple(net.sizes), net.n_spikes, *exact, tuple(rows), samples, seed)


_COLS = (
    "estimator",
    "n",
    "rel_error",
    "max_abs_z",
    "cosine",
    "sign_agreement",
    "variance",
    "seconds_per_sample",
)

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence


def format_table(rows: list[dict]) -> str:
    """A printable table of the scalar columns of :func:`summarize` rows."""
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)
    cells = [list(_COLS)] + [[fmt(r.get(c)) for c in _COLS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(_COLS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells)


def write_csv(rows: list[dict], path: str | os.PathLike) -> Path:
    """Write the scalar columns of the rows as CSV, atomically (makes parent folders)."""
    from analysis.runtime._io import atomic_write_bytes

    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(_COLS)
    w.writerows([[r.get(c) for c in _COLS] for r in rows])
    return atomic_write_bytes(path, buf.getvalue().encode())
