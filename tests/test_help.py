"""`wxrec --help` and each command's: a summary that is a whole sentence, and a help text for every option."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import click
import pytest

from reconciler.cli import COMMANDS, cli
from tests.support import wxrec

# Narrower than the room `wxrec --help` leaves at 80 columns, so no summary is ever cut to "...".
SUMMARY_WIDTH = 60


def commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None, name
            yield from commands(sub, (*path, name))


EVERY = dict(commands(cli))


def test_the_walk_reaches_the_subgroups() -> None:
    assert {("state", "mv"), ("emulator", "approve"), ("diff",)} <= set(EVERY)


# The root's docstring heads `wxrec --help` on a line of its own: only the commands' are cut to fit a listing.
@pytest.mark.parametrize("path", [path for path in EVERY if path], ids=lambda path: " ".join(("wxrec", *path)))
def test_each_command_sums_itself_up_in_a_whole_sentence(path: tuple[str, ...]) -> None:
    summary = EVERY[path].get_short_help_str(limit=SUMMARY_WIDTH)
    assert summary[:1].isupper() and summary.endswith(".") and not summary.endswith("..."), summary


@pytest.mark.parametrize("path", list(EVERY), ids=lambda path: " ".join(("wxrec", *path)))
def test_each_option_says_what_it_does(path: tuple[str, ...]) -> None:
    bare = [param.opts for param in EVERY[path].params if isinstance(param, click.Option) and not param.help]
    assert bare == []


@pytest.mark.parametrize("group", [(), ("state",), ("emulator",)])
def test_the_command_lists_show_whole_sentences(group: tuple[str, ...]) -> None:
    listing = wxrec(*group, "--help").output.partition("Commands:\n")[2]
    summaries = [line.split(maxsplit=1)[1] for line in listing.splitlines() if line.strip()]
    assert summaries and all(line.endswith(".") and not line.endswith("...") for line in summaries), summaries


@pytest.mark.parametrize(
    ("command", "option", "says"),
    [
        ("plan", "--format", "html, a self-contained visual report"),
        ("diff", "--format", "html, a self-contained visual report"),
        ("drift", "--format", "json: the drift document"),
        ("plan", "--embed-logos", "--format html only"),
    ],
)
def test_an_option_says_where_it_applies(command: str, option: str, says: str) -> None:
    (param,) = [p for p in EVERY[(command,)].params if option in p.opts]
    assert isinstance(param, click.Option) and param.help and says in " ".join(param.help.split())


def test_the_root_lists_each_command_with_its_own_summary() -> None:
    """`wxrec --help` lists summaries written beside the lazily loaded commands: they must stay the commands' own."""
    listed = {name: summary for name, (_, summary) in COMMANDS.items()}
    assert listed == {path[0]: EVERY[path].get_short_help_str(limit=SUMMARY_WIDTH) for path in EVERY if len(path) == 1}


@pytest.mark.parametrize("flag", ["--version", "--help", "-h"])
def test_version_and_help_load_no_command(flag: str) -> None:
    """What start-up costs is what it imports: no workflow, HTTP client, YAML parser or emulator server."""
    probe = (
        "import sys\nfrom reconciler.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe, flag], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    heavy = {"httpx", "yaml", "jsonschema", "starlette", "aiohttp", "reconciler.workflows", "reconciler.cli.plan"}
    assert "wxrec" in done.stdout and loaded & heavy == set()
