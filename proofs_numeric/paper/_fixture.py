"""The small committed fixture the paper's tests and CI build from.

Regenerate it from a real quick run (``sgtheory paper --profile quick --out out/paper-quick``
or the three commands it runs) with::

    python -m proofs_numeric.paper._fixture out/paper-quick tests/fixtures/paper

It keeps ``claims.json`` whole (minus tracebacks), ``bench.json`` whole and, of each
figure's data JSON, only the ``meta`` block and the keys the paper reads
(:data:`proofs_numeric.paper._keys.FIGURE_KEYS`); no images (the fixture build draws
placeholders).
"""

from __future__ import annotations

import json
from pathlib import Path

from proofs_numeric.paper._build import figure_names, read_json
from proofs_numeric.paper._keys import FIGURE_KEYS


def _dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n")


def write_fixture(results: str | Path, fixture: str | Path) -> list[Path]:
    """Copy the paper's inputs from ``results`` to ``fixture``, trimmed (see module doc)."""
    results, fixture = Path(results), Path(fixture)
    (fixture / "figures").mkdir(parents=True, exist_ok=True)
    claims = read_json(results / "claims.json", "claims file")
    for c in claims.get("claims", []):
        (c.get("details") or {}).pop("traceback", None)
    written = [fixture / "claims.json", fixture / "bench.json"]
    _dump(written[0], claims)
    _dump(written[1], read_json(results / "bench.json", "bench file"))
    for name, stem in figure_names().items():
        doc = read_json(results / "figures" / f"{stem}.json", f"figure data {name}")
        keep = {"meta": doc["meta"], **{k: doc[k] for k in FIGURE_KEYS.get(name, ()) if k in doc}}
        written.append(fixture / "figures" / f"{stem}.json")
        _dump(written[-1], keep)
    return written


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m proofs_numeric.paper._fixture RESULTS_DIR FIXTURE_DIR")
    for p in write_fixture(sys.argv[1], sys.argv[2]):
        print(p)
