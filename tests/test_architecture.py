"""The layer contract: a lower layer never imports a higher one; no two modules import each other.

The layers, lowest first, are listed in ``LAYERS`` and in docs/architecture.md (test_docs checks
that both name the same packages as the tree). Every module is assigned to a layer by its package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "piao_xls"

# lowest first; a package may import from its own layer and from lower ones only
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("sheetio",),
    ("plan",),
    ("forms",),
    ("returns",),
    ("results",),
    ("workspace",),
    ("mail",),
    ("cli", "__main__"),
]
# the pure core does no I/O: none of these modules, and no call to open()
IO_MODULES = {"os", "io", "pathlib", "shutil", "subprocess", "tempfile", "zipfile", "sqlite3", "socket",
              "smtplib", "imaplib", "openpyxl", "xlsxwriter", "python_calamine", "pandas", "yaml", "lxml"}


def _layer_of(mod: str) -> int:
    top = mod.split(".")[1] if mod.count(".") else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    return -1


def _modules() -> dict[str, Path]:
    out = {}
    for f in sorted(PKG.rglob("*.py")):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


MODULES = _modules()


def _imports(mod: str, path: Path) -> set[str]:
    """Every piao_xls module ``mod`` imports (absolute or relative, at any depth of the file)."""
    is_pkg = path.name == "__init__.py"
    here = mod.split(".") if is_pkg else mod.split(".")[:-1]
    out = set()
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.ImportFrom):
            if n.level:
                base = here[: len(here) - (n.level - 1)]
                target = ".".join([*base, n.module] if n.module else base)
            else:
                target = n.module or ""
            if not target.startswith("piao_xls"):
                continue
            for a in n.names:  # `from .pkg import module` names a module
                sub = f"{target}.{a.name}"
                out.add(sub if sub in MODULES else target)
        elif isinstance(n, ast.Import):
            out.update(a.name for a in n.names if a.name.startswith("piao_xls"))
    return out


EDGES = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_package_has_a_layer():
    tops = {m.split(".")[1] for m in MODULES if m.count(".")}
    unknown = sorted(t for t in tops if _layer_of(f"piao_xls.{t}") < 0)
    assert not unknown, f"packages without a layer (add them to LAYERS and docs/architecture.md): {unknown}"


@pytest.mark.parametrize("mod", sorted(m for m in MODULES if m != "piao_xls"))
def test_no_import_from_a_higher_layer(mod):
    mine = _layer_of(mod)
    up = sorted(t for t in EDGES[mod] if t != "piao_xls" and _layer_of(t) > mine)
    assert not up, f"{mod} (layer {LAYERS[mine]}) imports from a higher layer: {up}"


def test_lower_layers_do_not_import_the_root_package():
    # the root package re-exports the public API from the stages: importing it from below is a back-edge
    offenders = sorted(m for m, ts in EDGES.items() if "piao_xls" in ts and _layer_of(m) < _layer_of("piao_xls.cli"))
    assert not offenders


def test_no_import_circle():
    graph = {m: {t for t in ts if t in MODULES and t != "piao_xls"} for m, ts in EDGES.items() if m != "piao_xls"}
    seen, stack, circles = set(), [], []

    def visit(m):
        if m in stack:
            circles.append([*stack[stack.index(m):], m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for t in graph.get(m, ()):
            visit(t)
        stack.pop()

    for m in sorted(graph):
        visit(m)
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize("mod", sorted(m for m in MODULES if _layer_of(m) == 0))
def test_core_does_no_io(mod):
    tree = ast.parse(MODULES[mod].read_text(encoding="utf-8"))
    bad = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            bad.update(a.name.split(".")[0] for a in n.names if a.name.split(".")[0] in IO_MODULES)
        elif isinstance(n, ast.ImportFrom) and not n.level and n.module:
            if n.module.split(".")[0] in IO_MODULES:
                bad.add(n.module)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "open":
            bad.add("open()")
    assert not bad, f"{mod} is in the pure core but uses {sorted(bad)}"


def test_the_contract_catches_a_back_edge(tmp_path, monkeypatch):
    # the checker itself: a core module importing the reader must be reported
    fake = tmp_path / "piao_xls" / "core" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from ..returns.reader import read_workbook\n")
    edges = _imports("piao_xls.core.bad", fake)
    assert edges == {"piao_xls.returns.reader"}
    assert _layer_of("piao_xls.returns.reader") > _layer_of("piao_xls.core.bad")


def _private_imports(mod: str, path: Path) -> list[str]:
    """``name`` of every ``from piao_xls.<other package> import _name`` in ``mod`` (a private name of another
    package; within one package, modules may share their private names)."""
    is_pkg = path.name == "__init__.py"
    here = mod.split(".") if is_pkg else mod.split(".")[:-1]
    mine = mod.split(".")[1] if mod.count(".") else ""
    out = []
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(n, ast.ImportFrom):
            continue
        if n.level:
            base = here[: len(here) - (n.level - 1)]
            target = ".".join([*base, n.module] if n.module else base)
        else:
            target = n.module or ""
        if not target.startswith("piao_xls."):
            continue
        if target.split(".")[1] == mine:
            continue
        out.extend(f"{target}.{a.name}" for a in n.names if a.name.startswith("_") and not a.name.startswith("__"))
    return out


@pytest.mark.parametrize("mod", sorted(m for m in MODULES if m != "piao_xls"))
def test_no_private_name_of_another_package_is_imported(mod):
    private = _private_imports(mod, MODULES[mod])
    assert not private, f"{mod} imports private names of another package (give them a public name): {private}"


def test_the_contract_catches_a_private_import(tmp_path):
    fake = tmp_path / "piao_xls" / "results" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from ..plan.planfile import LMap, _Loader\nfrom .tables import _SWAP\n"
                    "from piao_xls.core.model import __all__\n")
    assert _private_imports("piao_xls.results.bad", fake) == ["piao_xls.plan.planfile._Loader"]


def test_the_type_check_exempts_no_module_and_is_strict_on_the_whole_core():
    """docs/architecture.md: mypy checks every module, strictly on `core/`; no override of the project's own
    modules may relax it (an `ignore_errors`, or a strict flag turned off for part of the core)."""
    import tomllib

    config = tomllib.loads((PKG.parent / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    own = [o for o in config.get("overrides", []) if any(str(m).startswith("piao_xls") for m in
                                                        ([o["module"]] if isinstance(o["module"], str) else o["module"]))]
    assert [o["module"] for o in own] == [["piao_xls.core.*"]]
    [core] = own
    strict = ("disallow_untyped_defs", "disallow_incomplete_defs", "disallow_untyped_calls", "disallow_any_generics",
              "check_untyped_defs", "warn_return_any", "no_implicit_reexport", "strict_equality")
    assert all(core.get(flag) is True for flag in strict)
    assert not any(o.get("ignore_errors") for o in config.get("overrides", []))
    assert config["packages"] == ["piao_xls"]
