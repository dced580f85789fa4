"""WeChat as it is today (docs/wechat-today.md, "Smaller corrections"), through wxrec against the emulator:
use_all_locations and the switch to the deposit mode are in-place updates, no card is created without stock,
a deposit-mode card's QR code names no code, and a WeChat error shows its rid once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app
from reconciler.plan import Action
from reconciler.wechat.client import WECHAT_API
from tests.support import Harness, wxrec

TICKET = """
cards:
  park:
    card_type: SCENIC_TICKET
    base_info:
      logo_url: https://mmbiz.qpic.cn/mmbiz/hillcoffee/logo.png
      brand_name: 山丘公园
      code_type: CODE_TYPE_QRCODE
      title: 公园门票
      color: Color010
      notice: 出示券码
      description: 凭票入园
      use_custom_code: true
{extra}      date_info:
        type: DATE_TYPE_FIX_TERM
        fixed_begin_term: 0
        fixed_term: 30
      sku:
{sku}
"""
DEPOSIT = "      get_custom_code_mode: GET_CUSTOM_CODE_MODE_DEPOSIT\n"
CODES = "codes:\n  park-codes:\n    card: park\n    file: park-codes.txt\n"


def write(directory: Path, *, extra: str = "", sku: str = "quantity: 5", more: str = "") -> Path:
    manifest = directory / "park.yaml"
    manifest.write_text(TICKET.format(extra=extra, sku=f"        {sku}") + more, encoding="utf-8")
    return manifest


@pytest.fixture
async def park(tmp_path: Path) -> AsyncIterator[Harness]:
    directory = tmp_path / "park"
    directory.mkdir()
    write(directory)
    app = create_app(EmulatorConfig(accounts={DEMO_APPID: DEMO_SECRET}, review="instant", token_ttl=7200))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=WECHAT_API) as http:
        yield Harness(http, directory)


async def base_info(harness: Harness) -> dict[str, object]:
    card = await harness.api.get(harness.card_id("park"))
    assert card is not None
    return dict(card["scenic_ticket"]["base_info"])


async def test_use_all_locations_is_an_in_place_update(park: Harness) -> None:
    await park.apply()
    card_id = park.card_id("park")
    write(park.directory, extra="      use_all_locations: true\n")
    [change] = (await park.plan()).changes
    assert change.action == Action.UPDATE and [c.path for c in change.changes] == ["base_info.use_all_locations"]
    await park.apply()
    assert (park.card_id("park"), (await base_info(park))["use_all_locations"]) == (card_id, True)
    assert not (await park.plan()).changes


async def test_an_existing_card_switches_to_the_deposit_mode_in_place(park: Harness) -> None:
    """The seed's 非新创建卡券: stock down to what is deposited, card/update, then stock up to the codes."""
    await park.apply()
    card_id = park.card_id("park")
    (park.directory / "park-codes.txt").write_text("P0001\nP0002\nP0003\n", encoding="utf-8")
    write(park.directory, extra=DEPOSIT, sku="total_quantity: 10", more=CODES)
    changes = {c.address: c for c in (await park.plan()).changes}
    card = changes["cards.park"]
    assert card.action == Action.UPDATE and [c.path for c in card.changes] == ["base_info.get_custom_code_mode"]
    assert card.stock is not None and (card.stock.quantity, card.stock.delta) == (5, -5)
    await park.apply()
    info = await base_info(park)
    assert park.card_id("park") == card_id and info["get_custom_code_mode"] == "GET_CUSTOM_CODE_MODE_DEPOSIT"
    assert info["sku"] == {"quantity": 3, "total_quantity": 3}, "min(10, 3 codes deposited)"
    assert await park.api.deposit_count(card_id) == 3
    assert not (await park.plan()).changes


async def test_a_replacement_whose_budget_is_spent_is_refused_with_the_figures(park: Harness) -> None:
    write(park.directory, sku="total_quantity: 5")
    await park.apply()
    await park.control("claim", card_id=park.card_id("park"), count=5)
    write(park.directory, sku="total_quantity: 5").write_text(
        (park.directory / "park.yaml").read_text(encoding="utf-8").replace("山丘公园", "山丘乐园"), encoding="utf-8"
    )
    plan = await park.plan()
    assert [c.action for c in plan.changes] == [Action.REPLACE]
    [refusal] = plan.refusals
    assert "cards.park: its replacement would start with 0 claimable" in refusal
    assert "sku.total_quantity is 5 and the cards it replaces already issued 5" in refusal


async def test_a_new_card_without_stock_is_refused_before_any_call(park: Harness) -> None:
    write(park.directory, sku="quantity: 0")
    plan = await park.plan()
    assert plan.refusals == [
        "cards.park: sku.quantity is 0, and WeChat creates no card without stock (except in the deposit mode)"
    ]
    write(park.directory, extra=DEPOSIT, sku="total_quantity: 0")
    assert not (await park.plan()).refusals, "a deposit-mode card starts empty"


def test_validate_refuses_a_code_in_a_qr_code_of_a_deposit_mode_card(tmp_path: Path) -> None:
    qr = "qrcodes:\n  gate:\n    action_name: QR_CARD\n    cards:\n      - card: park\n        code: P0001\n"
    write(tmp_path, extra=DEPOSIT, sku="total_quantity: 3", more=qr)
    result = wxrec("validate", tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "park.yaml:" in result.output and "qrcodes.gate.cards.0.code" in result.output
    assert "WeChat hands out one of its deposited codes itself" in result.output
    write(tmp_path, sku="quantity: 3", more=qr)
    assert wxrec("validate", tmp_path).exit_code == 0, "a custom-code card not in the deposit mode names its code"


def test_a_wechat_error_shows_its_rid_once(tmp_path: Path) -> None:
    """The rid is what WeChat support asks for: wxrec keeps it, once, at the end of WeChat's words."""
    write(tmp_path)
    faults = {"WXREC_EMULATOR_FAULTS": "error=40097:1,paths=/card/create"}
    result = wxrec("apply", tmp_path, "--api", "emulator", "--auto-approve", env=faults)
    assert result.exit_code != 0 and "40097" in result.output, result.output
    assert result.output.count(" rid: ") == 1, result.output
