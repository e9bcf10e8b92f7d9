"""Shared test helpers: the one module test files import from (``from tests.helpers import ...``).

Test files never import each other; whatever two test files need goes here: the claims kept
out of the default suite, hypothesis strategies for the neuron maths, a quadrature
reference, small fixed network layouts and a writer of SHD-format files.
"""

from pathlib import Path

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from analysis.fields import _toy as tn

REPO_ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- claims
# Registered claims too slow for the default suite at their quick profile (``pytest --runslow``,
# SGTHEORY_SLOW=1 and ``sgtheory verify`` run it), each with the reason; the default suite runs
# their tiny stand-in instead. Every other registered claim runs at its quick profile in the
# default suite (tests/claims/test_claims.py).
# Quick-profile times below: measured 2026-12-02 on the shared 2-core CPU, alone (load ~2) and
# inside the slow set with -n 2 (load 7-10); the tiny stand-ins' times are in their modules
# (2-17 s each on the CPU alone).
SLOW_CLAIMS = {
    "sg_equals_linearised_stochad": (
        "compiles SG and linearised estimators for two matched networks and one mismatched "
        "sanity network in float64 (34 s loaded, 2026-12-06); stand-in: the matched LIF "
        "network, 8 samples"
    ),
    "estimators_unbiased": (
        "five estimators with positive controls on five networks, 2000-854000 samples per "
        "test for power against a 5 % bias (254 s loaded, 2026-12-06); stand-in: one "
        "two-layer network, n = 11000-41000, controls included"
    ),
    "sg_bias_lif_layers": (
        "three exact enumerations (K = 18, 18, 15), their NumPy predictions and Monte-Carlo "
        "checks (22 s alone, 46 s loaded, before the predictions); stand-in: 5 steps, 1000 "
        "samples"
    ),
    "sg_bias_table": (
        "exact E[SG] for 6 surrogates x 3 depths x 2 networks (9 s alone, 59 s loaded); "
        "stand-in: 1 network, depths 1-2, 2 surrogate steepnesses"
    ),
    "alignment_matched_surrogate": (
        "alignment of four SGs with a 2000-sample reference on three networks (103-185 s); "
        "stand-in: one feedforward network, the two stochastic SGs (paired jackknife test)"
    ),
    "snn_spike_train_learning": (
        "trains a deterministic and a stochastic network (56-70 s); stand-in: 20-20-20 "
        "neurons, 40 steps, 150 epochs"
    ),
    "snn_randman_accuracy": (
        "trains 40 networks of 2 LIF layers for 30 epochs (20 seeds per method: 370 s on the 2-core "
        "CPU under load 3-5; with 4 seeds 44 s on 2 free cores); stand-in: 5 classes, one layer of "
        "32, 30 epochs, 8 seeds (TOST over seeds)"
    ),
    "eventprop_discrete_limit": (
        "EventProp and SG-BPTT at 5 bins x 4 surrogate steepnesses on two instances, bins down to "
        "50 us (1000 steps); shares its run with eventprop_sg_dt_limit; stand-in: one instance, "
        "4 bins, one steepness"
    ),
    "eventprop_sg_dt_limit": (
        "the run of eventprop_discrete_limit; stand-in: one instance, 4 bins, one steepness"
    ),
    "eventprop_escape_noise": (
        "unbiased coupled-flip estimates of grad E[L] (1000 samples, K = 2400 spike variables) at "
        "5 escape-noise steepnesses on two instances; stand-in: one instance, 2 steepnesses, 500 "
        "samples"
    ),
}

# Stand-ins too slow for the default suite themselves (they run with --runslow); the
# claim's decision rule keeps fast mutant tests in the default suite
# (tests/claims/test_mutants_equivalence.py).
SLOW_STAND_INS = {
    "eventprop_discrete_limit": (
        "EventProp's compilation (8 s) and SG-BPTT compiled at 4 bins (1-2 s each); the decision "
        "rule's mutants run in tests/eventprop/test_compare_claims.py"
    ),
    "eventprop_sg_dt_limit": "as eventprop_discrete_limit (the same run)",
    "eventprop_escape_noise": (
        "two coupled-flip estimates of 500 samples (about 20 s); the decision rule's mutants run "
        "in tests/eventprop/test_compare_claims.py"
    ),
    "snn_randman_accuracy": (
        "16 training runs of 30 epochs (8 seeds per method: the fewest with power 0.98 for the "
        "TOST at a zero gap); 113 s of the default suite's 6 min 21 s under pytest (2026-12-06)"
    ),
}

# Claims whose quick profile fails its criterion, fixed in advance, with fixed keys: the
# test asserts the failure (strict xfail), so a change that makes it pass is noticed too.
KNOWN_QUICK_FAILURES = {
    "snn_randman_accuracy": (
        "the quick stand-in's stochastic networks are 0.036 less accurate (20 seeds per method, "
        "90 % CI of the gap [0.017, 0.054]): equivalence within 0.05 is not shown (README)"
    ),
}

# ---------------------------------------------------------------- neuron maths
BETAS = st.floats(-3.0, 6.0).map(lambda e: float(10.0**e))
DTYPES = st.sampled_from([np.float32, np.float64])
# Surrogates without reflection symmetry psi(-z) = psi(z): the exponential forms.
ASYMMETRIC = {"exponential", "matched:exponential"}


@st.composite
def z_arrays(draw):
    dtype = draw(DTYPES)
    # A few fixed shapes: every new shape costs XLA compilations of the eager ops.
    shape = draw(st.sampled_from([(), (2, 3, 4)]))
    elems = st.floats(-1e6, 1e6, allow_nan=False, width=32)
    return draw(hnp.arrays(dtype, shape, elements=elems))


def quad_over_pieces(fn, breaks):
    """Integral of ``fn`` over the real line by scipy quad, split at ``breaks`` (kinks)."""
    from scipy import integrate

    pts = sorted(set(breaks))
    edges = [-np.inf] + pts + [np.inf] if pts else [-np.inf, 0.0, np.inf]
    return sum(
        integrate.quad(lambda t: float(fn(t)), a, b, limit=200, epsabs=1e-12)[0]
        for a, b in zip(edges, edges[1:], strict=False)
    )


# ---------------------------------------------------------------- fields
# A few fixed layouts: compiled once each (beta is traced), hypothesis varies the rest.
LAYOUTS = [tn.FIVE_WEIGHT, tn.Layout((2, 2, 1), (0.3, -0.8)), tn.Layout((3, 2, 2), (1.0, -0.5, 0.2))]


# ---------------------------------------------------------------- tasks
def write_shd(path, times, units, labels):
    """Write an HDF5 file in the SHD layout (spikes/times, spikes/units, labels); needs h5py."""
    import h5py

    with h5py.File(path, "w") as fh:
        vl_f = h5py.vlen_dtype(np.float32)
        vl_u = h5py.vlen_dtype(np.uint16)
        t = fh.create_dataset("spikes/times", (len(times),), dtype=vl_f)
        u = fh.create_dataset("spikes/units", (len(units),), dtype=vl_u)
        for i, (ti, ui) in enumerate(zip(times, units, strict=False)):
            t[i], u[i] = np.asarray(ti, np.float32), np.asarray(ui, np.uint16)
        fh.create_dataset("labels", data=np.asarray(labels, np.uint8))


# -- command line ------------------------------------------------------------------------------


def run_cli(capsys, argv) -> tuple[int, str, str]:
    """Run ``sgtheory argv`` in-process; returns (exit code, stdout, stderr)."""
    from proofs_numeric.cli import main

    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own errors and --help / --version
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, out, err, pattern, argparse_error=False):
    """Exit code 2, no traceback, and exactly one stderr line matching ``pattern``; errors of
    the argument parser (``argparse_error``) also point to the command's --help."""
    import re

    assert "Traceback" not in out + err
    assert rc == 2, (rc, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.search(pattern, lines[0]), lines[0]
    if argparse_error:
        assert re.search(r"\(see sgtheory( \w+)? --help\)$", lines[0]), lines[0]


# -- a tiny recurrent LIF network (analysis.snn), small enough to enumerate ---------------------


def tiny_recurrent_snn_config():
    """2 inputs -> 2 recurrent LIF neurons -> 1 LIF readout, fast time constants (2 ms) and a
    low threshold so that spikes are frequent; K = 3 T spike variables for T steps."""
    from analysis.snn import LIFParams, SNNConfig

    return SNNConfig(
        n_in=2,
        hidden=(2,),
        n_out=1,
        recurrent=True,
        readout="lif",
        lif=LIFParams(tau_mem=2e-3, tau_syn=2e-3, theta=0.3),
    )


# ---------------------------------------------------------------- naive LIF reference
def naive_lif(x, weights, spike, *, lif, sizes=None, recurrent=None, current=None, reset=None):
    """A discrete-time LIF network written as a plain loop over steps and layers: the one
    reference that the simulators' tests compare with (Gygax & Zenke 2025, LIF networks of
    Figs. 6-7; the recursion of analysis.snn._lif, zero initial state)::

        S_l[t]   = spike(U_l[t] - theta_l, l, t)
        I_l[t+1] = lambda_syn I_l[t] + current(l, W_l, S_{l-1}[t])  (+ current(l, V_l, S_l[t]))
        U_l[t+1] = lambda_mem U_l[t] (1 - reset(S_l[t])) + (1 - lambda_mem) I_l[t]

    with S_{-1}[t] = x[..., t, :]. Only ``+``, ``*`` and ``@`` touch the arrays, so NumPy and
    JAX arrays (differentiated or not) both work.

    x: (..., T, n_in). weights[l]: layer l's input weights (the last layer is the readout).
    spike(z, l, t): the spikes of layer l at step t (a Heaviside, a Bernoulli draw from fixed
    uniforms, ``0 * z`` for a non-spiking readout). lif[l]: (lambda_mem, lambda_syn, theta).
    sizes[l]: layer widths (default: each weight matrix's last axis). recurrent[l]: None or
    layer l's recurrent weights. current(l, w, s, rec): the input current, default ``s @ w``
    (conv layers pass their own). reset(s): the spikes as the reset sees them (default s;
    ``jax.lax.stop_gradient`` detaches it).

    Returns (spikes, potentials): per layer, a list over t of S_l[t] and of U_l[t].
    """
    n_layers = len(weights)
    sizes = [w.shape[-1] for w in weights] if sizes is None else list(sizes)
    recurrent = [None] * n_layers if recurrent is None else list(recurrent)
    current = (lambda l, w, s, rec: s @ w) if current is None else current
    reset = (lambda s: s) if reset is None else reset
    batch = tuple(x.shape[:-2])
    i_st = [np.zeros(batch + (n,)) for n in sizes]
    u_st = [np.zeros(batch + (n,)) for n in sizes]
    spikes = [[] for _ in range(n_layers)]
    potentials = [[] for _ in range(n_layers)]
    for t in range(x.shape[-2]):
        s_prev = x[..., t, :]
        for l in range(n_layers):
            lam_mem, lam_syn, theta = lif[l]
            s = spike(u_st[l] - theta, l, t)
            cur = current(l, weights[l], s_prev, False)
            if recurrent[l] is not None:
                cur = cur + current(l, recurrent[l], s, True)
            spikes[l].append(s)
            potentials[l].append(u_st[l])
            u_st[l] = lam_mem * u_st[l] * (1 - reset(s)) + (1 - lam_mem) * i_st[l]
            i_st[l] = lam_syn * i_st[l] + cur
            s_prev = s
    return spikes, potentials
