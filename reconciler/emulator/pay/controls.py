"""Test controls under /_emulator/pay/: what happens in WeChat Pay without an API call of the merchant's.

- ``POST /_emulator/pay/issue {"stock_id", "count", "mchid"?}``: users receive coupons, so the issued counts (and a
  MERCHANT_UPLOAD stock's available codes) move, as sending coupons does; never past the stock's maximums.
- ``POST /_emulator/pay/state {"stock_id", "state", "mchid"?}``: the merchant platform pauses, stops or resumes a
  stock (UNAUDIT, RUNNING, STOPED, PAUSED; no API does it, §1).
- ``GET /_emulator/pay/stocks?mchid=``: every stock of the merchant as the query answers it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..clock import beijing_day
from ..controls import ControlError, _run
from ..model import JSON
from ..service import Emulator
from . import rules
from .book import Stock
from .errors import PayApiError
from .routes import MERCHANT_NAME


def issue(emu: Emulator, body: JSON) -> JSON:
    stock = _stock(emu, body)
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ControlError(f"count must be a whole number >= 1, not {count!r}")
    now = emu.store.now()
    rule = stock.document["stock_send_rule"]
    room = stock.max_coupons - stock.total_send
    if "max_coupons_by_day" in rule:
        room = min(room, int(rule["max_coupons_by_day"]) - stock.today(now))
    if stock.document.get("coupon_code_mode") == "MERCHANT_UPLOAD":
        room = min(room, len(stock.codes) - stock.codes_sent)
    if stock.state != "RUNNING" or count > room:
        raise ControlError(f"stock {stock.stock_id} ({stock.state}) can issue {max(room, 0)} more, not {count}")
    stock.today_send, stock.send_day = stock.today(now) + count, beijing_day(now)
    stock.total_send += count
    if stock.document.get("coupon_code_mode") == "MERCHANT_UPLOAD":
        stock.codes_sent += count
    emu.store.dirty = True
    return stock.query(now, MERCHANT_NAME)


def set_state(emu: Emulator, body: JSON) -> JSON:
    stock = _stock(emu, body)
    state = body.get("state")
    if state not in rules.STATES:
        raise ControlError(f"state must be one of {', '.join(sorted(rules.STATES))}, not {state!r}")
    stock.state = str(state)
    emu.store.dirty = True
    return stock.query(emu.store.now(), MERCHANT_NAME)


def list_stocks(emu: Emulator, mchid: Any) -> JSON:
    merchant = emu.store.pay.merchant(_mchid(emu, mchid))
    now = emu.store.now()
    return {"stocks": [s.query(now, MERCHANT_NAME) for s in merchant.stocks.values()]}


def _mchid(emu: Emulator, mchid: Any) -> str:
    merchants = emu.config.merchants
    if mchid is None:
        return merchants[0]
    if mchid not in merchants:
        raise ControlError(f"unknown mchid {mchid!r}; served: {', '.join(merchants)}")
    return str(mchid)


def _stock(emu: Emulator, body: JSON) -> Stock:
    try:
        return emu.store.pay.merchant(_mchid(emu, body.get("mchid"))).stock(str(body.get("stock_id")))
    except PayApiError as err:
        raise ControlError(err.message) from None


async def issue_route(request: Request) -> Response:
    return await _run(request, issue)


async def state_route(request: Request) -> Response:
    return await _run(request, set_state)


async def stocks_route(request: Request) -> Response:
    return await _run(request, lambda emu, _: list_stocks(emu, request.query_params.get("mchid")), body={})


def pay_control_routes() -> list[Route]:
    """Mounted under /_emulator before the card API's controls (whose last route catches every path)."""
    return [
        Route("/pay/issue", issue_route, methods=["POST"]),
        Route("/pay/state", state_route, methods=["POST"]),
        Route("/pay/stocks", stocks_route, methods=["GET"]),
    ]
