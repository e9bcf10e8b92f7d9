"""The reproduction paper: collect the result files, assemble one data file and typeset
``paper.pdf`` with Typst (sources in the repository's ``paper/`` folder).

``sgtheory paper`` (:mod:`proofs_numeric.cli.paper`) runs or reuses ``verify``, ``figures``
and ``bench`` (:mod:`proofs_numeric.paper._runs`), then calls :func:`build_paper`. What the
paper reads from each result file is listed in :mod:`proofs_numeric.paper._keys`.
"""

from proofs_numeric.paper._build import assemble, build_paper, typeset, typst_module
from proofs_numeric.paper._check import check_sources
from proofs_numeric.paper._errors import PaperError
from proofs_numeric.paper._runs import prepare


def write_fixture(results, fixture):
    """Trim a real run's results into the committed test fixture (see
    :mod:`proofs_numeric.paper._fixture`, runnable as ``python -m``)."""
    from proofs_numeric.paper._fixture import write_fixture as write

    return write(results, fixture)


__all__ = [
    "PaperError",
    "assemble",
    "build_paper",
    "check_sources",
    "prepare",
    "typeset",
    "typst_module",
    "write_fixture",
]
