"""Menus: menu/create, menu/get, menu/delete, conditional menus, get_current_selfmenu_info, the console."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator import menu
from reconciler.resources.menu_checks import validate_menu

from .support import HINT, RID, Api, FakeTime, MakeApi

# The seed's menu (tianye/WechatMpSDK) and WeChat's real answers to it.
SEED_MENU: dict[str, Any] = {
    "button": [
        {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"},
        {
            "name": "菜单",
            "sub_button": [
                {"type": "view", "name": "搜索", "url": "http://www.soso.com/"},
                {"type": "view", "name": "视频", "url": "http://v.qq.com/"},
                {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD"},
            ],
        },
    ]
}
SEED_GET = {
    "button": [
        {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC", "sub_button": []},
        {
            "name": "菜单",
            "sub_button": [
                {"type": "view", "name": "搜索", "url": "http://www.soso.com/", "sub_button": []},
                {"type": "view", "name": "视频", "url": "http://v.qq.com/", "sub_button": []},
                {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD", "sub_button": []},
            ],
        },
    ]
}
SEED_SELFMENU = {
    "is_menu_open": 1,
    "selfmenu_info": {
        "button": [
            {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"},
            {
                "name": "菜单",
                "sub_button": {
                    "list": [
                        {"type": "view", "name": "搜索", "url": "http://www.soso.com/"},
                        {"type": "view", "name": "视频", "url": "http://v.qq.com/"},
                        {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD"},
                    ]
                },
            },
        ]
    },
}
EVERY_TYPE = [
    {"type": "click", "name": "a", "key": "K1"},
    {"type": "scancode_push", "name": "b", "key": "K2"},
    {"type": "scancode_waitmsg", "name": "c", "key": "K3"},
    {"type": "pic_sysphoto", "name": "d", "key": "K4"},
    {"type": "pic_photo_or_album", "name": "e", "key": "K5"},
    {"type": "pic_weixin", "name": "f", "key": "K6"},
    {"type": "location_select", "name": "g", "key": "K7"},
    {"type": "view", "name": "h", "url": "https://example.com/h"},
    {
        "type": "miniprogram",
        "name": "i",
        "url": "https://example.com/i",
        "appid": "wx286b93c14bbf93aa",
        "pagepath": "p",
    },
    {"type": "media_id", "name": "j", "media_id": "MEDIA_ID1"},
    {"type": "view_limited", "name": "k", "media_id": "MEDIA_ID2"},
    {"type": "article_id", "name": "l", "article_id": "ARTICLE_ID1"},
    {"type": "article_view_limited", "name": "m", "article_id": "ARTICLE_ID2"},
]


def leaf(**fields: Any) -> dict[str, Any]:
    return {"type": "click", "name": "x", "key": "K", **fields}


def with_subs(*subs: dict[str, Any], name: str = "more") -> dict[str, Any]:
    return {"button": [{"name": name, "sub_button": list(subs)}]}


async def test_the_seed_menu_reads_back_as_wechat_answers_it(api: Api) -> None:
    assert await api.post("/cgi-bin/menu/create", SEED_MENU) == {"errcode": 0, "errmsg": "ok"}
    assert await api.get("/cgi-bin/menu/get") == {"menu": SEED_GET}
    assert await api.get("/cgi-bin/get_current_selfmenu_info") == SEED_SELFMENU


async def test_no_menu_is_46003_and_delete_removes_it(api: Api) -> None:
    answer = await api.get("/cgi-bin/menu/get")
    assert answer["errcode"] == 46003
    assert re.fullmatch(rf"menu no exist {HINT}{RID}", answer["errmsg"])
    assert await api.get("/cgi-bin/get_current_selfmenu_info") == {"is_menu_open": 0}
    await api.post("/cgi-bin/menu/create", SEED_MENU)
    assert await api.get("/cgi-bin/menu/delete") == {"errcode": 0, "errmsg": "ok"}
    assert (await api.get("/cgi-bin/menu/get"))["errcode"] == 46003
    assert await api.get("/cgi-bin/menu/delete") == {"errcode": 0, "errmsg": "ok"}, "deleting nothing is fine"


async def test_every_button_type_round_trips_through_menu_get(api: Api) -> None:
    body = {"button": [{"name": "一", "sub_button": EVERY_TYPE[:5]}, {"name": "二", "sub_button": EVERY_TYPE[5:10]}]}
    body["button"].append({"name": "三", "sub_button": EVERY_TYPE[10:]})
    assert (await api.post("/cgi-bin/menu/create", body))["errcode"] == 0
    read = await api.get("/cgi-bin/menu/get")
    subs = [s for b in read["menu"]["button"] for s in b["sub_button"]]
    assert subs == [{**b, "sub_button": []} for b in EVERY_TYPE]
    # What menu/get answers is accepted by menu/create as it is.
    assert (await api.post("/cgi-bin/menu/create", read["menu"]))["errcode"] == 0
    assert await api.get("/cgi-bin/menu/get") == read


async def test_unknown_fields_are_dropped_and_fields_of_other_types_too(api: Api) -> None:
    body = {"button": [leaf(url="http://example.com/", extra=1)]}
    assert (await api.post("/cgi-bin/menu/create", body))["errcode"] == 0
    assert (await api.get("/cgi-bin/menu/get"))["menu"]["button"] == [
        {"type": "click", "name": "x", "key": "K", "sub_button": []}
    ]


LONG_URL = "http://example.com/" + "a" * (1025 - len("http://example.com/"))


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"button": []}, 40016),
        ({}, 40016),
        ({"button": [leaf()] * 4}, 40016),
        ({"button": [leaf(type="dance")]}, 40017),
        ({"button": [{"name": "x"}]}, 40017),
        ({"button": [{"name": "x", "sub_button": []}]}, 40017),
        ({"button": [{"name": "x", "type": "click", "key": "K", "sub_button": [leaf()]}]}, 40017),
        ({"button": [leaf(name="一二三四五六")]}, 40018),
        ({"button": [leaf(name="")]}, 40018),
        ({"button": [leaf(key="k" * 129)]}, 40019),
        ({"button": [leaf(key=None)]}, 40019),
        ({"button": [{"type": "view", "name": "x", "url": LONG_URL}]}, 40020),
        ({"button": [{"type": "view", "name": "x"}]}, 40020),
        (with_subs(leaf(sub_button=[leaf()])), 40022),
        (with_subs(*[leaf()] * 6), 40023),
        (with_subs(leaf(type="dance")), 40024),
        (with_subs(leaf(name="一二三四五六七八九十一二三四五六七八九十x")), 40025),
        (with_subs(leaf(key="k" * 129)), 40026),
        (with_subs({"type": "view", "name": "x", "url": LONG_URL}), 40027),
        ({"button": [{"type": "media_id", "name": "x"}]}, 40117),
        (with_subs({"type": "view_limited", "name": "x", "media_id": ""}), 40118),
        ({"button": [{"type": "article_id", "name": "x"}]}, 41011),
        ({"button": [{"type": "miniprogram", "name": "x", "url": "http://a.com/", "pagepath": "p"}]}, 40166),
        ({"button": [{"type": "miniprogram", "name": "x", "url": "http://a.com/", "appid": "wxa"}]}, 40165),
        ({"button": [{"type": "view", "name": "x", "url": "www.qq.com"}]}, 65317),
        (with_subs(*[{"type": "view", "name": "x", "url": f"http://d{i}.com/"} for i in range(4)]), 65316),
        ({"button": [leaf(name=5)]}, 47001),
        ({"button": "x"}, 47001),
    ],
)
async def test_menu_limits_answer_wechats_errcodes(api: Api, body: dict[str, Any], errcode: int) -> None:
    answer = await api.post("/cgi-bin/menu/create", body)
    assert answer["errcode"] == errcode, answer
    assert (await api.get("/cgi-bin/menu/get"))["errcode"] == 46003, "nothing was created"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    url=st.one_of(
        st.sampled_from(
            ["www.qq.com", "ftp://qq.com/", "javascript:alert(1)", "https://", "HTTP://QQ.COM", "http://[::1"]
        ),
        st.builds(
            lambda s, h, p: f"{s}{h}{p}", st.sampled_from(["http://", "https://", "", "//"]), st.text(), st.text()
        ),
    )
)
async def test_validate_refuses_exactly_the_menu_urls_the_emulator_answers_65317(api: Api, url: str) -> None:
    """wxrec's rule (manifest side) and the emulator's (from WeChat's errcode table) agree on every url."""
    body = {"button": [{"type": "view", "name": "x", "url": url}]}
    refused = any(p.field.endswith(".url") for p in validate_menu(body, lambda _: None))
    answer = await api.post("/cgi-bin/menu/create", body)
    if answer["errcode"] in (0, 65317):
        assert refused == (answer["errcode"] == 65317), (url, answer)


async def test_limits_themselves_are_accepted(api: Api) -> None:
    subs = [leaf(name="一二三四五六七八九十一二三四五六七八九十"), *[leaf(name=str(i)) for i in range(4)]]  # 60 bytes
    body = {
        "button": [
            leaf(name="一二三四五a", key="k" * 128),  # 16 bytes
            {"type": "view", "name": "v", "url": LONG_URL[:-1]},  # 1024 bytes
            {"name": "subs", "sub_button": subs},
        ]
    }
    assert (await api.post("/cgi-bin/menu/create", body))["errcode"] == 0


async def test_conditional_menus_need_a_default_and_read_back_with_group_id(api: Api) -> None:
    rule = {"matchrule": {"tag_id": "2", "client_platform_type": "1"}}
    assert (await api.post("/cgi-bin/menu/addconditional", {**SEED_MENU, **rule}))["errcode"] == 65303
    await api.post("/cgi-bin/menu/create", SEED_MENU)
    answer = await api.post("/cgi-bin/menu/addconditional", {"button": [leaf()], **rule})
    assert set(answer) == {"menuid"} and re.fullmatch(r"[0-9]{9}", answer["menuid"])
    read = await api.get("/cgi-bin/menu/get")
    assert read["menu"]["button"] == SEED_GET["button"]
    assert isinstance(read["menu"]["menuid"], int) and str(read["menu"]["menuid"]) != answer["menuid"]
    assert read["conditionalmenu"] == [
        {
            "button": [{**leaf(), "sub_button": []}],
            "matchrule": {"group_id": 2, "client_platform_type": 1},
            "menuid": int(answer["menuid"]),
        }
    ]
    selfmenu = await api.get("/cgi-bin/get_current_selfmenu_info")
    assert selfmenu == SEED_SELFMENU, "the default menu only"

    assert (await api.post("/cgi-bin/menu/delconditional", {"menuid": answer["menuid"]}))["errcode"] == 0
    assert "conditionalmenu" not in await api.get("/cgi-bin/menu/get")
    assert (await api.post("/cgi-bin/menu/delconditional", {"menuid": answer["menuid"]}))["errcode"] == 65301


@pytest.mark.parametrize(
    ("matchrule", "errcode"),
    [
        (None, 65304),
        ({}, 65304),
        ({"tag_id": ""}, 65304),
        ({"group_id": "2"}, 65304),
        ({"tag_id": "2", "sex": "1"}, 65320),
        ({"tag_id": "2", "country": "中国", "province": "广东"}, 65320),
        ({"language": "zh_CN"}, 65320),
        ({"tag_id": "2", "client_platform_type": "4"}, 40097),
        ({"client_platform_type": True}, 40097),
        ({"tag_id": "two"}, 45159),
        ({"tag_id": "100"}, 45159),
        ({"tag_id": True}, 45159),
    ],
)
async def test_bad_matchrules(api: Api, matchrule: Any, errcode: int) -> None:
    await api.post("/cgi-bin/menu/create", SEED_MENU)
    body = {"button": [leaf()], "matchrule": matchrule}
    assert (await api.post("/cgi-bin/menu/addconditional", body))["errcode"] == errcode


async def test_conditional_menus_obey_the_button_rules_and_delete_removes_them(api: Api) -> None:
    await api.post("/cgi-bin/menu/create", SEED_MENU)
    bad = {"button": [leaf(key="")], "matchrule": {"tag_id": 2}}
    assert (await api.post("/cgi-bin/menu/addconditional", bad))["errcode"] == 40019
    good = {"button": [leaf()], "matchrule": {"tag_id": 2}}
    assert "menuid" in await api.post("/cgi-bin/menu/addconditional", good)
    await api.get("/cgi-bin/menu/delete")
    assert (await api.get("/cgi-bin/menu/get"))["errcode"] == 46003
    await api.post("/cgi-bin/menu/create", SEED_MENU)
    assert "conditionalmenu" not in await api.get("/cgi-bin/menu/get"), "menu/delete removed the conditional menus"
    assert (await api.post("/cgi-bin/menu/delconditional", {}))["errcode"] == 41011


async def test_a_console_menu_shows_in_selfmenu_but_not_in_menu_get(api: Api) -> None:
    console = [
        {"type": "text", "name": "营业时间", "value": "9:00-21:00"},
        {"name": "更多", "sub_button": {"list": [{"type": "view", "name": "官网", "url": "http://example.com/"}]}},
    ]
    await api.post("/cgi-bin/menu/create", SEED_MENU)
    response = await api.control("console_menu", {"button": console})
    assert response.status_code == 200
    selfmenu = await api.get("/cgi-bin/get_current_selfmenu_info")
    assert selfmenu == {"is_menu_open": 1, "selfmenu_info": {"button": console}}
    assert response.json() == {"appid": api.appid, **selfmenu}
    assert (await api.get("/cgi-bin/menu/get"))["errcode"] == 46003, "the console menu replaced the API's"
    # An API menu replaces the console's in turn.
    await api.post("/cgi-bin/menu/create", SEED_MENU)
    assert await api.get("/cgi-bin/get_current_selfmenu_info") == SEED_SELFMENU
    # menu/delete removes whatever menu is live, console-made or not.
    await api.control("console_menu", {"button": console})
    await api.get("/cgi-bin/menu/delete")
    assert await api.get("/cgi-bin/get_current_selfmenu_info") == {"is_menu_open": 0}


async def test_console_menu_control_refuses_malformed_menus(api: Api) -> None:
    for button in ("x", [{"type": "text"}], [{"name": "a"}] * 4, [{"name": "a", "sub_button": [{}]}]):
        response = await api.control("console_menu", {"button": button})
        assert response.status_code == 400, button
    assert (await api.control("console_menu", {"button": None})).json() == {"appid": api.appid, "is_menu_open": 0}


async def test_menu_calls_need_a_token_and_the_right_method(api: Api) -> None:
    answer = (await api.client.get("/cgi-bin/menu/get")).json()
    assert answer["errcode"] == 41001
    answer = await api.post("/cgi-bin/menu/get", {})
    assert answer["errcode"] == 43001
    response = await api.client.get("/cgi-bin/menu/create", params={"access_token": await api.token()})
    assert response.json()["errcode"] == 43002


async def test_daily_quotas_per_beijing_day(api: Api, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(menu.DAILY_LIMITS, "menu/create", 2)
    assert [(await api.post("/cgi-bin/menu/create", SEED_MENU))["errcode"] for _ in range(3)] == [0, 0, 45009]
    fake_time.now += 86400
    token = (await api.get_token())["access_token"]
    assert (await api.post("/cgi-bin/menu/create", SEED_MENU, token=token))["errcode"] == 0


async def test_menus_survive_a_restart(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    first = await make_api(data_file=data)
    await first.post("/cgi-bin/menu/create", SEED_MENU)
    menuid = (await first.post("/cgi-bin/menu/addconditional", {"button": [leaf()], "matchrule": {"tag_id": "2"}}))[
        "menuid"
    ]
    before = await first.get("/cgi-bin/menu/get")
    second = await make_api(data_file=data)
    assert await second.get("/cgi-bin/menu/get") == before
    assert (await second.post("/cgi-bin/menu/delconditional", {"menuid": int(menuid)}))["errcode"] == 0
    again = await second.post("/cgi-bin/menu/addconditional", {"button": [leaf()], "matchrule": {"tag_id": "2"}})
    assert int(again["menuid"]) > int(menuid), "menu ids keep counting"


def test_the_parsed_menu_is_a_copy() -> None:
    body = copy.deepcopy(SEED_MENU)
    buttons = menu.parse_buttons(body)
    buttons[0]["name"] = "changed"
    assert body == SEED_MENU
