"""`wxrec apply`: show the plan, ask, apply; one account, or several one after another."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from reconciler import saved_plan, workflows
from reconciler.cli.options import (
    Duration,
    account_options,
    format_option,
    lang_option,
    lock_timeout_option,
    planning_options,
    qrcode_dir_option,
    reading_options,
)
from reconciler.cli.output import Terminal, emit_json, emit_plan, exit_with, not_done, terminal
from reconciler.errors import WxrecError
from reconciler.i18n import language
from reconciler.plan import Plan
from reconciler.render import accounts as several
from reconciler.scheduler import ApplyReport, Outcome
from reconciler.settings import RunSettings, accounts


@click.command()
@account_options
@format_option(html=False, json='one document at the end, {"settled", "plan", "apply"}')
@planning_options
@reading_options
@click.option("--auto-approve", is_flag=True, help="Skip the confirmation prompt (never implies --allow-destroy).")
@click.option("--allow-destroy", is_flag=True, help="Permit deletes and replaces.")
@lock_timeout_option
@qrcode_dir_option
@lang_option
@click.option(
    "--wait-for-review",
    type=Duration(),
    default="0s",
    show_default=True,
    metavar="DURATION",
    help="Wait up to this long (e.g. 90s, 10m) for WeChat's review before actions that need an approved card.",
)
@click.option(
    "--plan",
    "saved_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply exactly this saved plan (`plan -out`); refused if it was altered, or if state or a live value it "
    "relied on changed. The safety rules are checked again.",
)
def apply(saved_path: Path | None, output: str, **kwargs: Any) -> None:
    """Make the changes the plan shows, recording each in state.

    The changes run in a safe order. Several MANIFESTs: one account each, applied one after another, each
    under its own lock. A saved plan (`plan -out FILE`) is applied with `wxrec apply FILE`, with the manifests
    and settings it was made with."""
    manifests = kwargs.pop("manifests")
    if saved_path is None and len(manifests) == 1 and saved_plan.is_saved_plan(manifests[0]):
        saved_path, manifests = manifests[0], ()
    if saved_path is not None:
        manifests = _recall(saved_path, manifests, kwargs)
    settings_of = accounts(manifests, kwargs)
    confirm = _confirm if sys.stdin.isatty() else None
    workflows.check_approval_possible(settings_of[0], confirm)  # at once, before any account
    if len(settings_of) > 1:
        _apply_several(settings_of, output, confirm)
        return
    report = _apply(settings_of[0], output, confirm, saved_path)
    if report is not None and report.failed:
        raise WxrecError(not_done(report, output))


def _recall(saved_path: Path, manifests: tuple[Path, ...], options: dict[str, Any]) -> tuple[Path, ...]:
    """The manifests and settings the saved plan was made with, for what the command line leaves out (`options`
    takes them)."""
    if len(manifests) > 1:
        raise WxrecError("--plan applies the saved plan of one account: give one manifest directory")
    given = {name: options[name] for name in saved_plan.FLAGS if _given(name)}
    if manifests and _given("manifests"):
        given["manifest_path"] = manifests[0]
    recalled = saved_plan.recalled(saved_plan.read(saved_path), given)
    manifest = recalled.pop("manifest_path")
    options.update(recalled)
    return (manifest,)


def _given(name: str) -> bool:
    """Whether the command line (or an environment variable) set this parameter, rather than its default."""
    source = click.get_current_context().get_parameter_source(name)
    return source is not None and source is not ParameterSource.DEFAULT


def _confirm(plan: Plan) -> bool:
    answer = click.prompt("Apply these changes? Only 'yes' is accepted", default="", show_default=False)
    return bool(answer.strip() == "yes")


@dataclass
class ApplyView(workflows.Reporter):
    """Text: the settled creates and the plan before the question, each outcome as it happens. JSON: nothing
    until the end, then one document {"settled", "plan", "apply"} (apply is null when nothing ran)."""

    terminal: Terminal
    output: str
    settled: list[str] = field(default_factory=list)
    plan: Plan | None = None

    def warn(self, message: str) -> None:
        self.terminal.warn(message)

    def planned(self, messages: list[str], plan: Plan) -> None:
        self.settled, self.plan = messages, plan
        if self.output != "json":
            for message in messages:
                click.echo(message)
            emit_plan(plan, self.output)

    def applied(self, outcome: Outcome) -> None:
        if self.output != "json":
            self.terminal.applied(outcome)

    def document(self, report: ApplyReport | None) -> dict[str, Any] | None:
        if self.output != "json" or self.plan is None:
            return None
        return {"settled": self.settled, "plan": self.plan.to_dict(), "apply": report.to_dict() if report else None}


def _apply(
    settings: RunSettings,
    output: str,
    confirm: workflows.Confirm | None,
    saved_path: Path | None = None,
    documents: list[dict[str, Any]] | None = None,
) -> ApplyReport | None:
    """With --format json, the document is printed, or added to `documents` when given, even when apply fails."""
    view = ApplyView(terminal(), output)
    report: ApplyReport | None = None
    try:
        report = asyncio.run(workflows.apply(settings, confirm, view, saved_path))
    finally:
        document = view.document(report)
        if document is not None:
            if documents is None:
                emit_json(document)
            else:
                documents.append(document)
    if report is not None and output != "json":
        click.echo(f"Apply complete: {report.summary()}.")
    return report


def _apply_several(settings_of: list[RunSettings], output: str, confirm: workflows.Confirm | None) -> None:
    """One account after another: each prompt and each line of progress belongs to one section. A failure is
    reported in its section and the next account still runs."""
    as_json = output == "json"
    sections, documents = [], []
    for settings in settings_of:
        label = str(settings.manifest_path)
        if not as_json:
            click.echo(f"=== {label} ===")
        collected: list[dict[str, Any]] = []
        error, applied = None, False
        try:
            report = _apply(settings, output, confirm, None, collected)
            applied = report is not None
            if report is not None and report.failed:
                error = not_done(report, output)
        except WxrecError as exc:
            error = str(exc)
        if error is not None and not as_json:
            click.echo(f"Error: {error}")
        if not as_json:
            click.echo()
        sections.append(several.Section(label, "", error, applied))
        documents.append({**(collected[0] if collected else {}), "manifest": label, "error": error})
    if as_json:
        emit_json({"format_version": 1, "accounts": documents})
    else:
        with language("en"):  # the terminal's line, whatever --lang says of the markdown plans above it
            click.echo(several.summary(sections, several.APPLY_WORDS))
    exit_with(several.exit_code(sections, detailed=False))
