"""card/testwhitelist/set: the seed's answer, full replacement, the limit of 10, the control, persistence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .support import Api, MakeApi

SET = "/card/testwhitelist/set"


async def shown(api: Api) -> dict[str, Any]:
    response = await api.client.get("/_emulator/whitelist")
    assert response.status_code == 200
    return dict(response.json())


async def test_the_seeds_call_gets_the_seeds_answer(api: Api) -> None:
    answer = await api.post(SET, {"openid": [], "username": ["tianye0327"]})
    assert answer == {
        "errcode": 0,
        "errmsg": "ok",
        "white_list_size": 1,
        "success_openid": [],
        "success_username": ["tianye0327"],
    }
    assert await shown(api) == {"appid": api.appid, "openid": [], "username": ["tianye0327"], "set": True}


async def test_every_call_replaces_the_whole_list(api: Api) -> None:
    assert (await shown(api))["set"] is False
    await api.post(SET, {"openid": ["o1Pj9jmZvwSyyyyyyBa4aULW2mA", "o1Pj9jmZvxxxxxxxxxULW2mA"], "username": ["eddy"]})
    await api.post(SET, {"username": ["abcd"]})
    assert await shown(api) == {"appid": api.appid, "openid": [], "username": ["abcd"], "set": True}
    await api.post(SET, {"openid": [], "username": []})
    assert await shown(api) == {"appid": api.appid, "openid": [], "username": [], "set": True}


async def test_at_most_ten_in_total(api: Api) -> None:
    ten = {"openid": [f"o{i}" for i in range(6)], "username": [f"user{i}" for i in range(4)]}
    answer = await api.post(SET, ten)
    assert answer["white_list_size"] == 10
    eleven = {"openid": [f"o{i}" for i in range(6)], "username": [f"user{i}" for i in range(5)]}
    assert (await api.post(SET, eleven))["errcode"] == 40097
    assert (await shown(api))["username"] == ten["username"], "a refused call changes nothing"
    duplicates = {"openid": ["o1"] * 11}
    assert await api.post(SET, duplicates) == {
        "errcode": 0,
        "errmsg": "ok",
        "white_list_size": 1,
        "success_openid": ["o1"],
        "success_username": [],
    }


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({}, 41011),
        ({"openid": None, "username": None}, 41011),
        ({"openid": "o1"}, 47001),
        ({"openid": [1]}, 47001),
        ({"username": [""]}, 40097),
        ({"username": ["u" * 33]}, 45021),
    ],
)
async def test_bad_whitelists(api: Api, body: dict[str, Any], errcode: int) -> None:
    assert (await api.post(SET, body))["errcode"] == errcode


async def test_the_whitelist_survives_a_restart(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    first = await make_api(data_file=data)
    await first.post(SET, {"openid": ["o1"], "username": ["u1"]})
    second = await make_api(data_file=data)
    assert await shown(second) == {"appid": second.appid, "openid": ["o1"], "username": ["u1"], "set": True}
