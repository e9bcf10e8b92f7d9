"""Enumerable networks shared by the alignment tests: K = 6 bins x 2 hidden neurons = 12
spike variables each (integrator readout; 2 ms time constants so that the input reaches the
readout within the 6 bins), and their exact gradient by enumeration."""

import jax
import jax.numpy as jnp
import numpy as np

from analysis.stochastic import AlignmentConfig, exact_value_and_grad, snn_program
from analysis.stochastic._alignment_stats import flatten_jnp
from analysis.stochastic._alignment_sweep import instance

SMALL = dict(depth=1, width=2, steps=6, n_out=1, batch=1, readout="integrator", input_rate=0.5)
SMALL.update(tau_mem=2e-3, tau_syn=2e-3)


def small_networks(**extra) -> dict[str, AlignmentConfig]:
    """The dense, recurrent and conv1d networks (K = 12), with ``extra`` config fields."""
    base = {**SMALL, **extra}
    return {
        "dense": AlignmentConfig(**base),
        "recurrent": AlignmentConfig(**base, recurrent=True),
        "conv1d": AlignmentConfig(**{**base, "width": 4}, channels=1, kernel_size=3, connectivity="conv1d"),
    }


def flat(tree):
    """A parameter pytree as one flat NumPy vector (the order of the alignment tools)."""
    return np.asarray(flatten_jnp(jax.tree_util.tree_map(lambda v: jnp.asarray(v)[None], tree)))[0]


def case(cfg):
    """(cfg, net, params, x, loss, program, exact gradient by enumeration) of ``cfg``."""
    net, params, x, loss = instance(cfg)
    program = snn_program(net, cfg.method(), loss, cfg.batch, cfg.steps)
    assert program.K == 12
    return cfg, net, params, x, loss, program, exact_value_and_grad(program, params, x)[1]
