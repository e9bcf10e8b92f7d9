"""Shared measurement of the EventProp claims (private: not a claim, not discovered).

The three claims ``eventprop_discrete_limit``, ``eventprop_sg_dt_limit`` and
``eventprop_escape_noise`` read the rows of one
:func:`analysis.eventprop._compare.compare_gradients` run per instance (seed) and profile,
computed once per process (:func:`measure`). Seed 0 was the exploration instance on which
the design was tried; the claims run on seeds 1, 2 (quick) and 1-4 (full), fixed before those
runs (2026-12-07).
"""

from __future__ import annotations

import functools

from analysis.eventprop._compare import COMPARE_PROFILES as PROFILES


@functools.lru_cache(maxsize=8)
def measure(profile: str, part: str) -> tuple:
    """Rows of :func:`compare_gradients` per seed: ``part`` "sg" (parts a and b) or "escape"
    (parts a and c). Cached per process, so the claims and fig10 share one run."""
    from analysis.eventprop._compare import CompareSetup, compare_gradients

    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
    if part not in ("sg", "escape"):
        raise ValueError(f"part must be 'sg' or 'escape', got {part!r}")
    p = PROFILES[profile]
    out = []
    for seed in p["seeds"]:
        kw = (
            {"dts": p["dts"], "beta_sgs": p["beta_sgs"], "betas": ()}
            if part == "sg"
            else {
                "dts": (),
                "beta_sgs": (),
                "betas": p["betas"],
                "dt_noise": p["dt_noise"],
                "n_samples": p["n_samples"],
            }
        )
        out.append(compare_gradients(CompareSetup(seed=seed), **kw))
    return tuple(out)


def network_text() -> str:
    """The comparison's network in words (for the claims' details and the paper)."""
    from analysis.eventprop._compare import CompareSetup

    s = CompareSetup()
    return (
        f"{s.n_in} Poisson inputs of {s.rate_hz:g} Hz -> {s.hidden} LIF -> {s.n_out} leaky integrators, "
        f"tau_mem {s.tau_mem * 1e3:g} ms = 2 tau_syn, {s.t_max * 1e3:g} ms, batch {s.batch}, loss "
        "cross-entropy of softmax(max_t V_o)"
    )


def grid(profile: str) -> dict:
    """The profile's grid in readable units (ms) for the claims' details."""
    p = PROFILES[profile]
    return {
        "network": network_text(),
        "dts_ms": [d * 1e3 for d in p["dts"]],
        "beta_sgs": list(p["beta_sgs"]),
        "betas": list(p["betas"]),
        "dt_noise_ms": p["dt_noise"] * 1e3,
    }
