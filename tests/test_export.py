"""`wxrec export`: keys, the live → manifest → desired round trip (pure), and the acceptance run end to end:
an emulator account of a few hundred varied cards, some made or edited outside wxrec, exported, then planned."""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emulator import DEMO_APPID, DEMO_SECRET
from reconciler.emulator.colors import COLOR_VALUES
from reconciler.export import (
    Export,
    ExportedCard,
    card_keys,
    cards_files,
    exported_conditional,
    slug,
    write_export,
)
from reconciler.exported_card import card_problems, manifest_card
from reconciler.manifest.loader import _StringDatesLoader
from reconciler.resources import kinds
from reconciler.resources.cards.diff import plan_card
from reconciler.resources.cards.model import LiveCard, Palette, desired_card
from reconciler.resources.cards.record import CardRecord, record_document
from reconciler.resources.conditional_menus import ConditionalLive
from reconciler.resources.tags import TagRecord
from reconciler.state import FileBackend, State
from reconciler.wechat.account import AccountApi
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import StableToken, WeChatClient
from tests.support import apply_ok, served_emulator, wxrec
from tests.test_property_e2e import COUPON_FIELDS, TYPE_FIELDS
from tests.test_property_e2e import cards as card_specs

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PALETTE = Palette(COLOR_VALUES)


def test_titles_become_pinyin_keys() -> None:
    assert slug("拿铁券") == "na-tie-quan"
    assert slug("拿铁满30减8元") == "na-tie-man-30-jian-8-yuan"
    assert slug("Coffee 拿铁，VIP!") == "coffee-na-tie-vip"
    assert slug("！！！") == "card"
    long = slug("山丘咖啡拿铁早餐套餐会员立减优惠券秋日饮品")
    assert len(long) <= 40 and KEY.match(long) and not long.endswith("-")


ids = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=8, max_size=28)
titles = st.text(st.sampled_from(list("拿铁券会员卡早餐 ab1-！")), min_size=1, max_size=9)
accounts = st.dictionaries(ids, st.tuples(titles, st.integers(1_600_000_000, 1_600_000_100)), max_size=40)


@given(accounts, st.randoms())
def test_keys_are_unique_valid_and_independent_of_order(account: dict[str, Any], shuffle: random.Random) -> None:
    rows = [(card_id, title, created) for card_id, (title, created) in account.items()]
    keys = card_keys(rows)
    shuffle.shuffle(rows)
    assert card_keys(rows) == keys
    assert len(set(keys.values())) == len(keys) == len(account)
    assert all(KEY.match(key) for key in keys.values())


@given(accounts, ids, titles)
def test_a_card_made_later_renames_no_exported_card(account: dict[str, Any], new_id: str, title: str) -> None:
    rows = [(card_id, t, created) for card_id, (t, created) in account.items() if card_id != new_id]
    before = card_keys(rows)
    after = card_keys([*rows, (new_id, title, 1_700_000_000)])
    assert {card_id: after[card_id] for card_id in before} == before


def live_from(spec: dict[str, Any], extra: dict[str, Any]) -> LiveCard:
    """What card/get would give for a card made from `spec`, with server defaults and console-only fields."""
    card = desired_card("x", spec, PALETTE)
    fields = {"base_info.get_limit": 50, "base_info.area_code_list": [], **card.fields, **extra}
    return LiveCard("pCARD", card.card_type, "CARD_STATUS_VERIFY_FAIL", fields, 7, 120, {"create_time": 1})


console_only = st.dictionaries(
    st.sampled_from(["base_info.console_note", "pay_info.is_swipe_card", "base_info.use_all_locations"]),
    st.one_of(st.integers(1, 9), st.booleans()),
)


@settings(max_examples=60, deadline=None)
@given(card_specs({**TYPE_FIELDS, **COUPON_FIELDS}), console_only)
def test_an_exported_card_plans_no_change(spec: dict[str, Any], extra: dict[str, Any]) -> None:
    live = live_from(spec, extra)
    exported, dropped, refusal = manifest_card("x", live, PALETTE)
    assert exported is not None, refusal
    assert card_problems("x", exported) == []
    # Fields the manifest has no place for, and values of the wrong type (use_all_locations: 1), stay unmanaged.
    wrong_type = not isinstance(extra.get("base_info.use_all_locations", True), bool)
    unknown = {path.removesuffix(".is_swipe_card") for path in extra} - {"base_info.use_all_locations"}
    assert set(dropped) == unknown | ({"base_info.use_all_locations"} if wrong_type else set())
    text = cards_files([ExportedCard("x", live, exported, dropped)])["cards.yaml"]
    assert yaml.load(text, Loader=_StringDatesLoader) == {"cards": {"x": exported}}
    assert exported["base_info"]["sku"] == {"total_quantity": 120}  # the budget already issued: re-apply adds none
    card = desired_card("x", exported, PALETTE)
    record = CardRecord.from_state(record_document(card, live.id))
    assert plan_card("cards.x", card, live, record) is None


def test_a_big_account_is_split_into_files_the_loader_accepts() -> None:
    spec = {"card_type": "GIFT", "gift": "一杯咖啡" * 200, "base_info": {"title": "赠饮"}}
    live = LiveCard("pCARD", "GIFT", "CARD_STATUS_VERIFY_OK", {}, 0, 0)
    exported = [ExportedCard(f"card-{n:03d}", live, spec, ()) for n in range(100)]
    files = cards_files(exported, limit=20_000)
    assert set(files) == {f"cards-{n}.yaml" for n in range(1, len(files) + 1)} and len(files) > 5
    loaded: dict[str, Any] = {}
    for text in files.values():
        assert len(text.encode("utf-8")) <= 20_000 + 4_000  # one card may tip a file over
        loaded.update(yaml.load(text, Loader=_StringDatesLoader)["cards"])
    assert loaded == {item.key: spec for item in exported}


def test_a_card_no_manifest_can_describe_is_left_unmanaged() -> None:
    spec = {
        "card_type": "GIFT",
        "gift": "一杯咖啡",
        "base_info": {
            "logo_url": "https://mmbiz.qpic.cn/logo.png",
            "brand_name": "山丘",
            "code_type": "CODE_TYPE_TEXT",
            "title": "赠饮",
            "color": "Color010",
            "notice": "出示",
            "description": "说明",
            "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 3, "fixed_begin_term": 0},
            "sku": {"quantity": 1},
        },
    }
    too_long = live_from(spec, {"base_info.title": "一二三四五六七八九十"})
    assert manifest_card("x", too_long, PALETTE)[0] is None
    unknown_colour = live_from(spec, {"base_info.color": "#123456"})
    assert "colour" in manifest_card("x", unknown_colour, PALETTE)[2]


def test_a_conditional_menu_no_manifest_can_declare_is_left_unmanaged_with_a_note() -> None:
    button = [{"type": "view", "name": "会员", "url": "https://example.com/"}]
    live = ConditionalLive(
        {
            "401": {"matchrule": {"tag_id": "100", "sex": "1"}, "button": button},
            "402": {"matchrule": {"tag_id": "2"}, "button": [{**button[0], "url": "${cards.x.url}"}]},
            "403": {"matchrule": {"tag_id": "2"}, "button": button * 4},
            "404": {"matchrule": {"tag_id": "2"}, "button": button},
        }
    )
    specs, records, notes = exported_conditional(live, {"vip": TagRecord("100", "VIP")})
    assert specs == {"tag-2": {"matchrule": {"tag_id": "2"}, "button": button}}, "a tag not exported keeps its id"
    assert list(records) == ["conditional_menus.tag-2"] and records["conditional_menus.tag-2"]["id"] == "404"
    assert [note.split(" ")[2] for note in notes] == ["401", "402", "403"]
    assert "sex, which WeChat dropped" in notes[0] and "reference" in notes[1] and "limits" in notes[2]


# ---------------------------------------------------------------- end to end

NOW = int(time.time())
TYPE_BODIES: dict[str, dict[str, Any]] = {
    "GROUPON": {"deal_detail": "双人套餐一份"},
    "CASH": {"least_cost": 3000, "reduce_cost": 800},
    "DISCOUNT": {"discount": 15},
    "GIFT": {"gift": "赠送美式一杯"},
    "GENERAL_COUPON": {"default_detail": "全场通用"},
    "MEMBER_CARD": {
        "prerogative": "会员八折",
        "supply_bonus": True,
        "supply_balance": False,
        "bonus_cleared": "每年12月31日清零",
        "bonus_rules": "每消费1元积1分",
        "bonus_rule": {"cost_money_unit": 100, "increase_bonus": 1},
        "bonus_url": "https://example.com/bonus",
        "custom_field1": {"name_type": "FIELD_NAME_TYPE_LEVEL", "url": "https://example.com/level"},
    },
    "SCENIC_TICKET": {"ticket_class": "成人票", "guide_url": "https://example.com/guide"},
    "MOVIE_TICKET": {"detail": "IMAX 3D"},
    "BOARDING_PASS": {"from": "上海", "to": "成都", "flight": "MU5401", "departure_time": NOW + 86_400, "gate": "A1"},
    "MEETING_TICKET": {"meeting_detail": "年会", "map_url": "https://example.com/map"},
    "BUS_TICKET": {},
}
# Conditional menus made outside wxrec: for a tag, a tag on one platform, a platform, the tag again.
CONDITIONAL_RULES = [
    {"tag_id": "{vip}"},
    {"tag_id": "{vip}", "client_platform_type": "1"},
    {"client_platform_type": "2"},
]
CONDITIONAL_RULES.append(CONDITIONAL_RULES[0])
TITLES = ["拿铁券", "早餐套餐", "会员卡", "秋日饮品立减", "Coffee 买一送一", "VIP 专享"]


def varied_card(number: int, rng: random.Random) -> dict[str, Any]:
    card_type = sorted(TYPE_BODIES)[number % len(TYPE_BODIES)]
    if card_type == "MEMBER_CARD":
        date_info: dict[str, Any] = {"type": "DATE_TYPE_PERMANENT"}
    elif rng.random() < 0.5:
        date_info = {"type": "DATE_TYPE_FIX_TERM", "fixed_term": rng.randint(1, 90), "fixed_begin_term": 0}
    else:
        begin = NOW - rng.randint(0, 86_400 * 30)
        date_info = {"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": begin, "end_timestamp": NOW + 86_400 * 90}
    base_info: dict[str, Any] = {
        "logo_url": "https://mmbiz.qpic.cn/mmbiz/logo.png",
        "brand_name": rng.choice(["山丘咖啡", "海边面包"]),
        "code_type": rng.choice(["CODE_TYPE_TEXT", "CODE_TYPE_QRCODE", "CODE_TYPE_BARCODE"]),
        "title": rng.choice(TITLES),
        "color": rng.choice(sorted(COLOR_VALUES)),
        "notice": "请出示此券",
        "description": "门店通用\n周末可用",
        "date_info": date_info,
        "sku": {"quantity": rng.randint(0, 5000)},
    }
    for name, value in [
        ("sub_title", "限时"),
        ("service_phone", "400-820-8820"),
        ("get_limit", rng.randint(1, 9)),
        ("can_share", False),
        ("use_limit", 3),
        ("source", "大众点评"),
        ("location_id_list", [rng.randint(1, 99)]),
        ("center_title", "立即使用"),
        ("center_app_brand_user_name", "gh_86a091e50ad4@app"),
        ("center_app_brand_pass", "pages/use/index"),
    ]:
        if rng.random() < 0.3:
            base_info[name] = value
    body: dict[str, Any] = {"base_info": base_info, **TYPE_BODIES[card_type]}
    if rng.random() < 0.2:
        body["advanced_info"] = {
            "abstract": {"abstract": "秋季新品", "icon_url_list": ["http://mmbiz.qpic.cn/mmbiz/icon/0"]}
        }
    return {"card_type": card_type, card_type.lower(): body}


async def fill_account(url: str, count: int) -> None:
    """Cards made through the API as the MP console would, then changed outside wxrec: claims, review
    verdicts, console edits (fields wxrec never writes, one title too long for any manifest), deletions."""
    rng = random.Random(5)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        api = CardApi(WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET)))
        made = await asyncio.gather(*(api.create(varied_card(n, rng)) for n in range(count)))

        async def control(name: str, **body: Any) -> None:
            (await http.post(f"/_emulator/{name}", json=body)).raise_for_status()

        async def change(number: int, card_id: str) -> None:
            if number % 17 != 0:  # the rest stay in review
                await control("review", card_id=card_id, result="reject" if number % 11 == 0 else "approve")
            if number % 7 == 0 and number % 11 and number % 17:
                await control("claim", card_id=card_id, count=1 + number % 5)
            if number % 13 == 0:
                await control("edit", card_id=card_id, base_info={"console_only_flag": True, "center_sub_title": "台"})
            if number % 50 == 3:
                await api.delete(card_id)

        await asyncio.gather(*(change(number, card_id) for number, card_id in enumerate(made)))
        await control("edit", card_id=made[1], base_info={"title": "一二三四五六七八九十"})
        menu = {"button": [{"type": "view", "name": "领券", "url": "https://example.com/coupons"}]}
        account = AccountApi(api.client)
        await account.create_menu(menu)
        vip = await account.create_tag("高级会员")
        for rule in CONDITIONAL_RULES:
            await account.add_conditional_menu({**menu, "matchrule": {k: v.format(vip=vip) for k, v in rule.items()}})


def test_export_of_a_varied_account_plans_no_changes(tmp_path: Path) -> None:
    # The account's coupons were made before 2021-04-01: an emulator in the legacy mode makes them for the test.
    with served_emulator("--seed", "3", "--review", "manual", "--legacy-coupons") as url:
        asyncio.run(fill_account(url, 300))
        first, second = tmp_path / "first", tmp_path / "second"
        exported = wxrec("export", first, "--api", url)
        assert exported.exit_code == 0, exported.output
        assert "Exported 293 cards, 1 tag, 4 conditional menus and the menu of" in exported.output
        assert "not exported: base_info.title would not be a valid manifest value" in exported.output
        assert "landing pages, QR codes and the test whitelist cannot be read back" in exported.output
        assert wxrec("validate", first).exit_code == 0
        planned = wxrec("plan", first, "--api", url, "--detailed-exitcode")
        assert planned.exit_code == 0, planned.output
        # The account's rejected cards are reported, not changed.
        assert "No changes, but" in planned.output and "rejected in WeChat's review" in planned.output
        assert wxrec("export", second, "--api", url).exit_code == 0
    for name in ("account.yaml", "cards.yaml", "menu.yaml", "tags.yaml", "conditional-menus.yaml"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    menus = yaml.safe_load((first / "conditional-menus.yaml").read_text(encoding="utf-8"))["conditional_menus"]
    rules = {key: menu["matchrule"] for key, menu in menus.items()}
    again = next(key for key in rules if key.startswith("gao-ji-hui-yuan-") and key != "gao-ji-hui-yuan-ios")
    assert rules == {
        "gao-ji-hui-yuan": {"tag": "gao-ji-hui-yuan"},
        "gao-ji-hui-yuan-ios": {"tag": "gao-ji-hui-yuan", "client_platform_type": "1"},
        "android": {"client_platform_type": "2"},
        again: {"tag": "gao-ji-hui-yuan"},
    }, "a rule on an exported tag names the tag, so the menu follows it"
    text = (first / "cards.yaml").read_text(encoding="utf-8")
    assert "拿铁券" in text and "\\u" not in text
    cards = yaml.safe_load(text)["cards"]
    assert len(cards) == 300 - 6 - 1  # six deleted, one that no manifest can describe
    assert {spec["card_type"] for spec in cards.values()} == set(TYPE_BODIES)
    for status in ("CARD_STATUS_VERIFY_OK", "CARD_STATUS_VERIFY_FAIL", "CARD_STATUS_NOT_VERIFY"):
        assert f" · {status}" in text
    assert "not managed (the manifest cannot carry them): base_info.console_only_flag" in text


def test_export_never_overwrites_manifests_without_force(example_dir: Path) -> None:
    apply_ok(example_dir)
    target = example_dir.parent / "exported"
    (target / ".wxrec").mkdir(parents=True)
    shutil.copy(example_dir / ".wxrec" / "emulator.json", target / ".wxrec" / "emulator.json")  # the same account
    foreign = wxrec("export", example_dir, "--api", "emulator", "--force")
    assert foreign.exit_code == 1 and "has manifests export does not write (campaign.yaml" in foreign.output

    assert wxrec("export", target, "--api", "emulator").exit_code == 0
    first = {p.name: p.read_bytes() for p in target.glob("*.yaml")}
    lineage = json.loads((target / ".wxrec" / "state.json").read_text())["lineage"]
    refused = wxrec("export", target, "--api", "emulator")
    assert refused.exit_code == 1 and "already has manifests" in refused.output and "--force" in refused.output
    forced = wxrec("export", target, "--api", "emulator", "--force")
    assert forced.exit_code == 0 and "state.json.backup" in forced.output
    assert {p.name: p.read_bytes() for p in target.glob("*.yaml")} == first
    assert json.loads((target / ".wxrec" / "state.json").read_text())["lineage"] == lineage
    planned = wxrec("plan", target, "--api", "emulator", "--detailed-exitcode")
    assert planned.exit_code == 0 and "No changes." in planned.output, planned.output


def test_export_force_replaces_the_records_and_intents_of_every_kind_read_back(tmp_path: Path) -> None:
    names = [kind.name for kind in kinds()]
    backend = FileBackend(tmp_path / "state.json")
    backend.write(State(appid=DEMO_APPID, endpoint="emulator"))
    state = backend.load()
    assert state is not None
    state.resources = {f"{name}.old": {"id": "1"} for name in names}
    state.intents = {f"{name}.old": {"action": "create"} for name in names}
    export = Export({}, {"tags.new": {"id": "1", "name": "VIP"}}, {})
    write_export(tmp_path, export, backend, state)
    kept = {"codes", "landing_pages", "qrcodes", "whitelist"}  # records WeChat cannot give back
    assert set(state.resources) == {f"{name}.old" for name in kept} | {"tags.new"}
    assert set(state.intents) == {f"{name}.old" for name in kept}


def test_an_export_of_a_new_embedded_account_says_where_the_demo_account_lives(example_dir: Path) -> None:
    apply_ok(example_dir)
    target = example_dir.parent / "exported"
    empty = wxrec("export", target, "--api", "emulator")
    assert empty.exit_code == 0, empty.output
    assert "Exported 0 cards of" in empty.stdout
    warning = "Warning: the embedded emulator made a new account for this export, kept in"
    assert warning in empty.stderr and "wxrec emulator serve --port 8080 --data" in empty.stderr
    # What the warning says to do exports the account the example's runs filled.
    with served_emulator("--data", str(example_dir / ".wxrec" / "emulator.json")) as url:
        served = wxrec("-q", "export", target, "--api", url, "--force")
        assert served.exit_code == 0, served.output
        assert served.stderr == ""
        assert served.stdout.splitlines() == [
            f"Exported 6 cards and the menu of {DEMO_APPID} to {target} (account.yaml, cards.yaml, menu.yaml)."
        ], "-q prints the summary line only"
        planned = wxrec("plan", target, "--api", url, "--detailed-exitcode")
        assert planned.exit_code == 0, planned.output


def test_an_export_says_each_note_as_a_sentence(example_dir: Path) -> None:
    apply_ok(example_dir)
    again = wxrec("export", example_dir.parent / "again", "--api", "emulator")
    notes = [line for line in again.stdout.splitlines() if line.startswith("Note: ")]
    assert notes and all(note.endswith(".") for note in notes), notes
