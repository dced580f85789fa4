"""card/get, card/batchget, card/modifystock, card/delete and card/getcolors."""

from __future__ import annotations

import re

import pytest

from .support import HINT, RID, T0, Api, FakeTime, MakeApi, ticket

SEED_COLORS = [
    {"name": "Color010", "value": "#63b359"},
    {"name": "Color020", "value": "#2c9f67"},
    {"name": "Color030", "value": "#509fc9"},
    {"name": "Color040", "value": "#5885cf"},
    {"name": "Color050", "value": "#9062c0"},
    {"name": "Color060", "value": "#d09a45"},
    {"name": "Color070", "value": "#e4b138"},
    {"name": "Color080", "value": "#ee903c"},
    {"name": "Color081", "value": "#f08500"},
    {"name": "Color082", "value": "#a9d92d"},
    {"name": "Color090", "value": "#dd6549"},
    {"name": "Color100", "value": "#cc463d"},
    {"name": "Color101", "value": "#cf3e36"},
    {"name": "Color102", "value": "#5E6671"},
]


async def sku(api: Api, card_id: str) -> dict[str, int]:
    return dict((await api.base_info(card_id))["sku"])


async def stock(api: Api, card_id: str, **change: object) -> dict[str, object]:
    return await api.post("/card/modifystock", {"card_id": card_id, **change})


async def batchget(api: Api, **body: object) -> dict[str, object]:
    return await api.post("/card/batchget", body)


async def test_getcolors_answers_the_seed_table_exactly(api: Api) -> None:
    answer = await api.get("/card/getcolors")
    assert answer == {"errcode": 0, "errmsg": "ok", "colors": SEED_COLORS}


async def test_card_colour_comes_back_as_the_getcolors_value(api: Api) -> None:
    base = await api.base_info(await api.create(ticket(color="Color102")))
    assert base["color"] == "#5E6671"


async def test_unknown_card_id_is_40073_in_wechat_words(api: Api) -> None:
    answer = await api.post("/card/get", {"card_id": "pdkJ9uLRSbnB3UFEjZAgUxAJrjeY"})
    assert answer["errcode"] == 40073
    assert re.fullmatch(rf"invalid card id {HINT}{RID}", answer["errmsg"])
    assert (await api.post("/card/get", {}))["errcode"] == 41012


async def test_every_error_ends_with_a_rid_stamped_with_the_request_time(api: Api, fake_time: FakeTime) -> None:
    """WeChat's errmsgs end with ` rid: <time in hex>-<8 hex>-<8 hex>` (rid 630ecbee-… on 2022-08-31)."""
    refused = await api.post("/card/get", {"card_id": "pdkJ9uLRSbnB3UFEjZAgUxAJrjeY"})
    fake_time.now += 4096
    bad_token = await api.post("/card/get", {"card_id": "x"}, token="not-a-token")
    rids = [a["errmsg"].rsplit(" rid: ", 1)[1] for a in (refused, bad_token)]
    assert [int(rid.split("-")[0], 16) for rid in rids] == [int(T0), int(T0) + 4096]
    assert rids[0] != rids[1] and bad_token["errmsg"].count(" rid: ") == 1
    assert (await api.post("/card/create", ticket()))["errmsg"] == "ok"


async def test_cards_of_another_account_are_invisible(make_api: MakeApi) -> None:
    accounts = {"wx0123456789abcdef": "one", "wxfedcba9876543210": "two"}
    client = (await make_api(accounts=accounts)).client
    first, second = (Api(client, appid, secret) for appid, secret in accounts.items())
    card_id = await first.create()
    assert (await second.post("/card/get", {"card_id": card_id}))["errcode"] == 40073
    assert (await batchget(second, offset=0, count=50))["total_num"] == 0


async def test_delete_hides_the_card(api: Api) -> None:
    card_id = await api.create()
    assert await api.post("/card/delete", {"card_id": card_id}) == {"errcode": 0, "errmsg": "ok"}
    assert (await api.post("/card/get", {"card_id": card_id}))["errcode"] == 40073
    assert (await api.post("/card/delete", {"card_id": card_id}))["errcode"] == 40073
    assert (await stock(api, card_id, increase_stock_value=1))["errcode"] == 40073


async def test_batchget_pages_120_cards_in_creation_order(api: Api) -> None:
    ids = [await api.create() for _ in range(120)]
    pages = [await batchget(api, offset=offset, count=50) for offset in (0, 50, 100)]
    assert [len(p["card_id_list"]) for p in pages] == [50, 50, 20]  # type: ignore[arg-type]
    assert all(p["total_num"] == 120 and p["errcode"] == 0 for p in pages)
    assert [i for p in pages for i in p["card_id_list"]] == ids  # type: ignore[attr-defined]
    beyond = await batchget(api, offset=120, count=50)
    assert beyond["card_id_list"] == [] and beyond["total_num"] == 120


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"offset": 0, "count": 51}, 40097),
        ({"offset": 0, "count": 0}, 40097),
        ({"offset": -1, "count": 10}, 40097),
        ({"count": 10}, 41011),
        ({"offset": 0, "count": 10, "status_list": "CARD_STATUS_VERIFY_OK"}, 47001),
        ({"offset": 0, "count": 10, "status_list": ["CARD_STATUS_SOLD_OUT"]}, 40078),
    ],
)
async def test_batchget_refuses_bad_paging(api: Api, body: dict[str, object], errcode: int) -> None:
    assert (await batchget(api, **body))["errcode"] == errcode


async def test_batchget_filters_by_status_and_accepts_old_spellings(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    approved, rejected, waiting, deleted = [await api.create() for _ in range(4)]
    await api.control("review", {"card_id": approved, "result": "approve"})
    await api.control("review", {"card_id": rejected, "result": "reject"})
    await api.post("/card/delete", {"card_id": deleted})

    listed = await batchget(api, offset=0, count=50)
    assert listed["card_id_list"] == [approved, rejected, waiting]
    assert listed["total_num"] == 3
    ok = await batchget(api, offset=0, count=50, status_list=["CARD_STATUS_VERIFY_OK"])
    assert ok["card_id_list"] == [approved] and ok["total_num"] == 1
    old = await batchget(api, offset=0, count=50, status_list=["CARD_STATUS_VERIFY_FALL", "CARD_STATUS_USER_DELETE"])
    assert old["card_id_list"] == [rejected, deleted]
    gone = await batchget(api, offset=0, count=50, status_list=["CARD_STATUS_DELETE"])
    assert gone["card_id_list"] == [deleted]


async def test_modifystock_moves_quantity_and_total_together(api: Api) -> None:
    card_id = await api.create(ticket(sku={"quantity": 100}))
    assert await stock(api, card_id, increase_stock_value=50) == {"errcode": 0, "errmsg": "ok"}
    assert await sku(api, card_id) == {"quantity": 150, "total_quantity": 150}
    await stock(api, card_id, reduce_stock_value="30")
    assert await sku(api, card_id) == {"quantity": 120, "total_quantity": 120}
    assert (await stock(api, card_id, increase_stock_value=0))["errcode"] == 0
    assert await sku(api, card_id) == {"quantity": 120, "total_quantity": 120}


async def test_modifystock_takes_both_values_in_one_call_as_their_net_effect(api: Api) -> None:
    """The official example sends increase_stock_value and reduce_stock_value together."""
    card_id = await api.create(ticket(sku={"quantity": 100}))
    both = {"card_id": card_id, "increase_stock_value": 1231231, "reduce_stock_value": 1231231}
    assert (await api.post("/card/modifystock", both))["errcode"] == 0
    assert await sku(api, card_id) == {"quantity": 100, "total_quantity": 100}
    await stock(api, card_id, increase_stock_value=5, reduce_stock_value="30")
    assert await sku(api, card_id) == {"quantity": 75, "total_quantity": 75}


async def test_modifystock_is_not_idempotent(api: Api) -> None:
    card_id = await api.create(ticket(sku={"quantity": 10}))
    for _ in range(2):
        await stock(api, card_id, increase_stock_value=5)
    assert await sku(api, card_id) == {"quantity": 20, "total_quantity": 20}


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        ({"increase_stock_value": 1, "reduce_stock_value": 12}, 40122),
        ({}, 41011),
        ({"reduce_stock_value": 11}, 40122),
        ({"increase_stock_value": -5}, 40122),
        ({"increase_stock_value": 100_000_000 - 9}, 40122),
        ({"increase_stock_value": "lots"}, 47001),
    ],
)
async def test_modifystock_refusals_change_nothing(api: Api, change: dict[str, object], errcode: int) -> None:
    card_id = await api.create(ticket(sku={"quantity": 10}))
    assert (await stock(api, card_id, **change))["errcode"] == errcode
    assert await sku(api, card_id) == {"quantity": 10, "total_quantity": 10}


async def test_modifystock_after_claims_keeps_the_total(api: Api) -> None:
    card_id = await api.create(ticket(sku={"quantity": 10}))
    assert (await api.control("claim", {"card_id": card_id, "count": 4})).status_code == 200
    assert await sku(api, card_id) == {"quantity": 6, "total_quantity": 10}
    assert (await stock(api, card_id, reduce_stock_value=7))["errcode"] == 40122
    await stock(api, card_id, reduce_stock_value=6)
    assert await sku(api, card_id) == {"quantity": 0, "total_quantity": 4}


async def test_unknown_api_paths_answer_api_unauthorized(api: Api) -> None:
    answer = await api.post("/card/landingpage/nonexistent", {})
    assert answer["errcode"] == 48001
    assert answer["errmsg"].startswith("api unauthorized")
