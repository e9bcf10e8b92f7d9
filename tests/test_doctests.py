"""Every docstring example of the toolkit runs, with the stdlib doctest module.

One test per module: every module of ``analysis`` (imported, so a module that no longer
imports fails here too), and the modules of ``proofs_numeric`` and ``figures`` whose source
holds an example (``>>>``), found without importing the others (the benchmarks import
optional packages). tests/conftest.py switches float64 on for the whole suite, so an example
that documents float32 behaviour says so itself (``dtype=jnp.float32``).
"""

import doctest
import importlib
import importlib.util
import io
import pkgutil

import pytest

import analysis
import figures
import proofs_numeric

# numba is an optional extra (event); its kernel module cannot be imported without it
# equinox is the optional extra (layers) of analysis.layers
NEEDS = {
    "analysis.snn._event_numba": "numba",
    "analysis.layers": "equinox",
    "analysis.layers._layers": "equinox",
}
FLAGS = doctest.ELLIPSIS


def _modules(package) -> list[str]:
    names = [package.__name__]
    names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return sorted(names)


def _has_example(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    with open(spec.origin, encoding="utf-8") as fh:
        return ">>>" in fh.read()


ANALYSIS = _modules(analysis)
OTHERS = [m for pkg in (proofs_numeric, figures) for m in _modules(pkg) if _has_example(m)]


def run_doctests(name: str) -> tuple[int, int, str]:
    """(examples attempted, failures, doctest's report) for module ``name``."""
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = io.StringIO()
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=report.write)
    return runner.tries, runner.failures, report.getvalue()


@pytest.mark.parametrize("name", ANALYSIS + OTHERS)
def test_docstring_examples(name):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    tries, failures, report = run_doctests(name)
    assert failures == 0, f"{failures} of {tries} examples failed in {name}:\n{report}"
    if _has_example(name):
        assert tries > 0, f"{name} has '>>>' in its source but doctest found no example"


def test_a_failing_example_is_reported():
    """The runner above does fail: a wrong expected value gives a failure and a report."""

    def wrong():
        """
        >>> 1 + 1
        3
        """

    test = doctest.DocTestFinder().find(wrong, "wrong", globs={})[0]
    runner, report = doctest.DocTestRunner(optionflags=FLAGS), io.StringIO()
    runner.run(test, out=report.write)
    assert (runner.tries, runner.failures) == (1, 1) and "Expected:\n    3" in report.getvalue()


def test_every_analysis_module_is_collected():
    """The walk reaches the families' private modules (not only the public __init__s)."""
    assert {"analysis.neuron._spikes", "analysis.snn._network", "analysis.runtime._provenance"} <= set(
        ANALYSIS
    )
    assert "proofs_numeric" in OTHERS
