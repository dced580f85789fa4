"""End to end through the `wxrec` command: real HTTP client, embedded emulator, state on disk."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reconciler.plan import PLAN_FORMAT_VERSION
from tests.support import apply_ok, wxrec


def state_of(directory: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((directory / ".wxrec" / "state.json").read_text(encoding="utf-8"))


def card_id(directory: Path, key: str) -> str:
    return str(state_of(directory)["resources"][f"cards.{key}"]["id"])


def edit(directory: Path, old: str, new: str) -> None:
    path = directory / "cards.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def assert_no_changes(directory: Path) -> None:
    result = wxrec("plan", directory, "--api", "emulator", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "No changes." in result.output


def test_quick_start_plan_apply_plan(example_dir: Path) -> None:
    assert wxrec("validate", example_dir).exit_code == 0
    first = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    plan_line = "Plan: 10 to create, 0 to update, 0 stock changes, 0 to replace, 0 to delete, 3 to import."
    assert plan_line in first.output
    assert "= cards.latte-voucher (pHillCoffeeLatteVoucher00001) will be imported (state only)" in first.output
    assert "+ cards.member will be created" in first.output
    assert not (example_dir / ".wxrec" / "state.json").exists(), "plan must never write state"
    result = apply_ok(example_dir)
    assert (
        sum(line.startswith("cards.") and ": create ok: created p" in line for line in result.output.splitlines()) == 3
    ), "the member card and the two tickets; the coupons already exist"
    assert_no_changes(example_dir)
    state = state_of(example_dir)
    assert state["appid"] == "wx0123456789abcdef" and state["endpoint"] == "emulator"
    assert state["serial"] >= 4 and state["intents"] == {}


def test_description_edit_is_an_in_place_update_flagged_for_review(example_dir: Path) -> None:
    apply_ok(example_dir)
    before = card_id(example_dir, "breakfast-set")
    edit(example_dir, "含美式咖啡两杯、可颂两个。", "含美式咖啡两杯、可颂两个，可外带。")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert f"~ cards.breakfast-set ({before}) will be updated in place: goes back to review" in plan.output
    assert '"含美式咖啡两杯、可颂两个。" → "含美式咖啡两杯、可颂两个，可外带。"   # re-review' in plan.output
    result = apply_ok(example_dir)
    assert "(sent back to review)" in result.output
    assert card_id(example_dir, "breakfast-set") == before
    assert_no_changes(example_dir)


def test_brand_name_edit_is_a_replace_that_needs_allow_destroy(example_dir: Path) -> None:
    apply_ok(example_dir)
    old = card_id(example_dir, "farm-tour")
    edit(
        example_dir,
        "brand_name: 山丘咖啡\n      code_type: CODE_TYPE_QRCODE\n      title: 山丘咖啡庄园参观票",
        "brand_name: 山丘咖啡馆\n      code_type: CODE_TYPE_QRCODE\n      title: 山丘咖啡庄园参观票",
    )
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert f"-/+ cards.farm-tour ({old}) will be replaced" in plan.output
    assert "because base_info.brand_name cannot be changed by card/update" in plan.output
    refused = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve")
    assert refused.exit_code == 1 and "pass --allow-destroy" in refused.output
    assert card_id(example_dir, "farm-tour") == old
    result = apply_ok(example_dir, "--allow-destroy")
    new = card_id(example_dir, "farm-tour")
    assert new != old and f"to replace {old}" in result.output and f"deleted old card(s) {old}" in result.output
    assert_no_changes(example_dir)


def test_removed_card_is_deleted_only_with_allow_destroy(example_dir: Path) -> None:
    apply_ok(example_dir)
    text = (example_dir / "cards.yaml").read_text(encoding="utf-8")
    (example_dir / "cards.yaml").write_text(text[: text.index("  farm-tour:")], encoding="utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert "- cards.farm-tour" in plan.output and "will be deleted" in plan.output
    refused = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve")
    assert refused.exit_code == 1 and "pass --allow-destroy" in refused.output
    assert "cards.farm-tour" in state_of(example_dir)["resources"]
    apply_ok(example_dir, "--allow-destroy")
    assert "cards.farm-tour" not in state_of(example_dir)["resources"]
    assert_no_changes(example_dir)


def test_prevent_destroy_is_remembered_after_the_block_is_removed(example_dir: Path) -> None:
    apply_ok(example_dir)
    text = (example_dir / "cards.yaml").read_text(encoding="utf-8")
    without_member = text[: text.index("  member:")] + text[text.index("  latte-art-class:") :]
    (example_dir / "cards.yaml").write_text(without_member, encoding="utf-8")
    result = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--allow-destroy")
    assert result.exit_code == 1
    assert "cards.member: lifecycle.prevent_destroy forbids this delete" in result.output
    assert "cards.member" in state_of(example_dir)["resources"]


def test_claims_show_as_stock_for_a_refill_target_and_not_for_a_budget(example_dir: Path) -> None:
    apply_ok(example_dir)
    data = example_dir / ".wxrec" / "emulator.json"
    for key in ("weekday-discount", "latte-voucher"):
        claimed = wxrec("emulator", "claim", "--data", data, card_id(example_dir, key), "7")
        assert claimed.exit_code == 0, claimed.output
    plan = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode")
    assert plan.exit_code == 2
    assert "stock +7: claimable 193 → 200, issued in all 200 → 207" in plan.output
    assert "cards.latte-voucher" not in plan.output
    apply_ok(example_dir)
    assert_no_changes(example_dir)


def test_bad_manifest_names_file_and_line_and_changes_nothing(example_dir: Path) -> None:
    edit(example_dir, "title: 拿铁满30减8元", "titel: 拿铁满30减8元")
    edit(example_dir, "title: 工作日饮品八五折", "title: 工作日手冲咖啡饮品八五折")
    lines = (example_dir / "cards.yaml").read_text(encoding="utf-8").splitlines()
    typo_line = next(n for n, line in enumerate(lines, 1) if "titel:" in line)
    long_line = next(n for n, line in enumerate(lines, 1) if "工作日手冲咖啡饮品八五折" in line)
    for command in (
        ("validate",),
        ("plan", "--api", "emulator"),
        ("apply", "--api", "emulator", "--auto-approve"),
    ):
        result = wxrec(command[0], example_dir, *command[1:])
        assert result.exit_code == 1
        assert f"cards.yaml:{typo_line}:7: cards.latte-voucher.base_info.titel: unknown field" in result.output
        assert f"cards.yaml:{long_line}:7: cards.weekday-discount.base_info.title: is 36 bytes" in result.output
        assert "Traceback" not in result.output
    assert not (example_dir / ".wxrec").exists()


def test_apply_without_a_terminal_or_auto_approve_fails_at_once(example_dir: Path) -> None:
    result = wxrec("apply", example_dir, "--api", "emulator")
    assert result.exit_code == 1 and "pass --auto-approve" in result.output
    assert not (example_dir / ".wxrec" / "state.json").exists()


def test_state_of_another_account_is_refused(example_dir: Path) -> None:
    apply_ok(example_dir)
    edit_account = example_dir / "account.yaml"
    edit_account.write_text("account:\n  appid: wx1111111111111111\n", encoding="utf-8")
    result = wxrec("plan", example_dir, "--api", "emulator")
    assert result.exit_code == 1 and "state belongs to account wx0123456789abcdef" in result.output


def test_json_plan_is_deterministic(example_dir: Path) -> None:
    first = wxrec("plan", example_dir, "--api", "emulator", "--format", "json")
    second = wxrec("plan", example_dir, "--api", "emulator", "--format", "json")
    assert first.output == second.output
    document = json.loads(first.output)
    assert document["format_version"] == PLAN_FORMAT_VERSION and document["summary"]["create"] == 10


def test_access_token_never_appears_in_output_or_state(example_dir: Path) -> None:
    outputs = [
        wxrec("plan", example_dir, "--api", "emulator").output,
        apply_ok(example_dir).output,
        wxrec("plan", example_dir, "--api", "emulator", "--format", "json").output,
    ]
    emulator_data = (example_dir / ".wxrec" / "emulator.json").read_text(encoding="utf-8")
    tokens = set(re.findall(r'"(?:access_token|token|value)": "([A-Za-z0-9_\-]{32,})"', emulator_data))
    assert tokens, "the emulator's data should hold the issued tokens"
    written = [*outputs, (example_dir / ".wxrec" / "state.json").read_text(encoding="utf-8")]
    for token in tokens:
        assert all(token not in text for text in written)


@pytest.mark.parametrize("flag", ["--replace", "-replace"])
def test_replace_flag_forces_a_new_card(example_dir: Path, flag: str) -> None:
    apply_ok(example_dir)
    old = card_id(example_dir, "latte-art-class")
    plan = wxrec("plan", example_dir, "--api", "emulator", flag, "cards.latte-art-class")
    assert "because replacement requested with -replace" in plan.output
    apply_ok(example_dir, flag, "cards.latte-art-class", "--allow-destroy")
    assert card_id(example_dir, "latte-art-class") != old
