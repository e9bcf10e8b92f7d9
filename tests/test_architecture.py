"""The layout the README promises: no import cycle inside analysis/ (module-level and
function-level imports alike), no module of analysis/ importing proofs_numeric/ or figures/,
every family's __init__ re-exporting names (not modules), private modules named with ``_``."""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

ANALYSIS = REPO_ROOT / "analysis"
FAMILIES = ("neuron", "snn", "stochastic", "fields", "training", "runtime", "layers", "eventprop")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = REPO_ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """Every analysis/proofs_numeric/figures module that ``path`` imports, anywhere in it."""
    out: set[str] = set()
    mod = _module_name(path)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names}
            found = {m for m in subs if _is_module(m)}
            out |= found if found == subs else found | {node.module}
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = mod.rsplit(".", node.level)[0]
            out.add(f"{base}.{node.module}" if node.module else base)
    return {m for m in out if m.split(".")[0] in ("analysis", "proofs_numeric", "figures")}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in ANALYSIS.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        # an import of a.b.c also runs the package a.b (its __init__); count the module itself
        graph[name] = {m for m in _imports(path) if m in files and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def _without_package_inits(graph):
    """Module-to-module edges, dropping edges from a module into its own ancestor packages
    (``from analysis import _validate`` inside analysis.neuron names a sibling module: the
    package is already being initialised, the standard Python pattern)."""
    return {n: {m for m in deps if not n.startswith(m + ".")} for n, deps in graph.items()}


def test_no_import_cycle_between_modules_of_analysis():
    assert _cycle(_without_package_inits(_graph())) is None


def test_families_depend_on_each_other_without_cycles():
    fam = lambda m: m.split(".")[1] if m.count(".") >= 1 else "analysis"
    graph: dict[str, set[str]] = {}
    for n, deps in _graph().items():
        if fam(n) == "analysis":
            continue  # the top-level __init__ re-exports from the families
        graph.setdefault(fam(n), set()).update(fam(m) for m in deps if fam(m) not in (fam(n), "analysis"))
    graph = {k: {m for m in v if m in graph} for k, v in graph.items()}
    assert _cycle(graph) is None, graph


def test_analysis_never_imports_the_application_layers():
    offenders = {
        _module_name(p): sorted(m for m in _imports(p) if m.startswith(("proofs_numeric", "figures")))
        for p in ANALYSIS.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("family", FAMILIES)
def test_family_api_is_names_not_modules(family):
    pkg = importlib.import_module(f"analysis.{family}")
    assert pkg.__all__, family
    for name in pkg.__all__:
        obj = getattr(pkg, name)
        assert not (isinstance(obj, types.ModuleType) and name != "tasks"), name
    modules = [p.stem for p in (ANALYSIS / family).glob("*.py") if p.stem != "__init__"]
    public = [m for m in modules if not m.startswith("_")]
    assert public in ([], ["symbolic"]), public  # sympy derivations: imported on demand


def test_top_level_reexports_names_only():
    import analysis

    for name in analysis.__all__:
        assert not isinstance(getattr(analysis, name), types.ModuleType), name
    assert isinstance(analysis.__version__, str) and analysis.__version__


PROOFS = REPO_ROOT / "proofs_numeric"


def _claim_modules() -> set[str]:
    """The claim modules: proofs_numeric/<name>.py without a leading underscore."""
    return {p.stem for p in PROOFS.glob("*.py") if not p.stem.startswith("_")}


def _private_claim_imports(source: str, this: str, claims: set[str]) -> list[str]:
    """``module.name`` for every private name (leading ``_``) that ``source`` (the claim module
    ``this``) takes from another claim module: ``from proofs_numeric.X import _f``, or
    ``X._f`` after ``import proofs_numeric.X`` / ``from proofs_numeric import X``."""
    found, aliases = [], {}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mod = node.module.split(".")
            if mod[0] != "proofs_numeric":
                continue
            if len(mod) == 2 and mod[1] in claims and mod[1] != this:
                found += [f"{mod[1]}.{a.name}" for a in node.names if a.name.startswith("_")]
            if len(mod) == 1:
                aliases |= {a.asname or a.name: a.name for a in node.names if a.name in claims}
        elif isinstance(node, ast.Import):
            for a in node.names:
                mod = a.name.split(".")
                if mod[0] == "proofs_numeric" and len(mod) == 2 and mod[1] in claims and a.asname:
                    aliases[a.asname] = mod[1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            base = node.value
            if isinstance(base, ast.Name) and aliases.get(base.id) not in (None, this):
                found.append(f"{aliases[base.id]}.{node.attr}")
            elif (
                isinstance(base, ast.Attribute)
                and isinstance(base.value, ast.Name)
                and base.value.id == "proofs_numeric"
                and base.attr in claims
                and base.attr != this
            ):
                found.append(f"{base.attr}.{node.attr}")
    return sorted(found)


def test_no_claim_imports_a_private_name_of_another_claim():
    """Helpers two claims share live in a shared module (proofs_numeric/_foundation.py, or the
    library), not as one claim's private function that another imports."""
    claims = _claim_modules()
    assert len(claims) > 10
    offenders = {
        name: bad
        for name in sorted(claims)
        if (bad := _private_claim_imports((PROOFS / f"{name}.py").read_text(), name, claims))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from proofs_numeric.fields_sign_flip import _crossings, sweep", ["fields_sign_flip._crossings"]),
        ("def f():\n    from proofs_numeric.fields_sign_flip import _a as b", ["fields_sign_flip._a"]),
        ("from proofs_numeric import fields_sign_flip as fs\nfs._x(1)", ["fields_sign_flip._x"]),
        ("import proofs_numeric.fields_sign_flip as fs\nfs._x", ["fields_sign_flip._x"]),
        ("import proofs_numeric\nproofs_numeric.fields_sign_flip._x", ["fields_sign_flip._x"]),
        ("from proofs_numeric.fields_sign_flip import sweep", []),
        ("from proofs_numeric._foundation import _KINKS", []),  # a shared module, not a claim
        ("from proofs_numeric.me import _own", []),  # its own name
    ],
)
def test_private_import_scanner_catches_planted_imports(source, expected):
    assert _private_claim_imports(source, "me", {"fields_sign_flip", "me"}) == expected
