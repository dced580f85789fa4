"""`wxrec plan`: what apply would change, for one account or several side by side; `-out` saves it."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

import click

from reconciler import saved_plan, workflows
from reconciler.cli.options import (
    account_options,
    embed_logos_option,
    format_option,
    lang_option,
    planning_options,
    qrcode_dir_option,
    reading_options,
)
from reconciler.cli.output import (
    EXIT_CHANGES,
    EXIT_OK,
    emit_json,
    emit_plan,
    emit_sections,
    exit_with,
    plan_text,
    terminal,
)
from reconciler.errors import FileError, WxrecError
from reconciler.manifest import manifest_directory
from reconciler.plan import Plan
from reconciler.render import accounts as several
from reconciler.settings import RunSettings, accounts


@click.command()
@account_options
@format_option(html=True)
@planning_options
@reading_options
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 only when there are none.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan (JSON) for `wxrec apply MANIFEST --plan FILE`.",
)
@embed_logos_option
@lang_option
@qrcode_dir_option
def plan(detailed_exitcode: bool, out: Path | None, embed_logos: bool, output: str, **kwargs: Any) -> None:
    """Show what apply would change. Never writes state. Several MANIFESTs: one account each, planned side by side."""
    settings_of = accounts(kwargs.pop("manifests"), kwargs)
    if len(settings_of) > 1:
        if out is not None:
            raise WxrecError("-out saves the plan of one account: with several manifest directories, plan each alone")
        if output == "html":
            raise WxrecError("--format html draws the plan of one account: with several directories, plan each alone")
        _plan_several(settings_of, output, detailed_exitcode)
        return
    settings = settings_of[0]
    result = asyncio.run(workflows.plan(settings, terminal()))
    emit_plan(result, output, embed_logos=embed_logos, directory=manifest_directory(settings.manifest_path))
    if result.refusals:
        raise WxrecError("the plan was refused (see above)")
    if out is not None:
        made_with = saved_plan.remembered(settings, out)
        try:
            out.write_text(saved_plan.dumps(result, made_with) + "\n", encoding="utf-8")
        except OSError as exc:
            raise FileError("save the plan to", out, exc) from None
        if output == "text":
            again = saved_plan.to_give_again(made_with)
            command = " ".join(["wxrec apply", shlex.quote(str(out)), *again])
            credentials = " (with the URL's credentials for ***: a saved plan keeps none)" if again else ""
            click.echo(f"Saved the plan to {out}; apply exactly it with `{command}`{credentials}.")
    exit_with(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


def _plan_several(settings_of: list[RunSettings], output: str, detailed_exitcode: bool) -> None:
    """Each manifest directory is its own account, with its own state, lock, client, limiter and credentials;
    one report has a section per account and one exit code covers all."""
    reporter = terminal()

    async def one(settings: RunSettings) -> tuple[several.Section, Plan | None]:
        label = str(settings.manifest_path)
        try:
            result = await workflows.plan(settings, reporter)
        except WxrecError as exc:
            return several.Section(label, "", str(exc)), None
        refused = "the plan was refused (see above)" if result.refusals else None
        # One comment holds every account's plan: each folds to its share of the comment's limit.
        body = plan_text(result, output, share=len(settings_of))
        return several.Section(label, body, refused, result.has_changes), result

    async def all_accounts() -> list[tuple[several.Section, Plan | None]]:
        return await asyncio.gather(*(one(settings) for settings in settings_of))

    outcomes = asyncio.run(all_accounts())
    sections = [section for section, _ in outcomes]
    if output == "json":
        plans = [
            {"manifest": s.label, "plan": result.to_dict() if result else None, "error": s.error}
            for s, result in outcomes
        ]
        emit_json({"format_version": 1, "accounts": plans})
    else:
        emit_sections(sections, output, several.PLAN_WORDS, "wxrec plan")
    exit_with(several.exit_code(sections, detailed_exitcode))
