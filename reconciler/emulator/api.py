"""The WeChat endpoints, at WeChat's paths; every answer is HTTP 200 with errcode/errmsg.

Order of checks on every call: method (43001/43002), access_token (41001/40001/42001),
body (44002 empty, 47001 not a JSON object), then the endpoint's own rules.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import deposit, landing, menu, params, qrcodes, render, rules, whitelist
from . import errors as e
from .colors import COLORS
from .model import JSON, STATUS_ALIASES, STATUSES, Card, loads_object
from .service import Emulator


@dataclass
class Call:
    emu: Emulator
    query: Mapping[str, str]
    body: JSON
    appid: str


Handler = Callable[[Call], JSON]


@dataclass(frozen=True)
class Endpoint:
    method: str
    handler: Handler
    needs_token: bool = True


def ok(**fields: Any) -> JSON:
    return {"errcode": e.OK, "errmsg": "ok", **fields}


async def dispatch(request: Request) -> Response:
    emu: Emulator = request.app.state.emulator
    path = request.url.path
    endpoint = ENDPOINTS.get(path)
    # Seq and fault draws; unknown paths are never faulted (the spec decides for the token endpoints).
    with emu.transaction():
        call = emu.faults.begin(path, faultable=endpoint is not None)
    await emu.faults.delay(call)
    raw = await request.body()  # read before the transaction, which must not await; parsed in its turn
    answer: JSON | None = None
    with emu.transaction():
        try:
            if endpoint is None:
                # Paths the emulator does not serve (yet): WeChat's answer for an API the account may not call.
                raise e.ApiError(e.API_UNAUTHORIZED)
            _check_method(endpoint, request.method)
            emu.store.settle()
            call.token = request.query_params.get("access_token")
            appid = _authenticate(emu, endpoint, call.token)
            call.appid = appid or request.query_params.get("appid")
            if not endpoint.needs_token:
                # The token endpoints name their account in the body: the fault counters need it first.
                call.body = _body(endpoint, raw)
            if emu.faults.before_call(call):
                if endpoint.needs_token:
                    call.body = _body(endpoint, raw)
                revision = emu.store.revision
                answer = endpoint.handler(Call(emu, request.query_params, call.body, appid or ""))
                call.committed = emu.store.revision != revision
        except e.ApiError as err:
            answer = err.answer(emu.next_hint())
        finally:
            emu.faults.after_call(call, answer)  # logs the call (and decides a drop) before the save
    return emu.faults.response(call, answer)


def _check_method(endpoint: Endpoint, method: str) -> None:
    if method != endpoint.method:
        raise e.ApiError(e.REQUIRE_GET if endpoint.method == "GET" else e.REQUIRE_POST)


def _authenticate(emu: Emulator, endpoint: Endpoint, token: str | None) -> str | None:
    if not endpoint.needs_token:
        return None
    if not token:
        raise e.ApiError(e.ACCESS_TOKEN_MISSING)
    return emu.store.token_owner(token)


def _body(endpoint: Endpoint, raw: bytes) -> JSON:
    if endpoint.method != "POST":
        return {}
    if not raw.strip():
        raise e.ApiError(e.EMPTY_POST_DATA)
    try:
        return loads_object(raw)
    except ValueError:  # also UnicodeDecodeError
        raise e.ApiError(e.DATA_FORMAT_ERROR) from None


# ---------------------------------------------------------------- tokens


def _text_param(source: Mapping[str, Any], name: str) -> str:
    value = source.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise e.ApiError(e.DATA_FORMAT_ERROR, name)
    return value


def _credentials(emu: Emulator, source: Mapping[str, Any]) -> str:
    appid = _text_param(source, "appid")
    secret = _text_param(source, "secret")
    if not appid:
        raise e.ApiError(e.APPID_MISSING)
    if not secret:
        raise e.ApiError(e.APPSECRET_MISSING)
    if _text_param(source, "grant_type") != "client_credential":
        raise e.ApiError(e.INVALID_GRANT_TYPE)
    expected = emu.config.accounts.get(appid)
    if expected is None:
        raise e.ApiError(e.INVALID_APPID)
    if not hmac.compare_digest(secret.encode(), expected.encode()):
        raise e.ApiError(e.INVALID_APPSECRET)
    return appid


def get_token(call: Call) -> JSON:
    appid = _credentials(call.emu, call.query)
    config = call.emu.config
    token = call.emu.store.issue_token(appid, config.token_ttl, config.token_overlap)
    # WeChat's success answer for tokens carries no errcode.
    return {"access_token": token, "expires_in": config.token_ttl}


def stable_token(call: Call) -> JSON:
    appid = _credentials(call.emu, call.body)
    force = call.body.get("force_refresh")
    if force is not None and not isinstance(force, bool):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "force_refresh")
    config = call.emu.config
    token, expires_in = call.emu.store.stable_token(appid, config.token_ttl, config.token_overlap, bool(force))
    return {"access_token": token, "expires_in": expires_in}


# ---------------------------------------------------------------- cards


def _live_card(call: Call) -> Card:
    return params.live_card(call, call.body.get("card_id"))


def card_create(call: Call) -> JSON:
    new = rules.parse_create(call.body, call.emu.store.now())
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
    call.emu.store.apply_update(card, plan)
    return ok(send_check=plan.send_check)


def _stock_delta(body: JSON) -> int:
    increase, reduce = body.get("increase_stock_value"), body.get("reduce_stock_value")
    if increase is None and reduce is None:
        raise e.ApiError(e.MISSING_FIELDS, "increase_stock_value|reduce_stock_value")
    if increase is not None and reduce is not None:
        # strictest: one call moves stock one way.
        raise e.ApiError(e.INVALID_ARGS, "increase_stock_value and reduce_stock_value are exclusive")
    name = "increase_stock_value" if increase is not None else "reduce_stock_value"
    value = rules.as_int(body[name], name)
    if value < 0:
        raise e.ApiError(e.INVALID_STOCK, name)
    return value if increase is not None else -value


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


ENDPOINTS: dict[str, Endpoint] = {
    "/cgi-bin/token": Endpoint("GET", get_token, needs_token=False),
    "/cgi-bin/stable_token": Endpoint("POST", stable_token, needs_token=False),
    "/card/create": Endpoint("POST", card_create),
    "/card/get": Endpoint("POST", card_get),
    "/card/batchget": Endpoint("POST", card_batchget),
    "/card/update": Endpoint("POST", card_update),
    "/card/modifystock": Endpoint("POST", card_modifystock),
    "/card/delete": Endpoint("POST", card_delete),
    "/card/getcolors": Endpoint("GET", card_getcolors),
}
# Menus, QR codes, landing pages, the test whitelist and code deposit keep their endpoints in their own modules.
for _routes in (menu.ROUTES, qrcodes.ROUTES, landing.ROUTES, whitelist.ROUTES, deposit.ROUTES):
    ENDPOINTS.update((path, Endpoint(method, handler)) for path, (method, handler) in _routes.items())
