"""Safety lives in the library: a caller of reconciler.workflows, with no CLI in between, gets every refusal
`wxrec apply` gives, and nothing changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import saved_plan, workflows
from reconciler.connection import credentials_of_one
from reconciler.errors import WxrecError
from reconciler.plan import Plan
from reconciler.settings import RunSettings
from reconciler.state import FileBackend
from tests.test_gitops import edit

pytestmark = pytest.mark.usefixtures("emulator_provider")  # as the wxrec command installs it


def settings(directory: Path, **changes: object) -> RunSettings:
    return RunSettings(
        manifest_path=directory,
        api="emulator",
        credentials=credentials_of_one(directory),
        **changes,  # type: ignore[arg-type]
    )


def state_file(directory: Path) -> Path:
    return directory / ".wxrec" / "state.json"


def never_asked(plan: Plan) -> bool:
    raise AssertionError("a plan that is refused, or needs no answer, must not be put to the user")


async def applied(directory: Path) -> None:
    report = await workflows.apply(settings(directory, auto_approve=True), None)
    assert report is not None and not report.failed


def drop_last_card(directory: Path, key: str) -> None:
    path = directory / "cards.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index(f"  {key}:")], encoding="utf-8")


async def refused(
    directory: Path, run: RunSettings, saved_path: Path | None = None, confirm: workflows.Confirm | None = never_asked
) -> str:
    """workflows.apply raises and changes neither state nor the emulated account."""
    state_before = state_file(directory).read_bytes()
    account_before = (directory / ".wxrec" / "emulator.json").read_bytes()
    with pytest.raises(WxrecError) as raised:
        await workflows.apply(run, confirm, saved_path=saved_path)
    assert state_file(directory).read_bytes() == state_before
    assert (directory / ".wxrec" / "emulator.json").read_bytes() == account_before
    return str(raised.value)


async def test_a_refused_plan_is_refused_even_auto_approved_with_allow_destroy(example_dir: Path) -> None:
    await applied(example_dir)
    protected = settings(example_dir, replace=("cards.member",), auto_approve=True, allow_destroy=True)
    message = await refused(example_dir, protected)
    assert "the plan was refused" in message


async def test_a_destructive_plan_needs_allow_destroy(example_dir: Path) -> None:
    await applied(example_dir)
    drop_last_card(example_dir, "farm-tour")
    message = await refused(example_dir, settings(example_dir, auto_approve=True))
    assert "cards.farm-tour" in message and "pass --allow-destroy to permit it" in message
    report = await workflows.apply(settings(example_dir, auto_approve=True, allow_destroy=True), never_asked)
    assert report is not None and [o.action for o in report.outcomes] == ["delete"]


async def test_without_auto_approve_the_callers_yes_is_needed_and_a_no_cancels(example_dir: Path) -> None:
    await applied(example_dir)
    drop_last_card(example_dir, "farm-tour")
    message = await refused(example_dir, settings(example_dir, allow_destroy=True), confirm=None)
    assert "no terminal to confirm on" in message
    shown: list[Plan] = []

    def no(plan: Plan) -> bool:
        shown.append(plan)
        return False

    before = state_file(example_dir).read_bytes()
    with pytest.raises(WxrecError, match="apply cancelled; nothing was changed"):
        await workflows.apply(settings(example_dir), no)
    assert [c.address for c in shown[0].destructive] == ["cards.farm-tour"]
    assert state_file(example_dir).read_bytes() == before
    # An interactive yes permits the delete, as at `wxrec apply`'s prompt.
    report = await workflows.apply(settings(example_dir), lambda plan: True)
    assert report is not None and not report.failed and [o.action for o in report.outcomes] == ["delete"]


async def test_a_saved_plan_altered_after_it_was_written_is_refused(example_dir: Path, tmp_path: Path) -> None:
    await applied(example_dir)
    edit(example_dir, "含美式咖啡两杯、可颂两个。", "含美式咖啡两杯、可颂两个，可外带。")
    saved = tmp_path / "plan.json"
    saved.write_text(saved_plan.dumps(await workflows.plan(settings(example_dir))), encoding="utf-8")
    saved.write_text(saved.read_text(encoding="utf-8").replace("可外带", "可堂食"), encoding="utf-8")
    message = await refused(example_dir, settings(example_dir, auto_approve=True), saved)
    assert "does not match its digest: it was altered after" in message


async def test_apply_waits_for_the_state_lock_and_names_its_holder(example_dir: Path) -> None:
    await applied(example_dir)
    edit(example_dir, "get_limit: 2", "get_limit: 3")
    backend = FileBackend(state_file(example_dir))
    with backend.lock(timeout=1):
        holder = json.loads((example_dir / ".wxrec" / "state.json.lock.info").read_text(encoding="utf-8"))
        message = await refused(example_dir, settings(example_dir, auto_approve=True, lock_timeout=0.2))
    assert f"lock id {holder['id']}" in message
