"""The custom menu's rules and the plan's menu tree. Pure: no I/O."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import JsonPath, Location, Problem
from reconciler.resources.menu_checks import BUTTON_TYPES, TYPE_FIELDS, validate_menu
from reconciler.resources.menu_tree import menu_tree

KNOWN_TYPES = (
    "known types: click, scancode_push, scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, "
    "location_select, view, miniprogram, media_id, view_limited, article_id, article_view_limited"
)
CHINESE_NOTE = "(a Chinese character is 3 bytes)"
TOP_NAME_LIMIT = f"a top-level button name may have at most 16 {CHINESE_NOTE}"
BOTH = "has both type and sub_button; a button is an action (type) or a sub-menu (sub_button)"
NEITHER = "missing: a button needs a type (an action) or a sub_button list (a sub-menu)"


class Positions(dict[JsonPath, Location]):
    """A fake `locate`: every path asked for gets its own line, remembered, so tests can check the exact path."""

    def __call__(self, path: JsonPath) -> Location | None:
        return self.setdefault(path, Location("menu.yaml", len(self) + 1, 1))


def check(menu: Any) -> tuple[list[Problem], Positions]:
    positions = Positions()
    return validate_menu(menu, positions), positions


def problem(positions: Positions, path: JsonPath, message: str) -> Problem:
    assert path in positions, f"locate was not called with {path}; it saw {list(positions)}"
    return Problem(positions[path], ".".join(map(str, path)), message)


def problems_of(menu: Any) -> list[tuple[str, str]]:
    """(field, message) pairs, with a check that each location is the one locate gave for that field."""
    found, positions = check(menu)
    for p in found:
        assert any(".".join(map(str, path)) == p.field and loc == p.location for path, loc in positions.items())
    return [(p.field, p.message) for p in found]


def leaf(name: Any = "菜单", type_: str = "click", **fields: Any) -> dict[str, Any]:
    defaults = {"key": "K", "url": "https://example.com", "appid": "wx123", "pagepath": "pages/index"}
    defaults |= {"media_id": "MEDIA", "article_id": "ARTICLE"}
    return {"name": name, "type": type_, **{f: defaults[f] for f in TYPE_FIELDS[type_]}, **fields}


def one(button: dict[str, Any]) -> dict[str, Any]:
    return {"button": [button]}


def in_sub_menu(sub: Any) -> dict[str, Any]:
    return one({"name": "更多", "sub_button": [sub]})


# ---- validate_menu: valid menus ----------------------------------------------------------------------------------


def every_type_menu() -> dict[str, Any]:
    assert len(BUTTON_TYPES) == 13
    return {
        "button": [
            {"name": "扫码", "sub_button": [leaf(f"按钮{i}", t) for i, t in enumerate(BUTTON_TYPES[:5])]},
            {"name": "网页", "sub_button": [leaf(f"按钮{i}", t) for i, t in enumerate(BUTTON_TYPES[5:10])]},
            {"name": "文章", "sub_button": [leaf(f"按钮{i}", t) for i, t in enumerate(BUTTON_TYPES[10:])]},
        ]
    }


def test_a_menu_with_every_button_type_is_valid() -> None:
    menu = every_type_menu()
    assert {sub["type"] for button in menu["button"] for sub in button["sub_button"]} == set(BUTTON_TYPES)
    assert check(menu)[0] == []


@pytest.mark.parametrize("type_", BUTTON_TYPES)
def test_every_type_is_valid_at_top_level(type_: str) -> None:
    assert check(one(leaf("按钮", type_)))[0] == []


def test_none_means_delete_the_menu_and_is_valid() -> None:
    assert check(None) == ([], Positions())


def test_the_docs_example_shape_is_valid() -> None:
    menu = {
        "button": [
            {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"},
            {
                "name": "菜单",
                "sub_button": [
                    {"type": "view", "name": "搜索", "url": "http://www.soso.com/"},
                    {
                        "type": "miniprogram",
                        "name": "wxa",
                        "url": "http://mp.weixin.qq.com",
                        "appid": "wx286b93c14bbf93aa",
                        "pagepath": "pages/lunar/index",
                    },
                    {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD"},
                ],
            },
        ]
    }
    assert check(menu)[0] == []


# ---- validate_menu: shape -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("menu", "message"),
    [
        ([], "must be a mapping with a `button` list (or null to delete the menu), not a list"),
        ("menu", "must be a mapping with a `button` list (or null to delete the menu), not a string"),
        (3, "must be a mapping with a `button` list (or null to delete the menu), not a number"),
    ],
)
def test_the_menu_must_be_a_mapping(menu: Any, message: str) -> None:
    found, positions = check(menu)
    assert found == [problem(positions, ("menu",), message)]


def test_the_button_list_is_required() -> None:
    found, positions = check({})
    assert found == [
        problem(positions, ("menu", "button"), "missing: the menu needs a `button` list of 1 to 3 buttons")
    ]


@pytest.mark.parametrize(("value", "kind"), [(None, "null"), ({"name": "x"}, "a mapping"), ("x", "a string")])
def test_button_must_be_a_list(value: Any, kind: str) -> None:
    found, positions = check({"button": value})
    assert found == [problem(positions, ("menu", "button"), f"must be a list of 1 to 3 buttons, not {kind}")]


def test_unknown_field_beside_button_suggests_the_right_one() -> None:
    found, positions = check({"button": [leaf()], "buttons": []})
    assert found == [problem(positions, ("menu", "buttons"), "unknown field 'buttons'; did you mean 'button'?")]
    found, positions = check({"button": [leaf()], "matchrule": {}})
    assert found == [problem(positions, ("menu", "matchrule"), "unknown field 'matchrule'; the menu has only `button`")]


@pytest.mark.parametrize(
    ("count", "message"), [(0, "has 0 buttons; WeChat allows 1 to 3"), (4, "has 4 buttons; WeChat allows 1 to 3")]
)
def test_one_to_three_top_level_buttons(count: int, message: str) -> None:
    found, positions = check({"button": [leaf(f"b{i}") for i in range(count)]})
    assert found == [problem(positions, ("menu", "button"), message)]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_one_two_or_three_top_level_buttons_are_fine(count: int) -> None:
    assert check({"button": [leaf(f"b{i}") for i in range(count)]})[0] == []


def test_a_button_must_be_a_mapping() -> None:
    found, positions = check({"button": [leaf(), "oops"]})
    assert found == [problem(positions, ("menu", "button", 1), "a button must be a mapping, not a string")]
    found, positions = check(in_sub_menu(["x"]))
    assert found == [
        problem(positions, ("menu", "button", 0, "sub_button", 0), "a sub-button must be a mapping, not a list")
    ]


def test_type_and_sub_button_are_exclusive() -> None:
    found, positions = check(one({**leaf("优惠"), "sub_button": [leaf("领券")]}))
    assert found == [problem(positions, ("menu", "button", 0), BOTH)]


def test_type_beside_an_empty_sub_button_is_refused_too() -> None:
    found, positions = check(one({**leaf("优惠"), "sub_button": []}))
    assert found == [
        problem(positions, ("menu", "button", 0), BOTH),
        problem(positions, ("menu", "button", 0, "sub_button"), "has 0 sub-buttons; WeChat allows 1 to 5"),
    ]


def test_a_button_needs_a_type_or_a_sub_button() -> None:
    found, positions = check(one({"name": "优惠"}))
    assert found == [problem(positions, ("menu", "button", 0, "type"), NEITHER)]


@pytest.mark.parametrize(
    ("count", "message"),
    [(0, "has 0 sub-buttons; WeChat allows 1 to 5"), (6, "has 6 sub-buttons; WeChat allows 1 to 5")],
)
def test_one_to_five_sub_buttons(count: int, message: str) -> None:
    found, positions = check(one({"name": "更多", "sub_button": [leaf(f"b{i}") for i in range(count)]}))
    assert found == [problem(positions, ("menu", "button", 0, "sub_button"), message)]


def test_five_sub_buttons_are_fine() -> None:
    assert check(one({"name": "更多", "sub_button": [leaf(f"b{i}") for i in range(5)]}))[0] == []


def test_sub_button_must_be_a_list() -> None:
    found, positions = check(one({"name": "更多", "sub_button": {"name": "x"}}))
    message = "must be a list of 1 to 5 sub-buttons, not a mapping"
    assert found == [problem(positions, ("menu", "button", 0, "sub_button"), message)]


def test_sub_buttons_cannot_have_sub_buttons() -> None:
    found, positions = check(in_sub_menu({**leaf("领券"), "sub_button": [leaf("深")]}))
    path = ("menu", "button", 0, "sub_button", 0, "sub_button")
    assert found == [problem(positions, path, "sub-buttons cannot have sub_button: a menu has only two levels")]


def test_a_sub_button_needs_a_type() -> None:
    found, positions = check(in_sub_menu({"name": "领券"}))
    path = ("menu", "button", 0, "sub_button", 0, "type")
    assert found == [problem(positions, path, f"missing: a sub-button needs a type; {KNOWN_TYPES}")]


# ---- validate_menu: names -----------------------------------------------------------------------------------------


def test_five_chinese_characters_fit_a_top_level_name() -> None:
    assert len("领券中心啊".encode()) == 15
    assert check(one(leaf("领券中心啊")))[0] == []
    assert check(one(leaf("x" * 16)))[0] == []


def test_six_chinese_characters_are_too_long_at_top_level() -> None:
    found, positions = check(one(leaf("领券中心啊哈")))
    message = f"is 18 bytes of UTF-8; {TOP_NAME_LIMIT}"
    assert found == [problem(positions, ("menu", "button", 0, "name"), message)]


def test_seventeen_ascii_bytes_are_too_long_at_top_level() -> None:
    found, positions = check(one({"name": "x" * 17, "sub_button": [leaf()]}))
    message = f"is 17 bytes of UTF-8; {TOP_NAME_LIMIT}"
    assert found == [problem(positions, ("menu", "button", 0, "name"), message)]


def test_sub_button_names_may_have_sixty_bytes() -> None:
    assert check(in_sub_menu(leaf("领" * 20)))[0] == []  # 60 bytes
    assert check(in_sub_menu(leaf("x" * 60)))[0] == []
    found, positions = check(in_sub_menu(leaf("领" * 20 + "x")))
    message = f"is 61 bytes of UTF-8; a sub-button name may have at most 60 {CHINESE_NOTE}"
    assert found == [problem(positions, ("menu", "button", 0, "sub_button", 0, "name"), message)]


def test_name_is_required() -> None:
    found, positions = check(one({"type": "click", "key": "K"}))
    path: JsonPath = ("menu", "button", 0, "name")
    assert found == [problem(positions, path, "missing: a top-level button needs a name")]
    found, positions = check(in_sub_menu({"type": "click", "key": "K"}))
    path = ("menu", "button", 0, "sub_button", 0, "name")
    assert found == [problem(positions, path, "missing: a sub-button needs a name")]


@pytest.mark.parametrize(
    ("name", "message"),
    [(2024, "must be a string, not a number"), ("", "must not be empty"), (None, "must be a string, not null")],
)
def test_name_must_be_a_non_empty_string(name: Any, message: str) -> None:
    found, positions = check(one(leaf(name)))
    assert found == [problem(positions, ("menu", "button", 0, "name"), message)]


# ---- validate_menu: types and their fields ------------------------------------------------------------------------


@pytest.mark.parametrize(("type_", "field"), [(t, f) for t, fields in TYPE_FIELDS.items() for f in fields])
def test_each_type_needs_its_fields(type_: str, field: str) -> None:
    button = leaf("按钮", type_)
    del button[field]
    for path_to_button, menu in [
        (("menu", "button", 0), one(button)),
        (("menu", "button", 0, "sub_button", 0), in_sub_menu(button)),
    ]:
        found, positions = check(menu)
        assert found == [problem(positions, (*path_to_button, field), f"missing: a {type_} button needs {field!r}")]


def test_key_types_are_the_documented_ones() -> None:
    key_types = sorted(t for t, fields in TYPE_FIELDS.items() if fields == ("key",))
    assert key_types == sorted(
        [
            "click",
            "scancode_push",
            "scancode_waitmsg",
            "pic_sysphoto",
            "pic_photo_or_album",
            "pic_weixin",
            "location_select",
        ]
    )
    assert TYPE_FIELDS["view"] == ("url",)
    assert set(TYPE_FIELDS["miniprogram"]) == {"url", "appid", "pagepath"}
    assert TYPE_FIELDS["media_id"] == TYPE_FIELDS["view_limited"] == ("media_id",)
    assert TYPE_FIELDS["article_id"] == TYPE_FIELDS["article_view_limited"] == ("article_id",)


def test_unknown_type_lists_the_known_types() -> None:
    found, positions = check(one({"name": "x", "type": "telephone"}))
    path = ("menu", "button", 0, "type")
    assert found == [problem(positions, path, f"unknown button type 'telephone'; {KNOWN_TYPES}")]


def test_unknown_type_close_to_a_known_one_is_suggested() -> None:
    found, positions = check(one({"name": "x", "type": "clik", "key": "K"}))
    path = ("menu", "button", 0, "type")
    assert found == [problem(positions, path, f"unknown button type 'clik' (did you mean 'click'?); {KNOWN_TYPES}")]


def test_type_must_be_a_string() -> None:
    found, positions = check(one({"name": "x", "type": 1}))
    path = ("menu", "button", 0, "type")
    assert found == [problem(positions, path, f"must be a string, not a number; {KNOWN_TYPES}")]


def test_required_fields_must_be_non_empty_strings() -> None:
    assert problems_of(one(leaf(key=""))) == [("menu.button.0.key", "must not be empty")]
    assert problems_of(one(leaf("x", "view", url=["https://a"]))) == [
        ("menu.button.0.url", "must be a string, not a list")
    ]


def test_key_may_have_128_bytes() -> None:
    assert check(one(leaf(key="k" * 128)))[0] == []
    found, positions = check(one(leaf(key="k" * 129)))
    message = f"is 129 bytes of UTF-8; a button key may have at most 128 {CHINESE_NOTE}"
    assert found == [problem(positions, ("menu", "button", 0, "key"), message)]


def test_url_may_have_1024_bytes() -> None:
    base = "https://example.com/"
    assert check(in_sub_menu(leaf("x", "view", url=base + "a" * (1024 - len(base)))))[0] == []
    found, positions = check(in_sub_menu(leaf("x", "miniprogram", url=base + "页" * 400)))
    message = f"is 1220 bytes of UTF-8; a button url may have at most 1024 {CHINESE_NOTE}"
    assert found == [problem(positions, ("menu", "button", 0, "sub_button", 0, "url"), message)]


def test_key_and_url_limits_hold_on_any_type() -> None:
    found, positions = check(one(leaf("x", "view", key="k" * 130)))
    message = f"is 130 bytes of UTF-8; a button key may have at most 128 {CHINESE_NOTE}"
    assert found == [problem(positions, ("menu", "button", 0, "key"), message)]


def test_unknown_button_field_suggests_a_close_one() -> None:
    found, positions = check(one({"name": "x", "type": "view", "url": "https://a", "uri": "https://a"}))
    assert found == [problem(positions, ("menu", "button", 0, "uri"), "unknown field 'uri'; did you mean 'url'?")]


def test_unknown_button_field_without_a_close_one_lists_the_fields() -> None:
    found, positions = check(one(leaf(color="red")))
    message = (
        "unknown field 'color'; a button has name, type, key, url, appid, pagepath, media_id, article_id, sub_button"
    )
    assert found == [problem(positions, ("menu", "button", 0, "color"), message)]
    found, positions = check(in_sub_menu(leaf(color="red")))
    message = "unknown field 'color'; a sub-button has name, type, key, url, appid, pagepath, media_id, article_id"
    assert found == [problem(positions, ("menu", "button", 0, "sub_button", 0, "color"), message)]


NOT_WEB_URLS = ["www.qq.com", "ftp://qq.com/a", "javascript:alert(1)", "https://", "https:///path", "mailto:a@qq.com"]


@pytest.mark.parametrize("url", NOT_WEB_URLS)
@pytest.mark.parametrize("type_", ["view", "miniprogram"])
def test_a_button_url_is_an_http_or_https_url(url: str, type_: str) -> None:
    found, positions = check(in_sub_menu(leaf("x", type_, url=url)))
    message = "must be an http:// or https:// URL with a host (WeChat answers 65317)"
    assert found == [problem(positions, ("menu", "button", 0, "sub_button", 0, "url"), message)]


def test_a_url_held_in_a_reference_is_checked_once_filled_in() -> None:
    assert check(one(leaf("x", "view", url="${landing_pages.shelf.url}")))[0] == []
    assert check(one(leaf("x", "view", url="HTTPS://QQ.com/a?b=${cards.latte.id}")))[0] == []


def test_a_menu_links_to_at_most_three_domains() -> None:
    """WeChat answers 65316 to a menu whose links lead to more than 3 domains (hosts, as the emulator counts
    them): the menu action failed at apply, after the cards before it were done."""
    urls = ["https://a.example.com/1", "https://B.example.com/2", "http://a.example.com/3", "https://c.example.org/"]
    subs = [leaf(f"链接{i}", "view", url=url) for i, url in enumerate(urls)]
    assert check({"button": [{"name": "更多", "sub_button": subs}]})[0] == []
    menu = {
        "button": [{"name": "更多", "sub_button": subs}, leaf("小程序", "miniprogram", url="https://d.example.net")]
    }
    found, positions = check(menu)
    message = (
        "leads to a 4th domain (d.example.net): a menu's links may lead to at most 3 "
        "(a.example.com, b.example.com, c.example.org; WeChat answers 65316)"
    )
    assert found == [problem(positions, ("menu", "button", 1, "url"), message)]
    # A url still holding a reference is counted once filled in.
    menu["button"][1]["url"] = "${landing_pages.shelf.url}"
    assert check(menu)[0] == []


# ---- validate_menu: references ------------------------------------------------------------------------------------


def test_references_skip_byte_limits() -> None:
    long_ref = "${landing_pages.spring-campaign-for-the-whole-year.url}"
    assert len(long_ref) > 40
    assert check(one(leaf(long_ref, "view", url=long_ref)))[0] == []
    assert check(in_sub_menu(leaf("领" * 20 + long_ref, "click", key="k" * 200 + "${cards.latte.id}")))[0] == []


def test_references_still_need_the_field() -> None:
    found, positions = check(one({"name": "${cards.latte.id}", "type": "view"}))
    assert found == [problem(positions, ("menu", "button", 0, "url"), "missing: a view button needs 'url'")]


def test_something_that_only_looks_like_a_reference_has_a_limit() -> None:
    not_a_ref = "${Cards.latte.id}" + "x" * 120
    found, positions = check(one(leaf(key=not_a_ref)))
    message = f"is 137 bytes of UTF-8; a button key may have at most 128 {CHINESE_NOTE}"
    assert found == [problem(positions, ("menu", "button", 0, "key"), message)]


# ---- validate_menu: everything at once ----------------------------------------------------------------------------


def test_every_problem_is_reported() -> None:
    menu = {
        "button": [
            {"name": "领券中心啊哈", "type": "click"},
            {
                "name": "更多",
                "sub_button": [
                    {"name": "网页", "type": "view", "url": "https://a", "uri": "x"},
                    {"name": "小程序", "type": "miniprogram", "url": "https://a"},
                    {"name": "深", "type": "click", "key": "K", "sub_button": [{"name": "x"}]},
                    {"type": "fax"},
                ],
            },
            {"name": "文章"},
            {"name": "多余", "type": "click", "key": "K"},
        ]
    }
    found, positions = check(menu)
    sub = ("menu", "button", 1, "sub_button")
    assert found == [
        problem(positions, ("menu", "button"), "has 4 buttons; WeChat allows 1 to 3"),
        problem(positions, ("menu", "button", 0, "name"), f"is 18 bytes of UTF-8; {TOP_NAME_LIMIT}"),
        problem(positions, ("menu", "button", 0, "key"), "missing: a click button needs 'key'"),
        problem(positions, (*sub, 0, "uri"), "unknown field 'uri'; did you mean 'url'?"),
        problem(positions, (*sub, 1, "appid"), "missing: a miniprogram button needs 'appid'"),
        problem(positions, (*sub, 1, "pagepath"), "missing: a miniprogram button needs 'pagepath'"),
        problem(positions, (*sub, 2, "sub_button"), "sub-buttons cannot have sub_button: a menu has only two levels"),
        problem(positions, (*sub, 3, "name"), "missing: a sub-button needs a name"),
        problem(positions, (*sub, 3, "type"), f"unknown button type 'fax'; {KNOWN_TYPES}"),
        problem(positions, ("menu", "button", 2, "type"), NEITHER),
    ]


def test_locations_come_from_locate_for_the_exact_path() -> None:
    seen: list[JsonPath] = []
    where = Location("accounts/shop.yaml", 12, 7)

    def locate(path: JsonPath) -> Location | None:
        seen.append(path)
        return where if path == ("menu", "button", 0, "sub_button", 2, "url") else None

    subs = [leaf("a", "view"), leaf("b", "view"), leaf("c", "view", url="https://q.com/" + "u" * 1011)]
    found = validate_menu(one({"name": "更多", "sub_button": subs}), locate)
    assert seen == [("menu", "button", 0, "sub_button", 2, "url")]
    assert found[0].location == where
    assert found[0].field == "menu.button.0.sub_button.2.url"
    assert str(found[0]).startswith("accounts/shop.yaml:12:7: menu.button.0.sub_button.2.url: is 1025 bytes")


# ---- menu_tree ----------------------------------------------------------------------------------------------------

CLICK = {"name": "会员卡", "type": "click", "key": "MEMBER"}
STORES = {"name": "门店", "type": "location_select", "key": "STORES"}
OLD_COUPONS = {"name": "优惠券", "sub_button": [{"name": "领券中心", "type": "view", "url": "https://old"}]}
NEW_COUPONS = {"name": "优惠券", "sub_button": [{"name": "领券中心", "type": "view", "url": "https://new"}, CLICK]}


def test_tree_example_from_the_docstring() -> None:
    assert menu_tree({"button": [OLD_COUPONS, STORES]}, {"button": [NEW_COUPONS, STORES]}) == [
        "~ 优惠券 (sub-menu)",
        "    ~ 领券中心 [view] url: https://old → https://new",
        "    + 会员卡 [click] key=MEMBER",
        "  门店 [location_select] key=STORES",
    ]


def test_tree_unchanged() -> None:
    menu = {"button": [OLD_COUPONS, STORES]}
    assert menu_tree(menu, menu) == [
        "  优惠券 (sub-menu)",
        "      领券中心 [view] url=https://old",
        "  门店 [location_select] key=STORES",
    ]


def test_tree_added_and_removed_menu() -> None:
    menu = {"button": [NEW_COUPONS, STORES]}
    added = [
        "+ 优惠券 (sub-menu)",
        "    + 领券中心 [view] url=https://new",
        "    + 会员卡 [click] key=MEMBER",
        "+ 门店 [location_select] key=STORES",
    ]
    assert menu_tree(None, menu) == added
    assert menu_tree(menu, None) == [line.replace("+", "-", 1) for line in added]
    assert menu_tree(None, None) == []


def test_tree_added_and_removed_top_level_buttons() -> None:
    assert menu_tree({"button": [STORES]}, {"button": [CLICK, STORES]}) == [
        "+ 会员卡 [click] key=MEMBER",
        "  门店 [location_select] key=STORES",
    ]
    assert menu_tree({"button": [CLICK, STORES]}, {"button": [STORES]}) == [
        "- 会员卡 [click] key=MEMBER",
        "  门店 [location_select] key=STORES",
    ]


def test_tree_removed_sub_menu_lists_its_sub_buttons() -> None:
    assert menu_tree({"button": [OLD_COUPONS, STORES]}, {"button": [STORES]}) == [
        "- 优惠券 (sub-menu)",
        "    - 领券中心 [view] url=https://old",
        "  门店 [location_select] key=STORES",
    ]


def test_tree_changed_fields() -> None:
    before = {"button": [{"name": "a", "type": "click", "key": "K1"}]}
    after = {"button": [{"name": "a", "type": "view", "url": "https://x"}]}
    assert menu_tree(before, after) == ["~ a [view] type: click → view; key: K1 → (none); url: (none) → https://x"]


def test_tree_same_count_matches_by_position_so_a_rename_is_a_change() -> None:
    before = {"button": [CLICK, STORES]}
    after = {"button": [{**CLICK, "name": "会员"}, STORES]}
    assert menu_tree(before, after) == [
        "~ 会员 [click] name: 会员卡 → 会员",
        "  门店 [location_select] key=STORES",
    ]
    renamed = {"button": [{**OLD_COUPONS, "name": "券"}]}
    assert menu_tree({"button": [OLD_COUPONS]}, renamed) == [
        "~ 券 (sub-menu) name: 优惠券 → 券",
        "      领券中心 [view] url=https://old",
    ]


def test_tree_different_counts_match_by_name() -> None:
    a, b, c = ({"name": n, "type": "click", "key": n.upper()} for n in "abc")
    x, y = ({"name": n, "type": "click", "key": n.upper()} for n in "xy")
    assert menu_tree({"button": [a, b, c]}, {"button": [a, x, y, c]}) == [
        "  a [click] key=A",
        "- b [click] key=B",
        "+ x [click] key=X",
        "+ y [click] key=Y",
        "  c [click] key=C",
    ]
    assert menu_tree({"button": [a, b]}, {"button": [b, x, a]}) == [
        "~ b [click] moved: 2 → 1",
        "+ x [click] key=X",
        "~ a [click] moved: 1 → 3",
    ]
    assert menu_tree({"button": [a, b, c]}, {"button": [a, {**b, "key": "B2"}]}) == [
        "  a [click] key=A",
        "~ b [click] key: B → B2",
        "- c [click] key=C",
    ]


def test_tree_sub_buttons_follow_the_same_rule() -> None:
    a, b = ({"name": n, "type": "click", "key": n.upper()} for n in "ab")
    before = {"button": [{"name": "更多", "sub_button": [a, b]}]}
    after = {"button": [{"name": "更多", "sub_button": [b]}]}
    assert menu_tree(before, after) == [
        "~ 更多 (sub-menu)",
        "    - a [click] key=A",
        "      b [click] key=B",
    ]


def test_tree_action_turned_sub_menu_is_removed_and_added() -> None:
    before = {"button": [{"name": "优惠券", "type": "click", "key": "COUPONS"}]}
    after = {"button": [OLD_COUPONS]}
    assert menu_tree(before, after) == [
        "- 优惠券 [click] key=COUPONS",
        "+ 优惠券 (sub-menu)",
        "    + 领券中心 [view] url=https://old",
    ]


def test_tree_ignores_the_empty_sub_button_that_menu_get_returns() -> None:
    live = {"button": [{**CLICK, "sub_button": []}]}
    assert menu_tree(live, {"button": [CLICK]}) == ["  会员卡 [click] key=MEMBER"]


def test_tree_shows_miniprogram_fields_in_the_type_order() -> None:
    button = {"type": "miniprogram", "name": "wxa", "pagepath": "pages/index", "url": "https://a", "appid": "wx1"}
    assert menu_tree(None, one(button)) == ["+ wxa [miniprogram] url=https://a appid=wx1 pagepath=pages/index"]


def test_tree_lines_never_span_lines() -> None:
    before = one({"name": "a", "type": "click", "key": "K"})
    after = one({"name": "a", "type": "click", "key": "two\nlines"})
    assert menu_tree(before, after) == ['~ a [click] key: K → "two\\nlines"']


# ---- properties ---------------------------------------------------------------------------------------------------

ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
CHANGE_MARK = re.compile(r"^(    )?[+~-] ")
WEB = "https://q.com/"
REFS = st.sampled_from(["${cards.latte.id}", "${landing_pages.spring.url}", "${qrcodes.door-1.url}"])


def names(max_bytes: int) -> st.SearchStrategy[str]:
    ascii_names = st.text(ASCII, min_size=1, max_size=max_bytes)
    chinese_names = st.text("优惠券领门店会员卡中心文章网页扫码", min_size=1, max_size=max_bytes // 3)
    return ascii_names | chinese_names | REFS


def field_value(field: str) -> st.SearchStrategy[str]:
    if field == "url":
        plain = st.text(ASCII, max_size=1024 - len(WEB)).map(lambda path: WEB + path)
    else:
        plain = st.text(ASCII, min_size=1, max_size=128 if field == "key" else 64)
    return plain | REFS | st.builds(lambda r, s: r + s, REFS, st.text("页", max_size=500))


@st.composite
def actions(draw: st.DrawFn, max_name_bytes: int) -> dict[str, Any]:
    type_ = draw(st.sampled_from(BUTTON_TYPES))
    button = {"name": draw(names(max_name_bytes)), "type": type_}
    for field in TYPE_FIELDS[type_]:
        button[field] = draw(field_value(field))
    return button


def sub_menus() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda name, subs: {"name": name, "sub_button": subs},
        names(16),
        st.lists(actions(40), min_size=1, max_size=5),
    )


menus = st.builds(lambda buttons: {"button": buttons}, st.lists(actions(16) | sub_menus(), min_size=1, max_size=3))


@settings(max_examples=200)
@given(menus)
def test_menus_built_from_valid_parts_are_valid_and_equal_to_themselves(menu: dict[str, Any]) -> None:
    assert check(menu)[0] == []
    lines = menu_tree(menu, menu)
    assert lines
    assert not [line for line in lines if line.startswith(("+", "-", "~")) or CHANGE_MARK.match(line)]
    assert len(lines) == len(menu["button"]) + sum(len(b.get("sub_button", [])) for b in menu["button"])


@settings(max_examples=200)
@given(menus, menus)
def test_every_button_appears_in_the_tree(before: dict[str, Any], after: dict[str, Any]) -> None:
    lines = menu_tree(before, after)
    assert all("\n" not in line for line in lines)
    top = [line for line in lines if not line.startswith("    ")]
    assert len([line for line in top if not line.startswith("- ")]) == len(after["button"])
    assert not [line for line in menu_tree(None, after) if not line.lstrip(" ").startswith("+ ")]
