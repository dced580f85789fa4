"""Per-environment values: `${var.NAME}` in manifest strings, filled in from `env/ENV.yaml` and `--var`.

Unlike a reference (`${cards.KEY.id}`, known only at apply), a var is known before planning, so it is
substituted while the YAML is read: the schema then checks a substituted value exactly as it would check the
same literal. A string that is only `${var.NAME}` takes the var's value with its type (a number, a list);
inside longer text the var becomes text. `$${var.` writes a literal `${var.`. Substituted text is not
scanned again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ENV_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
# `$${var.` is the escape; `${var.…}` a use, its name checked apart so a malformed one gets its own message.
PLACEHOLDER = re.compile(r"\$(\$\{var\.)|\$\{var\.([^}]*)\}")
WHOLE = re.compile(r"\$\{var\.([A-Za-z_][A-Za-z0-9_]*)\}")
MARKER = "${var."


@dataclass(frozen=True)
class Variables:
    """The vars of one run, where each was set (for messages), and the environment that gives state its place."""

    values: Mapping[str, Any] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)
    env: str | None = None


class VariableError(Exception):
    """A `${var.…}` that cannot be filled in; the loader adds file, line and field."""


def substitute(text: str, values: Mapping[str, Any], used: set[str]) -> Any:
    """`text` with every `${var.NAME}` filled in from `values`; the names used are added to `used`."""
    whole = WHOLE.fullmatch(text)
    if whole:
        return _value(whole[1], values, used)

    def fill(match: re.Match[str]) -> str:
        if match[1]:
            return MARKER
        return _as_text(match[2], _value(match[2], values, used))

    return PLACEHOLDER.sub(fill, text)


def _value(name: str, values: Mapping[str, Any], used: set[str]) -> Any:
    if not VAR_NAME.fullmatch(name):
        raise VariableError(f"${{var.{name}}}: a var name is letters, digits and _, not starting with a digit")
    if name not in values:
        known = ", ".join(sorted(values)) or "none"
        raise VariableError(f"undefined var {name!r} (defined: {known}); set it in env/ENV.yaml or with --var")
    used.add(name)
    return values[name]


def _as_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    kind = "null" if value is None else type(value).__name__
    raise VariableError(f"var {name!r} is {kind}: only text, numbers and booleans can go inside a string")


def env_file(manifest: Path, env: str) -> Path:
    """`env/ENV.yaml` in the manifest directory (beside a single manifest file): not merged with the manifests,
    which are read non-recursively."""
    directory = manifest if manifest.is_dir() else manifest.parent
    return directory / "env" / f"{env}.yaml"


def environments(manifest: Path) -> list[str]:
    """The environments the manifests have an env file for (`env/NAME.yaml`), by name."""
    folder = env_file(manifest, "_").parent
    return sorted(path.stem for path in folder.glob("*.yaml") if ENV_NAME.fullmatch(path.stem))


def unused(variables: Variables, used: set[str]) -> list[str]:
    """A warning for every var set but never used: usually a typo on one side."""
    return [
        f"{variables.origins.get(name, '--var')}: var {name!r} is not used by the manifests"
        for name in sorted(set(variables.values) - used)
    ]
