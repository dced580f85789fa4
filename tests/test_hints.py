"""Every command wxrec prints as a hint runs as printed: it names the real manifests, the real ids, and the
--api, --state, --env and --var of the run that printed it."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

from click.testing import Result

from reconciler.settings import RunSettings
from tests.support import apply_ok, wxrec

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
