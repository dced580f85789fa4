"""The reconciler reaches into the emulator in one module (`reconciler/embedded.py`, for `--api emulator`) and
the `wxrec emulator` command group; a run against WeChat, or a library caller, never loads it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "reconciler"
WIRING = {Path("embedded.py"), Path("cli/__init__.py")}


def _imports_emulator(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reconciler.emulator"):
            return True
        if isinstance(node, ast.Import) and any(a.name.startswith("reconciler.emulator") for a in node.names):
            return True
    return False


def test_only_the_wiring_imports_the_emulator() -> None:
    importers = {
        path.relative_to(ROOT)
        for path in ROOT.rglob("*.py")
        if "emulator" not in path.relative_to(ROOT).parts[:1]
        and _imports_emulator(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert importers <= WIRING, sorted(map(str, importers - WIRING))


def test_the_library_and_a_plan_against_wechat_do_not_load_the_emulator() -> None:
    probe = (
        "import sys, reconciler.workflows, reconciler.planning, reconciler.scheduler, reconciler.connection;"
        "print(sorted(m for m in sys.modules if m.startswith('reconciler.emulator')))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
