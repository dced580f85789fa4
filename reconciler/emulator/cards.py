"""The card endpoints: card/create, get, batchget, update, modifystock, delete, getcolors.

What create and update accept is in rules.py, card/get's answer in render.py; the cards
themselves live in the store.
"""

from __future__ import annotations

from typing import Any

from . import deposit, media, params, render, rules
from . import errors as e
from .colors import COLORS
from .model import COUPON_TYPES, JSON, STATUS_ALIASES, STATUSES, Card
from .routing import Call, Endpoint, Routes, ok


def _live_card(call: Call) -> Card:
    return params.live_card(call, call.body.get("card_id"))


def card_create(call: Call) -> JSON:
    new = rules.parse_create(call.body, call.emu.store.now())
    media.check_hosted(call.body["card"].get(new.card_type.lower()))
    if new.card_type in COUPON_TYPES and not call.emu.config.legacy_coupons:
        # Since 2021-04-01 WeChat creates no coupons (its announcement: not through the API, not in the console).
        # No source gives the errcode real accounts get: assumed 40071 「不合法的卡券类型」 of the card errcodes,
        # the one for a card type that cannot be created (docs/wechat-today.md).
        raise e.ApiError(e.INVALID_CARD_TYPE, f"{new.card_type}: coupons can no longer be created since 2021-04-01")
    return ok(card_id=call.emu.store.create_card(call.appid, new).card_id)


def card_get(call: Call) -> JSON:
    return ok(card=render.card_answer(_live_card(call)))


def _int_param(body: JSON, name: str, lo: int, hi: int | None = None) -> int:
    if body.get(name) is None:
        raise e.ApiError(e.MISSING_FIELDS, name)
    value = rules.as_int(body[name], name)
    if value < lo or (hi is not None and value > hi):
        raise e.ApiError(e.INVALID_ARGS, name)
    return value


def _status_filter(raw: Any) -> frozenset[str] | None:
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "status_list")
    statuses = frozenset(STATUS_ALIASES.get(str(s), str(s)) for s in raw)
    unknown = sorted(statuses - STATUSES)
    if unknown:
        raise e.ApiError(e.INVALID_CARD_STATUS, f"status_list: {unknown[0]}")
    return statuses


def card_batchget(call: Call) -> JSON:
    offset = _int_param(call.body, "offset", lo=0)
    # "数量最大50"; undocumented errcode for more: 40097 invalid args.
    count = _int_param(call.body, "count", lo=1, hi=50)
    ids = call.emu.store.card_ids(call.appid, _status_filter(call.body.get("status_list")))
    # card_list: an always-empty field of the real answer (the seed: "未知的返回值").
    return ok(card_id_list=ids[offset : offset + count], total_num=len(ids), card_list=[])


def card_update(call: Call) -> JSON:
    card = _live_card(call)
    plan = rules.parse_update(card, call.body)
    media.check_hosted(call.body.get(card.card_type.lower()))
    if plan.base.get("get_custom_code_mode"):
        deposit.check_deposit_mode(call.emu.store, call.appid, card)
    call.emu.store.apply_update(call.appid, card, plan)
    return ok(send_check=plan.send_check)


def _stock_value(body: JSON, name: str) -> int:
    value = rules.as_int(body[name], name) if body.get(name) is not None else 0
    if value < 0:
        raise e.ApiError(e.INVALID_STOCK, name)
    return value


def _stock_delta(body: JSON) -> int:
    """The net change. The official example sends increase_stock_value and reduce_stock_value together
    (both 1231231; "可以不填或填0" for each), so a call may carry both; no source says how WeChat combines
    them: the net effect is assumed, judged (stock ≥ 0, total ≤ 100000000) after netting."""
    if body.get("increase_stock_value") is None and body.get("reduce_stock_value") is None:
        raise e.ApiError(e.MISSING_FIELDS, "increase_stock_value|reduce_stock_value")
    return _stock_value(body, "increase_stock_value") - _stock_value(body, "reduce_stock_value")


def card_modifystock(call: Call) -> JSON:
    card = _live_card(call)
    delta = _stock_delta(call.body)
    if delta:
        deposit.check_stock(call.emu.store, call.appid, card, delta)
        call.emu.store.modify_stock(card, delta)
    return ok()


def card_delete(call: Call) -> JSON:
    call.emu.store.delete(_live_card(call))
    return ok()


def card_getcolors(call: Call) -> JSON:
    return ok(colors=[{"name": name, "value": value} for name, value in COLORS])


ROUTES: Routes = {
    "/card/create": Endpoint("POST", card_create),
    "/card/get": Endpoint("POST", card_get),
    "/card/batchget": Endpoint("POST", card_batchget),
    "/card/update": Endpoint("POST", card_update),
    "/card/modifystock": Endpoint("POST", card_modifystock),
    "/card/delete": Endpoint("POST", card_delete),
    "/card/getcolors": Endpoint("GET", card_getcolors),
}
