"""References between resources: `card: KEY` where a card id is expected, `${kind.key.attr}` inside strings.

Validation checks that every reference names a declared resource and a known attribute, and points back
in apply's order (pages and QR codes to cards; the menu to cards, pages and QR codes) — which also makes a
cycle impossible. At plan and apply time a `Lookup` turns a reference into its current value, or
None while the value is not known yet (the resource is created or replaced in this run).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from reconciler.address import Address, kind_of
from reconciler.errors import Location, Problem

REFERENCE = re.compile(r"\$\{([a-z_]+)\.([a-z0-9][a-z0-9_-]*)\.([a-z_]+)\}")
ATTRIBUTES = {"cards": ("id",), "landing_pages": ("url", "page_id"), "qrcodes": ("url", "ticket"), "codes": ()}
# Apply runs cards, then landing pages and QR codes, then the menu: a reference may only point back.
MAY_REFER_TO = {
    "landing_pages": ("cards",),
    "qrcodes": ("cards",),
    "codes": ("cards",),
    "menu": ("cards", "landing_pages", "qrcodes"),
    "whitelist": (),
}
KEYED = tuple(ATTRIBUTES)

Path = tuple[str | int, ...]
Locate = Callable[[Path], Location | None]
# (address, attribute) → the value now, or None when it is not known before apply.
Lookup = Callable[[str, str], str | None]


def references_in(value: Any, path: Path = ()) -> Iterator[tuple[Path, str, str]]:
    """(path, address, attribute) for every reference inside `value`."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "card" and isinstance(item, str):
                yield (*path, key), str(Address.card(item)), "id"
            else:
                yield from references_in(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from references_in(item, (*path, index))
    elif isinstance(value, str):
        for match in REFERENCE.finditer(value):
            yield path, str(Address(match[1], match[2])), match[3]


def declared(data: Mapping[str, Any]) -> dict[str, Path]:
    """Every address the manifests declare, with its path in the document."""
    found: dict[str, Path] = {}
    for kind in KEYED:
        section = data.get(kind)
        if isinstance(section, Mapping):
            found.update({str(Address(kind, key)): (kind, key) for key in section})
    for singleton in ("menu", "whitelist"):
        if singleton in data:
            found[singleton] = (singleton,)
    return found


def validate_references(data: Mapping[str, Any], locate: Locate) -> list[Problem]:
    """References to nowhere, to unknown attributes, or against apply's order, each with file:line."""
    addresses = declared(data)
    problems: list[Problem] = []
    for address, where in addresses.items():
        for path, target, attribute in references_in(_value_at(data, where), where):
            field = ".".join(map(str, path))
            kind, source = kind_of(target), kind_of(address)
            if target not in addresses:
                problems.append(Problem(locate(path), field, f"refers to {target}, which the manifests do not declare"))
            elif attribute not in ATTRIBUTES.get(kind, ()):
                known = ", ".join(ATTRIBUTES.get(kind, ())) or "none"
                problems.append(
                    Problem(locate(path), field, f"{target} has no attribute {attribute!r} (known: {known})")
                )
            elif kind not in MAY_REFER_TO.get(source, ()):
                allowed = ", ".join(MAY_REFER_TO.get(source, ())) or "nothing"
                problems.append(
                    Problem(locate(path), field, f"refers to {target}, but {source} may refer only to {allowed}")
                )
    return problems


def resolve(value: Any, lookup: Lookup) -> tuple[Any, list[str]]:
    """`value` with `${…}` replaced where the lookup knows it (and `card: KEY` turned into `card_id`);
    also the references still unknown (kept as written)."""
    unknown: list[str] = []

    def walk(item: Any) -> Any:
        if isinstance(item, Mapping):
            result = {}
            for key, child in item.items():
                if key == "card" and isinstance(child, str):
                    card = Address.card(child)
                    card_id = lookup(str(card), "id")
                    if card_id is None:
                        unknown.append(card.attribute("id"))
                        result["card_id"] = "${" + card.attribute("id") + "}"
                    else:
                        result["card_id"] = card_id
                else:
                    result[key] = walk(child)
            return result
        if isinstance(item, list):
            return [walk(child) for child in item]
        if isinstance(item, str):
            return REFERENCE.sub(lambda m: _substitute(m, lookup, unknown), item)
        return item

    return walk(value), unknown


def _substitute(match: re.Match[str], lookup: Lookup, unknown: list[str]) -> str:
    address = Address(match[1], match[2])
    found = lookup(str(address), match[3])
    if found is None:
        unknown.append(address.attribute(match[3]))
        return match[0]
    return found


def _value_at(data: Mapping[str, Any], path: Path) -> Any:
    value: Any = data
    for part in path:
        value = value[part]
    return value
