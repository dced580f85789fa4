"""User tags (cgi-bin/tags/*) and what conditional menus do with them: trymatch, limits, quotas.

Calls as wechatpy's ``client.tag`` and ``client.menu`` send them (wechatpy/client/api/tag.py, menu.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import menu, tags

from .support import Api, MakeApi

DEFAULT = {"button": [{"type": "click", "name": "默认", "key": "DEFAULT"}]}


def buttons(name: str) -> list[dict[str, Any]]:
    return [{"type": "view", "name": name, "url": f"https://example.com/{len(name)}"}]


async def create_tag(api: Api, name: str) -> int:
    answer = await api.post("/cgi-bin/tags/create", {"tag": {"name": name}})
    assert set(answer) == {"tag"}, answer
    return int(answer["tag"]["id"])


async def live_tags(api: Api) -> dict[int, tuple[str, int]]:
    return {t["id"]: (t["name"], t["count"]) for t in (await api.get("/cgi-bin/tags/get"))["tags"]}


async def fan(api: Api, openid: str, tag_ids: list[int], platform: int | None = None) -> None:
    response = await api.control("fans", {"openid": openid, "tags": tag_ids, "platform": platform})
    assert response.status_code == 200, response.text


async def add_menu(api: Api, name: str, **rule: Any) -> str:
    answer = await api.post("/cgi-bin/menu/addconditional", {"button": buttons(name), "matchrule": rule})
    assert "menuid" in answer, answer
    return str(answer["menuid"])


async def seen_by(api: Api, openid: str) -> str:
    answer = await api.post("/cgi-bin/menu/trymatch", {"user_id": openid})
    assert "button" in answer, answer
    return str(answer["button"][0]["name"])


async def test_tags_are_created_listed_renamed_and_deleted(api: Api) -> None:
    assert await live_tags(api) == {2: ("星标组", 0)}, "the reserved star group is listed"
    vip = await create_tag(api, "高级会员")
    assert vip >= 100 and vip != await create_tag(api, "普通会员")
    await fan(api, "o-1", [vip])
    assert (await live_tags(api))[vip] == ("高级会员", 1)
    assert (await api.post("/cgi-bin/tags/update", {"tag": {"id": vip, "name": "金卡会员"}}))["errcode"] == 0
    assert (await live_tags(api))[vip] == ("金卡会员", 1), "renamed in place: same id, same fans"
    assert (await api.post("/cgi-bin/tags/delete", {"tag": {"id": str(vip)}}))["errcode"] == 0
    assert vip not in await live_tags(api)
    assert (await api.post("/cgi-bin/tags/getidlist", {"openid": "o-1"}))["tagid_list"] == [], "delete untags fans"


@pytest.mark.parametrize(
    ("name", "errcode"),
    [
        ("a" * 30, None),
        ("一二三四五六七八九十", None),
        ("a" * 31, 45158),
        ("一二三四五六七八九十a", 45158),
        ("", 45157),
        (7, 45157),
    ],
)
async def test_a_tag_name_is_at_most_30_bytes(api: Api, name: Any, errcode: int | None) -> None:
    answer = await api.post("/cgi-bin/tags/create", {"tag": {"name": name}})
    assert answer.get("errcode") == errcode, answer


async def test_names_are_unique(api: Api) -> None:
    vip = await create_tag(api, "vip")
    other = await create_tag(api, "other")
    assert (await api.post("/cgi-bin/tags/create", {"tag": {"name": "vip"}}))["errcode"] == 45157
    assert (await api.post("/cgi-bin/tags/update", {"tag": {"id": other, "name": "vip"}}))["errcode"] == 45157
    assert (await api.post("/cgi-bin/tags/update", {"tag": {"id": vip, "name": "vip"}}))["errcode"] == 0
    assert (await api.post("/cgi-bin/tags/create", {"tag": {"name": "星标组"}}))["errcode"] == 45157


async def test_reserved_and_unknown_tags(api: Api) -> None:
    for tag_id in (0, 1, 2):
        for path in ("/cgi-bin/tags/update", "/cgi-bin/tags/delete"):
            answer = await api.post(path, {"tag": {"id": tag_id, "name": "x"}})
            assert answer["errcode"] == 45058, (path, tag_id)
    for tag_id in (999, "x", None):
        answer = await api.post("/cgi-bin/tags/delete", {"tag": {"id": tag_id}})
        assert answer["errcode"] == 45159, tag_id
    assert (await api.post("/cgi-bin/tags/create", {}))["errcode"] == 41011


async def test_at_most_100_tags(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tags, "MAX_TAGS", 2)
    await create_tag(api, "a")
    await create_tag(api, "b")
    assert (await api.post("/cgi-bin/tags/create", {"tag": {"name": "c"}}))["errcode"] == 45056


async def test_a_tag_with_too_many_fans_is_not_deleted(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tags, "MAX_FANS_TO_DELETE", 1)
    vip = await create_tag(api, "vip")
    await fan(api, "o-1", [vip])
    await fan(api, "o-2", [vip])
    assert (await api.post("/cgi-bin/tags/delete", {"tag": {"id": vip}}))["errcode"] == 45057
    assert vip in await live_tags(api)


async def test_tagging_and_untagging_members(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = await create_tag(api, "a"), await create_tag(api, "b")
    await fan(api, "o-1", [])
    body = {"openid_list": ["o-1"], "tagid": b}
    assert (await api.post("/cgi-bin/tags/members/batchtagging", body))["errcode"] == 0
    assert (await api.post("/cgi-bin/tags/members/batchtagging", {**body, "tagid": a}))["errcode"] == 0
    assert (await api.post("/cgi-bin/tags/getidlist", {"openid": "o-1"}))["tagid_list"] == [b, a], "order put on"
    assert (await api.post("/cgi-bin/tags/members/batchuntagging", body))["errcode"] == 0
    assert (await api.post("/cgi-bin/tags/getidlist", {"openid": "o-1"}))["tagid_list"] == [a]
    unknown = {"openid_list": ["nobody"], "tagid": a}
    assert (await api.post("/cgi-bin/tags/members/batchtagging", unknown))["errcode"] == 40003
    too_many = {"openid_list": ["o-1"] * 51, "tagid": a}
    assert (await api.post("/cgi-bin/tags/members/batchtagging", too_many))["errcode"] == 40097
    monkeypatch.setattr(tags, "MAX_TAGS_PER_FAN", 1)
    assert (await api.post("/cgi-bin/tags/members/batchtagging", body))["errcode"] == 45059


async def test_trymatch_newest_menu_first_and_the_last_tag_put_on(api: Api) -> None:
    vip, gold = await create_tag(api, "vip"), await create_tag(api, "gold")
    await fan(api, "plain", [])
    await fan(api, "vip-then-gold", [vip, gold], platform=1)
    await fan(api, "gold-then-vip", [gold, vip], platform=2)
    assert (await api.post("/cgi-bin/menu/trymatch", {"user_id": "plain"}))["errcode"] == 46003
    await api.post("/cgi-bin/menu/create", DEFAULT)
    await add_menu(api, "vip", tag_id=str(vip))
    await add_menu(api, "gold", tag_id=gold)
    assert await seen_by(api, "plain") == "默认"
    assert await seen_by(api, "vip-then-gold") == "gold", "the tag put on last"
    assert await seen_by(api, "gold-then-vip") == "vip"
    await add_menu(api, "android", client_platform_type="2")
    assert await seen_by(api, "gold-then-vip") == "android", "the newest matching menu wins"
    newer_vip = await add_menu(api, "new vip", tag_id=vip)
    assert await seen_by(api, "gold-then-vip") == "new vip"
    await api.post("/cgi-bin/menu/delconditional", {"menuid": newer_vip})
    assert await seen_by(api, "gold-then-vip") == "android"
    assert (await api.post("/cgi-bin/menu/trymatch", {"user_id": "nobody"}))["errcode"] == 65302


async def test_menu_create_keeps_the_conditional_menus(api: Api) -> None:
    await api.post("/cgi-bin/menu/create", DEFAULT)
    await add_menu(api, "ios", client_platform_type="1")
    await api.post("/cgi-bin/menu/create", {"button": buttons("新默认")})
    read = await api.get("/cgi-bin/menu/get")
    assert [c["matchrule"] for c in read["conditionalmenu"]] == [{"client_platform_type": 1}]


async def test_conditional_menu_count_and_daily_quotas(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(menu, "MAX_CONDITIONAL", 1)
    monkeypatch.setitem(menu.DAILY_LIMITS, "menu/addconditional", 2)
    await api.post("/cgi-bin/menu/create", DEFAULT)
    await add_menu(api, "one", client_platform_type="3")
    rule = {"button": buttons("two"), "matchrule": {"client_platform_type": "1"}}
    assert (await api.post("/cgi-bin/menu/addconditional", rule))["errcode"] == 65305
    assert (await api.post("/cgi-bin/menu/addconditional", rule))["errcode"] == 45009


async def test_tags_and_fans_survive_a_restart(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    first = await make_api(data_file=data)
    vip = await create_tag(first, "vip")
    await fan(first, "o-1", [vip], platform=2)
    second = await make_api(data_file=data)
    assert await live_tags(second) == await live_tags(first)
    assert await create_tag(second, "next") == vip + 1
    assert (await second.post("/cgi-bin/tags/getidlist", {"openid": "o-1"}))["tagid_list"] == [vip]


async def test_the_fans_control_refuses_unknown_tags(api: Api) -> None:
    for body in ({"openid": "o", "tags": [999]}, {"openid": ""}, {"openid": "o", "platform": 4}):
        assert (await api.control("fans", body)).status_code == 400, body
