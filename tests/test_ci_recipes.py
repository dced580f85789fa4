"""The CI recipes are valid YAML and only call commands and options wxrec really has."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconciler.cli import cli
from reconciler.cli.args import terraform_style

ROOT = Path(__file__).resolve().parent.parent
RECIPES = [*sorted((ROOT / "examples" / "ci").glob("*.yml")), ROOT / ".pre-commit-hooks.yaml"]


def scripts(node: Any) -> list[str]:
    """Every shell snippet in a workflow: `run:` (GitHub), `script:` (GitLab), `entry:` (pre-commit)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "entry") and isinstance(value, str):
                found.append(value)
            elif key in ("script", "before_script") and isinstance(value, list):
                found += [v for v in value if isinstance(v, str)]
            else:
                found += scripts(value)
    elif isinstance(node, list):
        for item in node:
            found += scripts(item)
    return found


def invocations(script: str) -> list[list[str]]:
    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        for part in line.replace("|", ";").replace("&&", ";").replace("||", ";").split(";"):
            words = shlex.split(part.strip(), comments=True) if part.strip() else []
            if words and words[0] == "wxrec":
                redirect = next((i for i, w in enumerate(words) if w in (">", ">>")), len(words))
                calls.append(words[1:redirect])
    return calls


def check(words: list[str]) -> None:
    words = terraform_style(cli, words)  # `-out FILE`, `-refresh=false`: as wxrec reads them
    command: click.Command = cli
    while isinstance(command, click.Group):
        assert words, "a wxrec command without a subcommand"
        name, words = words[0], words[1:]
        sub = command.get_command(click.Context(command), name)
        assert sub is not None, f"wxrec has no command {name!r}"
        command = sub
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for word in words:
        if word.startswith("-") and not word.startswith("$"):
            option = word.split("=", 1)[0]
            assert option in known, f"`{command.name}` has no option {option}"


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_calls_only_real_commands(recipe: Path) -> None:
    document = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    calls = [call for script in scripts(document) for call in invocations(script)]
    assert calls, f"{recipe.name} calls wxrec nowhere"
    for call in calls:
        check(call)
