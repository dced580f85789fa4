"""Cards in one canonical form, for the manifest and for what card/get returns.

The canonical form is a flat mapping of leaf paths (relative to the type body) to values: colours as
getcolors names, dates as epoch seconds, legacy date types spelled out. Stock lives apart from it,
because it is planned as its own action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from reconciler.address import Address
from reconciler.resources.cards.rules import LEGACY_DATE_TYPES, TIMESTAMP_FIELDS

CHINA_TIME = timezone(timedelta(hours=8))
SERVER_FIELDS = ("id", "status", "create_time", "update_time", "sku")
DEPOSIT_MODE = "GET_CUSTOM_CODE_MODE_DEPOSIT"
# Settings a card declares that WeChat sets by their own calls and never returns (resources/card_settings.py):
# not card fields, so neither created nor compared with card/get.
WRITE_ONLY_SETTINGS = ("activate_user_form", "pay_cell", "self_consume_cell")
STOCK_PATHS = ("base_info.sku", "base_info.sku.quantity", "base_info.sku.total_quantity")

Flat = dict[str, Any]


@dataclass(frozen=True)
class Stock:
    """`refill`: keep `target` claimable (never past `ceiling` issued); `budget`: issue `target` in all;
    `deposit`: a deposit-mode card, created with none, its `codes` resource issuing min(target, deposited)."""

    mode: Literal["refill", "budget", "deposit"]
    target: int
    ceiling: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "target": self.target, "ceiling": self.ceiling}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stock:
        return cls(data["mode"], int(data["target"]), data.get("ceiling"))


@dataclass
class DesiredCard:
    key: str
    card_type: str
    fields: Flat
    stock: Stock
    prevent_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return str(Address.card(self.key))

    def ignores(self, path: str) -> bool:
        return any(path == p or path.startswith(p + ".") for p in self.ignore_changes)

    @property
    def manages_stock(self) -> bool:
        """Whether the card's own plan moves its stock: a deposit-mode card's stock follows its codes."""
        return self.stock.mode != "deposit" and not any(self.ignores(p) for p in STOCK_PATHS)


@dataclass
class LiveCard:
    id: str
    card_type: str
    status: str
    fields: Flat
    quantity: int
    total_quantity: int
    extra: dict[str, Any] = field(default_factory=dict)


class Palette:
    """WeChat's card colours (card/getcolors): create takes the name, card/get returns the hex value."""

    def __init__(self, colours: Mapping[str, str]) -> None:
        self.names = dict(colours)
        self._by_hex = {value.lower(): name for name, value in colours.items()}

    def name_of(self, colour: str) -> str | None:
        if colour in self.names:
            return colour
        return self._by_hex.get(colour.lower())


def flatten(value: Mapping[str, Any], prefix: str = "") -> Flat:
    """Leaf paths of nested mappings; lists are leaves (they are set whole)."""
    flat: Flat = {}
    _flatten_into(value, prefix, flat)
    return flat


def _flatten_into(value: Mapping[str, Any], prefix: str, flat: Flat) -> None:
    for key, item in value.items():
        # Cards come from JSON and YAML, whose mappings are dicts: checking for a dict costs a fraction of
        # checking for a Mapping, and every plan flattens each card twice.
        if isinstance(item, dict):
            _flatten_into(item, f"{prefix}{key}.", flat)
        else:
            flat[f"{prefix}{key}"] = item


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, leaf = path.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def subtree(flat: Mapping[str, Any], group: str) -> Flat:
    return {p: v for p, v in flat.items() if p == group or p.startswith(group + ".")}


def to_epoch(value: Any) -> int:
    """Epoch seconds from an int, a numeric string (WeChat's legacy form) or ISO 8601 (no zone: UTC+8)."""
    if isinstance(value, bool):
        raise ValueError("expected a time, got a boolean")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TIME)
    return int(moment.timestamp())


def canonical_fields(flat: Flat, palette: Palette | None) -> Flat:
    """Spell every value the one way both sides use; unknown colours are kept for validation to report."""
    result: Flat = {}
    for path, value in flat.items():
        if path == "base_info.color" or path in TIMESTAMP_FIELDS or path.startswith("base_info.date_info."):
            value = _canonical(path, value, palette)
        result[path] = value
    return result


def _canonical(path: str, value: Any, palette: Palette | None) -> Any:
    if path == "base_info.color" and palette is not None and isinstance(value, str):
        return palette.name_of(value) or value
    if path == "base_info.date_info.type" and value in LEGACY_DATE_TYPES:
        return LEGACY_DATE_TYPES[value]
    in_date_info = path.startswith("base_info.date_info.")
    if (in_date_info and path.endswith("_timestamp")) or path in TIMESTAMP_FIELDS:
        return to_epoch(value)
    if in_date_info and isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def desired_card(key: str, spec: Mapping[str, Any], palette: Palette | None) -> DesiredCard:
    """The manifest's card (already schema-valid) in canonical form."""
    card_type = str(spec["card_type"])
    body = {k: v for k, v in spec.items() if k not in ("card_type", "lifecycle", *WRITE_ONLY_SETTINGS)}
    base_info = dict(body["base_info"])
    sku = base_info.pop("sku")
    body["base_info"] = base_info
    if base_info.get("get_custom_code_mode") == DEPOSIT_MODE:
        stock = Stock("deposit", int(sku.get("total_quantity", sku.get("quantity", 0))))
    elif "total_quantity" in sku:
        stock = Stock("budget", int(sku["total_quantity"]))
    else:
        stock = Stock("refill", int(sku["quantity"]), sku.get("max_total_quantity"))
    lifecycle = spec.get("lifecycle") or {}
    return DesiredCard(
        key=key,
        card_type=card_type,
        fields=canonical_fields(flatten(body), palette),
        stock=stock,
        prevent_destroy=bool(lifecycle.get("prevent_destroy", False)),
        ignore_changes=tuple(lifecycle.get("ignore_changes", ())),
    )


def live_card(card: Mapping[str, Any], palette: Palette | None) -> LiveCard:
    """card/get's `card` object in canonical form; server-only fields go to `extra`."""
    card_type = str(card["card_type"])
    body = dict(card.get(card_type.lower(), {}))
    base_info = dict(body.get("base_info", {}))
    extra = {name: base_info.pop(name) for name in SERVER_FIELDS if name in base_info}
    body["base_info"] = base_info
    sku = extra.get("sku", {})
    return LiveCard(
        id=str(extra.get("id", "")),
        card_type=card_type,
        status=str(extra.get("status", "")),
        fields=canonical_fields(flatten(body), palette),
        quantity=int(sku.get("quantity", 0)),
        total_quantity=int(sku.get("total_quantity", 0)),
        extra=extra,
    )


def create_body(card: DesiredCard, quantity: int) -> dict[str, Any]:
    """card/create's `card` object for a desired card, with `quantity` claimable at start."""
    body = unflatten(card.fields)
    body["base_info"]["sku"] = {"quantity": quantity}
    return {"card_type": card.card_type, card.card_type.lower(): body}


def update_body(fields: Flat, groups: Iterable[str]) -> dict[str, Any]:
    """card/update's type body carrying the given update groups, each taken whole from `fields`."""
    chosen: Flat = {}
    for group in groups:
        chosen.update(subtree(fields, group))
    return unflatten(chosen)
