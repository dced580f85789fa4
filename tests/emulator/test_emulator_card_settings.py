"""card/membercard/activateuserform/set, card/paycell/set, card/selfconsumecell/set: the bodies wechatpy and WxJava
send, what the documents refuse (field ids, card type, a card without stores), and the control that shows them."""

from __future__ import annotations

from typing import Any

import pytest

from .support import Api, base_info, card_body

FORM = "/card/membercard/activateuserform/set"
PAY_CELL = "/card/paycell/set"
SELF_CONSUME = "/card/selfconsumecell/set"
# wechatpy's docstring example of set_activate_user_form (card.py), as it sends it.
WECHATPY_FORM = {
    "service_statement": {"name": "会员守则", "url": "https://www.qq.com"},
    "bind_old_card": {"name": "老会员绑定", "url": "https://www.qq.com"},
    "required_form": {
        "can_modify": False,
        "rich_field_list": [
            {"type": "FORM_FIELD_RADIO", "name": "兴趣", "values": ["钢琴", "舞蹈", "足球"]},
            {"type": "FORM_FIELD_SELECT", "name": "喜好", "values": ["郭敬明", "韩寒", "南派三叔"]},
            {"type": "FORM_FIELD_CHECK_BOX", "name": "职业", "values": ["赛车手", "旅行家"]},
        ],
        "common_field_id_list": ["USER_FORM_INFO_FLAG_MOBILE", "USER_FORM_INFO_FLAG_LOCATION"],
    },
    "optional_form": {
        "can_modify": False,
        "common_field_id_list": ["USER_FORM_INFO_FLAG_EMAIL"],
        "custom_field_list": ["喜欢的电影"],
    },
}


async def member(api: Api, **base: Any) -> str:
    return await api.create(card_body("MEMBER_CARD", base_info(date_info={"type": "DATE_TYPE_PERMANENT"}, **base)))


async def settings(api: Api, card_id: str) -> dict[str, Any]:
    response = await api.client.get("/_emulator/cards")
    return next(dict(c["settings"]) for c in response.json()["cards"] if c["card_id"] == card_id)


async def test_wechatpys_activation_form_is_kept_whole_and_replaced_by_the_next(api: Api) -> None:
    card_id = await member(api)
    assert await api.post(FORM, {"card_id": card_id, **WECHATPY_FORM}) == {"errcode": 0, "errmsg": "ok"}
    assert (await settings(api, card_id))["activate_user_form"] == WECHATPY_FORM
    smaller = {"required_form": {"common_field_id_list": ["USER_FORM_INFO_FLAG_MOBILE"]}}
    assert (await api.post(FORM, {"card_id": card_id, **smaller}))["errcode"] == 0
    assert (await settings(api, card_id))["activate_user_form"] == smaller
    card = await api.card(card_id)
    assert "activate_user_form" not in str(card) and "required_form" not in str(card), "card/get never shows it"


@pytest.mark.parametrize(
    ("form", "errcode"),
    [
        ({"required_form": {"common_field_id_list": ["USER_FORM_INFO_FLAG_PHONE"]}}, 40097),
        ({"optional_form": {"rich_field_list": [{"type": "FORM_FIELD_TEXT", "name": "x", "values": []}]}}, 40097),
        ({"required_form": {"common_field_id_list": "USER_FORM_INFO_FLAG_MOBILE"}}, 47001),
        ({"required_form": {"fields": []}}, 47001),
        ({"service_statement": {"name": "守" * 11, "url": "https://www.qq.com"}}, 45021),
        ({"bind_old_card": {"name": "x", "url": "https://e.com/" + "a" * 120}}, 45021),
    ],
)
async def test_what_the_form_documents_refuse(api: Api, form: dict[str, Any], errcode: int) -> None:
    card_id = await member(api)
    assert (await api.post(FORM, {"card_id": card_id, **form}))["errcode"] == errcode
    assert await settings(api, card_id) == {}, "a refused call sets nothing"


async def test_both_spellings_of_the_disputed_field_ids_are_taken(api: Api) -> None:
    card_id = await member(api)
    ids = ["USER_FORM_INFO_FLAG_EDUCATION_BACKGRO", "USER_FORM_INFO_FLAG_EDUCATION_BACKGROUND"]
    ids += ["USER_FORM_INFO_FLAG_LOCATION", "USER_FORM_INFO_FLAG_DETAIL_LOCATION"]
    answer = await api.post(FORM, {"card_id": card_id, "optional_form": {"common_field_id_list": ids}})
    assert answer["errcode"] == 0


async def test_the_activation_form_is_a_member_cards_and_needs_a_live_card(api: Api) -> None:
    ticket = await api.create(card_body("MOVIE_TICKET"))
    assert (await api.post(FORM, {"card_id": ticket, **WECHATPY_FORM}))["errcode"] == 40071
    assert (await api.post(FORM, {"card_id": "pNoSuchCard", **WECHATPY_FORM}))["errcode"] == 40073
    assert (await api.post(FORM, WECHATPY_FORM))["errcode"] == 41012


async def test_the_pay_cell_needs_a_store_and_the_seeds_answer_says_so(api: Api) -> None:
    bare = await member(api)
    answer = await api.post(PAY_CELL, {"card_id": bare, "is_open": True})
    assert answer["errcode"] == 43017 and answer["errmsg"].startswith("require location id!")
    assert (await api.post(PAY_CELL, {"card_id": bare}))["errcode"] == 43017, "is_open defaults to true"
    assert (await api.post(PAY_CELL, {"card_id": bare, "is_open": False}))["errcode"] == 0, "closing needs none"
    stored = await member(api, location_id_list=[123])
    assert await api.post(PAY_CELL, {"card_id": stored, "is_open": True}) == {"errcode": 0, "errmsg": "ok"}
    assert (await settings(api, stored))["pay_cell"] == {"is_open": True}
    everywhere = await member(api, use_all_locations=True)
    assert (await api.post(PAY_CELL, {"card_id": everywhere}))["errcode"] == 0


async def test_the_self_consume_cell_as_wxjava_sends_it(api: Api) -> None:
    bare = await member(api)
    body = {"card_id": bare, "is_open": True, "need_verify_cod": True, "need_remark_amount": False}
    assert (await api.post(SELF_CONSUME, body))["errcode"] == 43017
    stored = await api.create(card_body("SCENIC_TICKET", base_info(location_id_list=[7])))
    assert (await api.post(SELF_CONSUME, {**body, "card_id": stored}))["errcode"] == 0
    assert (await settings(api, stored))["self_consume_cell"] == {
        "is_open": True,
        "need_verify_cod": True,
        "need_remark_amount": False,
    }


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        (SELF_CONSUME, {"need_verify_code": True}),  # one SDK's misspelling: not an alias
        (PAY_CELL, {"is_open": "true"}),
        (SELF_CONSUME, {"need_remark_amount": 1}),
    ],
)
async def test_cells_refuse_unknown_keys_and_non_booleans(api: Api, path: str, extra: dict[str, Any]) -> None:
    stored = await member(api, location_id_list=[1])
    assert (await api.post(path, {"card_id": stored, **extra}))["errcode"] == 47001
    assert await settings(api, stored) == {}
