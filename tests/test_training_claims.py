"""The training claims at quick scale (one source of truth: proofs_numeric).

Each claim trains two small networks (~20-40 s per claim on 2 free cores, longer on a
loaded machine), so both are marked slow to keep the default suite within its budget;
``sgtheory verify`` runs them by default, and ``pytest --runslow`` runs them here.
"""

import pytest


@pytest.mark.slow
def test_spike_train_learning_claim():
    from proofs_numeric.snn_spike_train_learning import check

    r = check("quick")
    assert r.passed, r.measured


@pytest.mark.slow
def test_randman_accuracy_claim():
    from proofs_numeric.snn_randman_accuracy import check

    r = check("quick")
    assert r.passed, r.measured
