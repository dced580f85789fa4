"""The access-token endpoints: /cgi-bin/token and /cgi-bin/stable_token (tokens.py keeps the tokens).

They name their account in the request (appid and secret), not with a token.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from . import errors as e
from .model import JSON
from .routing import Call, Endpoint, Routes
from .service import Emulator


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


ROUTES: Routes = {
    "/cgi-bin/token": Endpoint("GET", get_token, needs_token=False),
    "/cgi-bin/stable_token": Endpoint("POST", stable_token, needs_token=False),
}
