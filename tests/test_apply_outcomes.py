"""Every planned action appears in apply's outcome, in every output format: done, failed, skipped (and why), or
not attempted because the run stopped (the daily quota spent)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from reconciler.emulator import DEMO_APPID, FAULTS_ENV
from tests.support import wxrec

OUTCOME_LINE = re.compile(r"^(\S+): (\w+) (ok|FAILED|SKIPPED|NOT ATTEMPTED): ")


def calls_a_plan_spends(directory: Path) -> tuple[int, list[str]]:
    """How much of the daily quota one plan spends, and the addresses it plans to change."""
    planned = wxrec("plan", directory, "--api", "emulator", "--format", "json", env={FAULTS_ENV: "quota=100000/day"})
    assert planned.exit_code == 0, planned.output
    addresses = [c["address"] for c in json.loads(planned.stdout)["changes"] if c["action"] != "gone"]
    data = json.loads((directory / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))
    return int(data["faults"]["usage"][f"{DEMO_APPID}|day"][1]), addresses


@pytest.mark.parametrize("output", ["text", "markdown", "json"])
def test_when_the_daily_quota_runs_out_every_planned_action_still_has_an_outcome(
    example_dir: Path, output: str
) -> None:
    spent, planned = calls_a_plan_spends(example_dir)
    # apply's own plan spends as much again: two calls are left for its changes.
    quota = {FAULTS_ENV: f"quota={2 * spent + 2}/day"}
    result = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--format", output, env=quota)
    assert result.exit_code == 1, result.output
    assert len(planned) >= 10
    if output == "json":
        outcomes = json.loads(result.stdout)["apply"]["outcomes"]
        addresses, statuses = [o["address"] for o in outcomes], Counter(o["status"] for o in outcomes)
    else:
        found = [m for m in map(OUTCOME_LINE.match, result.stdout.splitlines()) if m]
        addresses, statuses = [m[1] for m in found], Counter(m[3] for m in found)
        closing = result.stdout.splitlines()[-1]
        assert re.fullmatch(r"Apply complete: 2 done, \d+ failed, \d+ not attempted \(.*daily API quota.*\)\.", closing)
    assert sorted(addresses) == sorted(planned), "each planned action once, none vanished"
    done, not_attempted = ("done", "not attempted") if output == "json" else ("ok", "NOT ATTEMPTED")
    assert statuses[done] == 2 and statuses[not_attempted] >= len(planned) - 4, statuses


def test_a_failed_json_apply_says_where_its_outcomes_are(example_dir: Path) -> None:
    refused = {FAULTS_ENV: "error=40053:1,paths=/card/create"}  # WeChat refuses every create
    result = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--format", "json", env=refused)
    assert result.exit_code == 1
    failed = [o for o in json.loads(result.stdout)["apply"]["outcomes"] if not o["ok"]]
    closing = result.stderr.splitlines()[-1]
    assert closing == (
        f"Error: {len(failed)} actions not done (each one's status and message are in the JSON document's "
        "apply.outcomes); state records what was done"
    )
    assert "see above" not in result.stderr
