"""Tests of the engine's layout: no import cycle inside geo/, no module over 650 lines, no private imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GEO = ROOT / "geo"
MAX_LINES = 650


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(GEO.rglob("*.py"))}


def imported_modules(name: str, path: Path) -> set[str]:
    """The geo modules a module imports, at top level or inside functions (``TYPE_CHECKING`` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # "from geo import io" imports the module geo.io; "from geo.io import read_table" imports geo.io
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


class TestImportGraph:
    def test_finder_sees_a_planted_cycle(self):
        assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
        assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None

    def test_function_level_imports_are_edges(self, tmp_path):
        path = tmp_path / "mod.py"
        path.write_text("def f():\n    from geo.extensions import extension_proposals\n", encoding="utf-8")
        assert "geo.extensions" in imported_modules("geo.fake", path)

    def test_no_cycle_inside_geo(self):
        graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
        assert len(graph) > 40 and sum(map(len, graph.values())) > 100  # the walk sees the whole package
        cycle = find_cycle(graph)
        assert cycle is None, " -> ".join(cycle)

    def test_coverage_does_not_import_extensions_or_report(self):
        for name, path in MODULES.items():
            if name.startswith("geo.coverage"):
                assert not {"geo.extensions", "geo.report"} & imported_modules(name, path), name


class TestModuleSize:
    @pytest.mark.parametrize("name", sorted(MODULES))
    def test_module_is_small(self, name):
        lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by topic (limit {MAX_LINES})"


class TestPrivateNames:
    def test_no_private_name_is_imported_across_modules(self):
        found = []
        for path in [*GEO.rglob("*.py"), *(ROOT / "ui").glob("*.py"), *(ROOT / "tests").rglob("*.py"), ROOT / "app.py"]:
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("geo", "ui")):
                    found += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_") and a.name not in {"_atomic", "_validate"}]
                    if any(part.startswith("_cli") for part in (node.module or "").split(".")):
                        found.append(f"{path.relative_to(ROOT)}: {node.module}")
        assert found == []
