"""Is a surrogate-gradient field a gradient? Toy sigmoid networks with forward steepness beta
and backward beta_SG, line integrals around closed loops, curl, Stokes, and the paper's
field setups (Gygax & Zenke 2025, sec. 5, Figs. 4-5).

* networks: :class:`Layout` (any feedforward layout; :data:`FIVE_WEIGHT` is the paper's),
  :func:`sg_field`, :func:`exact_field`, :func:`loss_fn`, :func:`random_layout`,
  :func:`load_layout` (a JSON layout spec);
* loops: :class:`Plane` (:func:`paper_plane`, radius :data:`PAPER_RADIUS`),
  :func:`loop_integral` (circle), :func:`polygon_integral`, :func:`shrinking_loops`,
  :func:`curl`, :func:`plane_curl`, :func:`surface_integral` (Stokes);
  :func:`loop_report` is one whole experiment (what ``sgtheory loop`` prints);
* lines and descent: :func:`cumulative_integral`, :func:`descend`;
* the paper's figures: :func:`loop_figure_data` (Fig. 4), :func:`sign_flip_sweep` and
  :func:`plateau_landscape` (Fig. 5).

Building blocks (the loop nodes, Jacobians, memory estimates, the network's forward pass,
the five-weight net's output grid for Fig. 4, the NumPy reference of the five-weight net)
live in the private modules ``_loops``, ``_numerics``, ``_toy``, ``_grid``, ``_paper`` and
``_reference``.
"""

from analysis.fields._loops import (
    Plane,
    curl,
    loop_integral,
    plane_curl,
    polygon_integral,
    shrinking_loops,
    surface_integral,
)
from analysis.fields._numerics import cumulative_integral, descend
from analysis.fields._paper import loop_figure_data, plateau_landscape, sign_flip_sweep
from analysis.fields._report import loop_report
from analysis.fields._toy import (
    FIVE_WEIGHT,
    PAPER_RADIUS,
    Layout,
    exact_field,
    load_layout,
    loss_fn,
    paper_plane,
    random_layout,
    sg_field,
)

__all__ = [
    "Layout",
    "FIVE_WEIGHT",
    "sg_field",
    "exact_field",
    "loss_fn",
    "random_layout",
    "load_layout",
    "Plane",
    "paper_plane",
    "PAPER_RADIUS",
    "loop_integral",
    "polygon_integral",
    "shrinking_loops",
    "curl",
    "plane_curl",
    "surface_integral",
    "loop_report",
    "cumulative_integral",
    "descend",
    "loop_figure_data",
    "sign_flip_sweep",
    "plateau_landscape",
]
