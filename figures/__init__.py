"""One module per figure of Gygax & Zenke (2025): ``figN_<topic>.py`` with
``make(out_dir, profile) -> list[Path]``. Figures compute with :mod:`analysis` only and
write SVG, PDF, PNG and the plotted data as a small JSON (arrays in an npz beside it; see
:func:`figures._style.save`)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path


def available() -> dict[str, str]:
    """Figure name (``fig1``) -> module name (``figures.fig1_neuron``)."""
    import figures

    out = {}
    for mod in pkgutil.iter_modules(figures.__path__):
        if mod.name.startswith("fig"):
            out[mod.name.split("_")[0]] = f"figures.{mod.name}"
    return dict(sorted(out.items(), key=lambda kv: int(kv[0][3:]) if kv[0][3:].isdigit() else 99))


def make_figures(names: list[str] | None, out_dir: Path, profile: str = "quick") -> list[Path]:
    """Make the named figures (all when empty). Unknown or repeated names, an unknown
    profile and an output folder that cannot be written raise ValueError before anything
    is computed."""
    from analysis.runtime._paths import check_output_dir

    avail = available()
    names = list(names) if names else list(avail)
    unknown = [n if n else "''" for n in names if n not in avail]
    if unknown:
        raise ValueError(f"unknown figure(s) {', '.join(unknown)}; available: {', '.join(avail)}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"figure {', '.join(twice)} named twice")
    if profile not in ("quick", "full"):
        raise ValueError(f"unknown profile {profile!r}; valid: quick, full")
    check_output_dir(out_dir, "out_dir")
    from tqdm import tqdm

    paths: list[Path] = []
    for n in tqdm(names, desc="figures", unit="fig"):
        paths += importlib.import_module(avail[n]).make(Path(out_dir), profile)
    return paths
