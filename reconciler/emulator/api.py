"""The WeChat endpoints, at WeChat's paths; every answer is HTTP 200 with errcode/errmsg.

Order of checks on every call: method (43001/43002), access_token (41001/40001/42001),
body (44002 empty, 47001 not a JSON object), then the endpoint's own rules.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import card_settings, cards, deposit, landing, media, menu, qrcodes, tags, token_routes, whitelist
from . import errors as e
from .model import JSON, loads_object
from .routing import Call, Endpoint
from .service import Emulator

# Each route module keeps its endpoints; this is the one place that puts them together.
ENDPOINTS: dict[str, Endpoint] = {
    path: endpoint
    for routes in (
        token_routes.ROUTES,
        cards.ROUTES,
        card_settings.ROUTES,
        menu.ROUTES,
        tags.ROUTES,
        qrcodes.ROUTES,
        landing.ROUTES,
        whitelist.ROUTES,
        deposit.ROUTES,
        media.ROUTES,
    )
    for path, endpoint in routes.items()
}


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
            content_type = request.headers.get("content-type", "")
            if not endpoint.needs_token:
                # The token endpoints name their account in the body: the fault counters need it first.
                call.body = _body(endpoint, raw, content_type)
            if emu.faults.before_call(call):
                if endpoint.needs_token:
                    call.body = _body(endpoint, raw, content_type)
                revision = emu.store.revision
                answer = endpoint.handler(Call(emu, request.query_params, call.body, appid or ""))
                call.committed = emu.store.revision != revision
        except e.ApiError as err:
            answer = err.answer(*emu.next_ids())
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


def _body(endpoint: Endpoint, raw: bytes, content_type: str) -> JSON:
    if endpoint.method != "POST":
        return {}
    if endpoint.reads is not None:
        return endpoint.reads(raw, content_type)
    if not raw.strip():
        raise e.ApiError(e.EMPTY_POST_DATA)
    try:
        return loads_object(raw)
    except ValueError:  # also UnicodeDecodeError
        raise e.ApiError(e.DATA_FORMAT_ERROR) from None
