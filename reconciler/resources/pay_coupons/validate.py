"""What the schema cannot say about a stock (docs/wechat-pay/busifavor.md §2): the rule its type takes, a time
window that ends after it begins, the mini-program fields of MINI_PROGRAMS, codes only for MERCHANT_UPLOAD; and,
across sections, the merchant id and the codes files. Problems name lines, never the codes."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import JsonPath, Locate, Problem
from reconciler.resources.codes.files import CodeFile, file_problems
from reconciler.resources.pay_coupons.model import KIND, UPLOAD_MODE, rfc3339

# CouponUseRule: "三选一", by stock_type.
RULE_OF = {"NORMAL": "fixed_normal_coupon", "DISCOUNT": "discount_coupon", "EXCHANGE": "exchange_coupon"}
MINI_PROGRAM_FIELDS = ("mini_programs_appid", "mini_programs_path")
# UploadCouponCodeRequest: 0-9 a-z A-Z, the space, - _ \ / = | ; 1 to 32 characters.
CODE = re.compile(r"[0-9A-Za-z \-_\\/=|]{1,32}")

Found = Iterator[tuple[JsonPath, str]]


def validate_section(section: Any, locate: Locate) -> list[Problem]:
    if not isinstance(section, Mapping):
        return []
    return [
        Problem(locate((KIND, key, *path)), ".".join(map(str, (KIND, key, *path))), message)
        for key, spec in section.items()
        if isinstance(spec, Mapping)
        for path, message in _stock_rules(spec)
    ]


def _stock_rules(spec: Mapping[str, Any]) -> Found:
    rule = spec.get("coupon_use_rule") or {}
    wanted = RULE_OF.get(str(spec.get("stock_type")))
    for name in RULE_OF.values():
        if name == wanted and name not in rule:
            yield ("coupon_use_rule",), f"a {spec['stock_type']} stock needs {name}"
        elif name != wanted and name in rule and wanted:
            yield ("coupon_use_rule", name), f"a {spec['stock_type']} stock takes {wanted}, not {name}"
    fixed = rule.get("fixed_normal_coupon") or {}
    if fixed.get("discount_amount", 0) > fixed.get("transaction_minimum", 1e12):
        yield ("coupon_use_rule", "fixed_normal_coupon", "discount_amount"), "is more than transaction_minimum"
    send = spec.get("stock_send_rule") or {}
    if send.get("max_coupons_by_day", 0) > send.get("max_coupons", 1e12):
        yield ("stock_send_rule", "max_coupons_by_day"), "is more than max_coupons"
    yield from _window(rule.get("coupon_available_time") or {})
    yield from _use_method(rule)
    if "codes" in spec and spec.get("coupon_code_mode") != UPLOAD_MODE:
        yield ("codes",), f"codes are uploaded only to a {UPLOAD_MODE} stock (coupon_code_mode)"


def _window(times: Mapping[str, Any]) -> Found:
    begin, end = rfc3339(times.get("available_begin_time")), rfc3339(times.get("available_end_time"))
    # rfc3339 writes both at UTC+8 with one width, so the texts sort as the times do.
    if isinstance(begin, str) and isinstance(end, str) and end <= begin:
        yield ("coupon_use_rule", "coupon_available_time", "available_end_time"), "is not after available_begin_time"


def _use_method(rule: Mapping[str, Any]) -> Found:
    mini = rule.get("use_method") == "MINI_PROGRAMS"
    for name in MINI_PROGRAM_FIELDS:
        if mini and name not in rule:
            yield ("coupon_use_rule",), f"use_method MINI_PROGRAMS needs {name}"
        if not mini and name in rule:
            yield ("coupon_use_rule", name), "is only for use_method MINI_PROGRAMS"


def validate_across(data: Mapping[str, Any], locate: Locate, named: Mapping[JsonPath, Path]) -> list[Problem]:
    """The account's merchant id, and each codes file's codes (WeChat Pay's charset, distinct)."""
    section = data.get(KIND)
    if not isinstance(section, Mapping) or not section:
        return []
    problems = []
    if not (data.get("account") or {}).get("mchid"):
        problems.append(Problem(locate(("account",)), "account.mchid", "pay_coupons need the merchant id (mchid)"))
    for key, spec in section.items():
        path = named.get((KIND, key, "codes", "file"))
        location = locate((KIND, key, "codes", "file"))
        if path is not None and location is not None and isinstance(spec, Mapping):
            column = (spec.get("codes") or {}).get("column")
            problems += file_problems(CodeFile(path, column), location, f"{KIND}.{key}.codes.file", _code_problem)
    return problems


def _code_problem(code: str) -> str | None:
    return None if CODE.fullmatch(code) else "is not 1–32 of 0-9 a-z A-Z, space, - _ \\ / = |"
