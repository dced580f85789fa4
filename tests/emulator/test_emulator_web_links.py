"""Web links gave way to mini programs: card/create and card/update refuse center_url, custom_url and
promotion_url (errcode 73211); the mini-program pairs that replace them are kept, returned and updatable.

Member cards and tickets: coupons are a separate story (no new ones since 2021)."""

from __future__ import annotations

from typing import Any

import pytest

from .support import Api, MakeApi, base_info, card_body, without_rid

WEB_LINKS = ("center_url", "custom_url", "promotion_url")
MINI_PROGRAM = {
    "center_app_brand_user_name": "gh_86a091e50ad4@app",
    "center_app_brand_pass": "pages/member/index",
    "custom_app_brand_user_name": "gh_86a091e50ad4@app",
    "custom_app_brand_pass": "pages/order/index?from=card",
    "promotion_app_brand_user_name": "gh_86a091e50ad4@app",
    "promotion_app_brand_pass": "pages/promo/index",
}
REFUSED = "不再支持配置网页链接跳转，请选择小程序替代"
NOT_COUPONS = ("MEMBER_CARD", "SCENIC_TICKET", "MOVIE_TICKET", "BOARDING_PASS", "MEETING_TICKET", "BUS_TICKET")


def card(card_type: str = "SCENIC_TICKET", **base: Any) -> dict[str, Any]:
    body = base_info(**base)
    if card_type == "MEMBER_CARD":
        body["date_info"] = {"type": "DATE_TYPE_PERMANENT"}
    return card_body(card_type, body)


async def update(api: Api, card_id: str, **base: Any) -> dict[str, Any]:
    key = (await api.card(card_id))["card_type"].lower()
    return await api.post("/card/update", {"card_id": card_id, key: {"base_info": base}})


async def card_count(api: Api) -> int:
    return int((await api.post("/card/batchget", {"offset": 0, "count": 50}))["total_num"])


@pytest.mark.parametrize("link", WEB_LINKS)
@pytest.mark.parametrize("value", ["https://example.com/shop", ""])
async def test_create_refuses_a_web_link_even_empty_and_creates_nothing(api: Api, link: str, value: str) -> None:
    answer = await api.post("/card/create", card(**{link: value, **MINI_PROGRAM}))
    assert answer["errcode"] == 73211
    assert answer["errmsg"].startswith(REFUSED + " hint: [")
    assert await card_count(api) == 0


async def test_a_web_link_sent_as_null_is_not_sent(api: Api) -> None:
    card_id = await api.create(card(center_url=None))
    assert "center_url" not in await api.base_info(card_id)


@pytest.mark.parametrize("link", WEB_LINKS)
@pytest.mark.parametrize("value", ["https://example.com/shop", ""])
async def test_update_refuses_a_web_link_even_empty_and_changes_nothing(api: Api, link: str, value: str) -> None:
    card_id = await api.create(card(**MINI_PROGRAM))
    before = await api.base_info(card_id)
    answer = await update(api, card_id, service_phone="020-1234567", **{link: value})
    assert answer["errcode"] == 73211
    assert await api.base_info(card_id) == before


@pytest.mark.parametrize("card_type", NOT_COUPONS)
async def test_create_keeps_the_mini_program_fields_and_card_get_returns_them(api: Api, card_type: str) -> None:
    base = await api.base_info(await api.create(card(card_type, **MINI_PROGRAM)))
    assert {name: base.get(name) for name in MINI_PROGRAM} == MINI_PROGRAM


@pytest.mark.parametrize("card_type", NOT_COUPONS)
async def test_update_changes_a_mini_program_field_in_place_without_review(make_api: MakeApi, card_type: str) -> None:
    api = await make_api(review="manual")
    card_id = await api.create(card(card_type, **MINI_PROGRAM))
    await api.control("review", {"card_id": card_id, "result": "approve"})
    answer = await update(api, card_id, custom_app_brand_pass="pages/order/new", center_app_brand_user_name="gh_1@app")
    assert answer == {"errcode": 0, "errmsg": "ok", "send_check": False}
    base = await api.base_info(card_id)
    assert base["custom_app_brand_pass"] == "pages/order/new"
    assert base["center_app_brand_user_name"] == "gh_1@app"
    assert base["promotion_app_brand_pass"] == MINI_PROGRAM["promotion_app_brand_pass"]
    assert base["status"] == "CARD_STATUS_VERIFY_OK"


@pytest.mark.parametrize("name", list(MINI_PROGRAM))
async def test_a_mini_program_field_takes_128_bytes(api: Api, name: str) -> None:
    assert (await api.post("/card/create", card(**{name: "p" * 128})))["errcode"] == 0
    answer = await api.post("/card/create", card(**{name: "p" * 129}))
    assert answer["errcode"] == 45021 and without_rid(answer["errmsg"]).endswith(f"m_data.base_info().{name}")
