"""Second-order behaviour of the spike rules: the SG field's Jacobian differentiates the
forward spikes exactly (Gygax & Zenke 2025, sec. 5 toy: y = Theta(v Theta(w x)))."""

import jax
import jax.numpy as jnp

from analysis import heaviside_spike, surrogate


def test_sg_field_jacobian_of_two_spike_toy_matches_closed_form():
    psi = surrogate("sigmoid_prime", 2.0)
    x = 1.0

    def y(p):
        w, v = p
        return heaviside_spike(v * heaviside_spike(w * x, psi), psi)

    w, v = 0.3, 0.2
    jac = jax.jacfwd(jax.grad(y))(jnp.array([w, v]))
    # g_w = psi(v Theta(wx)) v psi(wx) x and g_v = psi(v Theta(wx)) Theta(wx); Theta(wx) = 1 here.
    dpsi = jax.grad(psi)
    dgw_dv = (dpsi(v) * v + psi(v)) * psi(w * x) * x
    assert jnp.allclose(jac[1, 0], 0.0, atol=1e-15)  # d g_v / d w = 0 (Theta' = 0 a.e.)
    assert jnp.allclose(jac[0, 1], dgw_dv, rtol=1e-12)
    assert abs(jac[0, 1] - jac[1, 0]) > 0.1  # the field has curl
