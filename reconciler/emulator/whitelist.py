"""card/testwhitelist/set: the users who may claim cards that are not approved yet.

Sources: WeChat's card delivery document (投放卡券) ("同时支持openid、username两种字段设置白名单，总数上限为10个";
"全量设置") and the real answer in tianye/WechatMpSDK's README (white_list_size, success_openid, success_username).
There is no getter: GET /_emulator/whitelist shows it to tests.

Readings (strictest):
- Full replacement: a list left out is emptied; a body with neither list is 41011 (a call that
  would silently clear the whitelist is more likely a bug than an intent; send [] to clear).
- Duplicates count once; more than 10 distinct entries in total: 40097, nothing changes.
- Entries must be non-empty strings (47001 / 40097); usernames are string(32) (45021). The docs'
  string(20) for openid is not enforced: their own example openid is 27 characters.
- The emulator knows no users, so every entry succeeds.
"""

from __future__ import annotations

from typing import Final

from . import errors as e
from .assets import Whitelist
from .model import JSON
from .params import assets_of, size
from .routing import Call, Endpoint, Routes, ok

MAX_ENTRIES: Final = 10
MAX_USERNAME: Final = 32


def _entries(body: JSON, name: str, max_bytes: int | None) -> list[str] | None:
    raw = body.get(name)
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise e.ApiError(e.DATA_FORMAT_ERROR, name)
    out: list[str] = []
    for item in raw:
        if not item.strip():
            raise e.ApiError(e.INVALID_ARGS, f"{name}: empty entry")
        if max_bytes is not None and size(item) > max_bytes:
            raise e.ApiError(e.FIELD_TOO_LONG, name)
        if item not in out:
            out.append(item)
    return out


def set_whitelist(call: Call) -> JSON:
    openid = _entries(call.body, "openid", None)
    username = _entries(call.body, "username", MAX_USERNAME)
    if openid is None and username is None:
        raise e.ApiError(e.MISSING_FIELDS, "openid|username")
    openid, username = openid or [], username or []
    total = len(openid) + len(username)
    if total > MAX_ENTRIES:
        raise e.ApiError(e.INVALID_ARGS, f"at most {MAX_ENTRIES} openid and username in total, got {total}")
    account = assets_of(call)
    account.whitelist = Whitelist(openid, username)
    call.emu.store.dirty = True
    return ok(white_list_size=total, success_openid=list(openid), success_username=list(username))


def show(whitelist: Whitelist | None) -> JSON:
    if whitelist is None:
        return {"openid": [], "username": [], "set": False}
    return {"openid": list(whitelist.openid), "username": list(whitelist.username), "set": True}


ROUTES: Routes = {
    "/card/testwhitelist/set": Endpoint("POST", set_whitelist),
}
