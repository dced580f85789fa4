"""Member cards in full: every field of the member-card API in a manifest, validated with its rules between fields,
applied through the emulator, adopted from another client by export, and each edit classified as the member-card
update document says (docs/wechat/member-cards.md)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emulator import DEMO_APPID, DEMO_SECRET
from reconciler.errors import ManifestError
from reconciler.exported_card import card_problems, manifest_card
from reconciler.manifest import load_manifest
from reconciler.plan import Action, AttributeChange, Plan, ResourceChange
from reconciler.render.card_face import details
from reconciler.render.html import render_html
from reconciler.render.logos import logo_urls
from reconciler.resources.cards.diff import desired_document, field_changes, plan_card, unclearable
from reconciler.resources.cards.model import LiveCard, desired_card, to_epoch
from reconciler.resources.cards.record import CardRecord, record_document
from reconciler.resources.cards.rules import BONUS_RULE_FIELDS
from tests.member_card import BACKGROUND, MEMBER_BODY, member_card
from tests.support import Harness, served_emulator, wxrec
from tests.test_export import PALETTE, live_from
from tests.test_html_report import parsed

ACCOUNT = f"account:\n  appid: {DEMO_APPID}\n"


def full_spec() -> dict[str, Any]:
    """The full member card as a manifest writes it: WeChat's fields, the stock as wxrec plans it."""
    spec: dict[str, Any] = {"card_type": "MEMBER_CARD", **copy.deepcopy(MEMBER_BODY)}
    spec["base_info"]["sku"] = {"quantity": 1000}
    return spec


def ticket_spec(card_type: str, **own: Any) -> dict[str, Any]:
    """A ticket with the full card's base_info (less what only member cards take) and its own fields."""
    base_info = {name: value for name, value in full_spec()["base_info"].items() if name != "need_push_on_view"}
    base_info["date_info"] = {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0}
    return {"card_type": card_type, "base_info": base_info, **own}


def write_card(directory: Path, spec: dict[str, Any], key: str = "club") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "account.yaml").write_text(ACCOUNT, encoding="utf-8")
    path = directory / "member.yaml"
    path.write_text(yaml.safe_dump({"cards": {key: spec}}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifest(directory)
    return [str(problem) for problem in caught.value.problems]


# ---------------------------------------------------------------- validate


def test_validate_takes_every_member_field(tmp_path: Path) -> None:
    write_card(tmp_path, full_spec())
    card = load_manifest(tmp_path).cards["club"]
    assert card["bonus_rule"]["max_reduce_bonus"] == 50 and card["discount"] == 10


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"bonus_rules": None}, "supply_bonus", "true needs bonus_cleared and bonus_rules"),
        ({"supply_balance": True}, "supply_balance", "true needs balance_rules"),
        ({"wx_activate": True}, "wx_activate", "cannot be combined with activate_url"),
        ({"wx_activate_after_submit_url": "https://example.com/w"}, "wx_activate_after_submit_url", "needs"),
        ({"bonus_rules": "积" * 43}, "bonus_rules", "is 129 bytes of UTF-8, WeChat allows 128"),
        (
            {"custom_cell1": {"name": "入口", "tips": "七个汉字的提示", "url": "u"}},
            "custom_cell1.tips",
            "WeChat allows 18",
        ),
        ({"custom_field2": {"url": "https://example.com"}}, "custom_field2", "needs name_type"),
        ({"bonus_rule": {"increase_bonus": -1}}, "bonus_rule.increase_bonus", "is less than the minimum of 0"),
        ({"discount": 100}, "discount", "is greater than the maximum of 99"),
    ],
)
def test_validate_refuses_a_member_rule_at_its_field(
    tmp_path: Path, change: dict[str, Any], where: str, message: str
) -> None:
    spec = {name: value for name, value in (full_spec() | change).items() if value is not None}
    path = write_card(tmp_path, spec)
    found = problems_of(tmp_path)
    assert len(found) == 1 and f"cards.club.{where}" in found[0] and message in found[0], found
    assert found[0].startswith(f"{path}:"), found


def test_need_push_on_view_is_a_member_cards_base_info_field(tmp_path: Path) -> None:
    spec = full_spec()
    spec["need_push_on_view"] = spec["base_info"].pop("need_push_on_view")
    write_card(tmp_path, spec)
    assert any("need_push_on_view" in p for p in problems_of(tmp_path))
    ticket = ticket_spec("SCENIC_TICKET")
    ticket["base_info"]["need_push_on_view"] = True
    write_card(tmp_path, ticket)
    assert [p.split(": ", 1)[1] for p in problems_of(tmp_path)] == [
        "cards.club.base_info.need_push_on_view: is for MEMBER_CARD only"
    ]


def test_a_discount_cards_discount_still_starts_at_one(tmp_path: Path) -> None:
    coupon = {**full_spec(), "card_type": "DISCOUNT", "discount": 0, "base_info": {**full_spec()["base_info"]}}
    coupon["base_info"].pop("need_push_on_view")
    coupon["base_info"]["date_info"] = {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0}
    for name in set(MEMBER_BODY) - {"base_info", "discount"}:
        coupon.pop(name)
    write_card(tmp_path, coupon)
    assert any("cards.club.discount" in p and "minimum of 1" in p for p in problems_of(tmp_path))


# ---------------------------------------------------------------- adoption and apply, served


def test_a_member_card_made_by_another_client_exports_whole_and_plans_no_changes(tmp_path: Path) -> None:
    with served_emulator() as url:
        token = httpx.get(
            f"{url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET},
        ).json()["access_token"]
        made = httpx.post(f"{url}/card/create", params={"access_token": token}, json=member_card()).json()
        assert made["errcode"] == 0, made
        exported = wxrec("export", tmp_path, "--api", url)
        assert exported.exit_code == 0, exported.output
        text = (tmp_path / "cards.yaml").read_text(encoding="utf-8")
        assert "not managed" not in text
        card = next(iter(yaml.safe_load(text)["cards"].values()))
        assert card["bonus_rule"] == MEMBER_BODY["bonus_rule"] and card["discount"] == 10
        assert card["custom_cell1"] == MEMBER_BODY["custom_cell1"] and card["base_info"]["need_push_on_view"] is True
        assert wxrec("validate", tmp_path).exit_code == 0
        planned = wxrec("plan", tmp_path, "--api", url, "--detailed-exitcode")
        assert planned.exit_code == 0 and "No changes." in planned.output, planned.output


def test_a_full_member_card_applies_through_the_served_emulator_and_plans_no_changes(tmp_path: Path) -> None:
    write_card(tmp_path, full_spec())
    with served_emulator() as url:
        applied = wxrec("apply", tmp_path, "--api", url, "--auto-approve")
        assert applied.exit_code == 0, applied.output
        planned = wxrec("plan", tmp_path, "--api", url, "--detailed-exitcode")
        assert planned.exit_code == 0 and "No changes." in planned.output, planned.output


# ---------------------------------------------------------------- each edit, classified

IN_PLACE, REVIEW, REPLACE = "in place", "back to review", "replace"
EDITS: list[tuple[dict[str, Any], str]] = [
    ({"background_pic_url": "http://mmbiz.qpic.cn/mmbiz_png/winter/0"}, IN_PLACE),
    ({"bonus_url": "https://example.com/bonus2"}, IN_PLACE),
    ({"balance_url": "https://example.com/balance2"}, IN_PLACE),
    ({"bonus_app_brand_pass": "pages/bonus/v2"}, IN_PLACE),
    ({"balance_app_brand_user_name": "gh_0123456789ab@app"}, IN_PLACE),
    ({"activate_url": "https://example.com/activate2"}, IN_PLACE),
    ({"activate_app_brand_pass": "pages/activate/v2"}, IN_PLACE),
    ({"auto_activate": False}, IN_PLACE),
    ({"wx_activate_after_submit": True, "wx_activate_after_submit_url": "https://example.com/after"}, IN_PLACE),
    ({"custom_field1.url": "https://example.com/level2"}, IN_PLACE),
    ({"custom_field2.name": "礼品券"}, IN_PLACE),
    ({"custom_field3.name_type": "FIELD_NAME_TYPE_MILEAGE"}, IN_PLACE),
    ({"custom_cell1.tips": "立即查看"}, IN_PLACE),
    ({"bonus_rule.max_reduce_bonus": 80}, IN_PLACE),
    ({"bonus_rule.init_increase_bonus": 20}, IN_PLACE),
    ({"discount": 15}, IN_PLACE),
    ({"supply_balance": True, "balance_rules": "充值100送10"}, REVIEW),  # balance_rules is reviewed
    ({"base_info.service_phone": "020-66666666"}, IN_PLACE),
    ({"prerogative": "会员全场九折"}, REVIEW),
    ({"bonus_rules": "每消费2元积1分"}, REVIEW),
    ({"bonus_cleared": "永不清零"}, REVIEW),
    ({"base_info.title": "山丘咖啡金卡"}, REVIEW),
    ({"base_info.notice": "结账时出示"}, REVIEW),
    ({"supply_bonus": False}, REPLACE),
    ({"base_info.need_push_on_view": False}, REPLACE),
    ({"base_info.brand_name": "山丘"}, REPLACE),
]


TICKETS = {
    "SCENIC_TICKET": {"ticket_class": "成人票", "guide_url": "https://example.com/guide"},
    "MOVIE_TICKET": {"detail": "IMAX 3D"},
    "BOARDING_PASS": {"from": "上海", "to": "成都", "flight": "MU5401", "gate": "A1", "departure_time": 1_900_000_000},
    "MEETING_TICKET": {"meeting_detail": "年会", "map_url": "https://example.com/map"},
}
TICKET_EDITS: list[tuple[str, dict[str, Any], str]] = [
    ("SCENIC_TICKET", {"guide_url": "https://example.com/guide2"}, IN_PLACE),
    ("SCENIC_TICKET", {"ticket_class": "儿童票"}, REPLACE),
    ("MOVIE_TICKET", {"detail": "杜比影院"}, REVIEW),
    ("BOARDING_PASS", {"gate": "B2"}, IN_PLACE),
    ("BOARDING_PASS", {"departure_time": 1_900_003_600}, IN_PLACE),
    ("BOARDING_PASS", {"flight": "MU5402"}, REPLACE),
    ("MEETING_TICKET", {"map_url": "https://example.com/map2"}, IN_PLACE),
    ("MEETING_TICKET", {"meeting_detail": "年会（改期）"}, REPLACE),
]


def edited(spec: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(spec)
    for path, value in edit.items():
        *parents, leaf = path.split(".")
        node = result
        for part in parents:
            node = node[part]
        node[leaf] = value
    return result


def classified(change: Any) -> str:
    if change.action == Action.REPLACE:
        return REPLACE
    assert change.action == Action.UPDATE
    return REVIEW if change.review else IN_PLACE


@pytest.mark.parametrize(("edit", "expected"), EDITS, ids=[",".join(edit) for edit, _ in EDITS])
async def test_each_member_field_edit_is_classified_as_the_update_document_says(
    shop: Harness, edit: dict[str, Any], expected: str
) -> None:
    await classified_edit(shop, full_spec(), edit, expected)


@pytest.mark.parametrize(
    ("card_type", "edit", "expected"), TICKET_EDITS, ids=[f"{t}:{','.join(e)}" for t, e, _ in TICKET_EDITS]
)
async def test_each_ticket_field_edit_is_classified_as_the_update_document_says(
    shop: Harness, card_type: str, edit: dict[str, Any], expected: str
) -> None:
    await classified_edit(shop, ticket_spec(card_type, **TICKETS[card_type]), edit, expected)


async def classified_edit(shop: Harness, spec: dict[str, Any], edit: dict[str, Any], expected: str) -> None:
    """Apply `spec` alone, edit it, and check the plan's verdict; an in-place edit applies and converges."""
    for name in ("cards.yaml", "campaign.yaml"):
        (shop.directory / name).unlink()
    write_card(shop.directory, spec)
    await shop.apply()
    write_card(shop.directory, edited(spec, edit))
    plan = await shop.plan()
    [change] = plan.changes
    assert classified(change) == expected, change.to_dict()
    assert {c.path for c in change.changes} == set(edit)
    if expected != REPLACE:
        await shop.apply()
        assert not (await shop.plan()).changes
        card = await shop.api.get(shop.card_id("club"))
        assert card is not None
        live = card[spec["card_type"].lower()]
        for path, value in edit.items():
            node = live
            for part in path.split("."):
                node = node[part]
            assert node == value, path


# ---------------------------------------------------------------- the HTML card face


def test_the_card_face_shows_the_member_cards_rules_entries_and_background() -> None:
    spec = full_spec()
    card = desired_card("club", spec, None)
    before = {"card_type": "MEMBER_CARD", "fields": card.fields, "stock": {"quantity": 5, "total_quantity": 5}}
    after = {**desired_document(card), "fields": {**card.fields, "discount": 15}}
    change = ResourceChange("cards.club", Action.UPDATE, id="p1", before={**before, "status": "OK"}, after=after)
    change.changes = [AttributeChange("discount", 10, 15)]
    document = Plan(appid=DEMO_APPID, endpoint="emulator", changes=[change]).to_dict()
    assert logo_urls(document) == [MEMBER_BODY["base_info"]["logo_url"], BACKGROUND]  # --embed-logos fetches both
    page = render_html(
        document,
        palette={},
        logos={BACKGROUND: "data:image/png;base64,AAAA"},
    )
    lines = parsed(page, "detail").texts
    assert lines[: len(lines) // 2] == [
        "Privileges: 会员每月可领取一张免费升杯券",
        "Points: 每消费1元积1分",
        "1 point per ¥1 spent",
        "5 points take ¥1 off",
        "Member discount: 10% off",
        "Activates when claimed",
        "Member info “等级”",
        "Member info “优惠券”",
        "Member info “印花”",
        "Entry “使用入口2” (激活后显示)",
    ]
    assert "Member discount: 15% off" in lines[len(lines) // 2 :]
    assert page.count('class="entry detail changed"') == len(lines)
    assert page.count('<img class="background-image" src="data:image/png;base64,AAAA"') == 2


def test_a_member_switch_left_out_is_turned_off_and_a_text_left_out_is_said() -> None:
    spec = full_spec()
    applied = desired_card("club", spec, None).fields
    live = LiveCard("pCLUB", "MEMBER_CARD", "CARD_STATUS_VERIFY_OK", applied, quantity=5, total_quantity=5)
    for name in ("auto_activate", "bonus_url"):
        spec.pop(name)
    desired = desired_card("club", spec, None)
    assert [(c.path, c.new, c.reset) for c in field_changes(desired, live, applied)] == [("auto_activate", False, True)]
    assert [w.split(": ", 1)[1] for w in unclearable(desired, live, applied)] == [
        "bonus_url is no longer in the manifest, but WeChat cannot clear it: it stays 'https://example.com/bonus'"
    ]


def test_a_tickets_face_shows_its_own_fields() -> None:
    fields = {"from": "上海", "to": "成都", "flight": "MU5401", "departure_time": to_epoch("2026-09-21T22:13:00")}
    assert details("BOARDING_PASS", fields) == (
        "from: 上海",
        "to: 成都",
        "flight: MU5401",
        "departure_time: 2026-09-21 22:13",
    )


# ---------------------------------------------------------------- any member card, exported


RULED = {"card_type", "base_info", "prerogative", "supply_bonus", "supply_balance", "bonus_cleared", "bonus_rules"}
bonus_rules = st.dictionaries(st.sampled_from(BONUS_RULE_FIELDS), st.integers(0, 100_000), min_size=1)


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(sorted(set(MEMBER_BODY) - RULED))), bonus_rules, st.integers(0, 99))
def test_any_member_card_exports_whole_and_plans_no_change(left_out: set[str], rule: dict[str, int], off: int) -> None:
    spec = {name: value for name, value in full_spec().items() if name not in left_out}
    spec |= {name: value for name, value in (("bonus_rule", rule), ("discount", off)) if name in spec}
    live = live_from(spec, {})
    exported, dropped, refusal = manifest_card("x", live, PALETTE)
    assert exported is not None, refusal
    assert dropped == () and card_problems("x", exported) == []
    assert {name: exported[name] for name in spec if name != "base_info"} == {
        name: value for name, value in spec.items() if name != "base_info"
    }
    card = desired_card("x", exported, PALETTE)
    assert plan_card("cards.x", card, live, CardRecord.from_state(record_document(card, live.id))) is None
