"""The `wxrec` command: a click group of small commands that parse their flags, call reconciler.workflows,
render the result and exit. Errors the user can act on become one line and exit 1."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from reconciler import __version__, emulation
from reconciler.cli.args import terraform_style
from reconciler.errors import FileError, WxrecError

# The same as reconciler.cli.output's, which loads the workflows: this module loads no command's code.
EXIT_OK, EXIT_ERROR = 0, 1

# Each command's module is imported when the command runs, not before: `wxrec --version` and `wxrec --help` load
# none of them (the workflows, httpx, the emulator's server took 0.4 s). `--help` lists these summaries;
# tests/test_help.py holds each to its command's own.
COMMANDS: dict[str, tuple[str, str]] = {
    "apply": ("reconciler.cli.apply:apply", "Make the changes the plan shows, recording each in state."),
    "diff": ("reconciler.cli.diff:diff", "Classify the changes since BASE as plan would, offline."),
    "drift": ("reconciler.cli.drift:drift", "Compare the live account with the manifests and state."),
    "emulator": ("reconciler.emulator.cli:emulator_group", "Run the WeChat emulator, or act on one."),
    "export": ("reconciler.cli.adopt:export", "Write manifests and state for the live account."),
    "import": ("reconciler.cli.adopt:import_", "Adopt a live object under a declared ADDRESS."),
    "plan": ("reconciler.cli.plan:plan", "Show what apply would change."),
    "schema": ("reconciler.cli.validate:schema", "Print the JSON Schema of manifests or of plan documents."),
    "state": ("reconciler.cli.state:state", "Inspect and repair state without touching WeChat."),
    "validate": ("reconciler.cli.validate:validate", "Check the manifests offline, reporting every error."),
}


class UserError(click.ClickException):
    """A WxrecError shown as `Error: ...` with exit 1 and no traceback."""

    exit_code = EXIT_ERROR


class WxrecGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context | None, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module, _, attribute = COMMANDS[name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):  # as click heads it (its own catalog is English only here)
            formatter.write_dl([(name, summary) for name, (_, summary) in sorted(COMMANDS.items())])

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, terraform_style(self, args))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WxrecError as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            if exc.filename is None:  # not a file-system error (a socket's, say): not ours to explain
                raise
            # A file this run needed and no place above explains: still one line, naming it.
            raise UserError(str(FileError("use", exc.filename, exc))) from None

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """click's usage errors exit 2, which `--detailed-exitcode` reserves for "changes present": use 1."""
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR if isinstance(exc, click.UsageError) else exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_ERROR)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else EXIT_OK)


@click.group(cls=WxrecGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wxrec")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line and errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log every WeChat API call (path, errcode, time) to stderr.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool) -> None:
    """Plan and apply YAML manifests to a WeChat Official Account's cards."""
    from reconciler.cli.output import Terminal

    ctx.obj = Terminal(quiet=quiet, verbose=verbose)
    ctx.with_resource(emulation.installed(_embedded))
    if verbose:
        ctx.with_resource(_logged_to_stderr())


def _embedded() -> emulation.Emulators:
    """The emulator provider of a command's run: the emulator is loaded only when the run talks to one."""
    from reconciler.cli import embedded

    return embedded.provider()


@contextmanager
def _logged_to_stderr() -> Iterator[None]:
    """-v for one command: the wxrec logger writes to this command's stderr until it ends, then is as it was. A
    process that runs many commands (a test, a library caller) must not gather a handler per run, each writing to
    a stream of a run long over."""
    logger = logging.getLogger("wxrec")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main() -> None:
    cli(prog_name="wxrec")
