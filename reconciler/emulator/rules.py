"""What card/create and card/update accept, from the API documents (never from our validator).

Sources: WeChat's card create/update tables, as tianye/WechatMpSDK's README copies
them, and what the SDKs (wechatpy, WxJava, EasyWeChat) send. Undocumented corners take the strictest reading; each such
choice is marked "strictest" below.

Conventions that hold for every field:
- ``null`` means "not sent".
- Integers may arrive as numeric strings: a real example in tianye/WechatMpSDK's README sends ``"quantity": "500000"``
  and the docs say timestamps are "converted to string"; they are stored and returned as ints.
- A value of the wrong JSON type is ``47001 data format error`` (WeChat parses JSON into typed
  messages: errmsgs name paths like ``m_data.base_info().title``); a number with a decimal point
  where an integer goes is one, ``3000.0`` included (issue 12: ``least_cost: 3000.0`` and
  ``fixed_term: 30.0`` were answered 47001). string(N) limits count UTF-8 bytes (a Chinese
  character is 3) and give 45021.
- Unknown fields are ignored on create and not echoed back by card/get. On update every
  field outside the documented updatable tables is refused with 47001, which is what the
  real API answered for an unsupported update field (Senparc issue #479: init_increase_bonus).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Final

from . import errors as e
from .colors import COLOR_VALUES
from .model import CARD_TYPES, JSON, VERIFY_FAIL, Card

MAX_QUANTITY: Final = 100_000_000

CODE_TYPES: Final = frozenset(
    {
        "CODE_TYPE_TEXT",
        "CODE_TYPE_BARCODE",
        "CODE_TYPE_QRCODE",
        "CODE_TYPE_ONLY_QRCODE",
        "CODE_TYPE_ONLY_BARCODE",
        "CODE_TYPE_NONE",
    }
)
FIX_TIME_RANGE: Final = "DATE_TYPE_FIX_TIME_RANGE"
FIX_TERM: Final = "DATE_TYPE_FIX_TERM"
PERMANENT: Final = "DATE_TYPE_PERMANENT"
_DATE_TYPES: Final = frozenset({FIX_TIME_RANGE, FIX_TERM, PERMANENT})
# "旧文档采用的1和2依然生效": stored and answered by name.
_LEGACY_DATE_TYPES: Final = {1: FIX_TIME_RANGE, 2: FIX_TERM}
DEPOSIT_MODE: Final = "GET_CUSTOM_CODE_MODE_DEPOSIT"


@dataclass(frozen=True)
class Spec:
    kind: str  # "str" | "int" | "bool" | "object" | "array"
    max_bytes: int = 0
    lo: int | None = None
    hi: int | None = None
    range_err: int = e.INVALID_ARGS


def text(max_bytes: int) -> Spec:
    return Spec("str", max_bytes=max_bytes)


def integer(lo: int | None = None, hi: int | None = None) -> Spec:
    return Spec("int", lo=lo, hi=hi)


BOOL: Final = Spec("bool")
OBJECT: Final = Spec("object")
ARRAY: Final = Spec("array")

# Refused on card/create and card/update since about 2019, any value ("" too): errcode 73211 (the global errcode
# table; a developer-community answer: "去掉center_url, custom_url 参数，不用传值(传空也不行)"). null stays "not sent".
WEB_LINKS: Final = ("center_url", "custom_url", "promotion_url")
MINI_PROGRAM_FIELDS: Final = tuple(
    f"{entry}_app_brand_{part}" for entry in ("center", "custom", "promotion") for part in ("user_name", "pass")
)

# date_info, sku and location_id_list have their own parsers below.
BASE_SPECS: Final[dict[str, Spec]] = {
    "logo_url": text(128),
    "brand_name": text(36),
    # Documented as string(16), yet its own documented values reach 22 bytes
    # (CODE_TYPE_ONLY_BARCODE): the enum is the rule, not the length.
    "code_type": text(64),
    "title": text(27),
    "sub_title": text(54),
    "color": text(16),
    "notice": text(48),
    "description": text(3072),
    "service_phone": text(24),
    "source": text(36),
    # strictest: a limit of 0 per person would make the card unclaimable.
    "get_limit": integer(lo=1),
    "use_limit": integer(lo=1),
    "use_custom_code": BOOL,
    "get_custom_code_mode": text(32),
    "bind_openid": BOOL,
    "can_share": BOOL,
    "can_give_friend": BOOL,
    "use_all_locations": BOOL,
    "center_title": text(18),
    "center_sub_title": text(24),
    # The create table says 15 bytes, the update table 16: strictest is 15.
    "custom_url_name": text(15),
    "custom_url_sub_title": text(18),
    "promotion_url_name": text(15),
    "promotion_url_sub_title": text(18),
    # Mini-program entries (update log 2017-06-28); assumed string(128) like the web links they replace.
    **dict.fromkeys(MINI_PROGRAM_FIELDS, text(128)),
}
BASE_REQUIRED: Final = (
    "logo_url",
    "code_type",
    "brand_name",
    "title",
    "color",
    "notice",
    "description",
    "date_info",
    "sku",
)

TYPE_SPECS: Final[dict[str, dict[str, Spec]]] = {
    "GROUPON": {"deal_detail": text(3072)},
    # Amounts in fen; strictest: a voucher must reduce something.
    "CASH": {"least_cost": integer(lo=0), "reduce_cost": integer(lo=1)},
    # Percent off (30 = 70 % of the price); 0 and 100 are not discounts.
    "DISCOUNT": {"discount": integer(lo=1, hi=99)},
    "GIFT": {"gift": text(3072)},
    "GENERAL_COUPON": {"default_detail": text(3072)},
    "MEMBER_CARD": {
        "background_pic_url": text(128),
        "supply_bonus": BOOL,
        "supply_balance": BOOL,
        "prerogative": text(3072),
        "bonus_cleared": text(3072),
        "bonus_rules": text(3072),
        "balance_rules": text(3072),
        "bonus_rule": OBJECT,
        "discount": integer(lo=0, hi=99),
        "bonus_url": text(128),
        "balance_url": text(128),
        "activate_url": text(128),
        "bind_old_card_url": text(128),
        "wx_activate": BOOL,
        "auto_activate": BOOL,
        "need_push_on_view": BOOL,
        "custom_field1": OBJECT,
        "custom_field2": OBJECT,
        "custom_field3": OBJECT,
        "custom_cell1": OBJECT,
    },
    "SCENIC_TICKET": {"ticket_class": text(3072), "guide_url": text(128)},
    "MOVIE_TICKET": {"detail": text(3072)},
    "BOARDING_PASS": {
        "from": text(54),
        "to": text(54),
        "flight": text(24),
        "departure_time": integer(lo=0),
        "landing_time": integer(lo=0),
        "check_in_url": text(128),
        "gate": text(12),
        "boarding_time": integer(lo=0),
        "air_model": text(24),
    },
    "MEETING_TICKET": {"meeting_detail": text(3072), "map_url": text(128)},
    "BUS_TICKET": {},
}
TYPE_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "GROUPON": ("deal_detail",),
    "CASH": ("least_cost", "reduce_cost"),
    "DISCOUNT": ("discount",),
    "GIFT": ("gift",),
    "GENERAL_COUPON": ("default_detail",),
    "MEMBER_CARD": ("prerogative", "supply_bonus", "supply_balance"),
    # ticket_class and guide_url are documented as optional.
    "SCENIC_TICKET": (),
    # Sources disagree on whether detail is required: strictest.
    "MOVIE_TICKET": ("detail",),
    "BOARDING_PASS": ("from", "to", "flight"),
    "MEETING_TICKET": ("meeting_detail",),
    # No source documents BUS_TICKET's own fields.
    "BUS_TICKET": (),
}

ADVANCED_SPECS: Final[dict[str, Spec]] = {
    "use_condition": OBJECT,
    "abstract": OBJECT,
    "time_limit": ARRAY,
    "text_image_list": ARRAY,
    "business_service": ARRAY,
    "consume_share_card_list": ARRAY,
    "share_friends": BOOL,
}
# What card/get shows for a card created without advanced_info (the real answer in tianye/WechatMpSDK's README).
ADVANCED_DEFAULTS: Final[JSON] = {
    "time_limit": [],
    "text_image_list": [],
    "business_service": [],
    "consume_share_card_list": [],
    "share_friends": False,
}

# card/update: the update table in tianye/WechatMpSDK's README and the SDKs.
BASE_REVIEW: Final = frozenset({"logo_url", "notice", "description", "color"})
BASE_NO_REVIEW: Final = frozenset(
    {
        "service_phone",
        "location_id_list",
        "center_title",
        "center_sub_title",
        "custom_url_name",
        "custom_url_sub_title",
        "promotion_url_name",
        "promotion_url_sub_title",
        # Member-card update documents them (WxJava issue 1559); a reported card/update of a GIFT card sends
        # them too (blog.csdn.net/weixin_36024234/article/details/114942807): every type takes them.
        *MINI_PROGRAM_FIELDS,
        "code_type",
        "get_limit",
        "can_share",
        "can_give_friend",
        "date_info",
        # The 2016-06-06 update log: card/update takes use_all_locations.
        "use_all_locations",
        # The card delivery document, 4.1 非新创建卡券: an existing custom-code card is switched to the deposit
        # mode by card/update ("调用管理卡券 填入get_custom_code_mode字段"), once its codes are deposited.
        "get_custom_code_mode",
    }
)
TYPE_REVIEW: Final[dict[str, frozenset[str]]] = {
    "MEMBER_CARD": frozenset({"bonus_cleared", "bonus_rules", "balance_rules", "prerogative"}),
    "MOVIE_TICKET": frozenset({"detail"}),
}
TYPE_NO_REVIEW: Final[dict[str, frozenset[str]]] = {
    # supply_bonus/supply_balance: "once true, cannot be switched off", so switching on is allowed.
    "MEMBER_CARD": frozenset(
        {"custom_field1", "custom_field2", "custom_field3", "custom_cell1", "supply_bonus", "supply_balance"}
    ),
    "BOARDING_PASS": frozenset({"departure_time", "landing_time", "gate", "boarding_time"}),
    "SCENIC_TICKET": frozenset({"guide_url"}),
    "MEETING_TICKET": frozenset({"map_url"}),
}
_ONE_WAY_SWITCHES: Final = ("supply_bonus", "supply_balance")

_DATE_PATH: Final = "m_data.base_info().date_info()"
_INT_TEXT: Final = re.compile(r"-?[0-9]+")


def base_path(name: str) -> str:
    return f"m_data.base_info().{name}"


def type_path(name: str) -> str:
    return f"m_data.{name}"


def _present(value: Any) -> bool:
    return value is not None and value != ""


def as_int(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise e.ApiError(e.DATA_FORMAT_ERROR, path)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    raise e.ApiError(e.DATA_FORMAT_ERROR, path)


def parse_value(spec: Spec, value: Any, path: str) -> Any:
    if spec.kind == "int":
        number = as_int(value, path)
        if (spec.lo is not None and number < spec.lo) or (spec.hi is not None and number > spec.hi):
            raise e.ApiError(spec.range_err, path)
        return number
    expected = {"str": str, "bool": bool, "object": dict, "array": list}[spec.kind]
    if not isinstance(value, expected):
        raise e.ApiError(e.DATA_FORMAT_ERROR, path)
    if isinstance(value, str) and len(value.encode("utf-8")) > spec.max_bytes:
        raise e.ApiError(e.FIELD_TOO_LONG, path)
    return copy.deepcopy(value)


# ---------------------------------------------------------------- card/create


@dataclass
class NewCard:
    card_type: str
    base: JSON
    fields: JSON
    advanced: JSON
    quantity: int


def parse_create(body: JSON, now: float) -> NewCard:
    card = body.get("card")
    if card is None:
        raise e.ApiError(e.MISSING_FIELDS, "card")
    if not isinstance(card, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "card")
    card_type = _card_type(card)
    data = _type_object(card, card_type)
    base_in = _base_info(data)
    _refuse_web_links(base_in)
    for name in BASE_REQUIRED:
        if not _present(base_in.get(name)):
            raise e.ApiError(e.MISSING_FIELDS, base_path(name))
    _require_type_fields(data, card_type)
    base = _parse_base(base_in, card_type, now)
    quantity = _parse_sku(base_in["sku"])
    if base.get("get_custom_code_mode") and quantity > 0:
        # "导入code的数目小于库存数时，会报错": a new deposit card has no codes yet.
        raise e.ApiError(e.INVALID_STOCK, base_path("sku().quantity"))
    if not base.get("get_custom_code_mode") and quantity == 0:
        # "卡券库存的数量，不支持填写0" (the create document's sku table); only a deposit-mode card starts empty.
        raise e.ApiError(e.INVALID_STOCK, base_path("sku().quantity"))
    return NewCard(card_type, base, _parse_type_fields(data, card_type), _parse_advanced(data), quantity)


def _card_type(card: JSON) -> str:
    card_type = card.get("card_type")
    if not _present(card_type):
        raise e.ApiError(e.MISSING_FIELDS, "card_type")
    if not isinstance(card_type, str):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "card_type")
    if card_type not in CARD_TYPES:
        raise e.ApiError(e.INVALID_CARD_TYPE)
    return card_type


def _type_object(card: JSON, card_type: str) -> JSON:
    key = card_type.lower()
    others = [t.lower() for t in CARD_TYPES if t != card_type and t.lower() in card]
    if others:
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{others[0]} does not match card_type {card_type}")
    data = card.get(key)
    if not isinstance(data, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{key} missing for card_type {card_type}")
    return data


def _base_info(data: JSON) -> JSON:
    base_in = data.get("base_info")
    if base_in is None:
        raise e.ApiError(e.MISSING_FIELDS, "m_data.base_info")
    if not isinstance(base_in, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "m_data.base_info")
    return base_in


def _refuse_web_links(base_in: JSON) -> None:
    for name in WEB_LINKS:
        if base_in.get(name) is not None:
            # The real errmsg names no field ("… hint: [DcJy0720ce69]" in the CSDN answer).
            raise e.ApiError(e.WEB_LINK_REFUSED)


def _require_type_fields(data: JSON, card_type: str) -> None:
    for name in TYPE_REQUIRED[card_type]:
        if not _present(data.get(name)):
            raise e.ApiError(e.MISSING_FIELDS, type_path(name))


def _parse_base(base_in: JSON, card_type: str, now: float) -> JSON:
    base: JSON = {}
    for name, spec in BASE_SPECS.items():
        if base_in.get(name) is not None:
            base[name] = parse_value(spec, base_in[name], base_path(name))
    _check_enums(base)
    base["date_info"] = parse_date_info(base_in["date_info"], card_type, now)
    if base_in.get("location_id_list") is not None:
        base["location_id_list"] = _parse_locations(base_in["location_id_list"])
    _check_locations(base)
    return base


def _check_enums(base: JSON) -> None:
    if "code_type" in base and base["code_type"] not in CODE_TYPES:
        raise e.ApiError(e.INVALID_CODE_TYPE, base_path("code_type"))
    # strictest: create takes the getcolors NAME only (card/get answers the hex value).
    if "color" in base and base["color"] not in COLOR_VALUES:
        raise e.ApiError(e.INVALID_ARGS, base_path("color"))
    mode = base.get("get_custom_code_mode")
    if mode is not None and (mode != DEPOSIT_MODE or base.get("use_custom_code") is not True):
        # The deposit mode is the only documented value, and it needs use_custom_code: true.
        raise e.ApiError(e.INVALID_ARGS, base_path("get_custom_code_mode"))


def _parse_sku(sku: Any) -> int:
    if not isinstance(sku, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, base_path("sku"))
    path = base_path("sku().quantity")
    if not _present(sku.get("quantity")):
        raise e.ApiError(e.MISSING_FIELDS, path)
    quantity = as_int(sku["quantity"], path)
    if not 0 <= quantity <= MAX_QUANTITY:
        raise e.ApiError(e.INVALID_STOCK, path)
    return quantity


def _parse_locations(value: Any) -> list[int]:
    path = base_path("location_id_list")
    if not isinstance(value, list):
        raise e.ApiError(e.DATA_FORMAT_ERROR, path)
    ids = [as_int(item, path) for item in value]
    if any(i < 1 for i in ids):
        raise e.ApiError(e.INVALID_ARGS, path)
    return ids


def _check_locations(base: JSON) -> None:
    if base.get("use_all_locations") is True and base.get("location_id_list"):
        # Documented as mutually exclusive.
        raise e.ApiError(e.INVALID_ARGS, base_path("use_all_locations"))


def _date_type(raw: Any) -> str:
    path = f"{_DATE_PATH}.type"
    if not _present(raw):
        raise e.ApiError(e.MISSING_FIELDS, path)
    if isinstance(raw, str) and raw in _DATE_TYPES:
        return raw
    legacy = None
    if isinstance(raw, (int, str)) and not isinstance(raw, bool) and _INT_TEXT.fullmatch(str(raw).strip()):
        legacy = _LEGACY_DATE_TYPES.get(int(str(raw).strip()))
    if legacy is None:
        raise e.ApiError(e.INVALID_TIME, path)
    return legacy


def _date_int(date_info: JSON, name: str) -> int:
    path = f"{_DATE_PATH}.{name}"
    if not _present(date_info.get(name)):
        raise e.ApiError(e.MISSING_FIELDS, path)
    return as_int(date_info[name], path)


def parse_date_info(value: Any, card_type: str, now: float) -> JSON:
    if not isinstance(value, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, _DATE_PATH)
    kind = _date_type(value.get("type"))
    if kind == FIX_TIME_RANGE:
        return _fix_time_range(value, now)
    if kind == FIX_TERM:
        return _fix_term(value, now)
    if card_type != "MEMBER_CARD":
        raise e.ApiError(e.INVALID_TIME, f"{_DATE_PATH}.type")
    return {"type": PERMANENT}


def _fix_time_range(value: JSON, now: float) -> JSON:
    begin = _date_int(value, "begin_timestamp")
    end = _date_int(value, "end_timestamp")
    if begin < 0:
        raise e.ApiError(e.INVALID_TIME, f"{_DATE_PATH}.begin_timestamp")
    if begin >= end:
        raise e.ApiError(e.INVALID_TIME_RANGE, _DATE_PATH)
    if end <= now:
        # strictest: a card that has already expired cannot be created.
        raise e.ApiError(e.INVALID_TIME, f"{_DATE_PATH}.end_timestamp")
    return {"type": FIX_TIME_RANGE, "begin_timestamp": begin, "end_timestamp": end}


def _fix_term(value: JSON, now: float) -> JSON:
    term = _date_int(value, "fixed_term")
    begin_term = _date_int(value, "fixed_begin_term")
    if term < 1:
        raise e.ApiError(e.INVALID_TIME, f"{_DATE_PATH}.fixed_term")
    if begin_term < 0:
        raise e.ApiError(e.INVALID_TIME, f"{_DATE_PATH}.fixed_begin_term")
    out: JSON = {"type": FIX_TERM, "fixed_term": term, "fixed_begin_term": begin_term}
    if value.get("end_timestamp") is not None:
        end = as_int(value["end_timestamp"], f"{_DATE_PATH}.end_timestamp")
        if end <= now:
            raise e.ApiError(e.INVALID_TIME, f"{_DATE_PATH}.end_timestamp")
        out["end_timestamp"] = end
    return out


def _parse_type_fields(data: JSON, card_type: str) -> JSON:
    fields: JSON = {}
    for name, spec in TYPE_SPECS[card_type].items():
        if data.get(name) is not None:
            fields[name] = parse_value(spec, data[name], type_path(name))
    return fields


def _parse_advanced(data: JSON) -> JSON:
    given = data.get("advanced_info")
    if given is None:
        return copy.deepcopy(ADVANCED_DEFAULTS)
    if not isinstance(given, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "m_data.advanced_info")
    advanced: JSON = {}
    for name, spec in ADVANCED_SPECS.items():
        if given.get(name) is not None:
            advanced[name] = parse_value(spec, given[name], f"m_data.advanced_info().{name}")
        elif name in ADVANCED_DEFAULTS:
            advanced[name] = copy.deepcopy(ADVANCED_DEFAULTS[name])
    return advanced


# ---------------------------------------------------------------- card/update


@dataclass
class UpdatePlan:
    base: JSON
    fields: JSON
    send_check: bool


def updatable(card_type: str) -> tuple[frozenset[str], frozenset[str]]:
    """(base_info fields, type fields) that card/update may carry for this type."""
    base = BASE_REVIEW | BASE_NO_REVIEW | (frozenset({"title"}) if card_type == "MEMBER_CARD" else frozenset())
    own = TYPE_REVIEW.get(card_type, frozenset()) | TYPE_NO_REVIEW.get(card_type, frozenset())
    return base, own


def review_fields(card_type: str) -> tuple[frozenset[str], frozenset[str]]:
    """(base_info fields, type fields) whose change sends the card back to review."""
    base = BASE_REVIEW | (frozenset({"title"}) if card_type == "MEMBER_CARD" else frozenset())
    return base, TYPE_REVIEW.get(card_type, frozenset())


def parse_update(card: Card, body: JSON) -> UpdatePlan:
    data = _update_object(card, body)
    base_in = data.get("base_info", {})
    if base_in is None:
        base_in = {}
    if not isinstance(base_in, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "m_data.base_info")
    base_in = {k: v for k, v in base_in.items() if v is not None}
    _refuse_web_links(base_in)
    own_in = {k: v for k, v in data.items() if k != "base_info" and v is not None}
    _refuse_frozen(card.card_type, base_in, own_in)
    base = _parse_base_update(card, base_in)
    fields = _parse_type_update(card, own_in)
    review_base, review_own = review_fields(card.card_type)
    # A card that failed review goes back to it on any update (assumed: the documents say only that changing
    # some fields 重新提交审核; the MP console resubmits a rejected card once it is edited).
    send_check = (
        card.status == VERIFY_FAIL
        or any(base[k] != card.base.get(k) for k in base if k in review_base)
        or any(fields[k] != card.fields.get(k) for k in fields if k in review_own)
    )
    return UpdatePlan(base, fields, send_check)


def _update_object(card: Card, body: JSON) -> JSON:
    key = card.card_type.lower()
    extra = [k for k in body if k not in ("card_id", key)]
    if extra:
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{extra[0]} does not match the card's type {card.card_type}")
    data = body.get(key)
    if not isinstance(data, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{key} missing")
    return data


def _refuse_frozen(card_type: str, base_in: JSON, own_in: JSON) -> None:
    # strictest: one field that card/update cannot change rejects the whole call, even
    # when its value is unchanged, so a client can never believe it changed it.
    base_ok, own_ok = updatable(card_type)
    for name in base_in:
        if name not in base_ok:
            raise e.ApiError(e.DATA_FORMAT_ERROR, f"{base_path(name)} can not be updated")
    for name in own_in:
        if name not in own_ok:
            raise e.ApiError(e.DATA_FORMAT_ERROR, f"{type_path(name)} can not be updated")


def _parse_base_update(card: Card, base_in: JSON) -> JSON:
    base: JSON = {}
    for name, value in base_in.items():
        if name == "date_info":
            base[name] = _parse_date_update(card, value)
        elif name == "location_id_list":
            base[name] = _parse_location_update(value)
        elif name in BASE_REQUIRED and value == "":
            raise e.ApiError(e.MISSING_FIELDS, base_path(name))
        else:
            base[name] = parse_value(BASE_SPECS[name], value, base_path(name))
    # On the card as it will be: get_custom_code_mode needs the card's own use_custom_code.
    _check_enums({**card.base, **base})
    _check_locations({**card.base, **base})
    return base


def _parse_location_update(value: Any) -> list[int]:
    # "清空门店更新时传“0”".
    if value in ("0", 0) or value in ([0], ["0"]):
        return []
    return _parse_locations(value)


def _parse_date_update(card: Card, value: Any) -> JSON:
    """Only a DATE_TYPE_FIX_TIME_RANGE card's range, and only wider."""
    if not isinstance(value, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, _DATE_PATH)
    if _date_type(value.get("type")) != FIX_TIME_RANGE:
        raise e.ApiError(e.INVALID_TIME, f"{_DATE_PATH}.type can only be {FIX_TIME_RANGE}")
    current = card.base["date_info"]
    if current["type"] != FIX_TIME_RANGE:
        raise e.ApiError(e.INVALID_TIME, f"{_DATE_PATH} of a {current['type']} card can not be updated")
    # strictest: both ends are required, so the range is never guessed.
    begin = _date_int(value, "begin_timestamp")
    end = _date_int(value, "end_timestamp")
    if begin >= end:
        raise e.ApiError(e.INVALID_TIME_RANGE, _DATE_PATH)
    if end < current["end_timestamp"]:
        raise e.ApiError(e.INVALID_TIME_RANGE, f"{_DATE_PATH}.end_timestamp can only move later")
    if begin > current["begin_timestamp"]:
        # Only "end only later" is documented; strictest: begin only earlier.
        raise e.ApiError(e.INVALID_TIME_RANGE, f"{_DATE_PATH}.begin_timestamp can only move earlier")
    return {"type": FIX_TIME_RANGE, "begin_timestamp": begin, "end_timestamp": end}


def _parse_type_update(card: Card, own_in: JSON) -> JSON:
    fields: JSON = {}
    specs = TYPE_SPECS[card.card_type]
    for name, value in own_in.items():
        if name in TYPE_REQUIRED[card.card_type] and value == "":
            raise e.ApiError(e.MISSING_FIELDS, type_path(name))
        fields[name] = parse_value(specs[name], value, type_path(name))
    for name in _ONE_WAY_SWITCHES:
        if card.fields.get(name) is True and fields.get(name) is False:
            raise e.ApiError(e.DATA_FORMAT_ERROR, f"{type_path(name)} can not be switched off")
    return fields
