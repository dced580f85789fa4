"""A Terraform user's habits: the manifest directory defaults to `.`, `-long` options work as `--long` ones do,
global options may follow the command, and every wait takes a duration with a unit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.cli import cli
from reconciler.cli.args import terraform_style
from reconciler.cli.options import Duration
from tests.support import apply_ok, wxrec


@pytest.fixture
def in_example(example_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(example_dir)
    return example_dir


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["plan", "--api", "emulator"],
        ["drift", "--api", "emulator"],
        ["apply", "--api", "emulator", "--auto-approve"],
        ["state", "list"],
        ["state", "show", "cards.member"],
        ["state", "history"],
    ],
)
def test_commands_default_to_the_current_directory(in_example: Path, command: list[str]) -> None:
    apply_ok(in_example)
    assert wxrec(*command).exit_code == 0, wxrec(*command).output


def test_state_commands_take_their_address_alone_or_after_the_manifest(in_example: Path) -> None:
    apply_ok(in_example)
    alone, after = wxrec("state", "show", "cards.member"), wxrec("state", "show", in_example, "cards.member")
    assert alone.exit_code == after.exit_code == 0
    assert json.loads(alone.output) == json.loads(after.output)


def test_state_mv_with_the_manifest_left_out_moves_the_address(in_example: Path) -> None:
    apply_ok(in_example)
    cards = in_example / "cards.yaml"  # state mv moves only to an address the manifests declare: rename it there
    cards.write_text(cards.read_text(encoding="utf-8").replace("\n  member:", "\n  vip:"), encoding="utf-8")
    moved = wxrec("state", "mv", "-lock-timeout", "5s", "cards.member", "cards.vip")
    assert moved.exit_code == 0, moved.output
    assert "cards.vip" in wxrec("state", "list").output


def test_two_manifests_where_one_is_taken_are_refused(in_example: Path) -> None:
    result = wxrec("state", "list", ".", ".")
    assert result.exit_code == 1
    assert "give one manifest directory" in result.output


def test_single_dash_long_options_work_as_double_dash_ones(in_example: Path) -> None:
    result = wxrec("apply", "-api", "emulator", "-auto-approve", "-lock-timeout=5s", "-var", "unused=1")
    assert result.exit_code == 0, result.output
    changes = wxrec("plan", "-api=emulator", "-detailed-exitcode")
    assert changes.exit_code == 0, changes.output  # applied: nothing left, so not 2


def test_global_options_may_follow_the_command(in_example: Path) -> None:
    quiet = wxrec("plan", "--api", "emulator", "-q")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output.strip().startswith("Plan:")  # only the summary line
    assert wxrec("validate", "--version").output.startswith("wxrec, version")


def test_the_value_of_an_option_is_never_taken_for_an_option() -> None:
    assert terraform_style(cli, ["plan", "-var", "-q", "-out", "-v"]) == ["plan", "--var", "-q", "--out", "-v"]


def test_a_commands_own_option_is_not_moved_and_help_stays_with_its_command() -> None:
    assert terraform_style(cli, ["apply", "-h"]) == ["apply", "-h"]
    assert terraform_style(cli, ["state", "rm", "-v", "-lock-timeout", "1s", "x"]) == [
        "-v",
        "state",
        "rm",
        "--lock-timeout",
        "1s",
        "x",
    ]


def test_after_a_double_dash_nothing_is_rewritten() -> None:
    assert terraform_style(cli, ["state", "show", "--", "-q", "-var"]) == ["state", "show", "--", "-q", "-var"]


@given(st.lists(st.sampled_from(["-q", "-v", "-out", "p", "-var", "a=b", "-refresh=false", "x", "--"]), max_size=8))
def test_rewriting_keeps_every_word_and_is_stable(args: list[str]) -> None:
    """Nothing is lost or invented, and a rewritten command line is already in its final form."""
    rewritten = terraform_style(cli, ["plan", *args])
    assert sorted(w.lstrip("-") for w in rewritten) == sorted(w.lstrip("-") for w in ["plan", *args])
    assert terraform_style(cli, rewritten) == rewritten


@pytest.mark.parametrize(("given_", "seconds"), [("10s", 10.0), ("2m", 120.0), ("1h", 3600.0), ("7", 7.0)])
def test_durations_take_a_unit(given_: str, seconds: float) -> None:
    assert Duration().convert(given_, None, None) == seconds


def test_a_duration_without_a_known_unit_is_a_clear_usage_error(in_example: Path) -> None:
    result = wxrec("apply", "--api", "emulator", "--auto-approve", "--lock-timeout", "10 minutes")
    assert result.exit_code == 1
    assert "--lock-timeout" in result.output and "90s, 10m or 1h" in result.output


@pytest.mark.parametrize(
    "command",
    [["validate"], ["plan"], ["apply"], ["drift"], ["state", "list"], ["state", "show", "cards.member"], ["import"]],
    ids=" ".join,
)
def test_a_manifest_path_that_does_not_exist_is_one_line_naming_it(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nosuchdir"
    result = wxrec(*command[:2], missing, *command[2:], *(["cards.x", "card-id"] if command == ["import"] else []))
    assert result.exit_code == 1  # README: every error but "changes present" exits 1
    named = f"Error: {missing}: no such manifest directory or file (give one, or run in the manifest directory"
    assert result.output == f"{named} and leave it out)\n"
