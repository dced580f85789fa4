"""Custom code deposit: deposit, getdepositcount, checkcode, and the cap on card/modifystock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator.assets import CodeBox

from .support import Api, MakeApi, ticket

DEPOSIT_MODE = {"use_custom_code": True, "get_custom_code_mode": "GET_CUSTOM_CODE_MODE_DEPOSIT", "sku": {"quantity": 0}}
SEED_CODES = ["11111", "22222", "33333"]


async def deposit_card(api: Api) -> str:
    return await api.create(ticket(**DEPOSIT_MODE))


async def deposit(api: Api, card_id: str, codes: list[Any]) -> dict[str, Any]:
    return await api.post("/card/code/deposit", {"card_id": card_id, "code": codes})


async def count(api: Api, card_id: str) -> Any:
    return (await api.post("/card/code/getdepositcount", {"card_id": card_id}))["count"]


async def stock(api: Api, card_id: str, **change: int) -> int:
    return int((await api.post("/card/modifystock", {"card_id": card_id, **change}))["errcode"])


async def test_the_seeds_workflow_and_answers(api: Api) -> None:
    card_id = await deposit_card(api)
    assert await deposit(api, card_id, SEED_CODES) == {
        "errcode": 0,
        "errmsg": "ok",
        "succ_code": SEED_CODES,
        "duplicate_code": [],
        "fail_code": [],
    }
    # The seed's real answer to depositing the same codes again.
    assert await deposit(api, card_id, SEED_CODES) == {
        "errcode": 0,
        "errmsg": "ok",
        "succ_code": [],
        "duplicate_code": SEED_CODES,
        "fail_code": [],
    }
    assert await api.post("/card/code/getdepositcount", {"card_id": card_id}) == {
        "errcode": 0,
        "errmsg": "ok",
        "count": 3,
    }
    # The seed's real checkcode answer.
    check = await api.post("/card/code/checkcode", {"card_id": card_id, "code": ["807732265476", "22222", "33333"]})
    assert check == {
        "errcode": 0,
        "errmsg": "ok",
        "exist_code": ["22222", "33333"],
        "not_exist_code": ["807732265476"],
    }
    assert await stock(api, card_id, increase_stock_value=3) == 0
    assert (await api.base_info(card_id))["sku"] == {"quantity": 3, "total_quantity": 3}


async def test_mixed_results_and_fail_codes(api: Api) -> None:
    card_id = await deposit_card(api)
    await deposit(api, card_id, ["1"])
    answer = await deposit(api, card_id, ["1", "2", "x" * 21, "with space", "tab\t", "中文码"])
    assert (answer["succ_code"], answer["duplicate_code"]) == (["2", "中文码"], ["1"])
    assert answer["fail_code"] == ["x" * 21, "with space", "tab\t"]
    assert await count(api, card_id) == 3


@pytest.mark.parametrize(
    ("codes", "errcode"),
    [
        ([str(i) for i in range(101)], 40109),
        (["1", ""], 40110),
        (["1", "2", "1"], 40111),
        ([], 41011),
        (None, 41011),
        ([1, 2], 47001),
        ("11111", 47001),
    ],
)
async def test_bad_deposits_change_nothing(api: Api, codes: Any, errcode: int) -> None:
    card_id = await deposit_card(api)
    assert (await deposit(api, card_id, codes))["errcode"] == errcode
    assert await count(api, card_id) == 0


async def test_a_hundred_codes_is_the_limit(api: Api) -> None:
    card_id = await deposit_card(api)
    codes = [f"{i:012d}" for i in range(100)]
    assert len((await deposit(api, card_id, codes))["succ_code"]) == 100
    check = await api.post("/card/code/checkcode", {"card_id": card_id, "code": codes})
    assert check["exist_code"] == codes
    too_many = await api.post("/card/code/checkcode", {"card_id": card_id, "code": [*codes, "x"]})
    assert too_many["errcode"] == 40109
    assert (await api.post("/card/code/checkcode", {"card_id": card_id, "code": [""]}))["errcode"] == 40110


async def test_only_custom_code_cards_approved_first(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    plain = await api.create()
    assert (await deposit(api, plain, SEED_CODES))["errcode"] == 40097
    assert (await api.post("/card/code/getdepositcount", {"card_id": plain}))["errcode"] == 40097
    assert (await api.post("/card/code/checkcode", {"card_id": plain, "code": ["1"]}))["errcode"] == 40097
    card_id = await deposit_card(api)
    assert (await deposit(api, card_id, SEED_CODES))["errcode"] == 40078, "not approved yet"
    assert await count(api, card_id) == 0, "reads need no approval"
    await api.control("review", {"card_id": card_id, "result": "approve"})
    assert (await deposit(api, card_id, SEED_CODES))["errcode"] == 0
    assert (await deposit(api, "pNOPE", SEED_CODES))["errcode"] == 40073
    assert (await api.post("/card/code/deposit", {"code": SEED_CODES}))["errcode"] == 41012
    await api.post("/card/delete", {"card_id": card_id})
    assert (await api.post("/card/code/getdepositcount", {"card_id": card_id}))["errcode"] == 40073


async def test_stock_never_exceeds_the_codes_not_handed_out(api: Api) -> None:
    card_id = await deposit_card(api)
    assert await stock(api, card_id, increase_stock_value=1) == 40136, "no codes yet"
    await deposit(api, card_id, [str(i) for i in range(5)])
    assert await stock(api, card_id, increase_stock_value=6) == 40136
    assert await stock(api, card_id, increase_stock_value=5) == 0
    await api.control("claim", {"card_id": card_id, "count": 2})  # 3 left to claim, 3 codes not handed out
    assert await stock(api, card_id, increase_stock_value=1) == 40136
    assert await stock(api, card_id, reduce_stock_value=1) == 0
    assert await stock(api, card_id, increase_stock_value=1) == 0
    await deposit(api, card_id, ["5", "6"])
    assert await stock(api, card_id, increase_stock_value=2) == 0
    assert (await api.base_info(card_id))["sku"] == {"quantity": 5, "total_quantity": 7}
    # Cards that are not in the deposit mode are not capped.
    assert await stock(api, await api.create(), increase_stock_value=1000) == 0


async def test_codes_survive_a_restart_in_one_string_per_card(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    first = await make_api(data_file=data)
    card_id = await deposit_card(first)
    await deposit(first, card_id, SEED_CODES)
    await deposit(first, card_id, ["44444"])
    saved = json.loads(data.read_text(encoding="utf-8"))
    assert saved["assets"]["accounts"][first.appid]["deposits"] == {card_id: "11111\n22222\n33333\n44444"}
    second = await make_api(data_file=data)
    assert await count(second, card_id) == 4
    assert (await deposit(second, card_id, ["44444", "55555"]))["duplicate_code"] == ["44444"]
    assert await stock(second, card_id, increase_stock_value=5) == 0


def test_a_code_box_holds_many_codes_compactly() -> None:
    box = CodeBox()
    for start in range(0, 200_000, 100):
        box.add([f"{i:012d}" for i in range(start, start + 100)])
    text = box.text()
    assert len(box) == 200_000 and text.count("\n") == 199_999
    again = CodeBox(text)
    assert again.codes == box.codes and again.text() == text
    assert len(CodeBox("")) == 0 and CodeBox("").text() == ""
