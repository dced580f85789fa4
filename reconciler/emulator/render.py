"""card/get's answer, shaped like the real answer in tianye/WechatMpSDK's README (key order included).

Server defaults filled in for fields the creator left out:
- ``location_id_list: []`` and ``area_code_list: []`` (always present in the real answer);
- ``get_limit: 50`` ("不填写默认为50");
- ``use_custom_code: false`` and ``bind_openid: false`` (documented defaults);
- ``can_share: true`` and ``can_give_friend: true`` (the card/get table in tianye/WechatMpSDK's README: "默认为true");
- ``advanced_info`` with ``time_limit``, ``text_image_list``, ``business_service``,
  ``consume_share_card_list`` as ``[]`` and ``share_friends: false`` (the same real answer).
Optional fields without a documented default (sub_title, service_phone, source, the
center/custom/promotion entries, use_limit …) are left out, as the real answer leaves out
promotion_url_sub_title that its creator did not send.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from .colors import COLOR_VALUES
from .model import JSON, Card
from .rules import TYPE_SPECS

BASE_DEFAULTS: Final[JSON] = {
    "location_id_list": [],
    "get_limit": 50,
    "can_share": True,
    "can_give_friend": True,
    "use_custom_code": False,
    "bind_openid": False,
}
_HEAD: Final = (
    "logo_url",
    "code_type",
    "brand_name",
    "title",
    "sub_title",
    "date_info",
    "color",
    "notice",
    "service_phone",
    "description",
    "source",
    "location_id_list",
    "use_all_locations",
    "get_limit",
    "use_limit",
    "can_share",
    "can_give_friend",
    "use_custom_code",
    "get_custom_code_mode",
    "bind_openid",
)
# The real answer predates the mini-program entries: each pair follows the web link it replaced (assumed).
_TAIL: Final = (
    "custom_url_name",
    "custom_url",
    "custom_app_brand_user_name",
    "custom_app_brand_pass",
    "custom_url_sub_title",
    "promotion_url",
    "promotion_app_brand_user_name",
    "promotion_app_brand_pass",
    "promotion_url_name",
    "promotion_url_sub_title",
    "center_title",
    "center_sub_title",
    "center_url",
    "center_app_brand_user_name",
    "center_app_brand_pass",
)
_MISSING: Final = object()


def card_answer(card: Card) -> JSON:
    body: JSON = {"base_info": base_info(card)}
    for name in TYPE_SPECS[card.card_type]:
        if name in card.fields:
            body[name] = copy.deepcopy(card.fields[name])
    body["advanced_info"] = copy.deepcopy(card.advanced)
    return {"card_type": card.card_type, card.card_type.lower(): body}


def base_info(card: Card) -> JSON:
    out: JSON = {"id": card.card_id}
    _copy_fields(card.base, _HEAD, out)
    out["status"] = card.status
    out["sku"] = {"quantity": card.quantity, "total_quantity": card.total_quantity}
    out["create_time"] = card.create_time
    out["update_time"] = card.update_time
    _copy_fields(card.base, _TAIL, out)
    out["area_code_list"] = []
    # Fields set through the console control that the API tables do not know.
    for name, value in card.base.items():
        out.setdefault(name, copy.deepcopy(value))
    return out


def _copy_fields(base: JSON, names: tuple[str, ...], out: JSON) -> None:
    for name in names:
        value: Any = base.get(name, BASE_DEFAULTS.get(name, _MISSING))
        if value is _MISSING:
            continue
        if name == "color":
            value = COLOR_VALUES.get(value, value)
        out[name] = copy.deepcopy(value)
