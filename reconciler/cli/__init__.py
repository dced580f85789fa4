"""The `wxrec` command: a click group of small commands that parse their flags, call reconciler.workflows,
render the result and exit. Errors the user can act on become one line and exit 1."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from reconciler import __version__
from reconciler.cli import adopt, apply, diff, drift, plan, state, validate
from reconciler.cli.args import terraform_style
from reconciler.cli.output import EXIT_ERROR, EXIT_OK, Terminal
from reconciler.emulator.cli import emulator_group
from reconciler.errors import FileError, WxrecError


class UserError(click.ClickException):
    """A WxrecError shown as `Error: ...` with exit 1 and no traceback."""

    exit_code = EXIT_ERROR


class WxrecGroup(click.Group):
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
    ctx.obj = Terminal(quiet=quiet, verbose=verbose)
    if verbose:
        ctx.with_resource(_logged_to_stderr())


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


for command in (
    emulator_group,
    validate.validate,
    plan.plan,
    drift.drift,
    diff.diff,
    validate.schema,
    apply.apply,
    adopt.import_,
    adopt.export,
    state.state,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="wxrec")
