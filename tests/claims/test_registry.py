"""proofs_numeric._registry: run_claim switches float64 on for a claim and restores it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from proofs_numeric import Claim, claims, result, run_claim


@pytest.fixture
def x64_off():
    """x64 off for the test (conftest switches it on for the suite), back on afterwards."""
    jax.config.update("jax_enable_x64", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", True)


def _probe(profile):
    # the dtype a claim's default float arrays get while it runs
    return result("probe", str(jnp.zeros(()).dtype), "float64", None, jnp.zeros(()).dtype == jnp.float64)


def _raises(profile):
    raise RuntimeError("boom")


def test_a_claim_runs_in_float64_and_the_setting_is_restored(x64_off):
    assert jnp.zeros(()).dtype == jnp.float32
    r = run_claim(Claim("probe", "arrays are float64 inside a claim", _probe, __name__))
    assert (r.measured, r.passed, r.details["x64"]) == ("float64", True, True)
    assert jax.config.read("jax_enable_x64") is False and jnp.zeros(()).dtype == jnp.float32


def test_a_registered_claim_that_needs_float64_passes_with_x64_off_beforehand(x64_off):
    # fields_sign_flip fails in float32 (about a second): passing shows it ran in float64
    r = run_claim(claims()["fields_sign_flip"])
    assert r.passed and r.details["x64"] is True, r.details
    assert jax.config.read("jax_enable_x64") is False


def test_the_setting_is_restored_after_a_failing_claim_and_when_it_was_on(x64_off):
    r = run_claim(Claim("raises", "always raises", _raises, __name__))
    assert not r.passed and "boom" in r.details["error"] and r.details["x64"] is True
    assert jax.config.read("jax_enable_x64") is False
    jax.config.update("jax_enable_x64", True)
    run_claim(Claim("probe", "arrays are float64 inside a claim", _probe, __name__))
    assert jax.config.read("jax_enable_x64") is True


def test_format_value_reads_like_a_table_cell():
    from proofs_numeric._registry import format_value

    assert format_value(0.0088312345) == "0.008831"
    assert format_value(1e-6) == "1e-06"
    assert format_value(-1.22921) == "-1.229"
    assert format_value(None) == "-"
    assert format_value(True) == "true"
    assert format_value(np.int64(7)) == "7"
    assert format_value({"a": 0.5, "b": [1, 2]}) == "a = 0.5, b = [1, 2]"
    assert format_value(list(range(8))) == "[0, 1, 2, 3, 4, 5, ... (8 values)]"
    assert format_value(np.array([0.25, 0.5])) == "[0.25, 0.5]"


def test_tiny_profile_runs_the_quick_size_of_a_claim_without_a_stand_in():

    seen = []

    def check(profile):
        seen.append(profile)
        return result("fake", 1.0, 1.0, 0.0, True)

    r = run_claim(Claim("fake", "a fake claim", check, __name__), "tiny")
    assert seen == ["quick"] and r.details["profile"] == "quick"
    r = run_claim(Claim("fake", "a fake claim", check, __name__, tiny=True), "tiny")
    assert seen == ["quick", "tiny"] and r.details["profile"] == "tiny"
