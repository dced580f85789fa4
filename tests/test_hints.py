"""Every command wxrec prints as a hint runs as printed: it names the real manifests, the real ids, and the
--api, --state, --env and --var of the run that printed it."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from click.testing import Result

from reconciler.settings import RunSettings
from tests.support import apply_ok, wxrec
from tests.test_coupons import delete_live, live_cards

COMMAND = re.compile(r"`(wxrec [^`]*)`")


def printed(result: Result, command: str) -> list[str]:
    """The arguments of the one `wxrec COMMAND …` the output shows between backquotes."""
    found = [shlex.split(text)[1:] for text in COMMAND.findall(result.output) if text.startswith(f"wxrec {command} ")]
    assert len(found) == 1, result.output
    return found[0]


def test_a_run_is_named_with_its_api_state_env_and_vars_and_never_a_password(tmp_path: Path) -> None:
    settings = RunSettings(
        tmp_path / "my shop",
        api="https://user:secret@proxy.example/wx",
        state_location="postgresql://wxrec:hunter2@db/wxrec?state_name=prod",
        env="prod",
        var=("title=拿铁 券",),
    )
    arguments = shlex.split(settings.invocation())
    assert arguments[0] == str(tmp_path / "my shop")
    assert arguments[arguments.index("--env") + 1] == "prod"
    assert arguments[arguments.index("--var") + 1] == "title=拿铁 券"
    assert "secret" not in settings.invocation() and "hunter2" not in settings.invocation()
    assert shlex.split(RunSettings(Path("shop")).invocation()) == ["shop"], "WeChat's API is the default"
    # A state command takes the words that find the state, and refuses --api and --var.
    assert shlex.split(settings.state_invocation()) == [
        str(tmp_path / "my shop"),
        "--state",
        "postgresql://wxrec@db/wxrec?state_name=prod",
        "--env",
        "prod",
    ]
    at = RunSettings(Path("shop"), state_location="/srv/ops@cn/state.json")
    assert shlex.split(at.state_invocation()) == ["shop", "--state", "/srv/ops@cn/state.json"], "a path is a path"


def test_the_saved_plan_hint_applies_with_the_state_the_plan_was_made_from(example_dir: Path) -> None:
    state = example_dir.parent / "elsewhere" / "state.json"
    saved = example_dir.parent / "p.json"
    planned = wxrec("plan", example_dir, "--api", "emulator", "--state", state, "-out", saved)
    assert planned.exit_code == 0, planned.output
    applied = wxrec(*printed(planned, "apply"), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert state.is_file()


def test_the_export_hint_plans_the_exported_account_with_no_changes(example_dir: Path) -> None:
    apply_ok(example_dir)
    target = example_dir.parent / "exported"
    (target / ".wxrec").mkdir(parents=True)
    shutil.copy(example_dir / ".wxrec" / "emulator.json", target / ".wxrec" / "emulator.json")  # the same account
    state = example_dir.parent / "exported-state.json"
    exported = wxrec("export", target, "--api", "emulator", "--state", state)
    assert exported.exit_code == 0, exported.output
    planned = wxrec(*printed(exported, "plan"), "--detailed-exitcode")
    assert planned.exit_code == 0 and "No changes." in planned.output, planned.output


def test_the_refusal_hint_imports_the_live_twin_of_a_card_state_lost(example_dir: Path) -> None:
    apply_ok(example_dir)
    (example_dir / ".wxrec" / "state.json").unlink()
    refused = wxrec("plan", example_dir, "--api", "emulator")
    assert refused.exit_code == 1 and "would duplicate live card" in refused.output
    hints = [shlex.split(text)[1:] for text in COMMAND.findall(refused.output) if text.startswith("wxrec import ")]
    assert len(hints) == 3, refused.output  # the cards wxrec made: the coupons' import blocks adopt them again
    for hint in hints:
        imported = wxrec(*hint)
        assert imported.exit_code == 0, imported.output
    replanned = wxrec(*printed(imported, "plan"))
    assert replanned.exit_code == 0 and "would duplicate" not in replanned.output, replanned.output


def applied_elsewhere(example_dir: Path) -> tuple[Path, list[str]]:
    """The example applied with its state away from the manifests: a hint that forgot --state would not find it.
    Returns the state file and the words of the run."""
    state = example_dir.parent / "elsewhere" / "state.json"
    run = [str(example_dir), "--api", "emulator", "--state", str(state)]
    applied = wxrec("apply", *run, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    return state, run


def in_state(state: Path) -> dict[str, Any]:
    return dict(json.loads(state.read_text("utf-8"))["resources"])


def test_the_gone_card_hint_stops_managing_it(example_dir: Path) -> None:
    state, run = applied_elsewhere(example_dir)
    delete_live(example_dir, in_state(state)["cards.farm-tour"]["id"])  # a ticket: a deleted coupon says more
    gone = wxrec("plan", *run)
    assert "someone deleted it" in gone.output, gone.output
    removed = wxrec(*printed(gone, "state rm"))
    assert removed.exit_code == 0, removed.output
    assert "cards.farm-tour" not in in_state(state)
    assert "someone deleted it" not in wxrec("plan", *run).output


def test_the_prevent_destroy_hint_stops_managing_a_protected_card_without_deleting_it(example_dir: Path) -> None:
    state, run = applied_elsewhere(example_dir)
    member = in_state(state)["cards.member"]["id"]
    cards = yaml.safe_load((example_dir / "cards.yaml").read_text("utf-8"))
    del cards["cards"]["member"]
    (example_dir / "cards.yaml").write_text(yaml.safe_dump(cards, allow_unicode=True), "utf-8")
    refused = wxrec("plan", *run)
    assert refused.exit_code == 1 and "prevent_destroy forbids this delete" in refused.output, refused.output
    assert wxrec(*printed(refused, "state rm")).exit_code == 0
    planned = wxrec("plan", *run, "--detailed-exitcode")
    assert planned.exit_code == 0 and "No changes." in planned.output, planned.output
    assert member in [card["card_id"] for card in live_cards(example_dir)], "WeChat still has the card"


def test_the_import_refusal_hint_frees_the_address_for_another_card(example_dir: Path) -> None:
    state, run = applied_elsewhere(example_dir)
    first = in_state(state)["cards.farm-tour"]["id"]  # a card wxrec made (an import block re-adopts a coupon)
    assert wxrec("state", "rm", example_dir, "cards.farm-tour", "--state", state).exit_code == 0
    assert wxrec("apply", *run, "--auto-approve", "--allow-duplicate").exit_code == 0
    # farm-tour manages its second card now: adopting the first is refused, with the way to let go of it.
    refused = wxrec("import", *run, "cards.farm-tour", first)
    assert refused.exit_code == 1 and "already manages" in refused.output, refused.output
    assert wxrec(*printed(refused, "state rm")).exit_code == 0
    imported = wxrec("import", *run, "cards.farm-tour", first)
    assert imported.exit_code == 0, imported.output
    assert in_state(state)["cards.farm-tour"]["id"] == first


# A run on another host holds the lock and hangs: only `state unlock` frees it (not this host's pid check).
HUNG_ELSEWHERE = """
import json, sys, time
from pathlib import Path
from reconciler.state import open_backend
backend = open_backend(sys.argv[1], Path("."), Path("unused.json"))
with backend.lock(5):
    info = Path(sys.argv[1] + ".lock.info")
    info.write_text(json.dumps({**json.loads(info.read_text()), "host": "till.example"}))
    print("locked", flush=True)
    time.sleep(120)
"""


def test_the_lock_hint_breaks_the_lock_of_the_hung_run_by_its_id(example_dir: Path) -> None:
    state, run = applied_elsewhere(example_dir)
    holder = subprocess.Popen([sys.executable, "-c", HUNG_ELSEWHERE, str(state)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        locked = wxrec("apply", *run, "--auto-approve", "--lock-timeout", "0s")
        assert locked.exit_code == 1 and "state is locked by another run" in locked.output, locked.output
        unlocked = wxrec(*printed(locked, "state unlock"))
        assert unlocked.exit_code == 0, unlocked.output
        again = wxrec("apply", *run, "--auto-approve", "--lock-timeout", "0s")
        assert again.exit_code == 0, again.output
    finally:
        holder.kill()
        holder.wait()
