"""A live card as a manifest entry (`wxrec export`): the fields the manifest schema knows, in the order a person
reads a card, stock as the budget already issued, and the fields dropped that `wxrec validate` would refuse."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

from reconciler.address import Address
from reconciler.manifest import load_schema, schema_problems
from reconciler.manifest.loader import Document
from reconciler.resources.cards.model import CHINA_TIME, LiveCard, Palette, unflatten
from reconciler.resources.cards.rules import TIMESTAMP_FIELDS
from reconciler.resources.cards.validate import validate_card

# The order a person reads a card in; the remaining fields follow alphabetically.
BASE_INFO_ORDER = ("logo_url", "brand_name", "code_type", "title", "sub_title", "color", "notice", "description")
DATE_FIELDS = frozenset({"base_info.date_info.begin_timestamp", "base_info.date_info.end_timestamp"})
# Hard cases (a console edit no field may fix) give up after this many rounds of dropping fields.
FIT_ROUNDS = 5


def manifest_card(key: str, card: LiveCard, palette: Palette) -> tuple[dict[str, Any] | None, tuple[str, ...], str]:
    """The manifest spec of a live card, the live fields it leaves out, and why it cannot be exported (when
    the spec is None). Stock is written as the budget already issued, so re-applying issues nothing."""
    body, dropped = _known_fields(card)
    spec: dict[str, Any] = {"card_type": card.card_type, **body}
    spec["base_info"]["sku"] = {"total_quantity": card.total_quantity}
    if card.fields.get("base_info.color") not in palette.names:
        return None, (), f"colour {card.fields.get('base_info.color')!r} is not one of card/getcolors"
    required = _required_fields(card.card_type)
    for _ in range(FIT_ROUNDS):
        units = {_field_unit(problem) for problem in card_problems(key, spec)}
        if not units:
            return _ordered_spec(spec), tuple(sorted(dropped)), ""
        fatal = sorted(units & (required | {""}))
        if fatal:
            return None, (), f"{', '.join(f for f in fatal if f) or 'the card'} would not be a valid manifest value"
        for unit in units:
            _drop(spec, unit)
        dropped |= units
    return None, (), "its fields would not make a valid manifest"


def card_problems(key: str, spec: Mapping[str, Any]) -> list[str]:
    """Problem field paths (relative to the card; "" for the card as a whole) of one card, as `wxrec validate`
    would report them."""
    prefix = Address.card(key).attribute("")
    document = Document(data={"cards": {key: spec}})
    found = schema_problems(document) + validate_card(key, spec, document.locate)
    return [problem.field[len(prefix) :] if problem.field.startswith(prefix) else "" for problem in found]


def _field_unit(path: str) -> str:
    """What to drop for a problem at `path`: a field beside base_info, or one inside it."""
    if not path:
        return ""
    parts = path.split(".")
    return ".".join(parts[:2]) if parts[0] == "base_info" and len(parts) > 1 else parts[0]


def _drop(spec: dict[str, Any], unit: str) -> None:
    if unit.startswith("base_info."):
        spec["base_info"].pop(unit.split(".", 1)[1], None)
    else:
        spec.pop(unit, None)


@cache
def _schema_fields() -> tuple[frozenset[str], frozenset[str]]:
    """The fields a manifest card takes: beside base_info, and inside it."""
    definitions = load_schema("manifest")["$defs"]
    beside = frozenset(definitions["card"]["properties"]) - {"card_type", "lifecycle", "base_info"}
    return beside, frozenset(definitions["base_info"]["properties"]) - {"sku"}


@cache
def _required_fields(card_type: str) -> frozenset[str]:
    definitions = load_schema("manifest")["$defs"]
    required = {"card_type", "base_info", "base_info.sku"}
    required |= {f"base_info.{name}" for name in definitions["base_info"]["required"]}
    for rule in definitions["card"]["allOf"]:
        if rule["if"]["properties"]["card_type"].get("const") == card_type:
            required |= set(rule["then"]["required"])
    return frozenset(required)


def _known_fields(card: LiveCard) -> tuple[dict[str, Any], set[str]]:
    """The live card's fields that the manifest schema knows, nested; empty values are left out (a field
    the manifest does not mention is not managed, so nothing is lost)."""
    beside, inside = _schema_fields()
    kept: dict[str, Any] = {}
    dropped: set[str] = set()
    for path, value in card.fields.items():
        if value in ([], {}, ""):
            continue
        unit = _field_unit(path)
        known = unit.removeprefix("base_info.") in inside if unit.startswith("base_info.") else unit in beside
        if not known:
            dropped.add(unit)
            continue
        kept[path] = _readable_time(path, value)
    nested = unflatten(kept)
    nested.setdefault("base_info", {})
    if _says_nothing(nested.get("advanced_info")):
        nested.pop("advanced_info", None)
    return nested, dropped


def _says_nothing(value: Any) -> bool:
    """advanced_info's server defaults ({time_limit: [], share_friends: false, …}) are not worth managing."""
    if isinstance(value, Mapping):
        return all(_says_nothing(v) for v in value.values())
    if isinstance(value, list):
        return all(_says_nothing(v) for v in value)
    return value is None or value is False


def _readable_time(path: str, value: Any) -> Any:
    if (path in DATE_FIELDS or path in TIMESTAMP_FIELDS) and isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, CHINA_TIME).isoformat()
    return value


def _ordered_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    base_info = spec["base_info"]
    first = [name for name in BASE_INFO_ORDER if name in base_info]
    rest = sorted(name for name in base_info if name not in BASE_INFO_ORDER)
    ordered_base = {name: _sorted_tree(base_info[name]) for name in [*first, *rest]}
    beside = sorted(name for name in spec if name not in ("card_type", "base_info"))
    return {"card_type": spec["card_type"], "base_info": ordered_base} | {
        name: _sorted_tree(spec[name]) for name in beside
    }


def _sorted_tree(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {name: _sorted_tree(value[name]) for name in sorted(value)}
    return value
