"""Build the reproduction report from the numbers the claims and figures produce.

Usage (from the repository root, after ``pip install .``)::

    sgtheory verify --json out/claims.json          # or --profile full
    sgtheory figures --out out/figures              # optional: figures are linked when present
    python paper/build.py --claims out/claims.json --figures out/figures --out out/paper/report.md

Nothing here computes: every number in the report is read from the claims JSON written by
``sgtheory verify``; the prose is in ``paper/sections.md``. Sections are matched to claims by
the claim module's position in :data:`SECTIONS` (claims not listed go to "Other claims").
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: report section -> (claim-name patterns, figure names)
SECTIONS = {
    "single-neuron": (r"^(symbolic|single_neuron|smoothed_spike|bernoulli)", ["fig1", "fig3"]),
    "multilayer": (r"^(estimators|sg_|exact)", ["fig2"]),
    "fields": (r"^fields_", ["fig4", "fig5"]),
    "snn": (r"^(snn_|align)", ["fig6", "fig7", "fig8"]),
}


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v[:6]) + (", ..." if len(v) > 6 else "") + "]"
    return str(v)


def _claims_table(claims: list[dict]) -> str:
    rows = ["| claim | statement | measured | reference | tolerance | result |", "|---|---|---|---|---|---|"]
    for c in claims:
        ok = "pass" if c["passed"] else "**FAIL**"
        rows.append(
            f"| `{c['name']}` | {c['statement']} | {_fmt(c['measured'])} | {_fmt(c['reference'])} "
            f"| {_fmt(c['tolerance'])} | {ok} |"
        )
    return "\n".join(rows)


def _figure_links(names: list[str], fig_dir: Path, out: Path) -> str:
    lines = []
    for name in names:
        for png in sorted(fig_dir.glob(f"{name}*.png")):
            lines.append(f"![{png.stem}]({os.path.relpath(png, out.parent)})")
    return "\n\n".join(lines)


def _split_sections(text: str) -> dict[str, str]:
    parts = re.split(r"^<!-- section: *([\w-]+) *-->\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)} | {"_head": parts[0].strip()}


def build(claims_path: Path, fig_dir: Path, out: Path) -> Path:
    data = json.loads(Path(claims_path).read_text())
    claims = data["claims"]
    prose = _split_sections((HERE / "sections.md").read_text())
    used: set[str] = set()
    doc = [
        prose["_head"],
        "",
        f"Claims file: `{claims_path}`; run metadata: {json.dumps(data.get('meta', {}))}.",
        "",
        f"**{sum(c['passed'] for c in claims)}/{len(claims)} claims passed.**",
        "",
    ]
    for key, (pattern, figs) in SECTIONS.items():
        mine = [c for c in claims if c["name"] not in used and re.search(pattern, c["name"])]
        used |= {c["name"] for c in mine}
        doc += [
            prose.get(key, f"## {key}"),
            "",
            _claims_table(mine) if mine else "_no claims run_",
            "",
            _figure_links(figs, fig_dir, out),
            "",
        ]
    rest = [c for c in claims if c["name"] not in used]
    if rest:
        doc += ["## Other claims", "", _claims_table(rest), ""]
    doc.append(prose.get("references", ""))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(doc) + "\n")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--claims", default="out/claims.json", help="JSON written by `sgtheory verify --json`")
    p.add_argument("--figures", default="out/figures", help="folder written by `sgtheory figures`")
    p.add_argument("--out", default="out/paper/report.md")
    a = p.parse_args(argv)
    if not Path(a.claims).exists():
        p.error(f"{a.claims} not found: run `sgtheory verify --json {a.claims}` first")
    print(build(Path(a.claims), Path(a.figures), Path(a.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
