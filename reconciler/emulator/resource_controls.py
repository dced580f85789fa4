"""Controls under /_emulator/ for the write-only resources, and for a menu made in the MP console.

- ``POST /_emulator/console_menu {"appid"?, "button": [...] | null}``: a menu saved in the MP
  console. get_current_selfmenu_info shows it; menu/get answers 46003, since it sees only menus
  made through the API. It replaces the API's menus (default and conditional), as switching
  the console's menu on leaves developer mode; null or [] removes it. Buttons are stored as
  given (console types such as text, img or news with value/news_info are welcome), in
  menu/create's shape or get_current_selfmenu_info's.
- ``POST /_emulator/fans {"appid"?, "openid", "tags": [tag ids], "platform"?: 1|2|3}``: a follower
  (made or replaced) with the tags in the order they were put on, for tags/get's counts and
  menu/trymatch (the emulator has no followers otherwise); answers the fan.
- ``GET /_emulator/whitelist?appid=``: the test whitelist (WeChat has no getter).
- ``GET /_emulator/landing_pages?appid=``: the landing pages made (WeChat has no get or list).
- ``GET /_emulator/qrcodes?appid=``: the QR codes made, card and scene codes, with their expiry.

No token; bad input is HTTP 400 with an error, as for the other controls.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import menu, whitelist
from .assets import Fan
from .controls import ControlError, resolve_appid
from .model import JSON, loads_object
from .qrcodes import live_code, show_url
from .service import Emulator
from .store import Store


def set_console_menu(store: Store, appid: str, button: Any) -> JSON:
    try:
        buttons = menu.parse_console(button)
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    menus = store.assets.account(appid).menus
    menus.console = buttons
    if buttons is not None:
        menus.default, menus.default_id, menus.conditional = None, 0, []
    store.dirty = True
    selfmenu: JSON = {"is_menu_open": 0}
    if buttons is not None:
        selfmenu = {"is_menu_open": 1, "selfmenu_info": {"button": menu.selfmenu_shape(copy.deepcopy(buttons))}}
    return {"appid": appid, **selfmenu}


def set_fan(store: Store, appid: str, body: JSON) -> JSON:
    tags = store.assets.account(appid).tags
    openid, tag_ids, platform = body.get("openid"), body.get("tags", []), body.get("platform")
    if not isinstance(openid, str) or not openid:
        raise ControlError("openid must be a non-empty string")
    if not isinstance(tag_ids, list) or not all(isinstance(t, int) and t in tags.names for t in tag_ids):
        raise ControlError(f"tags must list ids of the account's tags: {sorted(tags.names)}")
    if platform not in (None, 1, 2, 3):
        raise ControlError("platform must be 1 (iOS), 2 (Android), 3 (others) or null")
    tags.fans[openid] = Fan(list(dict.fromkeys(tag_ids)), platform)
    store.dirty = True
    return {"appid": appid, "openid": openid, "tags": tags.fans[openid].tags, "platform": platform}


def show_whitelist(store: Store, appid: str) -> JSON:
    return {"appid": appid, **whitelist.show(store.assets.account(appid).whitelist)}


def list_landing_pages(store: Store, appid: str) -> JSON:
    pages = store.assets.account(appid).landing_pages
    return {"appid": appid, "landing_pages": [asdict(p) for p in pages]}


def list_qrcodes(store: Store, appid: str) -> JSON:
    codes = []
    for ticket, qr in store.assets.qrcodes.items():
        if qr.appid != appid:
            continue
        expires_at = None if qr.expire_seconds is None else qr.create_time + qr.expire_seconds
        live = live_code(store, ticket) is not None
        codes.append({"ticket": ticket, "show_qrcode_url": show_url(ticket), "live": live, "expires_at": expires_at})
        codes[-1].update({k: v for k, v in asdict(qr).items() if k != "appid"})
    return {"appid": appid, "now": store.now(), "qrcodes": codes}


# ---------------------------------------------------------------- HTTP


async def _run(request: Request, operation: Callable[[Emulator, str, JSON], JSON], *, query: bool = False) -> Response:
    emu: Emulator = request.app.state.emulator
    try:
        if query:
            payload: JSON = dict(request.query_params)
        else:
            try:
                payload = loads_object(await request.body() or b"{}")
            except ValueError:
                raise ControlError("the request body must be a JSON object") from None
        with emu.transaction():
            appid = resolve_appid(emu.store, list(emu.config.accounts), payload.get("appid"))
            answer = operation(emu, appid, payload)
    except ControlError as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    return JSONResponse(answer)


async def console_menu_route(request: Request) -> Response:
    return await _run(request, lambda emu, appid, b: set_console_menu(emu.store, appid, b.get("button")))


async def fans_route(request: Request) -> Response:
    return await _run(request, lambda emu, appid, b: set_fan(emu.store, appid, b))


async def whitelist_route(request: Request) -> Response:
    return await _run(request, lambda emu, appid, _: show_whitelist(emu.store, appid), query=True)


async def landing_pages_route(request: Request) -> Response:
    return await _run(request, lambda emu, appid, _: list_landing_pages(emu.store, appid), query=True)


async def qrcodes_route(request: Request) -> Response:
    return await _run(request, lambda emu, appid, _: list_qrcodes(emu.store, appid), query=True)


def resource_control_routes() -> list[Route]:
    """Mounted under /_emulator before the other controls (whose last route catches every path)."""
    return [
        Route("/console_menu", console_menu_route, methods=["POST"]),
        Route("/fans", fans_route, methods=["POST"]),
        Route("/whitelist", whitelist_route, methods=["GET"]),
        Route("/landing_pages", landing_pages_route, methods=["GET"]),
        Route("/qrcodes", qrcodes_route, methods=["GET"]),
    ]
