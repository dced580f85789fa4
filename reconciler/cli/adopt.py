"""`wxrec import` and `wxrec export`: bring what was made outside wxrec under management."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
    menu = " and the menu" if "menu" in done.export.resources else ""
    stock_count = sum(1 for address in done.export.resources if kind_of(address) == "pay_coupons")
    also = f" and {counted(stock_count, 'WeChat Pay stock')}" if stock_count else ""
    click.echo(
        f"Exported {counted(len(done.export.cards), 'card')}{menu}{also} of {done.appid} to {directory} ({files})."
    )
    kept = f" (the previous state is kept in {done.backup})" if done.backup else ""
    click.echo(f"State: {done.state_location}{kept}")
    for note in done.export.notes:
        click.echo(f"Note: {note}")
    exported = RunSettings(manifest_path=directory, api=api, pay_api=pay_api, state_location=state_location)
    click.echo(f'`wxrec plan {exported.invocation()}` now says "No changes."')
