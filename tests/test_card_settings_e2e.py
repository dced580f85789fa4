"""A card's write-only settings (activation form, pay cell, self-consume cell) end to end through the emulator:
applied after the card, compared with state, one changed setting set alone, set again on a card that replaces it,
refused by validate where WeChat would refuse them, and said in every report."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from reconciler.emulator.card_settings import FIELD_IDS as FIELDS
from reconciler.emulator.colors import COLORS
from reconciler.export import ExportedCard, card_yaml
from reconciler.manifest import load_manifest
from reconciler.plan import Action
from reconciler.planning import offline_plan
from reconciler.resources.card_settings import plan_settings
from reconciler.resources.cards.model import LiveCard
from reconciler.state import State
from tests.support import EXAMPLE, apply_ok, wxrec

MEMBER = """\
cards:
  member:
    card_type: MEMBER_CARD
    base_info:
      logo_url: https://mmbiz.qpic.cn/mmbiz/hillcoffee/logo.png
      brand_name: 山丘咖啡
      code_type: CODE_TYPE_QRCODE
      title: 山丘咖啡会员卡
      color: Color082
      notice: 买单时请出示会员卡
      description: 会员凭卡享专属优惠。
      location_id_list: [123]
      date_info:
        type: DATE_TYPE_PERMANENT
      sku:
        total_quantity: 1000
    prerogative: 会员每月可领取一张免费升杯券。
    supply_bonus: false
    supply_balance: false
    activate_user_form:
      required_form: {common_field_id_list: [USER_FORM_INFO_FLAG_MOBILE]}
      optional_form: {common_field_id_list: [USER_FORM_INFO_FLAG_BIRTHDAY]}
    pay_cell: {is_open: true}
    self_consume_cell: {is_open: true, need_verify_cod: false, need_remark_amount: false}
"""
SETTINGS = {
    "activate_user_form": {
        "required_form": {"common_field_id_list": ["USER_FORM_INFO_FLAG_MOBILE"]},
        "optional_form": {"common_field_id_list": ["USER_FORM_INFO_FLAG_BIRTHDAY"]},
    },
    "pay_cell": {"is_open": True},
    "self_consume_cell": {"is_open": True, "need_verify_cod": False, "need_remark_amount": False},
}
SETTING_CALLS = ("/card/membercard/activateuserform/set", "/card/paycell/set", "/card/selfconsumecell/set")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    directory = tmp_path / "member"
    directory.mkdir()
    shutil.copy(EXAMPLE / "account.yaml", directory)
    (directory / "cards.yaml").write_text(MEMBER, encoding="utf-8")
    return directory


def emulator(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))
    return data


def card_settings(directory: Path, card_id: str) -> dict[str, Any]:
    (account,) = emulator(directory)["accounts"].values()
    return next(dict(card["settings"]) for card in account["cards"] if card["card_id"] == card_id)


def setting_calls(directory: Path, after: int = 0) -> list[str]:
    entries = emulator(directory)["calls"]["entries"]
    return [e["path"] for e in entries if e["path"] in SETTING_CALLS and e["seq"] > after and e["errcode"] == 0]


def last_seq(directory: Path) -> int:
    return int(emulator(directory)["calls"]["next_seq"])


def resources(directory: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((directory / ".wxrec" / "state.json").read_text(encoding="utf-8"))
    return dict(state["resources"])


def edit(directory: Path, old: str, new: str) -> None:
    path = directory / "cards.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_member_card_with_its_settings_applies_then_plans_no_changes(shop: Path) -> None:
    first = wxrec("plan", shop, "--api", "emulator")
    assert "+ card_settings.member will be created" in first.output
    assert "because cards.member is created: its settings are set once it exists" in first.output
    apply_ok(shop)
    card_id = resources(shop)["cards.member"]["id"]
    assert card_settings(shop, card_id) == SETTINGS
    assert sorted(setting_calls(shop)) == sorted(SETTING_CALLS)
    assert resources(shop)["card_settings.member"] == {"card_id": card_id, "applied": SETTINGS}
    again = wxrec("plan", shop, "--api", "emulator", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output, again.output


def test_changing_one_setting_sets_only_it_and_the_plan_says_it_is_compared_with_state(shop: Path) -> None:
    apply_ok(shop)
    card_id, seen = resources(shop)["cards.member"]["id"], last_seq(shop)
    edit(shop, "pay_cell: {is_open: true}", "pay_cell: {is_open: false}")
    plan = wxrec("plan", shop, "--api", "emulator")
    assert f"~ card_settings.member ({card_id}) will be updated in place" in plan.output
    assert "pay_cell.is_open: true → false" in plan.output
    assert "WeChat cannot read a card's activation form, pay cell or self-consume cell back" in plan.output
    assert "cards.member" not in plan.output.replace("card_settings.member", ""), "the card itself is unchanged"
    apply_ok(shop)
    assert setting_calls(shop, after=seen) == ["/card/paycell/set"]
    assert card_settings(shop, card_id)["pay_cell"] == {"is_open": False}
    assert "No changes." in wxrec("plan", shop, "--api", "emulator").output


def test_a_replaced_card_gets_its_settings_again(shop: Path) -> None:
    apply_ok(shop)
    old = resources(shop)["cards.member"]["id"]
    edit(shop, "brand_name: 山丘咖啡", "brand_name: 山丘咖啡馆")  # not updatable: the card is replaced
    plan = wxrec("plan", shop, "--api", "emulator")
    assert "because cards.member is replaced: the card that replaces it gets its settings again" in plan.output
    apply_ok(shop, "--allow-destroy")
    new = resources(shop)["cards.member"]["id"]
    assert new != old
    assert card_settings(shop, new) == SETTINGS
    assert resources(shop)["card_settings.member"]["card_id"] == new
    assert "No changes." in wxrec("plan", shop, "--api", "emulator").output


def test_settings_left_out_of_the_manifest_are_forgotten_not_unset(shop: Path) -> None:
    apply_ok(shop)
    card_id = resources(shop)["cards.member"]["id"]
    edit(shop, "    pay_cell: {is_open: true}\n", "")
    plan = wxrec("plan", shop, "--api", "emulator")
    assert "pay_cell is no longer declared: left as it is in WeChat" in plan.output
    seen = last_seq(shop)
    apply_ok(shop)
    assert setting_calls(shop, after=seen) == []
    assert "pay_cell" not in resources(shop)["card_settings.member"]["applied"]
    assert card_settings(shop, card_id)["pay_cell"] == {"is_open": True}, "WeChat keeps what it was set to"
    assert "No changes." in wxrec("plan", shop, "--api", "emulator").output


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "card_type: MEMBER_CARD",
            "card_type: SCENIC_TICKET",
            20,
            "cards.member.activate_user_form: only a MEMBER_CARD has an activation form, not SCENIC_TICKET",
        ),
        (
            "      location_id_list: [123]\n",
            "",
            22,
            "cards.member.pay_cell: needs a store: set base_info.location_id_list (or use_all_locations: true)",
        ),
        ("USER_FORM_INFO_FLAG_BIRTHDAY", "USER_FORM_INFO_FLAG_BIRTHDATE", 22, "USER_FORM_INFO_FLAG_BIRTHDATE"),
    ],
)
def test_validate_refuses_what_wechat_refuses_at_the_line(
    shop: Path, old: str, new: str, line: int, message: str
) -> None:
    edit(shop, old, new)
    result = wxrec("validate", shop)
    assert result.exit_code != 0
    assert f"cards.yaml:{line}" in result.output and message in result.output, result.output
    assert "Traceback" not in result.output


def test_the_self_consume_cell_needs_a_store_only_when_open(shop: Path) -> None:
    edit(shop, "      location_id_list: [123]\n", "")
    edit(shop, "    pay_cell: {is_open: true}\n", "")
    edit(shop, "self_consume_cell: {is_open: true,", "self_consume_cell: {is_open: false,")
    assert wxrec("validate", shop).exit_code == 0


def test_export_says_in_the_file_that_a_member_cards_settings_cannot_be_read_back() -> None:
    member = LiveCard("pMember", "MEMBER_CARD", "CARD_STATUS_VERIFY_OK", {}, 1, 1)
    coupon = LiveCard("pGift", "GIFT", "CARD_STATUS_VERIFY_OK", {}, 1, 1)
    spec = {"card_type": "MEMBER_CARD", "prerogative": "八折"}
    text = card_yaml(ExportedCard("member", member, spec, ()))
    assert "# activate_user_form, pay_cell and self_consume_cell cannot be read back from WeChat" in text
    assert yaml.safe_load("cards:\n" + text) == {"cards": {"member": spec}}
    assert "pay_cell" not in card_yaml(ExportedCard("gift", coupon, {"card_type": "GIFT"}, ()))


def test_every_report_says_the_settings_are_compared_with_state(shop: Path) -> None:
    apply_ok(shop)
    edit(shop, "pay_cell: {is_open: true}", "pay_cell: {is_open: false}")
    document = json.loads(wxrec("plan", shop, "--api", "emulator", "--format", "json").output)
    (change,) = document["changes"]
    assert change["address"] == "card_settings.member" and change["action"] == "update"
    assert [(c["path"], c["old"], c["new"]) for c in change["changes"]] == [("pay_cell.is_open", True, False)]
    markdown = wxrec("plan", shop, "--api", "emulator", "--format", "markdown", "--lang", "zh-CN").output
    assert "`pay_cell.is_open` | true | false" in markdown
    assert "微信无法读回卡券的开卡表单、快速买单和自助核销设置" in markdown
    html = wxrec("plan", shop, "--api", "emulator", "--format", "html", "--lang", "zh-CN").output
    assert 'data-action="update"' in html and "微信无法读回卡券的开卡表单" in html


def test_targeting_a_card_takes_its_settings_along(shop: Path) -> None:
    plan = wxrec("plan", shop, "--api", "emulator", "--target", "cards.member")
    assert "+ card_settings.member will be created" in plan.output
    apply_ok(shop, "--target", "cards.member")
    assert resources(shop)["card_settings.member"]["applied"] == SETTINGS


def test_wxrec_diff_shows_only_the_settings_that_changed(shop: Path) -> None:
    base = load_manifest(shop)
    unchanged = asyncio.run(offline_plan(base, base, "manifests at HEAD", dict(COLORS)))
    assert unchanged.changes == []
    edit(shop, "need_verify_cod: false", "need_verify_cod: true")
    edited = asyncio.run(offline_plan(base, load_manifest(shop), "manifests at HEAD", dict(COLORS)))
    (change,) = edited.changes
    assert (change.address, change.action) == ("card_settings.member", Action.UPDATE)
    assert [(c.path, c.old, c.new) for c in change.changes] == [("self_consume_cell.need_verify_cod", False, True)]


SETTING_VALUES = {
    "activate_user_form": st.fixed_dictionaries(
        {"required_form": st.fixed_dictionaries({"common_field_id_list": st.lists(st.sampled_from(sorted(FIELDS)))})}
    ),
    "pay_cell": st.fixed_dictionaries({"is_open": st.booleans()}),
    "self_consume_cell": st.fixed_dictionaries({"is_open": st.booleans(), "need_verify_cod": st.booleans()}),
}
SOME_SETTINGS = st.fixed_dictionaries({}, optional=SETTING_VALUES)


@given(applied=SOME_SETTINGS, wanted=SOME_SETTINGS, same_card=st.booleans())
def test_a_plan_sends_what_differs_and_everything_to_another_card(
    applied: dict[str, Any], wanted: dict[str, Any], same_card: bool
) -> None:
    state = State(appid="wx1", endpoint="memory")
    state.resources["cards.m"] = {"id": "pNow"}
    state.resources["card_settings.m"] = {"card_id": "pNow" if same_card else "pOld", "applied": applied}
    changes = plan_settings({"m": {"card_type": "MEMBER_CARD", **wanted}}, state, {})
    if not wanted:
        assert [c.action for c in changes] == [Action.FORGET]
        return
    # A setting no longer declared is a change too (forgotten, not sent).
    differing = {name for name in {*wanted, *applied} if wanted.get(name) != applied.get(name)}
    if same_card and not differing:
        assert changes == []
        return
    (change,) = changes
    assert bool(change.reasons) is not same_card, "a card they were not set on gets them all, and says why"
    assert {c.path.split(".")[0] for c in change.changes} == differing
