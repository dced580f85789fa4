"""Checks on a card that JSON Schema cannot express: UTF-8 byte limits, type fields, date ranges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import JsonPath, Locate, Problem
from reconciler.resources.cards.model import flatten, to_epoch
from reconciler.resources.cards.rules import (
    ALL_TYPE_FIELDS,
    BYTE_LIMITS,
    CUSTOM_FIELDS,
    ONE_WAY_SWITCHES,
    TYPE_FIELDS,
    WEB_LINKS,
)


def validate_card(key: str, spec: Mapping[str, Any], locate: Locate) -> list[Problem]:
    """Meaning checks; they run beside the schema's, so they must bear any shape the schema refuses."""
    prefix: JsonPath = ("cards", key)

    def problem(path: str, message: str) -> Problem:
        parts = tuple(path.split(".")) if path else ()
        return Problem(locate((*prefix, *parts)), ".".join(map(str, (*prefix, *parts))), message)

    card_type = str(spec.get("card_type"))
    flat = flatten({k: v for k, v in spec.items() if k != "lifecycle"})
    problems = [problem(p, m) for p, m in _byte_limits(flat)]
    problems += [problem(p, m) for p, m in _foreign_type_fields(card_type, spec)]
    base_info = _mapping(spec.get("base_info"))
    problems += [problem(f"base_info.{p}", m) for p, m in _base_info_rules(card_type, base_info)]
    problems += [problem(f"base_info.{p}", m) for p, m in _web_links(base_info)]
    if card_type == "MEMBER_CARD":
        problems += [problem(p, m) for p, m in _member_rules(spec)]
    elif "need_push_on_view" in base_info:
        problems.append(problem("base_info.need_push_on_view", "is for MEMBER_CARD only"))
    return problems


def _member_rules(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rules between a member card's fields (docs/wechat/member-cards.md §2), at the field that asks."""
    found = [
        (switch, f"true needs {' and '.join(needed)} (WeChat refuses the card without them)")
        for switch, needed in ONE_WAY_SWITCHES.items()
        if spec.get(switch) is True and not all(spec.get(name) for name in needed)
    ]
    found += [
        (name, "needs name_type (a name WeChat knows, e.g. FIELD_NAME_TYPE_LEVEL) or name (your own)")
        for name in CUSTOM_FIELDS
        if isinstance(spec.get(name), Mapping) and not ({"name_type", "name"} & set(spec[name]))
    ]
    if spec.get("wx_activate") is True and "activate_url" in spec:
        # WeChat does not refuse the pair: it silently drops wx_activate ("设置wx_activate失效").
        found.append(("wx_activate", "cannot be combined with activate_url: WeChat would ignore wx_activate"))
    if spec.get("wx_activate_after_submit_url") and spec.get("wx_activate_after_submit") is not True:
        found.append(("wx_activate_after_submit_url", "needs wx_activate_after_submit: true"))
    return found


def _web_links(base_info: Mapping[str, Any]) -> list[tuple[str, str]]:
    """WeChat refuses these with any value, "" included (docs/wechat-today.md): name the pair that replaces each."""
    return [
        (
            link,
            f"WeChat no longer accepts web links on cards (errcode 73211, since about 2019): link a mini program "
            f"instead with {user_name} (its original ID + @app, e.g. gh_abc123@app) and {page} (the page path)",
        )
        for link, (user_name, page) in WEB_LINKS.items()
        if link in base_info
    ]


def _byte_limits(flat: Mapping[str, Any]) -> list[tuple[str, str]]:
    found = []
    for path, value in flat.items():  # a card's few fields, not every limit: validate reads 10,000 cards
        limit = BYTE_LIMITS.get(path)
        # No character takes more than 4 bytes of UTF-8: most values need no encoding to pass.
        if limit is None or not isinstance(value, str) or len(value) * 4 <= limit:
            continue
        size = len(value.encode("utf-8"))
        if size > limit:
            found.append((path, f"is {size} bytes of UTF-8, WeChat allows {limit} (a Chinese character takes 3 bytes)"))
    return sorted(found, key=lambda problem: _LIMIT_ORDER[problem[0]])


_LIMIT_ORDER = {path: rank for rank, path in enumerate(BYTE_LIMITS)}


def _foreign_type_fields(card_type: str, spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Without a card type (missing, misspelt: the schema says so) no field is foreign to it."""
    if card_type not in TYPE_FIELDS:
        return []
    own = set(TYPE_FIELDS[card_type])
    found = []
    for name in spec:
        if name in ALL_TYPE_FIELDS and name not in own:
            owners = sorted(t for t, fields in TYPE_FIELDS.items() if name in fields)
            found.append((name, f"belongs to {' / '.join(owners)} cards, not {card_type}"))
    return found


def _base_info_rules(card_type: str, base_info: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    date_info = _mapping(base_info.get("date_info"))
    if date_info.get("type") == "DATE_TYPE_PERMANENT" and card_type != "MEMBER_CARD":
        found.append(("date_info.type", "DATE_TYPE_PERMANENT is for MEMBER_CARD only"))
    found += _date_range(date_info)
    if "location_id_list" in base_info and base_info.get("use_all_locations"):
        found.append(("use_all_locations", "cannot be combined with location_id_list"))
    if base_info.get("get_custom_code_mode") == "GET_CUSTOM_CODE_MODE_DEPOSIT" and not base_info.get("use_custom_code"):
        found.append(("get_custom_code_mode", "deposit mode needs use_custom_code: true"))
    sku = _mapping(base_info.get("sku"))
    quantity, ceiling = sku.get("quantity", 0), sku.get("max_total_quantity")
    if isinstance(quantity, int) and isinstance(ceiling, int) and quantity > ceiling:
        found.append(("sku.max_total_quantity", "is below quantity: the first apply could not reach the target"))
    return found


def _date_range(date_info: Mapping[str, Any]) -> list[tuple[str, str]]:
    stamps: dict[str, int] = {}
    found: list[tuple[str, str]] = []
    for name in ("begin_timestamp", "end_timestamp"):
        if name in date_info:
            try:
                stamps[name] = to_epoch(date_info[name])
            except (ValueError, TypeError):
                found.append((f"date_info.{name}", f"{date_info[name]!r} is not a valid time"))
    if len(stamps) == 2 and stamps["begin_timestamp"] >= stamps["end_timestamp"]:
        found.append(("date_info.end_timestamp", "must be after begin_timestamp"))
    return found


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
