"""Coupons since 2021-04-01, end to end through `wxrec` and the embedded emulator: plan refuses every way of
creating one, before any call; a coupon the account already has (emulator-cards.json) is adopted and managed;
an emulator in legacy mode lifts the refusal, and only such an emulator."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler import emulation
from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app
from reconciler.errors import WxrecError
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


@pytest.mark.usefixtures("todays_coupons")
def test_the_embedded_emulator_in_legacy_mode_lifts_the_refusal_and_a_saved_plan_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WXREC_EMULATOR_LEGACY_COUPONS", "1")  # without --legacy-coupons: the embedded one is asked
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


@pytest.mark.usefixtures("todays_coupons")
def test_a_served_emulator_says_it_is_not_in_legacy_mode_and_the_option_is_refused(tmp_path: Path) -> None:
    shop = write(tmp_path / "shop", {"latte": latte()})
    with served_emulator() as url:
        assert httpx.get(f"{url}/_emulator/health").json()["legacy_coupons"] is False
        applied = wxrec("apply", shop, "--api", url, "--legacy-coupons", "--auto-approve")
        assert applied.exit_code == 1
        assert applied.output == (
            f"Error: --legacy-coupons (or WXREC_LEGACY_COUPONS): the emulator at {url} is not in legacy mode: "
            "serve it with --legacy-coupons, or leave it out\n"
        )
    assert not (shop / ".wxrec" / "state.json").exists(), "nothing changes"


@pytest.mark.usefixtures("todays_coupons")
def test_the_option_against_an_address_that_is_no_emulator_is_refused(tmp_path: Path) -> None:
    shop = write(tmp_path / "shop", {"latte": latte()})
    with no_emulator() as url:
        planned = wxrec("plan", shop, "--api", url, "--legacy-coupons")
    assert planned.exit_code == 1
    assert f"{url} is not an emulator that reports a legacy mode (`wxrec emulator serve --legacy-coupons`)" in (
        planned.output
    )
    unreachable = wxrec("plan", shop, "--api", url, "--legacy-coupons")  # the server is gone
    assert unreachable.exit_code == 1
    assert f"Error: cannot ask {url} whether it is an emulator in legacy mode (" in unreachable.output


@contextmanager
def no_emulator() -> Iterator[str]:
    """An HTTP server that answers 404 to everything, as a proxy of WeChat would to /_emulator/health."""

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Target:
    """An emulator provider whose targets say what `modes` holds (None: no emulator there), counting the asks."""

    def __init__(self, **modes: bool | None) -> None:
        self.modes = {("emulator" if name == "embedded" else f"http://{name}"): said for name, said in modes.items()}
        self.asked: list[str] = []

    def legacy_coupons(self, api: str) -> bool | None:
        self.asked.append(api)
        return self.modes[api]


def lifted(target: Target, api: str, option: bool = False) -> bool:
    with emulation.installed(lambda: target):  # type: ignore[arg-type,return-value]
        return RunSettings(Path("shop"), api=api, legacy_coupons=option).options().legacy_coupons


@pytest.mark.parametrize(
    ("api", "option", "said", "lifts"),
    [
        ("emulator", False, True, True),  # the embedded emulator is asked, option or not
        ("emulator", True, True, True),
        ("emulator", False, False, False),
        ("http://served", True, True, True),
        ("http://served", False, True, False),  # a served one only when the option asks for it: no call otherwise
        ("http://served", False, False, False),
    ],
)
def test_the_emulator_says_whether_the_refusal_is_lifted(api: str, option: bool, said: bool, lifts: bool) -> None:
    target = Target(embedded=said, served=said)
    assert lifted(target, api, option) is lifts
    assert target.asked == ([api] if api == "emulator" or option else [])


def test_wechat_is_never_asked_and_never_lifts_it() -> None:
    target = Target()
    assert not lifted(target, WECHAT_API, option=True), "WeChat never creates coupons, whatever the option says"
    assert not lifted(target, f"{WECHAT_API}/", option=True)
    assert target.asked == []


@pytest.mark.parametrize(
    ("api", "said", "message"),
    [
        ("emulator", False, "the embedded emulator is not in legacy mode: set WXREC_EMULATOR_LEGACY_COUPONS=1"),
        ("http://served", False, "the emulator at http://served is not in legacy mode: serve it with --legacy"),
        ("http://served", None, "http://served is not an emulator that reports a legacy mode"),
    ],
)
def test_an_option_the_target_contradicts_is_an_error(api: str, said: bool | None, message: str) -> None:
    with pytest.raises(WxrecError, match=rf"^--legacy-coupons \(or WXREC_LEGACY_COUPONS\): {re.escape(message)}"):
        lifted(Target(embedded=said, served=said), api, option=True)


def test_a_run_asks_its_target_once() -> None:
    target = Target(served=True)
    with emulation.installed(lambda: target):  # type: ignore[arg-type,return-value]
        settings = RunSettings(Path("shop"), api="http://served", legacy_coupons=True)
        assert all(settings.options().legacy_coupons for _ in range(3))  # as apply builds them
    assert target.asked == ["http://served"]


def test_the_embedded_emulator_without_a_provider_installed_is_a_clear_error() -> None:
    with pytest.raises(WxrecError, match=r"install\(reconciler\.cli\.embedded\.provider\)"):
        RunSettings(Path("shop"), api="emulator").options()
