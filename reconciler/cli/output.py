"""How the commands speak: the Terminal reporter, exit codes, and the plan in each format."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconciler.english import counted
from reconciler.plan import Plan
from reconciler.render import accounts as several
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_plan, summary_line
from reconciler.scheduler import ApplyReport, Outcome
from reconciler.workflows import Reporter

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


@dataclass
class Terminal(Reporter):
    """How much to say and how: a progress bar on a terminal, a line per event in CI or a pipe."""

    quiet: bool = False
    verbose: bool = False

    @property
    def interactive(self) -> bool:
        return sys.stderr.isatty() and os.environ.get("CI") != "true" and not self.quiet

    def reading(self, total: int) -> Callable[[], None]:
        if not self.interactive or total < 20:
            return lambda: None
        bar = click.progressbar(length=total, label="Reading cards", file=sys.stderr)
        done = [0]

        def advance() -> None:
            done[0] += 1
            bar.update(1)
            if done[0] == total:
                bar.render_finish()

        return advance

    def applied(self, outcome: Outcome) -> None:
        if not self.quiet or not outcome.ok:
            mark = "ok" if outcome.ok else outcome.status.upper()
            click.echo(f"{outcome.address}: {outcome.action} {mark}: {outcome.message}")

    def warn(self, message: str) -> None:
        click.echo(f"Warning: {message}", err=True)


def terminal() -> Terminal:
    found = click.get_current_context().find_root().obj
    return found if isinstance(found, Terminal) else Terminal()


def exit_with(code: int) -> None:
    click.get_current_context().exit(code)


def emit_plan(
    plan_result: Plan,
    output: str,
    *,
    title: str = "wxrec plan",
    embed_logos: bool = False,
    directory: Path | None = None,
) -> None:
    click.echo(plan_text(plan_result, output, title, embed_logos, directory=directory), nl=False)


def plan_text(
    plan_result: Plan,
    output: str,
    title: str = "wxrec plan",
    embed_logos: bool = False,
    share: int = 1,
    directory: Path | None = None,
) -> str:
    """`directory`: the manifests', where the HTML report reads the local images cards name."""
    if embed_logos and output != "html":
        terminal().warn(f"--embed-logos applies to --format html only; it has no effect with --format {output}")
    if output == "json":
        return json.dumps(plan_result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if output == "html":
        # jinja2 and the templates load only for this format: every other command starts faster.
        from reconciler.render.html import render_html
        from reconciler.render.logos import fetch_logos, local_logos, logo_urls, missed

        document = plan_result.to_dict()
        urls = logo_urls(document) if embed_logos else []
        logos = asyncio.run(fetch_logos(urls)) if urls else {}
        for url in missed(urls, logos):
            terminal().warn(f"--embed-logos: could not fetch the logo {url}; the report draws the brand's initial")
        if directory is not None:
            logos |= local_logos(document, directory)
        return render_html(document, palette=plan_result.palette, logos=logos, title=title)
    if output == "markdown":
        return render_markdown(plan_result.to_dict(), title=title, share=share)
    if terminal().quiet:
        refused = "".join(f"Refused: {refusal}\n" for refusal in plan_result.refusals)
        return refused + summary_line(plan_result.to_dict()) + "\n"
    return render_plan(plan_result.to_dict(), color=_colour(), title=title)


def _colour() -> bool:
    """Colour only on a terminal, and never with NO_COLOR (https://no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def not_done(report: ApplyReport, output: str) -> str:
    """Why apply failed, pointing at where the output tells each action's outcome."""
    if report.stopped:
        return f"{counted(len(report.failed), 'action')} not done: {report.stopped}"
    where = (
        "each one's status and message are in the JSON document's apply.outcomes" if output == "json" else "see above"
    )
    return f"{counted(len(report.failed), 'action')} not done ({where}); state records what was done"


def emit_sections(sections: list[several.Section], output: str, words: several.Words, title: str) -> None:
    if output == "markdown":
        click.echo(several.render_markdown(sections, words, title), nl=False)
    else:
        click.echo(several.render_text(sections, words), nl=False)


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
