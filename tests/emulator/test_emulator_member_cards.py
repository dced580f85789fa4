"""A member card's own fields in the emulator: every field kept and answered, the objects' members checked, the
rules between fields (docs/wechat/member-cards.md), and what card/update takes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.member_card import MEMBER_BODY, member_card

from .support import Api, without_rid


async def create(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    return await api.post("/card/create", body)


async def test_every_member_field_is_kept_and_answered_by_card_get(api: Api) -> None:
    card_id = await api.create(member_card())
    answer = (await api.card(card_id))["member_card"]
    for name, value in MEMBER_BODY.items():
        if name != "base_info":
            assert answer[name] == value, name
    # need_push_on_view sits in base_info, as the create document's example has it.
    assert answer["base_info"]["need_push_on_view"] is True


@pytest.mark.parametrize(
    ("fields", "errcode", "path"),
    [
        ({"bonus_cleared": None}, 41011, "m_data.bonus_cleared"),
        ({"bonus_rules": ""}, 41011, "m_data.bonus_rules"),
        ({"supply_balance": True}, 41011, "m_data.balance_rules"),
        ({"custom_cell1": {"name": "入口", "url": "https://example.com"}}, 41011, "m_data.custom_cell1().tips"),
        ({"custom_cell1": {"name": "入口", "tips": "七个汉字的提示", "url": "u"}}, 45021, "m_data.custom_cell1().tips"),
        ({"custom_field1": {"name_type": "FIELD_NAME_TYPE_VIP"}}, 40097, "m_data.custom_field1().name_type"),
        ({"bonus_rule": {"increase_bonus": -1}}, 40097, "m_data.bonus_rule().increase_bonus"),
        ({"bonus_rule": {"increase_bonus": "1.5"}}, 47001, "m_data.bonus_rule().increase_bonus"),
        ({"discount": 100}, 40097, "m_data.discount"),
        ({"bonus_rules": "积" * 43}, 45021, "m_data.bonus_rules"),
    ],
)
async def test_member_rules_are_refused_with_the_field(
    api: Api, fields: dict[str, Any], errcode: int, path: str
) -> None:
    answer = await create(api, member_card(**fields))
    assert answer["errcode"] == errcode and without_rid(answer["errmsg"]).endswith(path), answer


async def test_supply_bonus_off_needs_no_bonus_texts(api: Api) -> None:
    assert (await create(api, member_card(supply_bonus=False, bonus_cleared=None, bonus_rules=None)))["errcode"] == 0


async def test_wx_activate_beside_activate_url_is_dropped_not_refused(api: Api) -> None:
    card_id = await api.create(member_card(wx_activate=True))
    assert (await api.card(card_id))["member_card"]["wx_activate"] is False
    plain = await api.create(member_card(wx_activate=True, activate_url=None))
    assert (await api.card(plain))["member_card"]["wx_activate"] is True


async def update(api: Api, card_id: str, **fields: Any) -> dict[str, Any]:
    return await api.post("/card/update", {"card_id": card_id, "member_card": fields})


@pytest.mark.parametrize(
    ("fields", "send_check"),
    [
        ({"background_pic_url": "http://mmbiz.qpic.cn/mmbiz_png/other/0"}, False),
        ({"bonus_rule": {"cost_money_unit": 200, "increase_bonus": 1}}, False),
        ({"discount": 20}, False),
        ({"bonus_url": "https://example.com/b2", "balance_url": "https://example.com/c2"}, False),
        ({"auto_activate": False, "activate_url": "https://example.com/a2"}, False),
        ({"activate_app_brand_pass": "pages/a2/index"}, False),
        ({"wx_activate_after_submit": True, "wx_activate_after_submit_url": "https://example.com/w"}, False),
        ({"custom_cell1": {"name": "新入口", "tips": "点击", "url": "https://example.com/n"}}, False),
        ({"bonus_rules": "每消费2元积1分"}, True),
        ({"prerogative": "全场九折"}, True),
    ],
)
async def test_member_fields_update_in_place_or_back_to_review(
    api: Api, fields: dict[str, Any], send_check: bool
) -> None:
    card_id = await api.create(member_card())
    answer = await update(api, card_id, **fields)
    assert answer["errcode"] == 0 and answer["send_check"] is send_check, answer
    card = (await api.card(card_id))["member_card"]
    assert {name: card[name] for name in fields} == fields


async def test_update_refuses_what_the_update_document_lacks(api: Api) -> None:
    card_id = await api.create(member_card())
    answer = await api.post(
        "/card/update", {"card_id": card_id, "member_card": {"base_info": {"need_push_on_view": False}}}
    )
    assert answer["errcode"] == 47001
    # A card switched to wx_activate beside its activate_url loses it, as on create.
    assert (await update(api, card_id, wx_activate=True))["errcode"] == 0
    assert (await api.card(card_id))["member_card"]["wx_activate"] is False
