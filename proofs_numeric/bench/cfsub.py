"""``sgtheory bench cfsub``: cost of the subsampled coupled-flip estimator on an SNN program.

The estimator ``estimate("coupled_flip_sub", ..., n=1, n_flips=M)`` (one traced
forward run, M coupled re-simulations vmapped, one forward + backward for the direct term
and the VJP of the teacher-forced spike probabilities: about M + 2 program evaluations;
:mod:`analysis.stochastic._program`) against one surrogate-gradient evaluation
``estimate("sg_stochastic", ..., n=1)`` (forward + backward) of the same program:
a network of :mod:`analysis.snn` (dense LIF, two hidden layers and a LIF readout, escape
noise sigmoid(beta = 5)) run through :func:`analysis.stochastic.snn_program`. Also timed:
one forward run of the program under the Bernoulli source, so that the cost can be read in
program evaluations too. Reported: the ratio coupled_flip_sub / SG next to the bound M + 2
(a bound in forward evaluations; an SG evaluation costs more than one forward, so the
measured ratio should lie well below it).

Profiles: ``quick`` 3 x 64 units, batch 16, T = 50, M = 4; ``full`` the benchmark network
of ``sgtheory bench snn`` (3 x 512, 512 inputs, batch 256, T = 200), M = 8. Float32, all
variants jitted with compilation excluded (warm-up calls), timings are medians of
interleaved rounds in one process (:func:`proofs_numeric.bench._timing.interleaved`); on a
shared machine differences below ~10 % are noise.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from analysis.neuron import escape_noise
from analysis.snn import LIFParams, SNNConfig, init_params, method
from analysis.stochastic import Bernoulli, estimate, snn_program, trace_program
from proofs_numeric.bench._timing import interleaved, ratio_table

PROFILES = {
    "quick": dict(width=64, batch=16, steps=50, n_flips=4, rounds=5),
    "full": dict(width=512, batch=256, steps=200, n_flips=8, rounds=3),
}


def _loss(res, inputs):
    _, c = inputs  # a fixed random readout weighting, an argument (not a folded constant)
    return jnp.mean(res.output * c)


def run(profile: str = "quick") -> dict:
    pr = PROFILES[profile]
    w, B, T, M = pr["width"], pr["batch"], pr["steps"], pr["n_flips"]
    cfg = SNNConfig(n_in=w, hidden=(w, w), n_out=w, readout="lif", lif=LIFParams(tau_mem=10e-3, tau_syn=5e-3))
    noise = escape_noise("sigmoid", 5.0)
    program = snn_program(cfg, method("stochastic", hidden_noise=noise, output_noise=noise), _loss, B, T)
    params = init_params(jax.random.key(0), cfg, nu=50.0)
    kx, kc = jax.random.split(jax.random.key(1))
    x = (jax.random.uniform(kx, (B, T, w)) < 0.05).astype(jnp.float32)
    c = jax.random.normal(kc, (B, T, w), jnp.float32)
    key = jax.random.key(2)
    big = 1e3  # GiB: the rough memory guard counts 3 K numbers per run; the program is known

    def estimator(name, **kw):
        f = lambda p, x, c, k: estimate(name, program, p, (x, c), 1, key=k, max_memory_gib=big, **kw)
        return jax.jit(f)

    def forward(p, x, c, k):
        u = jax.tree_util.tree_map(lambda a: a[0], program.draw_uniforms(k, 1, jnp.float32))
        return trace_program(program, p, (x, c), Bernoulli(program.sites, u=u), record=())[0]

    fns = {
        "forward": jax.jit(forward),
        "sg_stochastic": estimator("sg_stochastic"),
        "coupled_flip_sub": estimator("coupled_flip_sub", n_flips=M),
    }
    res = interleaved(
        {k: (lambda f=f: f(params, x, c, key)) for k, f in fns.items()}, rounds=pr["rounds"], warmup=2
    )
    K = program.K
    print(f"coupled_flip_sub cost, SNN program 3 x {w}, batch {B}, T = {T}, K = {K}, M = {M}, n = 1:")
    print(ratio_table(res, "sg_stochastic"))
    sg, fw = res["sg_stochastic"]["median_s"], res["forward"]["median_s"]
    sub = res["coupled_flip_sub"]["median_s"]
    print(
        f"  coupled_flip_sub / SG = {sub / sg:.2f} (bound M + 2 = {M + 2} program evaluations); "
        f"coupled_flip_sub / forward = {sub / fw:.2f}; SG / forward = {sg / fw:.2f}"
    )
    return {
        "width": w,
        "batch": B,
        "steps": T,
        "K": K,
        "M": M,
        "forward_s": fw,
        "sg_s": sg,
        "coupled_flip_sub_s": sub,
        "cfsub_over_sg": sub / sg,
        "cfsub_over_forward": sub / fw,
        "sg_over_forward": sg / fw,
        "bound": M + 2,
    }
