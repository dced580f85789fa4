"""Under faults: the campaign in small, kill -9 at random points, two applies in two processes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.fault_campaign import DEFAULT_FAULTS, injected_tokens, run_campaign, run_token_rounds
from tests.support import wxrec


async def test_fault_campaign_keeps_every_invariant(tmp_path: Path) -> None:
    figures = await run_campaign(rounds=60, seed=5, faults=DEFAULT_FAULTS, directory=tmp_path)
    assert sum(figures.faults_injected.values()) >= 150, figures.table()
    assert figures.faults_injected["drop"] > 0 and figures.faults_injected["reset"] > 0
    assert figures.ok, figures.table()


async def test_token_rejection_under_parallelism_never_forces_a_refresh_nor_fails_a_bystander(tmp_path: Path) -> None:
    figures = await run_token_rounds(rounds=2, seed=1, directory=tmp_path)
    assert figures.injected_40001 > 0 and figures.on_injected_token > 0, "calls side by side met a revoked token"
    assert figures.ok, figures.table()


def test_one_rejected_token_costs_one_normal_mode_renewal_and_fails_nothing(example_dir: Path) -> None:
    """Issue 12's reproduction: one injected 40001 used to spend 5 token calls (2 forced) and fail 5 actions."""
    # seed=2: the example now creates three cards (its coupons exist already), and seed 1 injects into none of them.
    faults = "error=40001:0.25,latency=50ms,seed=2,paths=/card/create"
    result = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", env={"WXREC_EMULATOR_FAULTS": faults})
    assert result.exit_code == 0 and ", 0 failed." in result.output, result.output
    calls = json.loads((example_dir / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))["calls"]["entries"]
    fetches = [c for c in calls if c["path"] == "/cgi-bin/stable_token"]
    assert injected_tokens(calls) and not any(c.get("force_refresh") for c in fetches)
    assert len(fetches) == 1 + len(injected_tokens(calls)), "one fetch, then one renewal per revoked token"


async def test_a_quota_spent_mid_apply_leaves_no_planned_action_without_an_outcome(tmp_path: Path) -> None:
    """Where the quota runs out depends on how many calls came before: try limits until one stops an apply."""
    for number, quota in enumerate(range(400, 1600, 97)):
        directory = tmp_path / str(number)
        directory.mkdir()
        figures = await run_campaign(
            rounds=60, seed=5, faults=f"{DEFAULT_FAULTS},quota={quota}/day", directory=directory
        )
        assert figures.ok, figures.table()
        if figures.applies_stopped:
            return
    raise AssertionError("no quota stopped an apply mid-run")


def many_cards(directory: Path, count: int) -> None:
    """A manifest of `count` scenic tickets, each traceable to its key by its title."""
    cards: dict[str, Any] = {}
    for number in range(count):
        cards[f"card-{number:02d}"] = {
            "card_type": "SCENIC_TICKET",
            "base_info": {
                "logo_url": "https://mmbiz.qpic.cn/mmbiz/logo.png",
                "brand_name": "中断测试",
                "code_type": "CODE_TYPE_TEXT",
                "title": f"门票{number:02d}",
                "color": "Color020",
                "notice": "出示使用",
                "description": "说明",
                "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 10, "fixed_begin_term": 0},
                "sku": {"total_quantity": 100 + number},
            },
            "ticket_class": "成人票",
        }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cards.yaml").write_text(yaml.safe_dump({"cards": cards}, allow_unicode=True), encoding="utf-8")


def wxrec_process(directory: Path, *args: str, faults: str = "latency=15ms") -> subprocess.Popen[bytes]:
    env = {**os.environ, "WXREC_EMULATOR_FAULTS": faults}
    command = [sys.executable, "-m", "reconciler", *args, str(directory), "--api", "emulator"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def live_cards(directory: Path) -> list[dict[str, Any]]:
    data = json.loads((directory / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))
    accounts = data["accounts"]
    cards = next(iter(accounts.values()))["cards"]
    return [c for c in cards if c["status"] != "CARD_STATUS_DELETE"]


def wait_for_a_state_write(state_file: Path, before: int, process: subprocess.Popen[bytes]) -> None:
    """Start-up time varies (a fresh checkout compiles its bytecode first): wait for apply's first write."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if state_file.exists() and state_file.stat().st_mtime_ns != before:
            return
        time.sleep(0.01)


def test_kill_9_at_random_points_then_rerun_converges_without_duplicates(tmp_path: Path) -> None:
    directory = tmp_path / "shop"
    many_cards(directory, 40)
    rng = random.Random(9)
    progress = []
    state_file = directory / ".wxrec" / "state.json"
    for _ in range(6):
        before = state_file.stat().st_mtime_ns if state_file.exists() else 0
        # Two creates at a time: the apply lasts about a second, so a kill within 0.4 s of its first write lands
        # mid-apply however fast or busy the machine is.
        process = wxrec_process(directory, "apply", "--auto-approve", "--parallelism", "2", faults="latency=40ms")
        wait_for_a_state_write(state_file, before, process)
        time.sleep(rng.uniform(0.0, 0.4))  # the kill lands at a random point after apply began writing
        process.send_signal(signal.SIGKILL)
        process.wait()
        progress.append(len(live_cards(directory)) if (directory / ".wxrec" / "emulator.json").exists() else 0)
    assert sum(0 < made < 40 for made in progress) >= 3, f"kills should land mid-apply: {progress}"
    final = wxrec_process(directory, "apply", "--auto-approve", faults="none")
    output = final.communicate(timeout=120)[0].decode()
    assert final.returncode == 0, output
    cards = live_cards(directory)
    titles = sorted(str(c["base"]["title"]) for c in cards)
    assert titles == [f"门票{n:02d}" for n in range(40)], "each card exists exactly once"
    state = json.loads((directory / ".wxrec" / "state.json").read_text(encoding="utf-8"))
    assert {r["id"] for r in state["resources"].values()} == {c["card_id"] for c in cards}
    assert state["intents"] == {}
    check = wxrec_process(directory, "plan", "--detailed-exitcode", faults="none")
    assert check.wait(timeout=60) == 0, check.communicate()[0].decode()


def test_two_applies_in_two_processes_one_waits_and_nothing_is_duplicated(tmp_path: Path) -> None:
    directory = tmp_path / "shop"
    many_cards(directory, 10)
    first = wxrec_process(directory, "apply", "--auto-approve", "--lock-timeout", "120")
    time.sleep(0.3)
    second = wxrec_process(directory, "apply", "--auto-approve", "--lock-timeout", "120")
    outputs = [p.communicate(timeout=120)[0].decode() for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert sum("Apply complete: 10 done" in out for out in outputs) == 1, outputs
    assert sum("No changes." in out for out in outputs) == 1, outputs
    assert len(live_cards(directory)) == 10


def test_plans_beside_an_apply_lose_none_of_its_cards(tmp_path: Path) -> None:
    """Each plan's embedded emulator saves its faulted calls to the account file the apply's emulator is
    filling: every card the apply made is still there afterwards, and no call number was given twice."""
    directory = tmp_path / "shop"
    many_cards(directory, 20)
    faults = "latency=50ms,error=-1:0.3,seed=3"
    # One create at a time keeps the apply creating for over a second; the plans start once it has begun (its
    # first intent is written), so their reads land among its creates, busy machine or not.
    apply = wxrec_process(directory, "apply", "--auto-approve", "--parallelism", "1", faults=faults)
    wait_for_a_state_write(directory / ".wxrec" / "state.json", 0, apply)
    while apply.poll() is None:
        plan = wxrec_process(directory, "plan", faults=faults)
        shown = plan.communicate(timeout=60)[0].decode()
        # Mid-apply a plan may see cards whose ids state does not hold yet, and refuse to duplicate them.
        assert plan.returncode == 0 or "Error: the plan was refused" in shown, shown
    output = apply.communicate(timeout=120)[0].decode()
    assert apply.returncode == 0 and "Apply complete: 20 done" in output, output
    state = json.loads((directory / ".wxrec" / "state.json").read_text(encoding="utf-8"))
    live = {c["card_id"] for c in live_cards(directory)}
    assert {r["id"] for r in state["resources"].values()} == live
    data = json.loads((directory / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))
    calls = data["calls"]["entries"]
    seqs = [c["seq"] for c in calls]
    assert len(seqs) == len(set(seqs))
    creates = [c["seq"] for c in calls if c["path"] == "/card/create"]
    reads = [c["seq"] for c in calls if c["path"] == "/card/batchget"]
    assert any(min(creates) < seq < max(creates) for seq in reads), "a plan should have read while the apply ran"


def test_faults_saved_in_the_emulators_account_are_announced_on_every_run_until_cleared(example_dir: Path) -> None:
    spec = "latency=1ms,seed=3"
    data = example_dir / ".wxrec" / "emulator.json"
    clear = f"wxrec emulator faults none --data {data}"
    applied = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", env={"WXREC_EMULATOR_FAULTS": spec})
    assert applied.exit_code == 0, applied.output
    assert f"injects faults: {spec} (unset WXREC_EMULATOR_FAULTS, then {clear} clears them)" in applied.stderr
    notice = f"the emulator injects faults: {spec} ({clear} clears them)"
    plan = wxrec("plan", example_dir, "--api", "emulator", "--format", "json")
    assert notice in plan.stderr
    assert notice in json.loads(plan.stdout)["warnings"]
    assert wxrec(*clear.split()[1:]).exit_code == 0
    quiet = wxrec("plan", example_dir, "--api", "emulator")
    assert quiet.exit_code == 0 and "injects faults" not in quiet.output


def test_export_announces_the_emulators_faults_as_every_other_run_does(tmp_path: Path) -> None:
    spec, directory = "latency=1ms,seed=3", tmp_path / "exported"
    clear = f"wxrec emulator faults none --data {directory / '.wxrec' / 'emulator.json'}"
    given = wxrec("export", directory, "--api", "emulator", env={"WXREC_EMULATOR_FAULTS": spec})
    assert given.exit_code == 0, given.output
    assert f"Warning: the emulator injects faults: {spec} (unset WXREC_EMULATOR_FAULTS, then {clear}" in given.stderr
    saved = wxrec("export", directory, "--api", "emulator", "--force")  # the faults stay in the account file
    assert saved.exit_code == 0, saved.output
    assert f"Warning: the emulator injects faults: {spec} ({clear} clears them)" in saved.stderr
