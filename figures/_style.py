"""Shared figure style, panel letters, and the writer that saves SVG, PDF, PNG and the
plotted data (a small JSON, with arrays too big for it in an ``.npz`` beside it)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from analysis.runtime import write_json
from analysis.runtime._io import atomic_write_bytes

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "path",  # glyphs as paths: the SVG looks the same wherever it is embedded
    "pdf.fonttype": 42,
}

BETA_SG = r"$\beta_{\mathrm{SG}}$"
"""Math-text name of the surrogate steepness, for labels and legends."""

ARRAY_LIMIT = 128
"""Arrays with more elements than this go to the ``.npz`` file instead of the JSON."""


def figure(nrows=1, ncols=1, size=(7.0, 3.0), **kw):
    """A new figure with the house style."""
    plt.rcParams.update(STYLE)
    return plt.subplots(nrows, ncols, figsize=size, constrained_layout=True, **kw)


def letter(ax, s: str) -> None:
    """Bold panel letter ``s`` just above the top-left corner of ``ax``."""
    ax.annotate(
        s,
        (0, 1),
        xycoords="axes fraction",
        xytext=(-22, 5),
        textcoords="offset points",
        fontweight="bold",
        fontsize=11,
        ha="right",
        va="bottom",
    )


def letters(axes) -> None:
    """Panel letters A, B, ... on ``axes`` in order (the house convention: capitals)."""
    for i, ax in enumerate(axes):
        letter(ax, chr(ord("A") + i))


def _split_arrays(obj, path: str, store: dict, npz_name: str):
    """``obj`` with every array of more than :data:`ARRAY_LIMIT` elements moved to ``store``
    (key: its path in ``obj``, ``/``-separated) and replaced by a pointer dict."""
    if hasattr(obj, "__dataclass_fields__"):
        obj = {k: getattr(obj, k) for k in obj.__dataclass_fields__}
    if isinstance(obj, dict):
        return {
            k: _split_arrays(v, f"{path}/{k}" if path else str(k), store, npz_name) for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        if obj and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in obj):
            return _split_arrays(np.asarray(obj), path, store, npz_name)
        return [_split_arrays(v, f"{path}/{i}", store, npz_name) for i, v in enumerate(obj)]
    if hasattr(obj, "shape") and hasattr(obj, "dtype") and np.size(obj) > ARRAY_LIMIT:
        arr = np.asarray(obj)
        if arr.dtype.kind in "biuf":
            store[path] = arr
            return {"npz": npz_name, "key": path, "shape": list(arr.shape), "dtype": str(arr.dtype)}
    return obj


def load(json_path: str | Path) -> dict:
    """A figure's data as :func:`save` wrote it, with the ``.npz`` arrays put back in place."""
    import json

    json_path = Path(json_path)
    data = json.loads(json_path.read_text())
    arrays: dict = {}

    def fill(obj):
        if isinstance(obj, dict):
            if set(obj) == {"npz", "key", "shape", "dtype"}:
                if obj["npz"] not in arrays:
                    with np.load(json_path.parent / obj["npz"]) as z:
                        arrays[obj["npz"]] = dict(z)
                return arrays[obj["npz"]][obj["key"]]
            return {k: fill(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [fill(v) for v in obj]
        return obj

    return fill(data)


def save(
    fig,
    out_dir: Path,
    name: str,
    data: dict,
    *,
    profile: str | None,
    seeds=None,
    caption: dict | None = None,
) -> list[Path]:
    """Save ``fig`` as ``name``.svg/.pdf/.png and ``data`` as ``name``.json in ``out_dir``.

    The JSON carries the provenance ``meta`` block with ``profile`` and ``seeds`` (the seeds
    of the keys the figure drew from) and, first after it, ``caption``: the facts a caption
    needs (sample sizes, what the error bars are). Arrays with more than
    :data:`ARRAY_LIMIT` elements are written to ``name``.npz (keys: their ``/``-separated
    path in ``data``) and appear in the JSON as ``{"npz", "key", "shape", "dtype"}``;
    :func:`load` puts them back. Returns the paths written, the JSON last.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.{ext}" for ext in ("svg", "pdf", "png")]
    for p in paths:
        fig.savefig(p)
    plt.close(fig)
    store: dict = {}
    body = _split_arrays(data, "", store, f"{name}.npz")
    if store:
        buf = io.BytesIO()
        np.savez_compressed(buf, **store)
        paths.append(atomic_write_bytes(out_dir / f"{name}.npz", buf.getvalue()))
    body = {"caption": dict(caption or {}), **body}
    paths.append(write_json(out_dir / f"{name}.json", body, seeds=seeds, profile=profile))
    return paths
