"""`import:` and `moved:` blocks: validation with file and line, pure planning, and apply through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import load_manifest
from reconciler.plan import Action
from reconciler.resources.adoption import Import, Move, plan_adoptions
from reconciler.resources.base import ownership_refusal
from reconciler.resources.cards.model import DesiredCard, LiveCard, Stock
from reconciler.state import State
from tests.support import RUN_LEFTOVERS, apply_ok, wxrec

CARD = "  farm-tour:"  # a card wxrec made: the imported coupons are named by their import blocks


def problems_of(directory: Path) -> str:
    with pytest.raises(ManifestError) as caught:
        load_manifest(directory)
    return str(caught.value)


def blocks(directory: Path, text: str, name: str = "adopt.yaml") -> None:
    (directory / name).write_text(text, encoding="utf-8")


def state_of(directory: Path) -> dict[str, dict[str, object]]:
    resources: dict[str, dict[str, object]] = json.loads((directory / ".wxrec" / "state.json").read_text())["resources"]
    return resources


def test_blocks_name_file_and_line_of_each_mistake(example_dir: Path) -> None:
    blocks(
        example_dir,
        "import:\n"
        "  - {to: cards.nowhere, id: pA}\n"
        "  - {to: cards.member, id: pB}\n"
        "  - {to: cards.member, id: pB}\n"
        "moved:\n"
        "  - {from: cards.member, to: cards.latte-voucher}\n"
        "  - {from: cards.old, to: cards.member}\n"
        "  - {from: cards.older, to: cards.old}\n",
    )
    found = problems_of(example_dir)
    where = f"{example_dir / 'adopt.yaml'}"
    assert f"{where}:2:" in found and "import.0.to: cards.nowhere is not declared in the manifests" in found
    assert f"{where}:4:" in found and "import.2.to: cards.member is also the target of import[1]" in found
    assert "import.2.id: pB is also imported by import[1]" in found
    assert "moved.0.from: cards.member is still declared" in found
    assert "moved.1.to: cards.member is also the target of import[1]" in found
    assert "moved.2.to: cards.old is moved on by moved[1]: chains are not followed" in found


def test_a_malformed_block_is_a_schema_error_not_a_crash(example_dir: Path) -> None:
    blocks(example_dir, "import:\n  - {to: cards.member}\nmoved: {from: cards.a}\n")
    found = problems_of(example_dir)
    assert (
        "import.0: missing required field 'id'" in found
        and "moved: {'from': 'cards.a'} is not of type 'array'" in found
    )


def test_blocks_in_several_files_are_one_list(example_dir: Path) -> None:
    blocks(example_dir, "import:\n  - {to: cards.member, id: pA}\n", "a.yaml")
    blocks(example_dir, "import:\n  - {to: cards.nowhere, id: pB}\n", "b.yaml")
    found = problems_of(example_dir)
    assert f"{example_dir / 'b.yaml'}:2:" in found and "import.1.to: cards.nowhere" in found


def live(card_id: str, card_type: str = "CASH") -> LiveCard:
    return LiveCard(card_id, card_type, "CARD_STATUS_VERIFY_OK", {}, 1, 1)


def desired(card_type: str = "CASH") -> dict[str, DesiredCard]:
    return {"cards.x": DesiredCard("x", card_type, {}, Stock("budget", 1))}


def test_planning_blocks_is_pure_and_idempotent() -> None:
    state = State(appid="wx", endpoint="e", resources={"cards.a": {"id": "pA", "card_type": "CASH"}})
    moved = plan_adoptions([], [Move("cards.a", "cards.b")], state, {}, {})
    assert [(c.action, c.address, c.id) for c in moved.changes] == [(Action.MOVE, "cards.b", "pA")]
    assert moved.view is not None and set(moved.view.resources) == {"cards.b"}
    assert set(state.resources) == {"cards.a"}, "planning never changes state"
    assert plan_adoptions([], [Move("cards.a", "cards.b")], moved.view, {}, {}).changes == []

    imported = plan_adoptions([Import("cards.x", "pX")], [], None, {"pX": live("pX")}, desired())
    assert [(c.action, c.id) for c in imported.changes] == [(Action.IMPORT, "pX")]
    assert plan_adoptions([Import("cards.x", "pX")], [], imported.view, {}, desired()).changes == []


@pytest.mark.parametrize(
    ("resources", "found", "why"),
    [
        ({}, {}, "pX does not exist in this account"),
        ({}, {"pX": live("pX", "GROUPON")}, "pX is a GROUPON card; cards.x declares CASH"),
        ({"cards.y": {"id": "pX"}}, {"pX": live("pX")}, "pX is already managed as cards.y"),
        ({"cards.x": {"id": "pY"}}, {"pX": live("pX")}, "cards.x already manages pY"),
    ],
)
def test_an_import_that_cannot_be_is_refused(resources: dict[str, Any], found: dict[str, Any], why: str) -> None:
    state = State(appid="wx", endpoint="e", resources=resources)
    adoption = plan_adoptions([Import("cards.x", "pX")], [], state, found, desired())
    assert adoption.changes == [] and why in adoption.refusals[0]


def test_an_id_is_owned_within_its_kind_only() -> None:
    """WeChat numbers tags and conditional menus each on their own: a tag and a menu may share an id."""
    resources = {"tags.vip": {"id": "100", "name": "VIP"}, "conditional_menus.vip-menu": {"id": "101", "applied": {}}}
    assert ownership_refusal("conditional_menus.gold-menu", "100", resources, ".") is None
    assert ownership_refusal("tags.gold", "101", resources, ".") is None
    assert ownership_refusal("tags.gold", "100", resources, ".") == "100 is already managed as tags.vip"
    assert ownership_refusal("conditional_menus.gold-menu", "101", resources, ".") == (
        "101 is already managed as conditional_menus.vip-menu"
    )


def test_moving_onto_an_address_in_state_is_refused() -> None:
    state = State(appid="wx", endpoint="e", resources={"cards.a": {"id": "pA"}, "cards.b": {"id": "pB"}})
    adoption = plan_adoptions([], [Move("cards.a", "cards.b")], state, {}, {}, state_invocation="'my shop' --env prod")
    assert "both cards.a and cards.b are in state" in adoption.refusals[0]
    # Either address can be let go of: both commands are printed, each for the run's own state.
    for address in ("cards.a", "cards.b"):
        assert f"`wxrec state rm 'my shop' --env prod {address}`" in adoption.refusals[0]


def test_a_moved_block_renames_without_recreating(example_dir: Path) -> None:
    apply_ok(example_dir)
    base = example_dir.parent / "base"
    shutil.copytree(example_dir, base, ignore=RUN_LEFTOVERS)
    before = state_of(example_dir)["cards.farm-tour"]["id"]
    cards = example_dir / "cards.yaml"
    cards.write_text(cards.read_text(encoding="utf-8").replace(CARD, "  estate-tour:"), encoding="utf-8")
    blocks(example_dir, "moved:\n  - from: cards.farm-tour\n    to: cards.estate-tour\n")
    offline = wxrec("diff", base, example_dir, "--format", "json")
    assert [c["action"] for c in json.loads(offline.output)["changes"]] == ["move"], "the offline diff agrees"
    planned = wxrec("plan", example_dir, "--api", "emulator", "--format", "json", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    actions = [(c["action"], c["address"]) for c in json.loads(planned.output)["changes"]]
    assert actions == [("move", "cards.estate-tour")], "not deleted and re-created"
    applied = apply_ok(example_dir)
    assert "cards.estate-tour: move ok: moved from cards.farm-tour in state" in applied.output
    assert state_of(example_dir)["cards.estate-tour"]["id"] == before
    assert "cards.farm-tour" not in state_of(example_dir)
    again = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output, "an applied block is a no-op"


def test_an_import_block_adopts_and_then_shows_the_real_differences(example_dir: Path) -> None:
    apply_ok(example_dir)
    member = str(state_of(example_dir)["cards.member"]["id"])
    assert wxrec("state", "rm", example_dir, "cards.member").exit_code == 0
    cards = example_dir / "cards.yaml"
    text = cards.read_text(encoding="utf-8")
    cards.write_text(text.replace("买单时请出示会员卡", "结账时请出示会员卡"), encoding="utf-8")
    blocks(example_dir, f"import:\n  - to: cards.member\n    id: {member}\n")
    planned = wxrec("plan", example_dir, "--api", "emulator", "--format", "json")
    document = json.loads(planned.output)
    assert [(c["action"], c["id"]) for c in document["changes"]] == [("import", member), ("update", member)]
    assert [c["path"] for c in document["changes"][1]["changes"]] == ["base_info.notice"]
    assert member not in document["unmanaged"]
    apply_ok(example_dir)
    assert state_of(example_dir)["cards.member"]["id"] == member
    assert state_of(example_dir)["cards.member"]["prevent_destroy"] is True
    again = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output


def test_an_import_of_a_card_that_does_not_exist_is_refused(example_dir: Path) -> None:
    apply_ok(example_dir)
    assert wxrec("state", "rm", example_dir, "cards.member").exit_code == 0
    blocks(example_dir, "import:\n  - to: cards.member\n    id: pNoSuchCard\n")
    refused = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve")
    assert refused.exit_code == 1
    assert "Refused: import cards.member: pNoSuchCard does not exist in this account" in refused.output
    assert "cards.member" not in state_of(example_dir)


def test_an_import_applied_without_refresh_is_still_checked_against_live(example_dir: Path) -> None:
    apply_ok(example_dir)
    assert wxrec("state", "rm", example_dir, "cards.member").exit_code == 0
    blocks(example_dir, "import:\n  - to: cards.member\n    id: pNoSuchCard\n")
    applied = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--refresh=false")
    assert applied.exit_code == 1
    assert "cards.member: pNoSuchCard does not exist in this account" in applied.output
    assert "cards.member" not in state_of(example_dir)


def test_an_address_with_an_unsettled_create_is_neither_imported_nor_moved() -> None:
    state = State(appid="wx", endpoint="emulator", intents={"cards.x": {"action": "create"}})
    state.resources["cards.old"] = {"id": "p1", "card_type": "CASH"}
    imports = [Import(to="cards.x", id="p9")]
    moves = [Move(source="cards.old", to="cards.x")]
    for planned in (plan_adoptions(imports, [], state, None, desired()), plan_adoptions([], moves, state, None, {})):
        assert planned.refusals and "unsettled create from an interrupted run" in planned.refusals[0]
        assert not planned.changes


def test_a_card_imported_earlier_is_not_replaced_by_a_plan_that_reads_nothing_live(example_dir: Path) -> None:
    """`wxrec import` records what already matches the manifest, so --refresh=false compares with it. A record
    with no applied values (written before imports recorded them) cannot tell how the card differs: the plan says
    so instead of planning every field from (unset) — a replace, refused by prevent_destroy."""
    apply_ok(example_dir)
    card_id = state_of(example_dir)["cards.member"]["id"]
    assert wxrec("state", "rm", example_dir, "cards.member").exit_code == 0
    assert wxrec("import", example_dir, "cards.member", str(card_id), "--api", "emulator").exit_code == 0
    refreshed = wxrec("plan", example_dir, "--api", "emulator", "--format", "json")
    assert refreshed.exit_code == 0 and not json.loads(refreshed.output)["changes"], refreshed.output

    def offline_plan() -> dict[str, Any]:
        offline = wxrec("plan", example_dir, "--api", "emulator", "--refresh=false", "--format", "json")
        assert offline.exit_code == 0, offline.output
        document: dict[str, Any] = json.loads(offline.output)
        assert not [c for c in document["changes"] if c["address"] == "cards.member"]
        return document

    assert not [w for w in offline_plan()["warnings"] if w.startswith("cards.member:")]
    path = example_dir / ".wxrec" / "state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    state["resources"]["cards.member"].update(applied={}, stock=None)
    path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    warnings = offline_plan()["warnings"]
    assert any(w.startswith("cards.member: adopted and not applied since") for w in warnings)


def test_a_card_imported_short_of_its_target_plans_no_stock_without_reading_it(example_dir: Path) -> None:
    """An import records no stock target when the live stock misses it (and an older import recorded none at all):
    --refresh=false then has no stock to compare with, and says so instead of planning the whole target as new
    stock from 0."""
    apply_ok(example_dir)
    card_id = str(state_of(example_dir)["cards.breakfast-set"]["id"])
    data = example_dir / ".wxrec" / "emulator.json"
    assert wxrec("emulator", "claim", card_id, "3", "--data", data).exit_code == 0
    assert wxrec("state", "rm", example_dir, "cards.breakfast-set").exit_code == 0
    assert wxrec("import", example_dir, "cards.breakfast-set", card_id, "--api", "emulator").exit_code == 0
    assert state_of(example_dir)["cards.breakfast-set"]["stock"] is None
    refreshed = json.loads(wxrec("plan", example_dir, "--api", "emulator", "--format", "json").output)
    assert [(c["address"], c["action"], c["stock"]["delta"]) for c in refreshed["changes"]] == [
        ("cards.breakfast-set", "stock", 3)
    ]
    offline = wxrec("plan", example_dir, "--api", "emulator", "--refresh=false", "--format", "json")
    assert offline.exit_code == 0, offline.output
    document = json.loads(offline.output)
    assert not [c for c in document["changes"] if c["address"] == "cards.breakfast-set"]
    assert [w for w in document["warnings"] if w.startswith("cards.breakfast-set:")] == [
        "cards.breakfast-set: its stock was not applied since its import, so state holds no stock to compare it "
        "with; a refreshed plan (without --refresh=false) shows how it differs from the manifest's target"
    ]
