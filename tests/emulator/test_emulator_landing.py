"""card/landingpage/create: the seed's answer, page ids per account, the rules, the control, persistence."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from reconciler.emulator.landing import SCENES

from .support import Api, MakeApi, ticket

# The seed's real answer (tianye/WechatMpSDK), for appid wx3be6367203f983ac and page 7.
SEED_URL = (
    "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx3be6367203f983ac&redirect_uri=https%3A%2F%2F"
    "mp.weixin.qq.com%2Fbizmall%2Fcardlandingpage%3Fbiz%3DMzA5NTIxNjc1OA%3D%3D%26page_id%3D7%26scene%3D1"
    "&response_type=code&scope=snsapi_base#wechat_redirect"
)
DEPOSIT = {"use_custom_code": True, "get_custom_code_mode": "GET_CUSTOM_CODE_MODE_DEPOSIT", "sku": {"quantity": 0}}


def page(*card_ids: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "banner": "http://mmbiz.qpic.cn/mmbiz/iaL1LJM1mF9aRKPZJkmG8xXhiaHqkKSVMMWeN3hLut7X7hicFN",
        "page_title": "惠城优惠大派送",
        "can_share": True,
        "scene": "SCENE_NEAR_BY",
        "card_list": [{"card_id": c, "thumb_url": "http://test.digilinx.cn/wxApi/Uploads/test.png"} for c in card_ids],
    }
    body.update(fields)
    return body


def biz_of(url: str) -> str:
    redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    return parse_qs(urlsplit(redirect).query)["biz"][0]


async def test_the_answer_is_shaped_like_the_seeds(api: Api) -> None:
    answer = await api.post("/card/landingpage/create", page(await api.create(), await api.create()))
    assert set(answer) == {"errcode", "errmsg", "url", "page_id"}
    assert (answer["errcode"], answer["errmsg"], answer["page_id"]) == (0, "ok", 1)
    biz = biz_of(answer["url"])
    assert re.fullmatch(r"[0-9]{10}", base64.b64decode(biz).decode())
    expected = (
        SEED_URL.replace("wx3be6367203f983ac", api.appid)
        .replace("MzA5NTIxNjc1OA%3D%3D", quote(biz, safe=""))
        .replace("page_id%3D7", "page_id%3D1")
    )
    assert answer["url"] == expected


async def test_page_ids_count_per_account_and_scenes_are_numbered(make_api: MakeApi) -> None:
    accounts = {"wx0123456789abcdef": "one", "wxfedcba9876543210": "two"}
    client = (await make_api(accounts=accounts)).client
    first, second = (Api(client, appid, secret) for appid, secret in accounts.items())
    card_id = await first.create()
    urls = []
    for number, scene in enumerate(SCENES, start=1):
        answer = await first.post("/card/landingpage/create", page(card_id, scene=scene))
        assert answer["page_id"] == number
        assert answer["url"].count(f"%26page_id%3D{number}%26scene%3D{number}&") == 1
        urls.append(answer["url"])
    assert len({biz_of(url) for url in urls}) == 1, "one biz per account"
    other = await second.post("/card/landingpage/create", page(await second.create()))
    assert other["page_id"] == 1 and biz_of(other["url"]) != biz_of(urls[0])
    # The same body again makes a new page.
    assert (await first.post("/card/landingpage/create", page(card_id)))["page_id"] == len(SCENES) + 1


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        ({"banner": None}, 41011),
        ({"banner": ""}, 41011),
        ({"page_title": None}, 41011),
        ({"can_share": None}, 41011),
        ({"scene": None}, 41011),
        ({"card_list": None}, 41011),
        ({"card_list": []}, 41011),
        ({"can_share": "true"}, 47001),
        ({"page_title": 5}, 47001),
        ({"card_list": {"card_id": "p"}}, 47001),
        ({"card_list": ["p"]}, 47001),
        ({"scene": "SCENE_MOON"}, 40129),
        ({"card_list": [{"card_id": "pNOPE", "thumb_url": "http://x/a.jpg"}]}, 40073),
        ({"card_list": [{"thumb_url": "http://x/a.jpg"}]}, 41012),
    ],
)
async def test_landing_page_rules(api: Api, change: dict[str, Any], errcode: int) -> None:
    body = page(await api.create(), **change)
    assert (await api.post("/card/landingpage/create", body))["errcode"] == errcode
    listed = (await api.client.get("/_emulator/landing_pages")).json()["landing_pages"]
    assert listed == [], "nothing was made"


async def test_thumb_url_is_required_and_deleted_cards_are_refused(api: Api) -> None:
    card_id = await api.create()
    body = page(card_id)
    del body["card_list"][0]["thumb_url"]
    assert (await api.post("/card/landingpage/create", body))["errcode"] == 41011
    await api.post("/card/delete", {"card_id": card_id})
    assert (await api.post("/card/landingpage/create", page(card_id)))["errcode"] == 40073


async def test_custom_code_cards_need_deposited_codes(api: Api) -> None:
    custom = await api.create(ticket(use_custom_code=True))
    assert (await api.post("/card/landingpage/create", page(custom)))["errcode"] == 40097
    deposit = await api.create(ticket(**DEPOSIT))
    assert (await api.post("/card/landingpage/create", page(deposit)))["errcode"] == 40097
    await api.post("/card/code/deposit", {"card_id": deposit, "code": ["11111"]})
    assert (await api.post("/card/landingpage/create", page(deposit)))["errcode"] == 0


async def test_the_control_lists_pages_and_they_survive_a_restart(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    first = await make_api(data_file=data)
    card_id = await first.create()
    made = await first.post("/card/landingpage/create", page(card_id, scene="SCENE_H5", can_share=False))
    listed = (await first.client.get("/_emulator/landing_pages")).json()
    assert listed["appid"] == first.appid
    [kept] = listed["landing_pages"]
    assert (kept["page_id"], kept["url"], kept["scene"], kept["can_share"]) == (1, made["url"], "SCENE_H5", False)
    assert kept["card_list"] == page(card_id)["card_list"]

    second = await make_api(data_file=data)
    assert (await second.client.get("/_emulator/landing_pages")).json()["landing_pages"] == [kept]
    assert (await second.post("/card/landingpage/create", page(card_id)))["page_id"] == 2
