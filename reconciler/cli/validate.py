"""`wxrec validate` and `wxrec schema`: the manifests checked offline, and the schemas they and plans follow."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.cli.options import env_options, manifests_argument
from reconciler.cli.output import exit_with, terminal
from reconciler.english import counted
from reconciler.errors import WxrecError
from reconciler.manifest import load_schema
from reconciler.render import accounts as several
from reconciler.resources import declared
from reconciler.settings import load


@click.command()
@manifests_argument
@env_options
def validate(manifests: tuple[Path, ...], env: str | None, var: tuple[str, ...]) -> None:
    """Check the manifests offline, reporting every error.

    Nothing touches the network; each error names its file:line:column."""
    if len(manifests) > 1:
        _validate_several(manifests, env, var)
        return
    click.echo(_validity(manifests[0], env, var))


def _validity(manifest: Path, env: str | None, var: tuple[str, ...]) -> str:
    loaded = load(manifest, env, var, terminal().warn)
    files = len(loaded.document.files)
    what = ", ".join(declared(loaded.document.data)) or "nothing to manage"
    return f"Valid: {what} in {counted(files, 'file')}."


def _validate_several(manifests: tuple[Path, ...], env: str | None, var: tuple[str, ...]) -> None:
    sections = []
    for manifest in manifests:
        try:
            sections.append(several.Section(str(manifest), _validity(manifest, env, var) + "\n"))
        except WxrecError as exc:
            sections.append(several.Section(str(manifest), "", str(exc)))
    click.echo(several.render_text(sections, several.Words("", "valid", "invalid")), nl=False)
    exit_with(several.exit_code(sections, detailed=False))


@click.command()
@click.argument("which", type=click.Choice(["manifest", "plan"]), default="manifest")
def schema(which: str) -> None:
    """Print the JSON Schema of manifests or of plan documents.

    The manifests' schema is for editors; the plan documents' for whatever reads `--format json`."""
    click.echo(json.dumps(load_schema(which), ensure_ascii=False, indent=2))
