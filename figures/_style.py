"""Shared figure style and the writer that saves PNG, PDF and the plotted data as JSON."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from analysis.runtime import write_json

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def figure(nrows=1, ncols=1, size=(7.0, 3.0), **kw):
    """A new figure with the house style."""
    plt.rcParams.update(STYLE)
    return plt.subplots(nrows, ncols, figsize=size, constrained_layout=True, **kw)


def save(fig, out_dir: Path, name: str, data: dict, *, profile: str | None, seeds=None) -> list[Path]:
    """Save ``fig`` as ``name``.png/.pdf and ``data`` as ``name``.json in ``out_dir``; the
    JSON carries the provenance ``meta`` block with ``profile`` and ``seeds`` (the seeds of
    the keys the figure drew from)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.pdf"]
    for p in paths:
        fig.savefig(p)
    plt.close(fig)
    paths.append(write_json(out_dir / f"{name}.json", data, seeds=seeds, profile=profile))
    return paths
