"""The /_emulator/ controls: claims, reviews, the clock, console edits, listing, health."""

from __future__ import annotations

import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, default_accounts

from .support import T0, Api, FakeTime, MakeApi, ticket


async def test_claims_lower_quantity_only(api: Api) -> None:
    card_id = await api.create(ticket(sku={"quantity": 10}))
    response = await api.control("claim", {"card_id": card_id, "count": 3})
    assert response.status_code == 200
    assert response.json()["sku"] == {"quantity": 7, "total_quantity": 10}
    assert (await api.base_info(card_id))["sku"] == {"quantity": 7, "total_quantity": 10}


async def test_claims_beyond_stock_are_refused(api: Api) -> None:
    card_id = await api.create(ticket(sku={"quantity": 2}))
    response = await api.control("claim", {"card_id": card_id, "count": 3})
    assert response.status_code == 400
    assert "only 2 left" in response.json()["error"]
    assert (await api.base_info(card_id))["sku"]["quantity"] == 2


async def test_users_cannot_claim_a_card_in_review(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    card_id = await api.create()
    response = await api.control("claim", {"card_id": card_id, "count": 1})
    assert response.status_code == 400
    assert "CARD_STATUS_NOT_VERIFY" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [{"count": 1}, {"card_id": "pnope", "count": 1}, {"card_id": None, "count": 0}, {"appid": "wxunknown"}],
)
async def test_bad_control_input_is_http_400_with_an_error(api: Api, body: dict[str, object]) -> None:
    response = await api.control("claim", body)
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


async def test_malformed_control_body_is_400(api: Api) -> None:
    response = await api.client.post("/_emulator/clock", content=b"{not json")
    assert response.status_code == 400
    response = await api.client.post("/_emulator/nothing-here", json={})
    assert response.status_code == 404


async def test_review_control_rejects_and_only_acts_on_waiting_cards(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    card_id = await api.create()
    response = await api.control("review", {"card_id": card_id, "result": "reject"})
    assert response.json()["status"] == "CARD_STATUS_VERIFY_FAIL"
    assert (await api.base_info(card_id))["status"] == "CARD_STATUS_VERIFY_FAIL"
    again = await api.control("review", {"card_id": card_id, "result": "approve"})
    assert again.status_code == 400
    bad = await api.control("review", {"card_id": card_id, "result": "maybe"})
    assert bad.status_code == 400


async def test_clock_moves_forward_only(api: Api) -> None:
    response = await api.control("clock", {"advance": 3600})
    assert response.json() == {"now": T0 + 3600, "offset": 3600.0}
    assert (await api.control("clock", {"advance": -1})).status_code == 400
    assert (await api.control("clock", {"advance": "soon"})).status_code == 400


async def test_cards_lists_every_card_with_status_and_sku(api: Api) -> None:
    kept, deleted = await api.create(), await api.create()
    await api.post("/card/delete", {"card_id": deleted})
    response = await api.client.get("/_emulator/cards", params={"appid": DEMO_APPID})
    cards = response.json()["cards"]
    assert [(c["card_id"], c["status"]) for c in cards] == [
        (kept, "CARD_STATUS_VERIFY_OK"),
        (deleted, "CARD_STATUS_DELETE"),
    ]
    assert cards[0]["sku"] == {"quantity": 100, "total_quantity": 100}


async def test_console_edit_sets_fields_without_rules_or_review(api: Api, fake_time: FakeTime) -> None:
    card_id = await api.create()
    fake_time.now += 30
    edit = {
        "card_id": card_id,
        "base_info": {"brand_name": "改过的商户名很长很长很长很长很长", "sub_title": None},
    }
    response = await api.control("edit", edit)
    assert response.status_code == 200
    base = await api.base_info(card_id)
    assert base["brand_name"] == "改过的商户名很长很长很长很长很长"
    assert base["status"] == "CARD_STATUS_VERIFY_OK"
    assert base["update_time"] == int(T0) + 30
    refused = await api.control("edit", {"card_id": card_id, "base_info": {"status": "CARD_STATUS_DELETE"}})
    assert refused.status_code == 400


@pytest.mark.parametrize("legacy", [False, True])
async def test_health_says_whether_the_emulator_creates_coupons(make_api: MakeApi, legacy: bool) -> None:
    api = await make_api(legacy_coupons=legacy)
    response = await api.client.get("/_emulator/health")
    assert response.json() == {"status": "ok", "now": T0, "accounts": [DEMO_APPID], "legacy_coupons": legacy}


def test_default_accounts_come_from_the_environment() -> None:
    assert default_accounts({}) == {DEMO_APPID: DEMO_SECRET}
    assert default_accounts({"WXREC_APPID": "wxabc"}) == {DEMO_APPID: DEMO_SECRET}
    assert default_accounts({"WXREC_APPID": "wxabc", "WXREC_APPSECRET": "s3cret"}) == {"wxabc": "s3cret"}
