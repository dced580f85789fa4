"""`wxrec drift`: the live account against the manifests and state; exit 0 in sync, 2 drifted, 1 error."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from reconciler import workflows
from reconciler.cli.options import account_options, format_option, lang_option, reading_options
from reconciler.cli.output import EXIT_CHANGES, EXIT_OK, emit_json, emit_sections, exit_with, terminal
from reconciler.errors import WxrecError
from reconciler.render import accounts as several
from reconciler.render.drift import render_drift_markdown, render_drift_text
from reconciler.settings import RunSettings, accounts


@click.command()
@account_options
@format_option(html=False, json="the drift document")
@reading_options
@lang_option
def drift(output: str, **kwargs: Any) -> None:
    """Compare the live account with the manifests and state.

    Exits 0 in sync, 2 drifted, 1 error. Tells changes made in WeChat by hand from edits to the manifests;
    claims under a refill target are reported as stock to refill, never as drift."""
    settings_of = accounts(kwargs.pop("manifests"), kwargs)
    if len(settings_of) > 1:
        _drift_several(settings_of, output)
        return
    report = asyncio.run(workflows.drift(settings_of[0], terminal()))
    click.echo(_drift_text(report, output), nl=False)
    exit_with(EXIT_OK if report["in_sync"] else EXIT_CHANGES)


def _drift_text(report: dict[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if output == "markdown":
        return render_drift_markdown(report)
    return render_drift_text(report)


def _drift_several(settings_of: list[RunSettings], output: str) -> None:
    reporter = terminal()

    async def one(settings: RunSettings) -> tuple[several.Section, dict[str, Any] | None]:
        label = str(settings.manifest_path)
        try:
            report = await workflows.drift(settings, reporter)
        except WxrecError as exc:
            return several.Section(label, "", str(exc)), None
        return several.Section(label, _drift_text(report, output), None, not report["in_sync"]), report

    async def all_accounts() -> list[tuple[several.Section, dict[str, Any] | None]]:
        return await asyncio.gather(*(one(settings) for settings in settings_of))

    outcomes = asyncio.run(all_accounts())
    sections = [section for section, _ in outcomes]
    if output == "json":
        drifts = [{"manifest": s.label, "drift": report, "error": s.error} for s, report in outcomes]
        emit_json({"format_version": 1, "accounts": drifts})
    else:
        emit_sections(sections, output, several.DRIFT_WORDS, "wxrec drift")
    exit_with(several.exit_code(sections, detailed=True))
