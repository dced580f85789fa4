"""Coupons since 2021-04-01, end to end through `wxrec` and the embedded emulator: plan refuses every way of
creating one, before any call; a coupon the account already has (emulator-cards.json) is adopted and managed;
an emulator in legacy mode lifts the refusal, and only such an emulator."""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app
from reconciler.settings import RunSettings
from reconciler.wechat.client import WECHAT_API
from tests.support import apply_ok, served_emulator, wxrec

COUPON_ID = "pSeedLatteVoucher00000000001"
BASE = {
    "logo_url": "https://mmbiz.qpic.cn/mmbiz/hillcoffee/logo.png",
    "brand_name": "山丘咖啡",
    "code_type": "CODE_TYPE_QRCODE",
    "title": "拿铁满30减8元",
    "color": "Color010",
    "notice": "结账时请出示此券",
    "description": "单笔消费满30元可用",
    "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_begin_term": 0, "fixed_term": 30},
}
REFUSED = "WeChat has created no coupons (GROUPON, CASH, DISCOUNT, GIFT, GENERAL_COUPON) since 2021-04-01"


def latte(**base: Any) -> dict[str, Any]:
    return {
        "card_type": "CASH",
        "base_info": {**BASE, "sku": {"quantity": 100}, **base},
        "least_cost": 3000,
        "reduce_cost": 800,
    }


def member() -> dict[str, Any]:
    return {
        "card_type": "MEMBER_CARD",
        "base_info": {
            **BASE,
            "title": "山丘咖啡会员卡",
            "date_info": {"type": "DATE_TYPE_PERMANENT"},
            "sku": {"quantity": 10},
        },
        "prerogative": "生日当月饮品八折",
        "supply_bonus": False,
        "supply_balance": False,
    }


def write(directory: Path, cards: dict[str, Any], **blocks: Any) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "cards.yaml").write_text(yaml.safe_dump({"cards": cards, **blocks}, allow_unicode=True), "utf-8")
    return directory


def seed_coupon(directory: Path) -> None:
    """The coupon the account made before 2021-04-01, as card/get answers it."""
    card = latte(id=COUPON_ID, status="CARD_STATUS_VERIFY_OK")
    body = {"card_type": "CASH", "cash": {k: v for k, v in card.items() if k != "card_type"}}
    (directory / "emulator-cards.json").write_text(json.dumps({"cards": [body]}, ensure_ascii=False), "utf-8")


def live_cards(directory: Path) -> list[dict[str, Any]]:
    data = json.loads((directory / ".wxrec" / "emulator.json").read_text("utf-8"))
    return list(data["accounts"][DEMO_APPID]["cards"])


def delete_live(directory: Path, card_id: str) -> None:
    """Someone deletes the card in the MP console."""

    async def run() -> None:
        config = EmulatorConfig(accounts={DEMO_APPID: DEMO_SECRET}, data_file=directory / ".wxrec" / "emulator.json")
        transport = httpx.ASGITransport(app=create_app(config))
        async with httpx.AsyncClient(transport=transport, base_url=WECHAT_API) as http:
            query = {"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET}
            token = (await http.get("/cgi-bin/token", params=query)).json()["access_token"]
            answer = await http.post("/card/delete", params={"access_token": token}, json={"card_id": card_id})
            assert answer.json()["errcode"] == 0

    asyncio.run(run())


@pytest.mark.usefixtures("todays_coupons")
def test_plan_and_apply_refuse_a_new_coupon_before_any_call(tmp_path: Path) -> None:
    shop = write(tmp_path / "shop", {"latte": latte(), "member": member()})
    planned = wxrec("plan", shop, "--api", "emulator")
    assert planned.exit_code == 1
    assert f"cards.latte: creates a CASH coupon, but {REFUSED}" in planned.output
    merchant = "a WeChat Pay merchant coupon (kind pay_coupons)"  # the kind exists: not "coming"
    for way in ("`import:` block", "member card (MEMBER_CARD) or a ticket", merchant, "--legacy-coupons"):
        assert way in planned.output
    chinese = wxrec("plan", shop, "--api", "emulator", "--format", "markdown", "--lang", "zh_CN").output
    assert "微信支付商家券（pay_coupons 类型）" in chinese and "即将" not in chinese
    applied = wxrec("apply", shop, "--api", "emulator", "--auto-approve")
    assert applied.exit_code == 1 and REFUSED in applied.output
    assert live_cards(shop) == [], "nothing was created, not even the member card"


@pytest.mark.usefixtures("todays_coupons")
def test_an_existing_coupon_is_adopted_and_managed_but_never_replaced_or_re_created(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    adopt = {"import": [{"to": "cards.latte", "id": COUPON_ID}]}
    write(shop, {"latte": latte()}, **adopt)
    seed_coupon(shop)
    apply_ok(shop)
    write(shop, {"latte": latte(notice="出示即可", sku={"quantity": 150})}, **adopt)
    apply_ok(shop)  # an update and a stock change
    [card] = live_cards(shop)
    assert (card["card_id"], card["base"]["notice"], card["quantity"]) == (COUPON_ID, "出示即可", 150)

    write(shop, {"latte": {**latte(notice="出示即可", sku={"quantity": 150}), "least_cost": 2000}}, **adopt)
    replaced = wxrec("plan", shop, "--api", "emulator")
    assert replaced.exit_code == 1
    assert "cards.latte: changing least_cost needs a new card (a replace)" in replaced.output
    assert "Revert least_cost to keep the coupon as it is" in replaced.output

    write(shop, {"latte": latte(notice="出示即可", sku={"quantity": 150})}, **adopt)
    delete_live(shop, COUPON_ID)
    gone = wxrec("plan", shop, "--api", "emulator")
    # One sentence with what can be done: not the -replace that re-creates any other card, which a coupon refuses.
    assert "so it cannot be made again: remove it from the manifests and run `wxrec state rm" in gone.output
    assert "-replace" not in gone.output
    recreated = wxrec("plan", shop, "--api", "emulator", "--replace", "cards.latte")
    assert recreated.exit_code == 1
    assert f"cards.latte: re-creating the deleted CASH coupon {COUPON_ID} is impossible" in recreated.output
    assert f"`wxrec state rm {shlex.quote(str(shop))} cards.latte`" in recreated.output


@pytest.mark.usefixtures("todays_coupons")
def test_a_planned_coupon_delete_says_it_is_for_good(tmp_path: Path) -> None:
    shop = write(
        tmp_path / "shop",
        {"latte": latte(), "member": member()},
        **{"import": [{"to": "cards.latte", "id": COUPON_ID}]},
    )
    seed_coupon(shop)
    apply_ok(shop)
    write(shop, {"member": member()})
    planned = wxrec("plan", shop, "--api", "emulator")
    assert planned.exit_code == 0, planned.output
    assert "a deleted coupon can never be made again" in planned.output
    apply_ok(shop, "--allow-destroy")
    assert [c["status"] for c in live_cards(shop) if c["card_id"] == COUPON_ID] == ["CARD_STATUS_DELETE"]


@pytest.mark.usefixtures("legacy_coupons")
def test_the_embedded_emulator_in_legacy_mode_lifts_the_refusal_and_a_saved_plan_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = write(tmp_path / "shop", {"latte": latte()})
    planned = wxrec("plan", shop, "--api", "emulator")
    assert planned.exit_code == 0 and "never be made again" not in planned.output
    saved = tmp_path / "plan.json"
    assert wxrec("plan", shop, "--api", "emulator", "-out", saved).exit_code == 0
    monkeypatch.delenv("WXREC_EMULATOR_LEGACY_COUPONS")
    again = wxrec("apply", saved, "--auto-approve")
    assert again.exit_code == 1 and REFUSED in again.output
    monkeypatch.setenv("WXREC_EMULATOR_LEGACY_COUPONS", "1")
    apply_ok(shop)
    assert [c["card_type"] for c in live_cards(shop)] == ["CASH"]


@pytest.mark.usefixtures("todays_coupons")
def test_a_served_emulator_in_legacy_mode_takes_the_option(tmp_path: Path) -> None:
    shop = write(tmp_path / "shop", {"latte": latte()})
    with served_emulator("--legacy-coupons") as url:
        assert wxrec("plan", shop, "--api", url).exit_code == 1
        planned = wxrec("plan", shop, "--api", url, "--legacy-coupons")
        assert planned.exit_code == 0, planned.output


def test_only_an_emulator_lifts_the_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXREC_EMULATOR_LEGACY_COUPONS", "1")
    assert not RunSettings(Path("shop"), legacy_coupons=True).options().legacy_coupons, "WeChat never does"
    assert not RunSettings(Path("shop"), api=f"{WECHAT_API}/").options().legacy_coupons
    assert RunSettings(Path("shop"), api="http://127.0.0.1:8080", legacy_coupons=True).options().legacy_coupons
    assert not RunSettings(Path("shop"), api="http://127.0.0.1:8080").options().legacy_coupons
    assert RunSettings(Path("shop"), api="emulator").options().legacy_coupons
    monkeypatch.setenv("WXREC_EMULATOR_LEGACY_COUPONS", "0")
    assert not RunSettings(Path("shop"), api="emulator", legacy_coupons=True).options().legacy_coupons
