"""Request helpers shared by the menu, QR code, landing page, whitelist and deposit endpoints.

Conventions as in rules.py: ``null`` means "not sent", an empty string in a required field is
"missing", a value of the wrong JSON type is 47001, string limits count UTF-8 bytes.
"""

from __future__ import annotations

from typing import Any

from . import errors as e
from .assets import AccountAssets
from .model import Card
from .routing import Call
from .rules import DEPOSIT_MODE


def assets_of(call: Call) -> AccountAssets:
    return call.emu.store.assets.account(call.appid)


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def text(value: Any, path: str, missing: int = e.MISSING_FIELDS) -> str:
    """A required string: absent or empty gives ``missing`` (41011 unless told), not a string 47001."""
    if value is None or value == "":
        raise e.ApiError(missing, path)
    if not isinstance(value, str):
        raise e.ApiError(e.DATA_FORMAT_ERROR, path)
    return value


def optional_text(value: Any, path: str, max_bytes: int | None = None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise e.ApiError(e.DATA_FORMAT_ERROR, path)
    if max_bytes is not None and size(value) > max_bytes:
        raise e.ApiError(e.FIELD_TOO_LONG, path)
    return value


def live_card(call: Call, card_id: Any) -> Card:
    """The account's card, unless unknown or deleted (40073); no card_id: 41012."""
    if card_id is None or card_id == "":
        raise e.ApiError(e.MISSING_CARD_ID)
    if not isinstance(card_id, str):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "card_id")
    return call.emu.store.live_card(call.appid, card_id)


def is_deposit_card(card: Card) -> bool:
    """A custom-code card in the deposit mode (GET_CUSTOM_CODE_MODE_DEPOSIT)."""
    return card.base.get("use_custom_code") is True and card.base.get("get_custom_code_mode") == DEPOSIT_MODE


def is_custom_code_card(card: Card) -> bool:
    return card.base.get("use_custom_code") is True
