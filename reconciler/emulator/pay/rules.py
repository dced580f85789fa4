"""The busifavor request rules, each with its source in docs/wechat-pay/busifavor.md (§ numbers below).

Lengths count characters, not bytes: "字数上限为21个，一个中文汉字/英文字母/数字均占用一个字数" (§2, the create
document and wechatpay-go's field tables). A rule marked *assumed* was not found stated; the emulator then takes the
strict reading.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..model import JSON
from .errors import invalid

STOCK_TYPES = {"NORMAL": "fixed_normal_coupon", "DISCOUNT": "discount_coupon", "EXCHANGE": "exchange_coupon"}
CODE_MODES = frozenset({"WECHATPAY_MODE", "MERCHANT_API", "MERCHANT_UPLOAD"})
USE_METHODS = frozenset({"OFF_LINE", "MINI_PROGRAMS", "SELF_CONSUME", "PAYMENT_CODE"})
CODE_DISPLAY_MODES = frozenset({"NOT_SHOW", "BARCODE", "QRCODE"})
STATES = frozenset({"UNAUDIT", "RUNNING", "STOPED", "PAUSED"})  # §4, StockStatus (sic)
MAX_AMOUNT = 10_000_000  # fen, §2.1
MAX_COUPONS = 1_000_000_000  # §2.2
MAX_PER_USER = 100  # §2.2 "每个用户最多100张券"
CODE_BATCH = 200  # §6
CODE_PATTERN = re.compile(r"[0-9a-zA-Z \-_\\/=|]{1,32}")  # §6
DESCRIPTION_LENGTH = 1000  # §2.4, assumed


def text(body: JSON, path: str, limit: int, *, required: bool = False) -> str | None:
    value = _get(body, path)
    if value is None:
        if required:
            raise invalid(path, "字段必填")
        return None
    if not isinstance(value, str):
        raise invalid(path, "类型应为字符串", value)
    if required and not value:
        raise invalid(path, "字段不能为空", value)
    if len(value) > limit:  # characters: a Chinese character counts one
        raise invalid(path, f"字数超过上限 {limit}", value)
    return value


def number(body: JSON, path: str, low: int, high: int, *, required: bool = False) -> int | None:
    value = _get(body, path)
    if value is None:
        if required:
            raise invalid(path, "字段必填")
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(path, "类型应为整数", value)
    if value < low:
        raise invalid(path, f"值低于最小值 {low}", value)
    if value > high:
        raise invalid(path, f"值高于最大值 {high}", value)
    return value


def choice(body: JSON, path: str, allowed: frozenset[str] | dict[str, str], *, required: bool = False) -> str | None:
    value = _get(body, path)
    if value is None and not required:
        return None
    if value not in allowed:
        raise invalid(path, f"取值应为 {' | '.join(sorted(allowed))}", value)
    return str(value)


def flag(body: JSON, path: str) -> None:
    value = _get(body, path)
    if value is not None and not isinstance(value, bool):
        raise invalid(path, "类型应为布尔值", value)


def obj(body: JSON, path: str, *, required: bool = False) -> JSON | None:
    value = _get(body, path)
    if value is None:
        if required:
            raise invalid(path, "字段必填")
        return None
    if not isinstance(value, dict):
        raise invalid(path, "类型应为对象", value)
    return value


def time_of(body: JSON, path: str) -> datetime:
    """RFC 3339 with its offset, as the create document writes it (yyyy-MM-DDTHH:mm:ss+08:00), §2.1."""
    value = text(body, path, 64, required=True)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise invalid(path, "时间格式应为 RFC 3339，如 2026-01-01T00:00:00+08:00", value)
    return moment


def request_no(body: JSON, name: str) -> str:
    value = text(body, name, 128, required=True)
    assert value is not None
    return value


# ---------------------------------------------------------------- create (§2)


def check_create(body: JSON, mchid: str, now: float) -> None:
    text(body, "stock_name", 21, required=True)
    belong = text(body, "belong_merchant", 15, required=True)
    if belong != mchid:  # assumed: a direct merchant creates stocks for itself only
        raise invalid("belong_merchant", f"应为调用商户号 {mchid}", belong)
    text(body, "comment", 20)
    text(body, "goods_name", 15, required=True)
    stock_type = choice(body, "stock_type", STOCK_TYPES, required=True)
    choice(body, "coupon_code_mode", CODE_MODES, required=True)
    request_no(body, "out_request_no")
    _check_use_rule(body, str(stock_type), now)
    _check_send_rule(body, str(stock_type))
    _check_entrance(body)
    _check_display(body)
    if obj(body, "notify_config") is not None:
        text(body, "notify_config/notify_appid", 32)


def _check_use_rule(body: JSON, stock_type: str, now: float) -> None:
    obj(body, "coupon_use_rule", required=True)
    obj(body, "coupon_use_rule/coupon_available_time", required=True)
    begin = time_of(body, "coupon_use_rule/coupon_available_time/available_begin_time")
    end = time_of(body, "coupon_use_rule/coupon_available_time/available_end_time")
    if end <= begin:  # assumed
        raise invalid("coupon_use_rule/coupon_available_time/available_end_time", "结束时间应晚于开始时间")
    if end.timestamp() <= now:  # assumed
        raise invalid("coupon_use_rule/coupon_available_time/available_end_time", "结束时间应晚于当前时间")
    for name in ("available_day_after_receive", "wait_days_after_receive"):
        number(body, f"coupon_use_rule/coupon_available_time/{name}", 0, 365)
    rules = [name for name in STOCK_TYPES.values() if _get(body, f"coupon_use_rule/{name}") is not None]
    wanted = STOCK_TYPES[stock_type]
    if rules != [wanted]:  # "三选一", by stock_type
        raise invalid(f"coupon_use_rule/{wanted}", f"stock_type 为 {stock_type} 时须且仅须填写 {wanted}")
    _check_amounts(body, f"coupon_use_rule/{wanted}")
    method = choice(body, "coupon_use_rule/use_method", USE_METHODS, required=True)
    _check_mini_program(body, "coupon_use_rule", method == "MINI_PROGRAMS")


def _check_amounts(body: JSON, path: str) -> None:
    number(body, f"{path}/transaction_minimum", 1, MAX_AMOUNT, required=True)
    if path.endswith("fixed_normal_coupon"):
        discount = number(body, f"{path}/discount_amount", 1, MAX_AMOUNT, required=True)
        if discount is not None and discount > int(_get(body, f"{path}/transaction_minimum")):  # assumed
            raise invalid(f"{path}/discount_amount", "优惠金额不能高于使用门槛", discount)
    elif path.endswith("discount_coupon"):
        number(body, f"{path}/discount_percent", 1, 99, required=True)  # the range is assumed
    else:
        number(body, f"{path}/exchange_price", 0, MAX_AMOUNT, required=True)


def _check_mini_program(body: JSON, path: str, needed: bool) -> None:
    for name, limit in (("mini_programs_appid", 32), ("mini_programs_path", 128)):
        value = text(body, f"{path}/{name}", limit, required=needed)
        if value is not None and not needed:
            raise invalid(f"{path}/{name}", "仅 use_method 为 MINI_PROGRAMS 时可填写", value)


def _check_send_rule(body: JSON, stock_type: str) -> None:
    obj(body, "stock_send_rule", required=True)
    most = number(body, "stock_send_rule/max_coupons", 1, MAX_COUPONS, required=True)
    number(body, "stock_send_rule/max_coupons_per_user", 1, MAX_PER_USER, required=True)
    by_day = number(body, "stock_send_rule/max_coupons_by_day", 1, MAX_COUPONS)
    if by_day is not None and most is not None and by_day > most:  # assumed
        raise invalid("stock_send_rule/max_coupons_by_day", f"单天发放上限不能超过批次最大发放个数 {most}", by_day)
    for name in ("natural_person_limit", "prevent_api_abuse"):
        flag(body, f"stock_send_rule/{name}")


def _check_entrance(body: JSON) -> None:
    if obj(body, "custom_entrance") is None:
        return
    if obj(body, "custom_entrance/mini_programs_info") is not None:
        text(body, "custom_entrance/mini_programs_info/mini_programs_appid", 32, required=True)
        text(body, "custom_entrance/mini_programs_info/mini_programs_path", 128, required=True)
        text(body, "custom_entrance/mini_programs_info/entrance_words", 5, required=True)
        text(body, "custom_entrance/mini_programs_info/guiding_words", 6)
    for name in ("appid", "hall_id", "store_id"):
        text(body, f"custom_entrance/{name}", 32)
    choice(body, "custom_entrance/code_display_mode", CODE_DISPLAY_MODES)


def _check_display(body: JSON) -> None:
    if obj(body, "display_pattern_info") is None:
        return
    text(body, "display_pattern_info/description", DESCRIPTION_LENGTH)
    for name in ("merchant_logo_url", "coupon_image_url"):
        text(body, f"display_pattern_info/{name}", 1024)
    text(body, "display_pattern_info/background_color", 16)


# ---------------------------------------------------------------- modify (§3)

# What the modify document takes; anything else is refused (assumed: its absence from the modify shape means it
# cannot change, and silently ignoring it would let a caller think it changed).
MODIFIABLE = frozenset(
    {"custom_entrance", "comment", "goods_name", "display_pattern_info", "coupon_use_rule", "stock_send_rule"}
    | {"notify_config", "out_request_no"}
)
MODIFIABLE_USE_RULE = frozenset({"use_method", "mini_programs_appid", "mini_programs_path"})
MODIFIABLE_SEND_RULE = frozenset({"prevent_api_abuse"})


def check_modify(body: JSON, stock: JSON) -> None:
    request_no(body, "out_request_no")
    for name in sorted(body.keys() - MODIFIABLE):
        raise invalid(name, "该字段暂不支持修改", body[name])
    for path, allowed in (("coupon_use_rule", MODIFIABLE_USE_RULE), ("stock_send_rule", MODIFIABLE_SEND_RULE)):
        part = obj(body, path) or {}
        for name in sorted(part.keys() - allowed):
            raise invalid(f"{path}/{name}", "该字段暂不支持修改", part[name])
    if "merchant_name" in (obj(body, "display_pattern_info") or {}):
        raise invalid("display_pattern_info/merchant_name", "该字段暂不支持修改")
    if "store_id" in (obj(body, "custom_entrance") or {}):
        raise invalid("custom_entrance/store_id", "该字段暂不支持修改")
    text(body, "comment", 20)
    text(body, "goods_name", 15)
    _check_entrance(body)
    _check_display(body)
    merged = merge(stock, body)
    method = choice(merged, "coupon_use_rule/use_method", USE_METHODS, required=True)
    _check_mini_program(merged, "coupon_use_rule", method == "MINI_PROGRAMS")
    flag(body, "stock_send_rule/prevent_api_abuse")


def merge(held: JSON, change: JSON) -> JSON:
    """The stock after a modify: each object given is merged field by field (assumed), other values replaced."""
    merged = dict(held)
    for name, value in change.items():
        if name == "out_request_no":
            continue
        base = merged.get(name)
        merged[name] = merge(base, value) if isinstance(value, dict) and isinstance(base, dict) else value
    return merged


# ---------------------------------------------------------------- budget (§5) and codes (§6)


def check_budget(body: JSON) -> tuple[str, int, int | None]:
    """(dimension, target, current) of one change: "target_max_coupons与target_max_coupons_by_day只能修改一个"."""
    request_no(body, "modify_budget_request_no")
    given = [name for name in ("max_coupons", "max_coupons_by_day") if _get(body, f"target_{name}") is not None]
    if len(given) != 1:
        raise invalid("target_max_coupons", "target_max_coupons 与 target_max_coupons_by_day 须且只能修改一个")
    dimension = given[0]
    target = number(body, f"target_{dimension}", 1, MAX_COUPONS, required=True)
    current = number(body, f"current_{dimension}", 1, MAX_COUPONS, required=dimension == "max_coupons")
    assert target is not None
    return dimension, target, current


def check_codes(body: JSON) -> list[Any]:
    request_no(body, "upload_request_no")
    codes = _get(body, "coupon_code_list")
    if not isinstance(codes, list) or not 1 <= len(codes) <= CODE_BATCH:
        raise invalid("coupon_code_list", f"条目个数限制为【1，{CODE_BATCH}】", None)
    return codes


def code_problem(code: Any) -> str | None:
    """Why one uploaded code is refused (it then lands in fail_codes), None when it is fine."""
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        return "券code只能包含数字、大小写字母、空格及 -_\\/=| 字符，长度为1-32"
    return None


def _get(body: JSON, path: str) -> Any:
    value: Any = body
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
