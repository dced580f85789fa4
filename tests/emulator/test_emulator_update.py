"""card/update: what can change, what goes back to review, what is refused (changing nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from .support import FUTURE, T0, Api, FakeTime, MakeApi, base_info, card_body, ticket


async def update(api: Api, card_id: str, base: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    card = await api.card(card_id)
    key = card["card_type"].lower()
    data: dict[str, Any] = dict(fields)
    if base is not None:
        data["base_info"] = base
    return await api.post("/card/update", {"card_id": card_id, key: data})


async def test_a_review_field_change_sends_the_card_back_to_review(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    card_id = await api.create()
    await api.control("review", {"card_id": card_id, "result": "approve"})
    answer = await update(api, card_id, {"notice": "请出示此券"})
    assert answer == {"errcode": 0, "errmsg": "ok", "send_check": True}
    base = await api.base_info(card_id)
    assert base["notice"] == "请出示此券"
    assert base["status"] == "CARD_STATUS_NOT_VERIFY"


async def test_instant_review_approves_the_update_again(api: Api) -> None:
    card_id = await api.create()
    assert (await update(api, card_id, {"color": "Color020"}))["send_check"] is True
    base = await api.base_info(card_id)
    assert base["color"] == "#2c9f67" and base["status"] == "CARD_STATUS_VERIFY_OK"


async def test_sending_an_unchanged_review_field_does_not_review(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    card_id = await api.create()
    await api.control("review", {"card_id": card_id, "result": "approve"})
    body = base_info()
    answer = await update(api, card_id, {"notice": body["notice"], "color": body["color"]})
    assert answer["send_check"] is False
    assert (await api.base_info(card_id))["status"] == "CARD_STATUS_VERIFY_OK"


async def test_no_review_fields_change_in_place(make_api: MakeApi, fake_time: FakeTime) -> None:
    api = await make_api(review="manual")
    card_id = await api.create()
    await api.control("review", {"card_id": card_id, "result": "approve"})
    fake_time.now += 100
    changes = {
        "service_phone": "020-88888888",
        "get_limit": 3,
        "can_share": False,
        "code_type": "CODE_TYPE_QRCODE",
        "custom_url_name": "立即使用",
        "promotion_url_sub_title": "卖场大优惠",
    }
    assert (await update(api, card_id, changes))["send_check"] is False
    base = await api.base_info(card_id)
    assert {k: base[k] for k in changes} == changes
    assert base["status"] == "CARD_STATUS_VERIFY_OK"
    assert base["update_time"] == int(T0) + 100
    assert base["create_time"] == int(T0)


@pytest.mark.parametrize(
    ("base", "fields"),
    [
        ({"brand_name": "别的商户"}, {}),
        ({"title": "新标题"}, {}),
        ({"sub_title": "副标题"}, {}),
        ({"use_custom_code": True}, {}),
        ({"bind_openid": True}, {}),
        ({"sku": {"quantity": 5}}, {}),
        ({"source": "大众点评"}, {}),
        ({"notice": "新提醒", "brand_name": "海底捞"}, {}),
        ({}, {"ticket_class": "儿童票"}),
        ({}, {"advanced_info": {"share_friends": True}}),
    ],
)
async def test_fields_update_cannot_change_are_refused_and_nothing_changes(
    api: Api, base: dict[str, Any], fields: dict[str, Any]
) -> None:
    card_id = await api.create()
    before = await api.card(card_id)
    answer = await update(api, card_id, base, **fields)
    assert answer["errcode"] == 47001
    assert "can not be updated" in answer["errmsg"]
    assert await api.card(card_id) == before


async def test_card_type_fields_of_other_types_are_refused(api: Api) -> None:
    card_id = await api.create(card_body("MEETING_TICKET"))
    before = await api.card(card_id)
    assert (await update(api, card_id, ticket_class="儿童票"))["errcode"] == 47001
    assert await api.card(card_id) == before


async def test_a_wrong_type_key_is_47001(api: Api) -> None:
    card_id = await api.create()
    answer = await api.post("/card/update", {"card_id": card_id, "cash": {"base_info": {"notice": "x"}}})
    assert answer["errcode"] == 47001
    answer = await api.post("/card/update", {"card_id": card_id})
    assert answer["errcode"] == 47001


async def test_update_checks_values_like_create(api: Api) -> None:
    card_id = await api.create()
    before = await api.card(card_id)
    assert (await update(api, card_id, {"notice": "一二三四五六七八九十一二三四五六七"}))["errcode"] == 45021
    assert (await update(api, card_id, {"color": "#63b359"}))["errcode"] == 40097
    assert (await update(api, card_id, {"code_type": "CODE_TYPE_PDF417"}))["errcode"] == 40072
    assert (await update(api, card_id, {"notice": ""}))["errcode"] == 41011
    assert (await update(api, card_id, {"can_share": "no"}))["errcode"] == 47001
    assert await api.card(card_id) == before


async def test_an_unknown_or_deleted_card_is_40073(api: Api) -> None:
    answer = await api.post("/card/update", {"card_id": "pnope", "scenic_ticket": {"base_info": {}}})
    assert answer["errcode"] == 40073
    card_id = await api.create()
    await api.post("/card/delete", {"card_id": card_id})
    answer = await api.post("/card/update", {"card_id": card_id, "scenic_ticket": {"base_info": {"notice": "x"}}})
    assert answer["errcode"] == 40073


def range_dates(begin: int, end: int) -> dict[str, Any]:
    return {"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": begin, "end_timestamp": end}


async def test_date_range_can_only_widen(api: Api) -> None:
    begin, end = int(T0), FUTURE
    card_id = await api.create(ticket(date_info=range_dates(begin, end)))
    assert (await update(api, card_id, {"date_info": range_dates(begin, end + 86400)}))["send_check"] is False
    assert (await update(api, card_id, {"date_info": range_dates(begin - 86400, end + 86400)}))["errcode"] == 0
    assert (await update(api, card_id, {"date_info": range_dates(begin - 86400, end)}))["errcode"] == 40100
    assert (await update(api, card_id, {"date_info": range_dates(begin, end + 86400)}))["errcode"] == 40100
    dates = (await api.base_info(card_id))["date_info"]
    assert dates == range_dates(begin - 86400, end + 86400)


async def test_date_type_rules_on_update(api: Api) -> None:
    card_id = await api.create(ticket(date_info=range_dates(int(T0), FUTURE)))
    term = {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0}
    assert (await update(api, card_id, {"date_info": term}))["errcode"] == 40079
    term_card = await api.create(ticket(date_info=term))
    answer = await update(api, term_card, {"date_info": range_dates(int(T0), FUTURE)})
    assert answer["errcode"] == 40079
    assert (await api.base_info(term_card))["date_info"] == term


async def test_location_list_updates_and_zero_clears_it(api: Api) -> None:
    card_id = await api.create()
    await update(api, card_id, {"location_id_list": [123, 12321]})
    assert (await api.base_info(card_id))["location_id_list"] == [123, 12321]
    await update(api, card_id, {"location_id_list": "0"})
    assert (await api.base_info(card_id))["location_id_list"] == []


async def test_use_all_locations_updates_in_place_and_excludes_a_location_list(api: Api) -> None:
    """The 2016-06-06 update log: card/update takes use_all_locations."""
    card_id = await api.create()
    answer = await update(api, card_id, {"use_all_locations": True})
    assert (answer["errcode"], answer["send_check"]) == (0, False)
    assert (await api.base_info(card_id))["use_all_locations"] is True
    before = await api.card(card_id)
    assert (await update(api, card_id, {"location_id_list": [123]}))["errcode"] == 40097
    assert await api.card(card_id) == before
    await update(api, card_id, {"use_all_locations": False, "location_id_list": [123]})
    base = await api.base_info(card_id)
    assert (base["use_all_locations"], base["location_id_list"]) == (False, [123])


DEPOSIT = {"get_custom_code_mode": "GET_CUSTOM_CODE_MODE_DEPOSIT"}


async def test_an_existing_custom_code_card_switches_to_the_deposit_mode_as_the_seed_says(api: Api) -> None:
    """4.1 非新创建卡券: deposit codes, card/update with get_custom_code_mode, then stock = the codes. The switch
    is refused (40136) while the stock left is more than the codes deposited."""
    card_id = await api.create(ticket(use_custom_code=True, sku={"quantity": 3}))
    before = await api.card(card_id)
    assert (await update(api, card_id, DEPOSIT))["errcode"] == 40136
    assert await api.card(card_id) == before
    answer = await api.post("/card/code/deposit", {"card_id": card_id, "code": ["c1", "c2", "c3"]})
    assert answer["succ_code"] == ["c1", "c2", "c3"]
    answer = await update(api, card_id, DEPOSIT)
    assert (answer["errcode"], answer["send_check"]) == (0, False)
    assert (await api.base_info(card_id))["get_custom_code_mode"] == DEPOSIT["get_custom_code_mode"]
    increase = {"card_id": card_id, "increase_stock_value": 1}
    assert (await api.post("/card/modifystock", increase))["errcode"] == 40136, "now capped by the codes"
    qr = {"action_name": "QR_CARD", "action_info": {"card": {"card_id": card_id, "code": "c1"}}}
    assert (await api.post("/card/qrcode/create", qr))["errcode"] == 40116, "WeChat picks the code now"


async def test_the_deposit_mode_needs_a_custom_code_card_and_is_the_only_mode(api: Api) -> None:
    plain = await api.create()
    assert (await update(api, plain, DEPOSIT))["errcode"] == 40097
    custom = await api.create(ticket(use_custom_code=True, sku={"quantity": 1}))
    assert (await update(api, custom, {"get_custom_code_mode": "GET_CUSTOM_CODE_MODE_OTHER"}))["errcode"] == 40097


async def test_member_card_title_and_rules_go_to_review(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    base = base_info(date_info={"type": "DATE_TYPE_PERMANENT"})
    card_id = await api.create(card_body("MEMBER_CARD", base))
    await api.control("review", {"card_id": card_id, "result": "approve"})
    assert (await update(api, card_id, {"title": "金卡"}))["send_check"] is True
    await api.control("review", {"card_id": card_id, "result": "approve"})
    assert (await update(api, card_id, prerogative="全场7折"))["send_check"] is True
    await api.control("review", {"card_id": card_id, "result": "approve"})
    field = {"name_type": "FIELD_NAME_TYPE_LEVEL", "url": "http://example.com"}
    assert (await update(api, card_id, custom_field1=field))["send_check"] is False
    card = (await api.card(card_id))["member_card"]
    assert card["base_info"]["title"] == "金卡"
    assert card["prerogative"] == "全场7折" and card["custom_field1"] == field


async def test_member_card_bonus_can_be_switched_on_but_not_off(api: Api) -> None:
    base = base_info(date_info={"type": "DATE_TYPE_PERMANENT"})
    card_id = await api.create(card_body("MEMBER_CARD", base))
    # "supply_bonus为true时必填": switched on, the card needs its bonus texts.
    assert (await update(api, card_id, supply_bonus=True))["errcode"] == 41011
    texts = {"bonus_cleared": "每年清零", "bonus_rules": "1元1分"}
    assert (await update(api, card_id, supply_bonus=True, **texts))["errcode"] == 0
    assert (await update(api, card_id, supply_bonus=False))["errcode"] == 47001
    assert (await api.card(card_id))["member_card"]["supply_bonus"] is True


async def test_boarding_pass_gate_changes_without_review(api: Api) -> None:
    card_id = await api.create(card_body("BOARDING_PASS"))
    assert (await update(api, card_id, gate="3号"))["send_check"] is False
    assert (await api.card(card_id))["boarding_pass"]["gate"] == "3号"
    assert (await update(api, card_id, flight="CE999"))["errcode"] == 47001
