"""``sgtheory bench snn``: the stage breakdown (``--breakdown``) and profile ``gpu``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.snn import LIFParams, Method, SNNConfig, init_params, simulate

TINY = SNNConfig(n_in=12, hidden=(10, 9), n_out=7, readout="lif", lif=LIFParams(tau_mem=10e-3, tau_syn=5e-3))


def _data(batch=2, steps=20):
    params = init_params(jax.random.key(0), TINY, nu=100.0, sigma_u=4.0, dtype=jnp.float32)
    x = (jax.random.uniform(jax.random.key(1), (batch, steps, TINY.n_in)) < 0.3).astype(jnp.float32)
    c = jax.random.normal(jax.random.key(2), (batch, steps, TINY.n_out), jnp.float32)
    return params, x, c


def test_stage_pieces_are_the_networks_forward_and_gradient():
    """The stages timed by the breakdown compute what the network computes: their spikes
    equal simulate's bit for bit, their dL/dW equal jax.grad of the loss (float32 tolerance)."""
    from proofs_numeric.bench._snn_breakdown import _pieces

    params, x, c = _data()
    _, _, _, spikes, _, _, _, d_w = jax.jit(_pieces, static_argnums=0)(TINY, params, x, c)
    meth = Method("deterministic")
    res = jax.jit(simulate, static_argnums=(2, 3), static_argnames="record")(
        params, x, TINY, meth, record="spikes"
    )
    for ours, ref in zip(spikes, (*res.spikes, res.output), strict=True):
        np.testing.assert_array_equal(ours, ref)  # batch-major, like simulate
    assert float(res.output.mean()) > 0  # the readout spikes: the gradient is not trivially zero

    loss = lambda p: jnp.mean(simulate(p, x, TINY, meth, record="output").output * c)
    g = jax.jit(jax.grad(loss))(params)
    ref_w = [layer["w"] for layer in g["hidden"]] + [g["readout"]["w"]]
    for ours, ref in zip(d_w, ref_w, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)
        assert float(jnp.abs(ref).max()) > 0


def test_breakdown_structure_and_arithmetic():
    """Every stage timed once per pass; sum, other and sum/total are the stated arithmetic
    of the measured times. Timings of a network this small are overhead, so only their
    positivity is asserted, not the 10 % agreement."""
    from proofs_numeric.bench._snn_breakdown import breakdown, format_breakdown

    b = breakdown(TINY, batch=2, steps=4, rounds=1)
    pre = b["fwd"]["prefix"]
    assert list(pre["cumulative_s"]) == list(pre["increments"]) == list(b["fwd"]["stages"])
    assert pre["sum_s"] == list(pre["cumulative_s"].values())[-1]
    assert sum(pre["increments"].values()) == pytest.approx(pre["sum_s"], rel=1e-9)
    assert pre["sum_over_total"] == pytest.approx(pre["sum_s"] / b["fwd"]["total_s"], rel=1e-12)
    for name in ("fwd", "fwd+bwd"):  # process CPU time on CPU, same arithmetic
        cp = b[name]["cpu"]
        assert list(cp["stages"]) == list(b[name]["stages"]) and all(t >= 0 for t in cp["stages"].values())
        assert cp["sum_s"] == pytest.approx(sum(cp["stages"].values()), rel=1e-12)
        assert cp["sum_over_total"] == pytest.approx(cp["sum_s"] / cp["total_s"], rel=1e-12)
    cpre = b["fwd"]["cpu"]["prefix"]
    assert sum(cpre["increments"].values()) == pytest.approx(cpre["sum_s"], rel=1e-9, abs=1e-12)
    fwd_stages = []  # batch-major end to end: no layout stages
    for l in range(3):
        fwd_stages += [f"matmul L{l}", f"recursion fwd L{l}"]
    fwd_stages += ["loss"]
    bwd_stages = ["loss grad"]
    for l in (2, 1, 0):
        bwd_stages += [f"recursion bwd L{l}", f"matmul grad L{l}"]
    assert list(b["fwd"]["stages"]) == fwd_stages
    assert list(b["fwd+bwd"]["stages"]) == fwd_stages + bwd_stages
    for name in ("fwd", "fwd+bwd"):
        p = b[name]
        assert all(t > 0 for t in p["stages"].values()) and p["total_s"] > 0
        assert p["sum_s"] == pytest.approx(sum(p["stages"].values()), rel=1e-12)
        assert p["other_s"] == pytest.approx(p["total_s"] - p["sum_s"], rel=1e-12)
        assert p["sum_over_total"] == pytest.approx(p["sum_s"] / p["total_s"], rel=1e-12)
        assert p["hlo_ops"] and all(isinstance(v, int) and v > 0 for v in p["hlo_ops"].values())
    assert b["surrogate_s"] > 0
    text = format_breakdown(b)
    for name in ("fwd", "fwd+bwd"):
        ratio = b[name]["sum_over_total"]
        flag = "within" if abs(ratio - 1) <= 0.1 else "NOT within"
        assert f"total {b[name]['total_s'] * 1e3:.2f} ms: {ratio:.3f} ({flag} 10 %)" in text
    assert text.count("other (total - sum)") == 2


def test_breakdown_rejects_other_paths():
    from proofs_numeric.bench._snn_breakdown import breakdown

    with pytest.raises(ValueError, match="layer-by-layer"):
        breakdown(SNNConfig(n_in=4, hidden=(3,), n_out=2, readout="lif", checkpoint=True), 1, 2)
    with pytest.raises(ValueError, match="dense, feedforward"):
        breakdown(SNNConfig(n_in=4, hidden=(3,), n_out=2), 1, 2)  # integrator readout


def test_gpu_and_breakdown_apply_to_snn_only():
    from proofs_numeric.bench import run_benchmarks

    only = "profile 'gpu' applies to the snn benchmark only: name it alone, got spikes"
    with pytest.raises(ValueError, match=only):
        run_benchmarks(["spikes"], profile="gpu")
    with pytest.raises(ValueError, match="breakdown applies to the snn benchmark only"):
        run_benchmarks(["snn", "spikes"], breakdown=True)
    with pytest.raises(ValueError, match="unknown profile 'paper'; valid: quick, full, gpu"):
        run_benchmarks(["snn"], profile="paper")
    with pytest.raises(TypeError, match="breakdown must be a bool"):
        run_benchmarks(["snn"], breakdown="yes")


@pytest.mark.skipif(any(d.platform == "gpu" for d in jax.devices()), reason="a GPU is present")
def test_gpu_profile_refused_without_gpu(capsys):
    """Without a GPU, ``bench snn --profile gpu`` stops before timing anything, with one line."""
    from proofs_numeric.bench.snn import check_gpu
    from proofs_numeric.cli import main

    with pytest.raises(ValueError, match="profile 'gpu' needs a GPU visible to JAX; found only cpu devices"):
        check_gpu()
    assert main(["bench", "snn", "--profile", "gpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["sgtheory bench: error: profile 'gpu' needs a GPU visible to JAX; found only cpu devices"]


@pytest.mark.gpu
def test_gpu_device_is_found():
    from proofs_numeric.bench.snn import check_gpu

    assert check_gpu().platform == "gpu"


_HLO = """
%fused_dot (p0: f32[4,3], p1: f32[3,2]) -> f32[4,2] {
  %p0 = f32[4,3]{1,0} parameter(0)
  %p1 = f32[3,2]{1,0} parameter(1)
  ROOT %d = f32[4,2]{1,0} dot(%p0, %p1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}

%fused_tr (p0: f32[2,4]) -> f32[4,2] {
  %p0 = f32[2,4]{1,0} parameter(0)
  ROOT %t = f32[4,2]{0,1} transpose(%p0), dimensions={1,0}
}

ENTRY %main (a: f32[4,3], b: f32[3,2]) -> (f32[], f32[4,2]) {
  %a = f32[4,3]{1,0} parameter(0)
  %b = f32[3,2]{1,0} parameter(1)
  %c0 = f32[] constant(0)
  %m = f32[4,2]{1,0} fusion(%a, %b), kind=kCustom, calls=%fused_dot
  %t = f32[4,2]{1,0} fusion(%m), kind=kLoop, calls=%fused_tr
  %cp = f32[4,2]{1,0} copy(%t)
  %w = (s32[], /*index=1*/f32[4,2]{1,0}) while(%tp), condition=%cond, body=%body
  %e = f32[] fusion(%cp), kind=kLoop, calls=%fused_add
  %dd = f32[2,2]{1,0} dot(%m, %m), lhs_contracting_dims={0}, rhs_contracting_dims={0}
  ROOT %r = (f32[], f32[4,2]{1,0}) tuple(%e, %cp)
}
"""


def test_hlo_census_counts_top_level_ops_by_kind():
    """Fusions are named by their computation (a dot: matmul; a transpose: transpose), tuple
    types with index comments parse, parameters/constants/tuples are not counted."""
    from proofs_numeric.bench._snn_breakdown import _hlo_census

    assert _hlo_census(_HLO) == {"copy": 1, "fusion": 1, "matmul": 2, "transpose": 1, "while": 1}


def test_prefix_increments_telescope():
    """increments: t_1, t_2 - t_1, ...; they sum to the last prefix's time (closed form of a
    telescoping sum), negative differences kept as measured."""
    from proofs_numeric.bench._snn_breakdown import increments

    cum = {"a": 0.25, "b": 0.3, "c": 0.29, "d": 1.0}
    inc = increments(cum)
    assert list(inc) == list(cum)
    assert inc == pytest.approx({"a": 0.25, "b": 0.05, "c": -0.01, "d": 0.71}, abs=1e-15)
    assert sum(inc.values()) == pytest.approx(1.0, abs=1e-15)
    assert increments({}) == {}


def test_prefixes_compute_the_networks_forward():
    """Prefix k of the timed forward ends in what the network computes there: the spikes of
    each layer bit for bit (prefixes 2, 4, 6) and the loss mean(out * c)."""
    from proofs_numeric.bench._snn_breakdown import _prefix_fns

    params, x, c = _data()
    meth = Method("deterministic")
    fns = _prefix_fns(TINY, params, x, c)
    assert list(fns) == ["matmul L0", "recursion fwd L0", "matmul L1", "recursion fwd L1"] + [
        "matmul L2",
        "recursion fwd L2",
        "loss",
    ]
    res = simulate(params, x, TINY, meth, record="spikes")
    for name, ref in zip(
        ("recursion fwd L0", "recursion fwd L1", "recursion fwd L2"), (*res.spikes, res.output), strict=True
    ):
        np.testing.assert_array_equal(fns[name](), ref)
    np.testing.assert_allclose(fns["loss"](), jnp.mean(res.output * c), rtol=1e-6)
    np.testing.assert_allclose(
        fns["matmul L0"](),
        np.einsum("bti,ij->btj", np.asarray(x), np.asarray(params["hidden"][0]["w"])),
        rtol=1e-5,
        atol=1e-5,
    )


def test_interleaved_cpu_time_excludes_waiting():
    """A callable that sleeps 20 ms takes >= 20 ms of wall time but (nearly) no CPU time;
    without ``cpu`` no CPU keys are returned."""
    import time

    from proofs_numeric.bench._timing import interleaved

    nap = lambda: time.sleep(0.02)
    r = interleaved({"nap": nap}, rounds=3, warmup=0, cpu=True)["nap"]
    assert len(r["cpu_times"]) == len(r["times"]) == 3
    assert r["min_s"] >= 0.02
    assert 0 <= r["cpu_min_s"] <= r["cpu_median_s"] < 0.005
    assert "cpu_min_s" not in interleaved({"nap": nap}, rounds=1, warmup=0)["nap"]
