"""Export and import of the toolkit's networks as NIR graphs (Pedersen et al., Nat. Commun. 2024).

NIR (the ``nir`` package, an optional dependency: ``pip install nir``) describes neurons by
continuous-time ODEs. A CubaLIF node is

    tau_syn dI/dt = -I + w_in x,      tau_mem dv/dt = (v_leak - v) + r I,
    spike z = 1 iff v > v_threshold, then v -> v_reset;

CubaLI is the same without threshold and reset; LIF / LI have no synaptic current
(tau dv/dt = (v_leak - v) + r x). The recursion of :mod:`analysis.snn._lif` is

    S[t] = Theta(U[t] - theta),  I[t+1] = ls I[t] + W S_in[t],
    U[t+1] = lm U[t] (1 - S[t]) + (1 - lm) I[t],  lm = exp(-dt/tau_mem), ls = exp(-dt/tau_syn).

Discretisation rule (both directions). One bin of width dt is one explicit step of the ODE:
the input x[t] (the 0/1 spikes of bin t, or the weighted sum W S_in[t] reaching the node) and
the current I[t] are held constant over the bin; a spike read at the bin start resets v[t] to
v_reset before the step; the decays are integrated with factor a = exp(-dt/tau)
(``discretisation="exp"``, default: exponential Euler, exact for held inputs) or
a = 1 - dt/tau (``"euler"``: forward Euler, the rule of Norse and snnTorch):

    I[t+1] = a_syn I[t] + (1 - a_syn) w_in x[t],
    v[t+1] = v_leak + a_mem (v[t] - v_leak) + (1 - a_mem) r I[t].

With v_leak = v_reset = 0 and r (1 - a_syn) w_in = 1 this is our recursion with lm = a_mem,
ls = a_syn, theta = v_threshold and the same weights. :func:`to_nir` writes r = 1,
w_in = 1 / (1 - ls), v_leak = v_reset = 0, tau = -dt / ln(lambda) (= our tau, "exp") or
dt / (1 - lambda) ("euler"), and the graph metadata {"dt": dt, "discretisation": rule}.
:func:`from_nir` inverts this; it folds the per-neuron gain g = r (1 - a_syn) w_in into the
incoming (feedforward and recurrent) weights (a gain within 4 ulp of 1 is taken as 1: the
rounding of w_in = 1/(1 - ls)). A LIF or LI node (no synaptic current) becomes a layer
with ls = 0 (tau_syn = dt / 1000) and gain g = r; our membrane then reads its input one bin
later than NIR's step, so each such layer delays its spikes by one bin.

Graph layout: ``input`` -> ``w0`` (Linear, W^T [N, N_in]; or Conv1d, weight [C_out, C_in, K]
= our W [K, C_in, C_out] transposed, zero bias, padding 0) -> ``lif0`` (CubaLIF) -> ... ->
``readout_w`` (Linear) -> ``readout`` (CubaLI, or CubaLIF for ``readout="lif"``) -> ``output``.
Recurrence is a cycle ``lif{l}`` -> ``v{l}`` (Linear V^T, or Conv1d stride 1, padding
(K - 1) / 2) -> ``lif{l}``. conv1d layers use NIR's channel-major shape (C, L): the input
node has shape (C_in, L0) (feed x.reshape(B, T, L0, C_in).transpose(0, 1, 3, 2)), the
neuron parameters (C, L), and a ``flatten`` node (channel-major, index c L + p) precedes the
readout, whose Linear columns are our position-major rows (p C + c) permuted.

Norse (``from_nir(..., source="norse")``, Norse 1.1.0): ``norse.torch.to_nir`` writes
tau_NIR = dt tau and Norse integrates by forward Euler with its LIFCell current jumping by
the input (i <- i + W x, gain 1); read so, Norse's step n is our bin n + 2 per neuron layer.

Not representable in NIR (refused on export): reset_scope="update", delay=1,
readout_value="after", readout_u0 != 0, even recurrent conv kernels. The gradient options
(``reset``, checkpointing, event-driven kernels) are simulation settings and not exported.
"""

from __future__ import annotations

import math
import os
from typing import Any

import jax.numpy as jnp
import numpy as np

from analysis import _validate
from analysis.snn._lif import LIFParams
from analysis.snn._network import SNNConfig, param_shapes

DISCRETISATIONS = ("exp", "euler")
SOURCES = ("nir", "norse")
#: dt (seconds) assumed for a graph of ``source="norse"`` without one: the default of
#: ``norse.torch.to_nir`` and of Norse's cells
NORSE_DT = 1e-3
SUPPORTED_NODES = (
    "Input",
    "Output",
    "Linear",
    "Affine",
    "Conv1d",
    "Flatten",
    "CubaLIF",
    "CubaLI",
    "LIF",
    "LI",
)
_NEURONS = ("CubaLIF", "CubaLI", "LIF", "LI")
_PROJECTIONS = ("Linear", "Affine", "Conv1d")


def _nir():
    try:
        import nir
    except ImportError as e:  # pragma: no cover - exercised only without nir
        raise ImportError("NIR export/import needs the nir package: pip install 'sgtheory[nir]'") from e
    return nir


def _check_rule(discretisation):
    if discretisation not in DISCRETISATIONS:
        raise ValueError(f"unknown discretisation {discretisation!r}; valid: {', '.join(DISCRETISATIONS)}")


def _tau_out(lam: float, dt: float, tau: float, rule: str) -> float:
    """NIR time constant for decay factor lam per bin."""
    if rule == "exp":
        return tau
    return dt / (1.0 - lam)


def _decay_in(tau: Any, dt: float, rule: str, name: str) -> Any:
    """Decay factor per bin of NIR time constants ``tau`` under ``rule``."""
    if not np.all(np.isfinite(tau)) or np.any(tau <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {tau}")
    if rule == "exp":
        return np.exp(-dt / tau)
    a = 1.0 - dt / tau
    if np.any(a < 0):
        raise ValueError(f"{name} < dt={dt} gives a negative forward-Euler decay 1 - dt/tau")
    return a


def _neuron(nir, kind, shape, lif: LIFParams, rule: str):
    full = lambda v: np.full(shape, v, dtype=np.float64)
    tau_syn = _tau_out(lif.lambda_syn, lif.dt, lif.tau_syn, rule)
    tau_mem = _tau_out(lif.lambda_mem, lif.dt, lif.tau_mem, rule)
    common = dict(
        tau_syn=full(tau_syn),
        tau_mem=full(tau_mem),
        r=full(1.0),
        v_leak=full(0.0),
        w_in=full(1.0 / (1.0 - lif.lambda_syn)),
    )
    if kind == "CubaLI":
        return nir.CubaLI(**common)
    return nir.CubaLIF(**common, v_threshold=full(lif.theta), v_reset=full(0.0))


def to_nir(params: dict, cfg: SNNConfig, *, discretisation: str = "exp") -> Any:
    """The network ``(params, cfg)`` as a ``nir.NIRGraph`` (rule and layout: module docstring).

    ``discretisation``: ``"exp"`` (tau_NIR = our tau) or ``"euler"`` (tau_NIR = dt / (1 -
    lambda)). Raises ValueError for options NIR cannot express (reset_scope="update",
    delay=1, readout_value="after", readout_u0 != 0, an even recurrent conv kernel).
    Write the graph with :func:`write_nir` or ``nir.write(path, graph)``.
    """
    nir = _nir()
    if not isinstance(cfg, SNNConfig):
        raise TypeError(f"cfg must be an SNNConfig, got {type(cfg).__name__}")
    _check_rule(discretisation)
    expected = param_shapes(cfg)
    got = None
    if isinstance(params, dict):
        try:
            got = {
                "hidden": [{k: tuple(np.shape(v)) for k, v in layer.items()} for layer in params["hidden"]],
                "readout": {k: tuple(np.shape(v)) for k, v in params["readout"].items()},
            }
        except (KeyError, TypeError, AttributeError):
            got = None
    if got != expected:
        raise ValueError(f"params do not match cfg: expected shapes {expected}, got {got}")
    for lif, where in ((cfg.lif, "lif"), (cfg.out_lif, "readout_lif")):
        if lif.reset_scope != "leak":
            raise ValueError(
                f"{where}.reset_scope={lif.reset_scope!r} has no NIR form (NIR resets v before the step)"
            )
        if lif.dt != cfg.lif.dt:
            raise ValueError(f"readout_lif.dt={cfg.out_lif.dt} differs from lif.dt={cfg.lif.dt}")
    if cfg.delay != 0:
        raise ValueError("delay=1 has no NIR form; export networks with delay=0")
    if cfg.readout_value != "before" or cfg.readout_u0 != 0.0:
        raise ValueError("readout_value='after' and readout_u0 != 0 have no NIR form")
    conv = cfg.connectivity == "conv1d"
    if conv and cfg.recurrent and any(k % 2 == 0 for k in cfg.recurrent_kernel_size):  # type: ignore[union-attr]
        raise ValueError(f"recurrent_kernel_size {cfg.recurrent_kernel_size} must be odd for NIR export")

    f64 = lambda a: np.asarray(a)
    lengths = cfg.lengths
    nodes: dict = {}
    edges: list = []
    in_shape = [cfg.in_channels, lengths[0]] if conv else [cfg.n_in]
    nodes["input"] = nir.Input(input_type={"input": np.array(in_shape)})
    prev = "input"
    for l, h in enumerate(cfg.hidden):
        layer = params["hidden"][l]
        if conv:
            nodes[f"w{l}"] = nir.Conv1d(
                input_shape=lengths[l],
                weight=f64(layer["w"]).transpose(2, 1, 0),
                stride=int(cfg.stride[l]),  # type: ignore[index]
                padding=0,
                dilation=1,
                groups=1,
                bias=np.zeros(h, dtype=f64(layer["w"]).dtype),
            )
            shape: tuple = (h, lengths[l + 1])
        else:
            nodes[f"w{l}"] = nir.Linear(weight=f64(layer["w"]).T)
            shape = (h,)
        nodes[f"lif{l}"] = _neuron(nir, "CubaLIF", shape, cfg.lif, discretisation)
        edges += [(prev, f"w{l}"), (f"w{l}", f"lif{l}")]
        if cfg.recurrent:
            v = f64(layer["v"])
            if conv:
                k = v.shape[0]
                nodes[f"v{l}"] = nir.Conv1d(
                    input_shape=lengths[l + 1],
                    weight=v.transpose(2, 1, 0),
                    stride=1,
                    padding=(k - 1) // 2,
                    dilation=1,
                    groups=1,
                    bias=np.zeros(h, dtype=v.dtype),
                )
            else:
                nodes[f"v{l}"] = nir.Linear(weight=v.T)
            edges += [(f"lif{l}", f"v{l}"), (f"v{l}", f"lif{l}")]
        prev = f"lif{l}"
    w_ro = f64(params["readout"]["w"])
    if conv and cfg.hidden:
        c, length = cfg.hidden[-1], lengths[-1]
        nodes["flatten"] = nir.Flatten(input_type={"input": np.array([c, length])}, start_dim=0, end_dim=-1)
        edges.append((prev, "flatten"))
        prev = "flatten"
        w_nir = w_ro.reshape(length, c, cfg.n_out).transpose(2, 1, 0).reshape(cfg.n_out, c * length)
    elif conv:
        c, length = cfg.in_channels, lengths[0]
        nodes["flatten"] = nir.Flatten(input_type={"input": np.array([c, length])}, start_dim=0, end_dim=-1)
        edges.append((prev, "flatten"))
        prev = "flatten"
        w_nir = w_ro.reshape(length, c, cfg.n_out).transpose(2, 1, 0).reshape(cfg.n_out, c * length)
    else:
        w_nir = w_ro.T
    nodes["readout_w"] = nir.Linear(weight=w_nir)
    kind = "CubaLIF" if cfg.readout == "lif" else "CubaLI"
    nodes["readout"] = _neuron(nir, kind, (cfg.n_out,), cfg.out_lif, discretisation)
    nodes["output"] = nir.Output(output_type={"output": np.array([cfg.n_out])})
    edges += [(prev, "readout_w"), ("readout_w", "readout"), ("readout", "output")]
    metadata = {"dt": float(cfg.lif.dt), "discretisation": discretisation}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def write_nir(path: str | os.PathLike, params: dict, cfg: SNNConfig, *, discretisation: str = "exp") -> None:
    """Write :func:`to_nir` ``(params, cfg)`` to the HDF5 file ``path`` (``nir.write``)."""
    _nir().write(path, to_nir(params, cfg, discretisation=discretisation))


def write_nir_graph(path: str | os.PathLike, graph: Any) -> None:
    """Write any ``nir.NIRGraph`` to ``path`` after turning its node parameters into NumPy
    arrays of at least one dimension (torch tensors detached; a 0-d parameter of a neuron
    fed by a Linear / Affine of n rows broadcast to shape (n,), other 0-d ones to (1,)).

    ``nir.write`` (nir 1.0.8) refuses the 0-d torch parameters that ``norse.torch.to_nir``
    (Norse 1.1.0) writes, and ``nir.read`` the Input / Output shapes (1, n) it writes (the batch
    axis of the sample data), which are written as (n,) when the graph's types do not check
    otherwise. :func:`from_nir` broadcasts a 1-element parameter like a 0-d one.
    """
    import dataclasses

    nir = _nir()
    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"graph must be a nir.NIRGraph, got {type(graph).__name__}")

    width = {}  # neuron node -> rows of the Linear / Affine feeding it
    for a, b in graph.edges:
        if _name(graph.nodes.get(a)) in ("Linear", "Affine") and _name(graph.nodes.get(b)) in _NEURONS:
            width[b] = int(np.shape(graph.nodes[a].weight)[0])

    def arr(v, n=1):
        if hasattr(v, "detach"):  # a torch tensor
            v = v.detach().cpu().numpy()
        if isinstance(v, (np.ndarray, np.generic)) and np.size(v) == 1 and np.ndim(v) <= 1:
            v = np.full(n, np.asarray(v).reshape(()), dtype=np.asarray(v).dtype)
        return v

    nodes: dict[str, Any] = {}
    for k, node in graph.nodes.items():
        if node is None or not dataclasses.is_dataclass(node) or isinstance(node, nir.NIRGraph):
            nodes[k] = node
            continue
        changes = {
            f.name: arr(getattr(node, f.name), width.get(k, 1))
            for f in dataclasses.fields(node)
            if f.init and f.name not in ("input_type", "output_type", "metadata")
        }
        nodes[k] = dataclasses.replace(node, **changes)  # type: ignore[type-var]
    meta = dict(graph.metadata or {})
    try:
        out = nir.NIRGraph(nodes=nodes, edges=list(graph.edges), metadata=meta)
    except ValueError:  # Norse's Input keeps the batch axis of its sample data: drop a leading 1
        for k, node in nodes.items():
            kind = _name(node)
            if kind in ("Input", "Output"):
                types = node.input_type if kind == "Input" else node.output_type
                shape = np.asarray(next(iter(types.values()))).reshape(-1)
                if shape.size >= 2 and shape[0] == 1:
                    new = {kind.lower(): shape[1:]}
                    nodes[k] = nir.Input(input_type=new) if kind == "Input" else nir.Output(output_type=new)
        out = nir.NIRGraph(nodes=nodes, edges=list(graph.edges), metadata=meta)
    nir.write(path, out)


# ---------------------------------------------------------------- import


def _name(node) -> str:
    return type(node).__name__


def _meta(graph, key):
    v = (getattr(graph, "metadata", None) or {}).get(key)
    if isinstance(v, bytes):
        v = v.decode("utf8")
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v.item()
    return v


def _param(node, field, shape, name):
    """Node parameter ``field`` as float64 of ``shape`` (0-d broadcast; a flat array of the
    right size is read channel-major)."""
    a = np.asarray(getattr(node, field), dtype=np.float64)
    if a.shape == shape:
        return a
    if a.ndim == 0 or a.size == 1:
        return np.broadcast_to(a.reshape(()), shape)
    if a.size == math.prod(shape):
        return a.reshape(shape)
    raise ValueError(f"node {name!r}: {field} has shape {a.shape}, expected {shape}")


def _uniform(a, field, name) -> float:
    if not np.all(a == a.flat[0]):
        raise ValueError(
            f"node {name!r}: {field} varies across neurons (min {a.min()}, max {a.max()}); "
            "LIFParams are per layer, so it must be uniform"
        )
    return float(a.flat[0])


def _layer_dynamics(node, name, shape, dt, rule, spiking, source="nir"):
    """(LIFParams, per-neuron gain g of ``shape``) of one neuron node. ``source="norse"``:
    time constants are Norse's dt-scaled ones (tau = tau_NIR / dt) and a CubaLIF / CubaLI
    current jumps by r w_in x (Norse's LIFCell: i <- i + x)."""
    kind = _name(node)
    if spiking and kind not in ("CubaLIF", "LIF"):
        raise ValueError(f"node {name!r} is {kind}; hidden layers must be CubaLIF or LIF")
    p = lambda f: _param(node, f, shape, name)
    if np.any(p("v_leak") != 0):
        raise ValueError(f"node {name!r}: v_leak must be 0 (our recursion has no leak potential)")
    if kind in ("CubaLIF", "LIF") and np.any(p("v_reset") != 0):
        raise ValueError(f"node {name!r}: v_reset must be 0 (our recursion resets to 0)")
    theta = _uniform(p("v_threshold"), "v_threshold", name) if kind in ("CubaLIF", "LIF") else 1.0
    r = p("r")
    scale = 1.0 / dt if source == "norse" else 1.0
    if kind in ("CubaLIF", "CubaLI"):
        tau_mem = _uniform(p("tau_mem"), "tau_mem", name) * scale
        tau_syn = _uniform(p("tau_syn"), "tau_syn", name) * scale
        a_mem = float(_decay_in(np.float64(tau_mem), dt, rule, f"node {name!r}: tau_mem"))
        a_syn = float(_decay_in(np.float64(tau_syn), dt, rule, f"node {name!r}: tau_syn"))
        gain = r * p("w_in") if source == "norse" else r * (1.0 - a_syn) * p("w_in")
    else:
        tau_mem = _uniform(p("tau"), "tau", name) * scale
        a_mem = float(_decay_in(np.float64(tau_mem), dt, rule, f"node {name!r}: tau"))
        a_syn = 0.0
        gain = r
    if not 0.0 < a_mem < 1.0:
        raise ValueError(f"node {name!r}: membrane decay per bin {a_mem} must lie in (0, 1)")
    to_tau = lambda a: dt / 1000.0 if a == 0.0 else -dt / math.log(a)
    if rule == "exp":
        t_mem = tau_mem
        t_syn = tau_syn if kind in ("CubaLIF", "CubaLI") else dt / 1000.0
    else:
        t_mem, t_syn = to_tau(a_mem), to_tau(a_syn)
    gain = np.where(np.abs(gain - 1.0) <= 4 * np.finfo(np.float64).eps, 1.0, gain)
    return LIFParams(tau_mem=t_mem, tau_syn=t_syn, dt=dt, theta=theta), gain


def _scaled(w, g):
    """w times the postsynaptic gain g (broadcast along w's first axis), in w's dtype."""
    if np.all(g == 1):
        return w
    return (w * g).astype(w.dtype if np.issubdtype(w.dtype, np.floating) else np.float64)


def _zero_bias(node, name):
    if _name(node) in ("Affine", "Conv1d") and np.any(np.asarray(node.bias) != 0):
        raise ValueError(f"node {name!r} has a nonzero bias; our layers have none")


def _conv_geometry(node, name, length, recurrent):
    w = np.asarray(node.weight)
    if w.ndim != 3:
        raise ValueError(f"node {name!r}: Conv1d weight must be [C_out, C_in, K], got shape {w.shape}")
    k = w.shape[2]
    stride = int(np.asarray(node.stride).reshape(-1)[0])
    dil, groups = int(np.asarray(node.dilation).reshape(-1)[0]), int(np.asarray(node.groups))
    pad = node.padding
    if isinstance(pad, bytes):
        pad = pad.decode("utf8")
    if not isinstance(pad, str):
        pad = int(np.asarray(pad).reshape(-1)[0])
    if dil != 1 or groups != 1:
        raise ValueError(f"node {name!r}: dilation and groups must be 1, got {dil} and {groups}")
    if recurrent:
        ok = stride == 1 and k % 2 == 1 and pad in ("same", (k - 1) // 2)
        if not ok:
            raise ValueError(
                f"node {name!r}: a recurrent Conv1d must have stride 1, odd kernel, 'same' padding"
            )
    elif pad not in (0, "valid"):
        raise ValueError(f"node {name!r}: feedforward Conv1d padding must be 0 ('valid'), got {pad!r}")
    return k, stride


def _follow(graph, succ, name):
    """Skip Flatten nodes: (first non-Flatten node reached, whether a Flatten was passed)."""
    flat = False
    while _name(graph.nodes[name]) == "Flatten":
        nxt = succ[name]
        if len(nxt) != 1:
            raise ValueError(f"node {name!r} (Flatten) must have one successor, got {nxt}")
        name, flat = nxt[0], True
    return name, flat


def from_nir(
    graph_or_path: Any, dt: float | None = None, *, discretisation: str | None = None, source: str = "nir"
):
    """``(SNNConfig, params)`` of a NIR graph (or the path of a NIR file).

    Accepts a chain Input -> projection -> neuron -> ... -> projection -> neuron -> Output
    of Linear / Affine (zero bias) / Conv1d (zero bias, padding 0) projections, CubaLIF / LIF
    hidden layers and a CubaLI / LI (integrator) or CubaLIF / LIF (``readout="lif"``)
    readout, with Flatten nodes allowed before the readout projection and recurrent cycles
    neuron -> Linear / Conv1d (stride 1, odd kernel, 'same' padding) -> same neuron (a layer
    without one gets V = 0 when another has one). ``dt`` (seconds) and ``discretisation``
    default to the graph metadata written by :func:`to_nir`; an argument overrides it, and
    without either a ValueError asks for it. 0-d parameters are broadcast; time constants and
    thresholds must be uniform within a node, v_leak and v_reset 0. Rule: module docstring.
    Weights keep the NIR arrays' floating dtype.

    ``source="norse"`` reads a graph written by ``norse.torch.to_nir`` (Norse 1.1.0) as the
    Norse modules it came from compute: Norse writes tau_NIR = dt tau (dt = its export
    argument, default 1e-3 s), so tau = tau_NIR / dt; the rule is forward Euler ("euler";
    "exp" is refused); a CubaLIF / CubaLI node (Norse's LIFCell) adds r w_in x to its current
    (i <- i + x, gain r w_in instead of r (1 - a_syn) w_in), a LIF / LI node (LIFBoxCell,
    LIBoxCell) has gain r. ``dt`` defaults to 1e-3 (:data:`NORSE_DT`) and must equal the dt
    of the export and of the Norse cells. Then Norse's output at step n is our output at bin
    n + 2 L (L neuron layers, readout included; tests/snn/test_nir_peers.py). Norse 1.1.0
    writes an ``LICell`` as an empty (None) node, which carries no parameters and is refused:
    use ``LIBoxCell`` (exported as LI) for a non-spiking readout.
    """
    nir = _nir()
    if isinstance(graph_or_path, (str, os.PathLike)):
        graph = nir.read(graph_or_path)
    elif isinstance(graph_or_path, nir.NIRGraph):
        graph = graph_or_path
    else:
        raise TypeError(
            f"graph_or_path must be a nir.NIRGraph or a file path, got {type(graph_or_path).__name__}"
        )
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; valid: {', '.join(SOURCES)}")
    empty = sorted(k for k, n in graph.nodes.items() if n is None)
    if empty:
        raise ValueError(
            f"node(s) {', '.join(map(repr, empty))} are empty (None) and carry no parameters; "
            "Norse 1.1.0's to_nir writes an LICell so: use norse.torch.LIBoxCell (exported as LI)"
        )
    bad = sorted(
        {f"{_name(n)} (node {k!r})" for k, n in graph.nodes.items() if _name(n) not in SUPPORTED_NODES}
    )
    if bad:
        raise ValueError(
            f"unsupported NIR node types: {', '.join(bad)}; supported: {', '.join(SUPPORTED_NODES)}"
        )
    dt = dt if dt is not None else _meta(graph, "dt")
    if dt is None and source == "norse":
        dt = NORSE_DT
    if dt is None:
        raise ValueError("the graph records no dt: pass dt (seconds per bin)")
    dt = _validate.positive_scalar(dt, "dt")
    if source == "norse":
        if discretisation not in (None, "euler"):
            raise ValueError(f"source='norse' integrates by forward Euler; discretisation={discretisation!r}")
        rule = "euler"
    else:
        rule = discretisation if discretisation is not None else (_meta(graph, "discretisation") or "exp")
    _check_rule(rule)

    succ: dict = {k: [] for k in graph.nodes}
    pred: dict = {k: [] for k in graph.nodes}
    for a, b in graph.edges:
        if a not in graph.nodes or b not in graph.nodes:
            raise ValueError(f"edge ({a!r}, {b!r}) names a node that is not in the graph")
        succ[a].append(b)
        pred[b].append(a)
    inputs = [k for k, n in graph.nodes.items() if _name(n) == "Input"]
    outputs = [k for k, n in graph.nodes.items() if _name(n) == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"the graph needs one Input and one Output node, got {inputs} and {outputs}")
    in_shape = tuple(int(s) for s in np.asarray(graph.nodes[inputs[0]].input_type["input"]).reshape(-1))

    # walk the chain: [(projection, neuron, recurrent projection or None, flatten before?)]
    chain, src, seen = [], inputs[0], set()
    while True:
        fwd = [s for s in succ[src] if succ[s] != [src]]  # not the recurrent projection
        if len(fwd) != 1:
            raise ValueError(f"node {src!r} must feed exactly one next node, got {fwd}")
        proj, flat = _follow(graph, succ, fwd[0])
        if _name(graph.nodes[proj]) == "Output":
            if src == inputs[0]:
                raise ValueError("the graph has no neuron layer between Input and Output")
            break
        if _name(graph.nodes[proj]) not in _PROJECTIONS:
            got = f"{_name(graph.nodes[proj])} {proj!r}"
            raise ValueError(f"expected a Linear, Affine or Conv1d node after {src!r}, got {got}")
        nxt = succ[proj]
        if len(nxt) != 1 or _name(graph.nodes[nxt[0]]) not in _NEURONS:
            raise ValueError(f"projection {proj!r} must feed one neuron node, got {nxt}")
        neuron = nxt[0]
        if neuron in seen:
            raise ValueError(f"the graph loops back to {neuron!r} other than by a recurrent projection")
        seen.add(neuron)
        rec = [p for p in pred[neuron] if p != proj]
        for p in rec:
            if _name(graph.nodes[p]) not in _PROJECTIONS or pred[p] != [neuron]:
                raise ValueError(
                    f"node {neuron!r} has an extra input {p!r} that is not its own recurrent projection"
                )
        if len(rec) > 1:
            raise ValueError(f"node {neuron!r} has more than one recurrent projection: {rec}")
        chain.append((proj, neuron, rec[0] if rec else None, flat))
        src = neuron
    if [src] != pred[outputs[0]]:
        raise ValueError(f"the Output node must be fed by the last neuron node {src!r} only")

    hidden_chain, (ro_proj, ro_neuron, ro_rec, _ro_flat) = chain[:-1], chain[-1]
    if ro_rec is not None:
        raise ValueError(f"the readout {ro_neuron!r} cannot be recurrent")
    if _name(graph.nodes[ro_proj]) == "Conv1d":
        raise ValueError(f"the readout projection {ro_proj!r} must be Linear or Affine")
    kinds = {_name(graph.nodes[p]) == "Conv1d" for p, *_ in hidden_chain}
    if len(kinds) > 1:
        raise ValueError("hidden projections mix Conv1d with Linear/Affine; one connectivity per network")
    conv = kinds == {True}
    recurrent = any(r is not None for _, _, r, _ in hidden_chain)

    hidden, kernels, strides, rkernels, lifs, layers = [], [], [], [], [], []
    if conv:
        first = graph.nodes[hidden_chain[0][0]]
        c_in = int(np.asarray(first.weight).shape[1])
        length = first.input_shape
        if length is None:
            if len(in_shape) != 2:
                raise ValueError(f"Conv1d input needs the Input shape (C_in, L), got {in_shape}")
            length = in_shape[-1]
        length = int(np.asarray(length).reshape(-1)[0])
        n_in, in_channels = c_in * length, c_in
    else:
        n_in, in_channels, length = math.prod(in_shape), 1, 1
    for proj, neuron, rec_name, _flat in hidden_chain:
        pnode = graph.nodes[proj]
        _zero_bias(pnode, proj)
        w = np.asarray(pnode.weight)
        if conv:
            k, s = _conv_geometry(pnode, proj, length, False)
            c_out = w.shape[0]
            length = (length - k) // s + 1
            shape: tuple = (c_out, length)
            kernels.append(k)
            strides.append(s)
        else:
            shape = (w.shape[0],)
        lif, gain = _layer_dynamics(graph.nodes[neuron], neuron, shape, dt, rule, spiking=True, source=source)
        if conv:
            if not np.all(gain == gain[:, :1]):
                raise ValueError(
                    f"node {neuron!r}: r (1 - a_syn) w_in varies along positions; conv weights are shared"
                )
            g = gain[:, 0]
            layer = {"w": _scaled(w, g[:, None, None]).transpose(2, 1, 0)}
        else:
            g = gain
            layer = {"w": _scaled(w, g[:, None]).T}
        if recurrent:
            n_units = shape[0]
            if rec_name is None:
                rkernels.append(1)
                vshape = (1, n_units, n_units) if conv else (n_units, n_units)
                layer["v"] = np.zeros(vshape, dtype=w.dtype)
            else:
                rnode = graph.nodes[rec_name]
                _zero_bias(rnode, rec_name)
                v = np.asarray(rnode.weight)
                if conv:
                    if _name(rnode) != "Conv1d":
                        raise ValueError(f"recurrent projection {rec_name!r} of a conv layer must be Conv1d")
                    rkernels.append(_conv_geometry(rnode, rec_name, length, True)[0])
                    layer["v"] = _scaled(v, g[:, None, None]).transpose(2, 1, 0)
                else:
                    layer["v"] = _scaled(v, g[:, None]).T
        hidden.append(shape[0])
        lifs.append(lif)
        layers.append(layer)
    if any(lf != lifs[0] for lf in lifs):
        raise ValueError(f"hidden layers have different LIF parameters {lifs}; SNNConfig has one LIFParams")

    w = np.asarray(graph.nodes[ro_proj].weight)
    _zero_bias(graph.nodes[ro_proj], ro_proj)
    n_out = w.shape[0]
    ro_node = graph.nodes[ro_neuron]
    spiking_ro = _name(ro_node) in ("CubaLIF", "LIF")
    out_lif, g = _layer_dynamics(ro_node, ro_neuron, (n_out,), dt, rule, spiking=False, source=source)
    w = _scaled(w, g[:, None])
    if conv:
        c = hidden[-1] if hidden else in_channels
        w_ro = w.reshape(n_out, c, length).transpose(2, 1, 0).reshape(length * c, n_out)
    else:
        w_ro = w.T
    lif0 = lifs[0] if lifs else out_lif
    if not spiking_ro:
        out_lif = LIFParams(out_lif.tau_mem, out_lif.tau_syn, out_lif.dt, lif0.theta)
    cfg = SNNConfig(
        n_in=n_in,
        hidden=tuple(hidden),
        n_out=n_out,
        connectivity="conv1d" if conv else "dense",
        in_channels=in_channels,
        kernel_size=tuple(kernels) if conv else 5,
        stride=tuple(strides) if conv else 1,
        recurrent=recurrent,
        recurrent_kernel_size=tuple(rkernels) if conv and recurrent else None,
        readout="lif" if spiking_ro else "integrator",
        lif=lif0,
        readout_lif=None if out_lif == lif0 else out_lif,
    )
    to_jnp = lambda a: jnp.asarray(a, dtype=a.dtype if np.issubdtype(a.dtype, np.floating) else np.float32)
    params = {
        "hidden": [{k: to_jnp(np.asarray(v)) for k, v in layer.items()} for layer in layers],
        "readout": {"w": to_jnp(w_ro)},
    }
    return cfg, params
