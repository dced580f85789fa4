"""Property: for any valid card manifest, apply then plan says "No changes" (real client, emulator)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app
from reconciler.manifest import load_manifest
from reconciler.planning import Options, PlanInputs, plan
from reconciler.scheduler import apply_plan
from reconciler.sources import ApiSource
from reconciler.state import FileBackend, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, RetryPolicy, StableToken, WeChatClient

NOW = int(time.time())
COLOURS = ["Color010", "Color020", "Color030", "Color082", "Color102", "#63b359", "#5E6671", "#5e6671"]
CHINESE = st.sampled_from(list("山丘咖啡拿铁早餐套餐会员立减优惠券秋日饮品"))


def text(max_bytes: int) -> st.SearchStrategy[str]:
    """Mixed Chinese and ASCII text that fits WeChat's byte limit."""
    chars = st.one_of(CHINESE, st.sampled_from(list("abcXYZ0123 -")))
    return (
        st.lists(chars, min_size=1, max_size=max_bytes)
        .map("".join)
        .map(str.strip)
        .filter(lambda s: bool(s) and len(s.encode()) <= max_bytes)
    )


date_infos = st.one_of(
    st.builds(
        lambda begin, length: {
            "type": "DATE_TYPE_FIX_TIME_RANGE",
            "begin_timestamp": begin,
            "end_timestamp": begin + length,
        },
        st.integers(NOW - 86_400 * 30, NOW + 86_400 * 300),
        st.integers(86_400 * 31, 86_400 * 365),  # ends in the future: WeChat refuses expired cards
    ),
    st.builds(
        lambda term, begin: {"type": "DATE_TYPE_FIX_TERM", "fixed_term": term, "fixed_begin_term": begin},
        st.integers(1, 365),
        st.integers(0, 30),
    ),
)
skus = st.one_of(
    # From 1: WeChat creates no card without stock (plan refuses it: tests/test_card_corrections.py).
    st.builds(lambda q: {"quantity": q}, st.integers(1, 100_000_000)),
    st.builds(lambda q: {"total_quantity": q}, st.integers(1, 100_000_000)),
)


def member_fields(prerogative: str, bonus: bool, balance: bool, rules: str) -> dict[str, Any]:
    """A member card's own fields; a points or stored-value switch that is on needs its rule texts (41011)."""
    fields: dict[str, Any] = {"prerogative": prerogative, "supply_bonus": bonus, "supply_balance": balance}
    if bonus:
        fields |= {"bonus_cleared": rules, "bonus_rules": rules}
    if balance:
        fields["balance_rules"] = rules
    return fields


# The types WeChat creates today.
TYPE_FIELDS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "MEMBER_CARD": st.builds(
        lambda p, bonus, balance, rules: member_fields(p, bonus, balance, rules),
        text(300),
        st.booleans(),
        st.booleans(),
        text(128),
    ),
    "SCENIC_TICKET": st.builds(lambda c: {"ticket_class": c}, text(300)),
    "MOVIE_TICKET": st.builds(lambda d: {"detail": d}, text(300)),
    "BOARDING_PASS": st.builds(lambda a, b, f: {"from": a, "to": b, "flight": f}, text(54), text(54), text(24)),
    "MEETING_TICKET": st.builds(lambda d: {"meeting_detail": d}, text(300)),
    "BUS_TICKET": st.just({}),
}
# The coupon types, created only by an emulator in legacy mode (WeChat stopped on 2021-04-01).
COUPON_FIELDS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "GROUPON": st.builds(lambda d: {"deal_detail": d}, text(300)),
    "CASH": st.builds(
        lambda a, b: {"least_cost": a, "reduce_cost": b}, st.integers(0, 100_000), st.integers(1, 10_000)
    ),
    "DISCOUNT": st.builds(lambda d: {"discount": d}, st.integers(1, 99)),
    "GIFT": st.builds(lambda g: {"gift": g}, text(300)),
    "GENERAL_COUPON": st.builds(lambda d: {"default_detail": d}, text(300)),
}
OPTIONAL = {
    "sub_title": text(54),
    "service_phone": st.from_regex(r"\A[0-9]{3,4}-[0-9]{7,8}\Z"),
    "get_limit": st.integers(1, 100),
    "can_share": st.booleans(),
    "can_give_friend": st.booleans(),
    "center_title": text(18),
    "custom_url_name": text(15),
    "custom_app_brand_user_name": st.just("gh_86a091e50ad4@app"),
    "custom_app_brand_pass": st.from_regex(r"\Apages/[a-z]{1,20}/index\Z"),
    "source": text(36),
}


@st.composite
def cards(draw: st.DrawFn, types: dict[str, st.SearchStrategy[dict[str, Any]]]) -> dict[str, Any]:
    card_type = draw(st.sampled_from(sorted(types)))
    base_info: dict[str, Any] = {
        "logo_url": "https://mmbiz.qpic.cn/mmbiz/logo.png",
        "brand_name": draw(text(36)),
        "code_type": draw(st.sampled_from(["CODE_TYPE_TEXT", "CODE_TYPE_QRCODE", "CODE_TYPE_BARCODE"])),
        "title": draw(text(27)),
        "color": draw(st.sampled_from(COLOURS)),
        "notice": draw(text(48)),
        "description": draw(text(600)),
        "date_info": draw(date_infos),
        "sku": draw(skus),
    }
    for name in draw(st.sets(st.sampled_from(sorted(OPTIONAL)))):
        base_info[name] = draw(OPTIONAL[name])
    return {"card_type": card_type, "base_info": base_info, **draw(types[card_type])}


async def converge(directory: Path, legacy: bool) -> tuple[int, int]:
    """Apply the manifest to a fresh emulator account, then plan again: (changes before, changes after).
    `legacy`: the emulator creates coupons as before 2021-04-01, and the plans let it."""
    manifest = load_manifest(directory)
    options = Options(legacy_coupons=legacy)
    backend = FileBackend(directory / ".wxrec" / "state.json")
    transport = httpx.ASGITransport(
        app=create_app(EmulatorConfig(accounts={DEMO_APPID: DEMO_SECRET}, legacy_coupons=legacy))
    )
    retry = RetryPolicy(attempts=2, max_seconds=2, base_wait=0.001, max_wait=0.01)
    async with httpx.AsyncClient(transport=transport, base_url=WECHAT_API) as http:
        api = CardApi(WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET), retry))
        state = State(appid=DEMO_APPID, endpoint="emulator")
        source = ApiSource(api, Options().parallelism)
        first = await plan(PlanInputs(manifest, state, DEMO_APPID, "emulator", options, backend.code_hashes), source)
        report = await apply_plan(first, api, state, backend)
        assert not report.failed, report.to_dict()
        second = await plan(
            PlanInputs(manifest, backend.load(), DEMO_APPID, "emulator", options, backend.code_hashes), source
        )
        assert not second.changes, second.to_dict()
        return len(first.changes), len(second.changes)


def write_cards(directory: Path, specs: list[dict[str, Any]]) -> None:
    manifest = {"cards": {f"card-{i}": spec for i, spec in enumerate(specs)}}
    (directory / "cards.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(cards(TYPE_FIELDS), min_size=1, max_size=4))
def test_apply_then_plan_has_no_changes(tmp_path_factory: Any, specs: list[dict[str, Any]]) -> None:
    directory = tmp_path_factory.mktemp("manifest")
    write_cards(directory, specs)
    assert asyncio.run(converge(directory, legacy=False)) == (len(specs), 0)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(cards(COUPON_FIELDS), min_size=1, max_size=4))
def test_coupons_made_in_legacy_mode_converge_too(tmp_path_factory: Any, specs: list[dict[str, Any]]) -> None:
    directory = tmp_path_factory.mktemp("manifest")
    write_cards(directory, specs)
    assert asyncio.run(converge(directory, legacy=True)) == (len(specs), 0)
