"""Layers for a user's own spiking model: :class:`LIF` (spiking) and :class:`LI` (leaky
integrator readout), Equinox modules that run over time with ``lax.scan``.

Why Equinox (Kidger & Garcia, "Equinox: neural networks in JAX via callable PyTrees and
filtered transformations", 2021): a module is a PyTree of its arrays, with no framework state
or context, so a model is passed straight to ``jax.jit``, ``jax.vmap``, ``jax.grad`` and
``optax`` like the rest of this toolkit's functions, and the toolkit's hashable specs
(:class:`analysis.snn.LIFParams`, :class:`analysis.neuron.Surrogate`,
:class:`analysis.neuron.EscapeNoise`) sit in static fields. Flax NNX modules are mutable
Python objects whose state is split from and merged into the graph (``nnx.split`` /
``nnx.merge``, or the ``nnx.jit`` / ``nnx.grad`` wrappers) around each transformation: more
machinery for layers that hold only weights. Equinox is an optional dependency
(``pip install equinox``); nothing else in :mod:`analysis` imports this package.

The layers use the toolkit's spike rules (:func:`analysis.neuron.heaviside_spike` with a
surrogate, :func:`analysis.neuron.bernoulli_spike_from_uniform` with the smoothed stochastic
derivative) and LIF recursion (:mod:`analysis.snn._lif`), so a stack ``LIF -> ... -> LI``
gives the spikes and gradients of :func:`analysis.snn.simulate` for the same weights (tested to
1e-6, spike for spike; Bernoulli layers with the same uniforms, e.g. under
``eqx.nn.Sequential`` with the simulator's key at batch size 1). Inputs are [T, n_in]; batch
with ``jax.vmap``. Gygax & Zenke, Neural Computation 37(5):886-925 (2025), sec. 5.

Example
-------
>>> import jax, jax.numpy as jnp, equinox as eqx
>>> from analysis.layers import LIF, LI
>>> k1, k2 = jax.random.split(jax.random.key(0))
>>> model = eqx.nn.Sequential([LIF(20, 16, key=k1, spike="bernoulli"), LI(16, 3, key=k2)])
>>> x = (jax.random.uniform(jax.random.key(1), (4, 50, 20)) < 0.05).astype(jnp.float32)
>>> keys = jax.random.split(jax.random.key(2), 4)
>>> jax.vmap(lambda x, k: model(x, key=k))(x, keys).shape
(4, 50, 3)
"""

from analysis.layers._layers import LI, LIF, SPIKE_RULES

__all__ = ["LIF", "LI", "SPIKE_RULES"]
