"""WeChat's errcodes and errmsgs, as the emulator sends them.

Real errmsgs carry a request id after ``hint:`` and sometimes a detail after that, e.g.
``missing required fields! please check document and request json! hint: [DbUV3a0983ent1]
m_data.base_info().title``. Clients must match on errcode, never on the text.
"""

from __future__ import annotations

import hashlib
from typing import Any

OK = 0
INVALID_CREDENTIAL = 40001
INVALID_GRANT_TYPE = 40002
INVALID_APPID = 40013
INVALID_CARD_TYPE = 40071
INVALID_CODE_TYPE = 40072
INVALID_CARD_ID = 40073
INVALID_CARD_STATUS = 40078
INVALID_TIME = 40079
INVALID_ARGS = 40097
INVALID_TIME_RANGE = 40100
INVALID_STOCK = 40122
ACCESS_TOKEN_MISSING = 41001
APPID_MISSING = 41002
APPSECRET_MISSING = 41004
MISSING_FIELDS = 41011
MISSING_CARD_ID = 41012
ACCESS_TOKEN_EXPIRED = 42001
REQUIRE_GET = 43001
REQUIRE_POST = 43002
EMPTY_POST_DATA = 44002
DAILY_QUOTA = 45009
FIELD_TOO_LONG = 45021
DATA_FORMAT_ERROR = 47001
API_UNAUTHORIZED = 48001

ERRMSG: dict[int, str] = {
    OK: "ok",
    INVALID_CREDENTIAL: "invalid credential, access_token is invalid or not latest",
    INVALID_GRANT_TYPE: "invalid grant_type",
    INVALID_APPID: "invalid appid",
    INVALID_CARD_TYPE: "invalid card type",
    INVALID_CODE_TYPE: "invalid code type",
    INVALID_CARD_ID: "invalid card id",
    INVALID_CARD_STATUS: "invalid card status",
    INVALID_TIME: "invalid time",
    INVALID_ARGS: "invalid args",
    INVALID_TIME_RANGE: "invalid time range",
    INVALID_STOCK: "invalid stock",
    ACCESS_TOKEN_MISSING: "access_token missing",
    APPID_MISSING: "appid missing",
    APPSECRET_MISSING: "appsecret missing",
    MISSING_FIELDS: "missing required fields! please check document and request json!",
    MISSING_CARD_ID: "missing card id",
    ACCESS_TOKEN_EXPIRED: "access_token expired",
    REQUIRE_GET: "require GET method",
    REQUIRE_POST: "require POST method",
    EMPTY_POST_DATA: "empty post data",
    DAILY_QUOTA: "reach max api daily quota limit",
    FIELD_TOO_LONG: "field length too long",
    DATA_FORMAT_ERROR: "data format error",
    API_UNAUTHORIZED: "api unauthorized",
}


class ApiError(Exception):
    """A WeChat error answer: errcode, WeChat's errmsg, and an optional detail (a field path)."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        super().__init__(f"{errcode} {ERRMSG[errcode]} {detail}".rstrip())
        self.errcode = errcode
        self.detail = detail

    def answer(self, hint: str) -> dict[str, Any]:
        errmsg = f"{ERRMSG[self.errcode]} hint: [{hint}]"
        if self.detail:
            errmsg = f"{errmsg} {self.detail}"
        return {"errcode": self.errcode, "errmsg": errmsg}


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def make_hint(seed: int, number: int) -> str:
    """A request id shaped like WeChat's (``rScPNA0536ent2``), deterministic from seed and counter."""
    digest = hashlib.sha256(f"hint:{seed}:{number}".encode()).digest()
    letters = "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:6])
    digits = "".join(str(b % 10) for b in digest[6:10])
    return f"{letters}{digits}ent{digest[10] % 3 + 1}"
