"""The reconciler reaches into the emulator in the CLI wiring alone: `reconciler/cli/embedded.py` (the provider
behind reconciler.emulation), which `reconciler/cli/__init__.py` installs, and the `wxrec emulator` command group
it names; so the library never imports the emulator, and a run against WeChat, or a library caller, never loads
it."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import EXAMPLE, RUN_LEFTOVERS

ROOT = Path(__file__).resolve().parent.parent / "reconciler"
WIRING = {Path("cli/embedded.py"), Path("cli/__init__.py")}
EMULATOR, EMBEDDED = "reconciler.emulator", "reconciler.cli.embedded"


def _imported(tree: ast.AST) -> set[str]:
    """Every module a file imports, `from reconciler.cli import embedded` as reconciler.cli.embedded."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def _importers(module: str) -> set[Path]:
    """The reconciler's files outside the emulator that import `module` or a module of it."""
    return {
        path.relative_to(ROOT)
        for path in ROOT.rglob("*.py")
        if "emulator" not in path.relative_to(ROOT).parts[:1]
        and any(name == module or name.startswith(module + ".") for name in _imported(ast.parse(path.read_bytes())))
    }


def test_only_the_wiring_imports_the_emulator() -> None:
    assert _importers(EMULATOR) <= WIRING, sorted(map(str, _importers(EMULATOR) - WIRING))


def test_only_the_cli_installs_the_provider() -> None:
    assert _importers(EMBEDDED) == {Path("cli/__init__.py")}


def _loaded_by(script: str, **env: str) -> tuple[list[str], str]:
    """The emulator's modules loaded by `script` in a new interpreter, and what it said on stderr."""
    probe = f"{script}\nimport sys\nprint(sorted(m for m in sys.modules if m.startswith(({EMULATOR!r}, {EMBEDDED!r}))))"
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    return run.stdout.strip().splitlines()[-1:], run.stderr


def test_the_library_and_a_plan_against_wechat_do_not_load_the_emulator() -> None:
    library = "import reconciler.workflows, reconciler.planning, reconciler.scheduler, reconciler.connection"
    assert _loaded_by(library)[0] == ["[]"]


def test_a_command_that_needs_no_emulator_does_not_load_it(tmp_path: Path) -> None:
    """The CLI installs the provider for every command, but it is made only when a run asks for it: a plan with
    its own credentials never does (here at an address where nothing answers, so it stops there)."""
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=RUN_LEFTOVERS)
    script = f"""
from reconciler.cli import cli
try:
    cli.main(["plan", {str(shop)!r}, "--api", "http://127.0.0.1:9"])
except SystemExit:
    pass
"""
    loaded, said = _loaded_by(script, WXREC_ACCESS_TOKEN="token")
    assert "127.0.0.1:9" in said, "the plan went as far as calling the API"
    assert loaded == ["[]"]
