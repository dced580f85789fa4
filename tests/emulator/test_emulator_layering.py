"""The emulator's modules form layers: no import circles, and nothing from the reconciler.

Both read the package's source with ``ast``: every import counts, also those under
``TYPE_CHECKING`` and inside functions, since each one ties the two modules together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from reconciler.emulator import (
    api,
    card_settings,
    cards,
    deposit,
    landing,
    media,
    menu,
    qrcodes,
    tags,
    token_routes,
    whitelist,
)

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler" / "emulator"
PACKAGE_NAME = "reconciler.emulator"
ROUTE_MODULES = (token_routes, cards, card_settings, menu, tags, qrcodes, landing, whitelist, deposit, media)


def imported_modules(source: Path, package: str = PACKAGE_NAME) -> Iterator[str]:
    """The absolute name of everything ``source`` imports, relative imports resolved against ``package``."""
    parts = package.split(".")
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level + 1]
            if node.module:
                yield ".".join([*base, node.module])
            else:  # from . import a, b: each name is a module of the package
                yield from (".".join([*base, alias.name]) for alias in node.names)


def import_graph(package_dir: Path, package: str = PACKAGE_NAME) -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports (the package's __init__ aside)."""
    modules = {path.stem for path in package_dir.glob("*.py")} - {"__init__"}
    graph: dict[str, set[str]] = {}
    for path in package_dir.glob("*.py"):
        targets = (name.removeprefix(package + ".").split(".")[0] for name in imported_modules(path, package))
        graph[path.stem] = {t for t in targets if t in modules and t != path.stem}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as the path that closes it (a, b, ..., a), or None when the graph is acyclic."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        path.append(module)
        for target in sorted(graph.get(module, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module)
        if cycle:
            return cycle
    return None


def test_the_emulator_imports_nothing_from_the_reconciler() -> None:
    for path in PACKAGE.glob("*.py"):
        for name in imported_modules(path):
            if name == "reconciler" or name.startswith("reconciler."):
                assert name.startswith(PACKAGE_NAME), f"{path.name} imports {name}"


def test_the_emulator_has_no_import_circles() -> None:
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_circle_finder_sees_a_circle_through_a_type_checking_import(tmp_path: Path) -> None:
    (tmp_path / "api.py").write_text("from . import menu\n", encoding="utf-8")
    guarded = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .api import Call\n"
    (tmp_path / "menu.py").write_text(guarded, encoding="utf-8")
    (tmp_path / "model.py").write_text("import json\n", encoding="utf-8")
    graph = import_graph(tmp_path, "pkg")
    assert graph == {"api": {"menu"}, "menu": {"api"}, "model": set()}
    assert find_cycle(graph) == ["api", "menu", "api"]


def test_route_modules_build_on_routing_and_not_on_the_module_that_assembles_them() -> None:
    graph = import_graph(PACKAGE)
    for module in (m.__name__.removeprefix(PACKAGE_NAME + ".") for m in ROUTE_MODULES):
        assert "api" not in graph[module], f"{module}.py imports api.py"
        assert "routing" in graph[module], f"{module}.py builds its ROUTES on routing.py"


def test_each_path_is_served_by_one_route_module() -> None:
    paths = [path for module in ROUTE_MODULES for path in module.ROUTES]
    assert len(paths) == len(set(paths)), "no path is claimed twice (a later module would silently win)"
    assert set(api.ENDPOINTS) == set(paths)
