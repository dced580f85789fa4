"""Each command takes only the options that apply to it: its help lists no other, and click refuses any other as
an option it does not have, before anything runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support import wxrec

# Options that change what a plan for apply holds: drift compares the whole live account and takes none.
PLANNING = [
    ("--replace", "cards.member"),
    ("--refresh", "false"),
    ("--target", "cards.member"),
    ("--exclude", "cards.member"),
    ("--allow-duplicate",),
    ("--destroy-threshold", "0.5"),
]


@pytest.mark.parametrize("option", PLANNING, ids=lambda option: option[0])
def test_drift_has_no_planning_option(example_dir: Path, option: tuple[str, ...]) -> None:
    result = wxrec("drift", example_dir, "--api", "emulator", *option)
    assert result.exit_code == 1
    assert f"No such option '{option[0]}'" in result.output
    assert not (example_dir / ".wxrec").exists()  # refused before the run began
    assert option[0] not in wxrec("drift", "--help").output


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("option", [option[0] for option in PLANNING])
def test_plan_and_apply_list_the_planning_options(command: str, option: str) -> None:
    assert option in wxrec(command, "--help").output


@pytest.mark.parametrize("command", ["apply", "drift"])
def test_html_is_no_format_of_a_command_with_no_plan_to_review(example_dir: Path, command: str) -> None:
    result = wxrec(command, example_dir, "--api", "emulator", "--format", "html")
    assert result.exit_code == 1
    assert "'html' is not one of 'text', 'markdown', 'json'" in result.output
    assert not (example_dir / ".wxrec").exists()
    assert "[text|markdown|json] " in wxrec(command, "--help").output


@pytest.mark.parametrize("command", ["plan", "diff"])
def test_plan_and_diff_offer_html(command: str) -> None:
    assert "[text|markdown|json|html]" in wxrec(command, "--help").output


def test_verbose_logs_for_its_own_run_only(example_dir: Path) -> None:
    """-v logs the run's calls to its stderr, and leaves the wxrec logger as it found it: runs in one process (the
    tests, a library caller) do not pile up handlers that each write every later call again."""
    logger = logging.getLogger("wxrec")
    before = (list(logger.handlers), logger.level)
    for _ in range(2):
        result = wxrec("-v", "plan", example_dir, "--api", "emulator")
        assert result.exit_code == 0, result.output
        assert "card/batchget" in result.stderr
        assert (list(logger.handlers), logger.level) == before
    assert "card/batchget" not in wxrec("plan", example_dir, "--api", "emulator").stderr
