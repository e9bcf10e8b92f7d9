"""Small feedforward sigmoid networks with forward steepness beta and backward beta_SG.

Every unit computes a_l = s(W_l a_{l-1}) with the spike-like nonlinearity

    s(z) = sigma(beta z)               (forward; the Heaviside Theta(z) when beta = inf)
    s'(z) := psi(z) = beta_SG sigma(beta_SG z) sigma(-beta_SG z)   (derivative rule)

implemented as a ``jax.custom_jvp`` (psi is :func:`analysis.surrogate` ``"sigmoid_prime"``
with steepness beta_SG). Unlike :func:`analysis.heaviside_spike`, the rule's primal output is
the plain forward function, so the Jacobian of an SG field (second derivatives: jacfwd of
grad) differentiates the forward activations truly; this is what the curl needs
(first order is unchanged: for beta = inf it equals heaviside_spike with that psi).
Network gradients come from ``jax.grad`` through this rule, so they are exactly the
surrogate gradient (SG) of Gygax & Zenke 2025, sec. 5 and Figs. 4-5: every sigma' of
the chain rule is evaluated at beta_SG while activations use beta. With beta == beta_SG the
rule is the true derivative and the field is the exact gradient of a smooth network.

A network is described by a frozen :class:`Layout` (layer sizes and the fixed input x);
parameters are one flat vector theta that concatenates the row-major weight matrices
W_1 (n_1 x n_0), W_2 (n_2 x n_1), ... The "loss" is the sum of the outputs. The paper's
five-weight network (x = 1 -> g -> (h1, h2) -> y, theta = (w, v1, v2, u1, u2)) is
:data:`FIVE_WEIGHT`.

Example
-------
>>> import jax.numpy as jnp
>>> from analysis.fields._toy import FIVE_WEIGHT, sg_field, exact_field
>>> theta = jnp.array([0.1, 0.5, -0.3, 1.0, -1.0])
>>> sg_field(FIVE_WEIGHT, 10000.0, 5.0)(theta).shape
(5,)
>>> bool(jnp.allclose(sg_field(FIVE_WEIGHT, 3.0, 3.0)(theta), exact_field(FIVE_WEIGHT, 3.0)(theta)))
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from analysis import _validate

if TYPE_CHECKING:
    import os

    from analysis.fields._loops import Plane

_UNROLL_MAX = 64  # nets with at most this many weights use unrolled scalar sums


@dataclass(frozen=True)
class Layout:
    """Feedforward layout: ``sizes = (n_in, n_1, ..., n_out)`` and the fixed input ``x``.

    Hashable (usable as a static argument). ``n_params`` = sum n_l n_{l-1}.
    """

    sizes: tuple[int, ...]
    x: tuple[float, ...]
    name: str = "custom"

    def __post_init__(self):
        if not isinstance(self.sizes, (tuple, list)):
            raise TypeError(f"sizes must be a list of layer widths, got {self.sizes!r}")
        sizes = tuple(_validate.positive_int(s, "sizes entry") for s in self.sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least input and output sizes, got {self.sizes!r}")
        x = _validate.float_vector(self.x, "x")
        if len(x) != sizes[0]:
            raise ValueError(f"x has {len(x)} entries but sizes[0] = {sizes[0]}; they must match")
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {self.name!r}")
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "x", x)

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        return tuple((o, i) for i, o in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def n_params(self) -> int:
        return sum(o * i for o, i in self.shapes)


#: Gygax & Zenke 2025, sec. 5: x = 1 -> g = s(w x) -> h_i = s(v_i g) -> y = s(u1 h1 + u2 h2).
FIVE_WEIGHT = Layout((1, 1, 2, 1), (1.0,), "five_weight")


def _plain(z, beta):
    """sigma(beta z), or Theta(z) for beta = inf; beta may be a tracer."""
    if _validate.is_concrete(beta):
        return (z > 0).astype(z.dtype) if math.isinf(float(beta)) else jax.nn.sigmoid(beta * z)
    inf = jnp.isinf(beta)
    return jnp.where(inf, (z > 0).astype(z.dtype), jax.nn.sigmoid(jnp.where(inf, 1.0, beta) * z))


def _psi(z, beta_sg):
    # = Surrogate("sigmoid_prime", beta_sg)(z), written out so beta_sg may be traced
    # (one compilation serves all beta values; tested against the Surrogate).
    x = beta_sg * z
    return beta_sg * jax.nn.sigmoid(x) * jax.nn.sigmoid(-x)


@jax.custom_jvp
def _sigmoid_sg(z, beta, beta_sg):
    return _plain(z, beta)


@_sigmoid_sg.defjvp
def _sigmoid_sg_jvp(primals, tangents):
    # The primal output is the plain forward function (not the custom one), so a second
    # derivative (the Jacobian of the SG field, e.g. for its curl) differentiates the
    # activations truly and only the first-order rule is replaced by psi. beta and
    # beta_SG are hyperparameters: their tangents are ignored.
    z, beta, beta_sg = primals
    return _plain(z, beta), _psi(z, beta_sg) * tangents[0]


def _check_betas(beta, beta_sg) -> tuple[float, float]:
    """beta in (0, inf] (inf: Heaviside), beta_sg finite > 0, both representable in the
    default float dtype (a beta above 3.4e38 in float32 would turn beta z into inf * 0)."""
    from analysis.neuron._escape_noise import check_beta_fits

    if isinstance(beta, (bool, str, bytes)):
        raise TypeError(f"beta must be a number, got {beta!r}")
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise TypeError(f"beta must be a number, got {beta!r}") from None
    if math.isnan(b) or b <= 0:
        raise ValueError(f"beta must be > 0 (math.inf for a Heaviside forward), got {beta!r}")
    bsg = _validate.positive_scalar(beta_sg, "beta_sg")
    dtype = jnp.result_type(float)
    if not math.isinf(b):
        check_beta_fits(b, dtype, "beta")
    check_beta_fits(bsg, dtype, "beta_sg")
    return b, bsg


def sg_sigmoid(z: ArrayLike, beta: float, beta_sg: float) -> jax.Array:
    """s(z) = sigma(beta z) (Theta(z) if beta = inf) with derivative rule sigma'_{beta_SG}.

    ``z``: array of any shape; returns the same shape. Stable for |beta z| up to 1e6+.
    """
    beta, beta_sg = _check_betas(beta, beta_sg)
    return _sigmoid_sg(jnp.asarray(z, dtype=jnp.result_type(z, float)), beta, beta_sg)


def unflatten(layout: Layout, theta: ArrayLike) -> list:
    """Split flat ``theta`` (n_params,) into the weight matrices [(n_1, n_0), (n_2, n_1), ...]."""
    theta = jnp.asarray(theta)
    if theta.shape != (layout.n_params,):
        raise ValueError(
            f"theta must have shape ({layout.n_params},) for sizes {layout.sizes}, got {theta.shape}"
        )
    mats, start = [], 0
    for o, i in layout.shapes:
        mats.append(theta[start : start + o * i].reshape(o, i))
        start += o * i
    return mats


def forward(layout: Layout, theta: ArrayLike, beta: float, beta_sg: float | None = None) -> jax.Array:
    """Network output a_L (n_out,) for parameters ``theta``; beta_sg defaults to beta."""
    beta, beta_sg = _check_betas(beta, beta if beta_sg is None else beta_sg)
    return _forward(layout, theta, beta, beta_sg)


def _forward(layout, theta, beta, beta_sg):
    dtype = jnp.result_type(theta, float)
    mats = unflatten(layout, jnp.asarray(theta, dtype))
    if layout.n_params > _UNROLL_MAX:
        a = jnp.asarray(layout.x, dtype=dtype)
        for W in mats:
            a = _sigmoid_sg(W @ a, beta, beta_sg)
        return a
    # Small nets: scalar (unrolled) sums. Under vmap over large grids this is elementwise
    # work that XLA fuses; batched tiny matmuls are ~10x slower on CPU.
    units = [jnp.asarray(v, dtype) for v in layout.x]
    for W in mats:
        units = [
            _sigmoid_sg(sum(W[j, i] * units[i] for i in range(len(units))), beta, beta_sg)
            for j in range(W.shape[0])
        ]
    return jnp.stack(units)


def network_loss(layout: Layout, theta: ArrayLike, beta: float, beta_sg: float | None = None) -> jax.Array:
    """The scalar "loss" L(theta) = sum of the outputs (= y for the five-weight net)."""
    return jnp.sum(forward(layout, theta, beta, beta_sg))


def _loss(layout, theta, beta, beta_sg):
    return jnp.sum(_forward(layout, theta, beta, beta_sg))


_sg_grad = jax.grad(_loss, argnums=1)


def sg_field(layout: Layout, beta: float, beta_sg: float) -> Callable[[jax.Array], jax.Array]:
    """The field theta -> SG of the loss: jax.grad through the beta_SG derivative rule.

    Returns ``functools.partial(_sg_grad, layout, beta=..., beta_sg=...)``: a pure function
    (n_params,) -> (n_params,), jit/vmap/jacfwd-compatible. :mod:`analysis.fields._loops` compiles
    such a partial once per layout and passes beta, beta_SG as traced arguments, so fields
    of one layout share compiled code.
    """
    if not isinstance(layout, Layout):
        raise TypeError(f"layout must be a Layout, got {type(layout).__name__}")
    beta, beta_sg = _check_betas(beta, beta_sg)
    return partial(_sg_grad, layout, beta=beta, beta_sg=beta_sg)


def loss_fn(layout: Layout, beta: float, beta_sg: float | None = None) -> Callable[[jax.Array], jax.Array]:
    """theta -> L(theta) as a partial (like :func:`sg_field`: compiled once per layout)."""
    beta, beta_sg = _check_betas(beta, beta if beta_sg is None else beta_sg)
    return partial(_loss, layout, beta=beta, beta_sg=beta_sg)


def exact_field(layout: Layout, beta: float) -> Callable[[jax.Array], jax.Array]:
    """The exact gradient of the smooth (finite beta) network: sg_field with beta_SG = beta."""
    if math.isinf(float(beta)):
        raise ValueError("beta must be finite for an exact gradient (it is 0 a.e. at beta = inf)")
    return sg_field(layout, beta, beta)


def random_layout(key: jax.Array, max_layers: int = 3, max_width: int = 3) -> Layout:
    """A random layout (1..max_layers weight layers, widths 1..max_width, x ~ N(0, 1))."""
    k1, k2, k3 = jax.random.split(key, 3)
    n_layers = int(jax.random.randint(k1, (), 1, max_layers + 1))
    sizes = tuple(int(s) for s in jax.random.randint(k2, (n_layers + 1,), 1, max_width + 1))
    x = tuple(float(v) for v in jax.random.normal(k3, (sizes[0],)))
    return Layout(sizes, x, "random")


#: keys of a JSON layout spec (``sgtheory loop --spec``); unknown keys are rejected
LAYOUT_KEYS = ("sizes", "x", "name", "center", "d1", "d2")


def layout_from_spec(spec: dict) -> Layout:
    """Layout from a dict ``{"sizes": [...], "x": [...], "name": ...}`` (e.g. parsed JSON).

    Optional ``"center"``, ``"d1"``, ``"d2"`` (the loop plane of ``sgtheory loop``) must be
    lists of n_params finite numbers; any other key is refused with the list of valid keys
    (a misspelt ``"d1"`` would otherwise silently fall back to random directions).
    """
    _validate.known_keys(spec, LAYOUT_KEYS, "the layout spec")
    for k in ("sizes", "x"):
        if k not in spec:
            raise ValueError(f"the layout spec has no '{k}'; it needs 'sizes' and 'x'")
    sizes = spec["sizes"]
    if not isinstance(sizes, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in sizes):
        raise ValueError(f"layout spec 'sizes' must be a list of positive integers, got {sizes!r}")
    name = spec.get("name", "custom")
    if not isinstance(name, str):
        raise ValueError(f"layout spec 'name' must be a string, got {name!r}")
    try:
        layout = Layout(tuple(sizes), _validate.float_vector(spec["x"], "x"), name)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"layout spec: {exc}") from None
    for k in ("center", "d1", "d2"):
        if k in spec:
            try:
                _validate.float_vector(spec[k], k, layout.n_params)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"layout spec '{k}': {exc} (n_params = {layout.n_params})") from None
    return layout


def load_layout(path: str | os.PathLike) -> tuple[Layout, dict]:
    """Read a JSON layout spec from ``path``; returns (layout, the raw spec dict).

    A missing file raises FileNotFoundError; a folder, unreadable file, bad JSON or an
    invalid spec a ValueError naming the file.
    """
    spec = _validate.read_json_file(path, "layout spec")
    try:
        return layout_from_spec(spec), spec
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


# --- the paper's setups (Gygax & Zenke 2025, sec. 5, Figs. 4-5) ---------------------

#: Loop plane directions of the paper (normalised in :func:`paper_plane`), radius 1.8.
PAPER_D1 = (0.09305991, 0.5905991, -0.30914232, 0.4299941, -0.60172135)
PAPER_D2 = (-0.14934348, 0.25011492, 0.26179737, -0.78792286, -0.47516188)
PAPER_RADIUS = 1.8
#: Sign-flip sweep: theta = (w, v1, v2, u1, u2) with these last four fixed, w in [-0.2, 0.2].
SIGN_FLIP_REST = (0.05, 0.1, 1.0, -1.0)


def paper_plane(center: Sequence[float] | np.ndarray = (0.0,) * 5) -> Plane:
    """The paper's loop plane through ``center`` (default 0) with normalised PAPER_D1, PAPER_D2."""
    from analysis.fields._loops import Plane

    d1, d2 = (np.asarray(d) / np.linalg.norm(d) for d in (PAPER_D1, PAPER_D2))
    return Plane(center, d1, d2)  # type: ignore[arg-type]  # Plane converts array-likes to tuples


def sign_flip_thetas(w: ArrayLike) -> jax.Array:
    """Parameters (M, 5) of the sign-flip sweep for weights ``w`` (M,): (w, 0.05, 0.1, 1, -1)."""
    w = jnp.ravel(jnp.asarray(w, dtype=jnp.result_type(w, float)))
    rest = jnp.broadcast_to(jnp.asarray(SIGN_FLIP_REST, w.dtype), (w.size, 4))
    return jnp.concatenate([w[:, None], rest], axis=1)


def plateau_thetas(v1: ArrayLike, v2: ArrayLike) -> jax.Array:
    """Parameters (..., 5) of the "SGs enable learning" plane: (1, v1, v2, 1, -1)."""
    v1, v2 = jnp.broadcast_arrays(jnp.asarray(v1, float), jnp.asarray(v2, float))
    one = jnp.ones_like(v1)
    return jnp.stack([one, v1, v2, one, -one], axis=-1)
