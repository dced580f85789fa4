"""`wxrec import` and `wxrec export`: bring what was made outside wxrec under management."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler import workflows
from reconciler.address import kind_of
from reconciler.cli.options import (
    api_option,
    import_options,
    lock_timeout_option,
    parallelism_option,
    pay_api_option,
    state_location_option,
)
from reconciler.cli.output import terminal
from reconciler.connection import credentials_of_one
from reconciler.english import counted
from reconciler.settings import RunSettings

if TYPE_CHECKING:
    from reconciler.export import Export  # pypinyin loads with it: only export's run pays for that


@click.command("import")
@import_options
@click.argument("address")
@click.argument("live_id", metavar="ID")
@lock_timeout_option
def import_(
    manifest: Path,
    env: str | None,
    var: tuple[str, ...],
    api: str,
    pay_api: str,
    state_location: str | None,
    address: str,
    live_id: str,
    lock_timeout: float,
) -> None:
    """Adopt a live object under a declared ADDRESS.

    ID is WeChat's id of it: a card's card_id, a tag's id, a conditional menu's menuid, a WeChat Pay stock's
    stock_id. The next plan shows the differences."""
    settings = RunSettings(
        manifest_path=manifest,
        api=api,
        pay_api=pay_api,
        state_location=state_location,
        env=env,
        var=var,
        credentials=credentials_of_one(manifest),
        lock_timeout=lock_timeout,
    )
    asyncio.run(workflows.import_(settings, address, live_id, terminal()))
    command = f"wxrec plan {settings.invocation()}"
    click.echo(f"Imported {live_id} as {address}. Run `{command}` to see how it differs from the manifest.")


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@api_option
@pay_api_option
@state_location_option
@click.option("--force", is_flag=True, help="Overwrite an earlier export (its files, state's cards and menu).")
@click.option("--mchid", help="Also the WeChat Pay merchant's stocks (pay_coupons): those state knows and --stock.")
@click.option("--stock", "stocks", multiple=True, metavar="STOCK_ID", help="A stock to export (needs --mchid).")
@parallelism_option
@lock_timeout_option
def export(
    directory: Path,
    api: str,
    pay_api: str,
    state_location: str | None,
    force: bool,
    mchid: str | None,
    stocks: tuple[str, ...],
    parallelism: int,
    lock_timeout: float,
) -> None:
    """Write manifests and state for the live account.

    They go into DIRECTORY: `wxrec plan DIRECTORY` then says "No changes"."""
    if stocks and not mchid:
        raise click.UsageError("--stock needs --mchid, the merchant the stocks belong to")
    pay = workflows.PayExport(mchid, stocks, pay_api)
    done = asyncio.run(
        workflows.export(directory, api, state_location, force, parallelism, lock_timeout, terminal(), pay)
    )
    files = ", ".join(sorted(done.export.files))
    click.echo(f"Exported {_what(done.export)} of {done.appid} to {directory} ({files}).")
    if terminal().quiet:
        return
    kept = f" (the previous state is kept in {done.backup})" if done.backup else ""
    click.echo(f"State: {done.state_location}{kept}")
    for note in done.export.notes:
        click.echo(f"Note: {note}.")
    exported = RunSettings(manifest_path=directory, api=api, pay_api=pay_api, state_location=state_location)
    click.echo(f'`wxrec plan {exported.invocation()}` now says "No changes."')


# What the summary counts, by kind: the noun of one.
EXPORTED_KINDS = {
    "cards": "card",
    "tags": "tag",
    "conditional_menus": "conditional menu",
    "pay_coupons": "WeChat Pay stock",
}


def _what(export: Export) -> str:
    """ "3 cards, 2 tags, 1 conditional menu and the menu": every kind, cards always (the account's main content)."""
    kinds = Counter(kind_of(address) for address in export.resources)
    parts = [counted(kinds[kind], noun) for kind, noun in EXPORTED_KINDS.items() if kinds[kind] or kind == "cards"]
    if "menu" in export.resources:
        parts.append("the menu")
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
