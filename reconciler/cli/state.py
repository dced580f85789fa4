"""`wxrec state …`: inspect state, and repair it without touching WeChat."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from reconciler import workflows
from reconciler.cli.options import lock_timeout_option, manifest_argument, state_env, state_location_option
from reconciler.errors import WxrecError
from reconciler.settings import RunSettings, environment_hint, state_backend


class _StateCommand(click.Command):
    """Every state command: where it finds no state in a directory of environments, it hints at --env."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except workflows.NoState as exc:
            raise WxrecError(_with_hint(str(exc), ctx.params["manifest"], ctx.params["env"])) from None


class _StateGroup(click.Group):
    command_class = _StateCommand


@click.group(cls=_StateGroup)
def state() -> None:
    """Inspect and repair state without touching WeChat."""


def _with_hint(message: str, manifest: Path, env: str | None) -> str:
    hint = environment_hint(manifest, env)
    return f"{message}. {hint}" if hint else message


@state.command("list")
@manifest_argument
@state_location_option
@state_env
def state_list(manifest: Path, state_location: str | None, env: str | None) -> None:
    """List every address in state with its live id."""
    backend = state_backend(manifest, state_location, env)
    for address, record in sorted(workflows.loaded(backend).resources.items()):
        # A codes entry has no id of its own: it names the card its codes are in.
        click.echo(f"{address}\t{record.get('id') or record.get('card_id', '')}")


@state.command("show")
@manifest_argument
@click.argument("address")
@state_location_option
@state_env
def state_show(manifest: Path, address: str, state_location: str | None, env: str | None) -> None:
    """Print what state holds for ADDRESS, as JSON."""
    record = workflows.loaded(state_backend(manifest, state_location, env)).resources.get(address)
    if record is None:
        raise WxrecError(f"{address} is not in state")
    click.echo(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True))


@state.command("rm")
@manifest_argument
@click.argument("address")
@state_location_option
@lock_timeout_option
@state_env
def state_rm(manifest: Path, address: str, state_location: str | None, lock_timeout: float, env: str | None) -> None:
    """Stop managing ADDRESS; nothing in WeChat is deleted.

    A backup of the old state is kept."""
    settings = RunSettings(manifest_path=manifest, state_location=state_location, env=env, lock_timeout=lock_timeout)
    removed = workflows.state_rm(settings, address)
    if removed.record is None:
        codes = f"{removed.codes} code" + ("" if removed.codes == 1 else "s")
        what = f"{address}'s codes ledger ({codes}); state had no record of it"
    else:
        what = f"{address} ({removed.record.get('id')}) from state"
    click.echo(f"Removed {what}; WeChat was not touched. Backup: {removed.backup}")


@state.command("mv")
@manifest_argument
@click.argument("old")
@click.argument("new")
@state_location_option
@lock_timeout_option
@state_env
def state_mv(
    manifest: Path, old: str, new: str, state_location: str | None, lock_timeout: float, env: str | None
) -> None:
    """Move OLD's record in state to the address NEW.

    For after renaming a key in the manifests: the record keeps its ledger of deposited codes, WeChat is not
    touched, and a backup of the old state is kept."""
    settings = RunSettings(manifest_path=manifest, state_location=state_location, env=env, lock_timeout=lock_timeout)
    backup = workflows.state_mv(settings, old, new)
    click.echo(f"Moved {old} to {new} in state; WeChat was not touched. Backup: {backup}")


@state.command("history")
@manifest_argument
@state_location_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many writes to show.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a line per write (serial, time, author, commit); json: the same as a list of objects.",
)
@state_env
def state_history(manifest: Path, state_location: str | None, limit: int, output: str, env: str | None) -> None:
    """List every write of state, newest first.

    Each shows its serial, when, who, and the git commit of the manifests."""
    backend = state_backend(manifest, state_location, env)
    revisions = backend.history(limit)
    if output == "json":
        click.echo(json.dumps([r.to_dict() for r in revisions], ensure_ascii=False, indent=2))
        return
    if not revisions:
        nothing = f"No state at {backend.location}: nothing has been applied there yet."
        click.echo(" ".join(filter(None, [nothing, environment_hint(manifest, env)])))
    for revision in revisions:
        when = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(revision.written_at))
        click.echo(f"{revision.serial}\t{when}\t{revision.author}\t{revision.commit or '-'}")


@state.command("unlock")
@manifest_argument
@click.argument("lock_id")
@state_location_option
@state_env
def state_unlock(manifest: Path, lock_id: str, state_location: str | None, env: str | None) -> None:
    """Break the lock LOCK_ID of a run that died.

    The lock error names the id."""
    state_backend(manifest, state_location, env).unlock(lock_id)
    click.echo(f"Lock {lock_id} broken.")
