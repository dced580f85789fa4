"""References between resources: `card: KEY` where a card id is expected (`tag: KEY`: a tag id; each such shorthand
is its kind's, see resources.base.ReferredById), `${kind.key.attr}` inside strings.

At plan and apply time a `Lookup` turns a reference into its current value, or None while the value is not
known yet (the resource is created or replaced in this run). reference_rules.py checks them in the manifests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from reconciler.address import KEY_PATTERN, KIND_PATTERN, Address, referenced
from reconciler.errors import JsonPath, WxrecError
from reconciler.i18n import N_, Said, said
from reconciler.state import State

REFERENCE = re.compile(rf"\$\{{({KIND_PATTERN})\.({KEY_PATTERN})\.([a-z_]+)\}}")
# `card: KEY`, `tag: KEY`: the key a manifest writes → the kind it names and the field the id is sent in.
Shorthands = Mapping[str, tuple[str, str]]
# (address, attribute) → the value now, or None when it is not known before apply.
Lookup = Callable[[str, str], str | None]
# How a knock-on reason ends: the change only follows what a referenced resource gets in this run.
GETS_NEW_ID = N_("{addresses} gets a new id")
GETS_NEW_URL_OR_ID = N_("{addresses} gets a new url or id (known after apply)")


def follows(unknown: Iterable[str], gets: str) -> str:
    """A knock-on reason, worded to follow "because": `cards.latte-voucher gets a new id`."""
    return said(gets, addresses=", ".join(sorted({referenced(u) for u in unknown})))


def is_knock_on(reason: str) -> bool:
    return isinstance(reason, Said) and reason.msgid in (GETS_NEW_ID, GETS_NEW_URL_OR_ID)


def state_lookup(state: State | None, changing: frozenset[str] = frozenset()) -> Lookup:
    """References answered from state; unknown (None) for what this run creates or replaces."""

    def lookup(address: str, attribute: str) -> str | None:
        if state is None or address in changing:
            return None
        record = state.resources.get(address)
        if record is None:
            return None
        value = record.get("id") if attribute in ("id", "page_id", "ticket") else record.get(attribute)
        return None if value is None else str(value)

    return lookup


def shorthands() -> Shorthands:
    """Each kind's shorthand (resources.base.ReferredById), from the registry, which imports this module through the
    kinds: asked when references are walked."""
    from reconciler.resources import shorthands as registered

    return registered()


def references_in(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str, str]]:
    """(path, address, attribute) for every reference inside `value`."""
    found: list[tuple[JsonPath, str, str]] = []
    _collect(value, path, found, shorthands())
    return iter(found)


def _collect(value: Any, path: JsonPath, found: list[tuple[JsonPath, str, str]], named: Shorthands) -> None:
    # Run on every entry of every manifest: a leaf without "${" costs no path and no regular expression.
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in named and isinstance(item, str):
                found.append(((*path, key), str(Address(named[key][0], item)), "id"))
            elif isinstance(item, (Mapping, list)) or (isinstance(item, str) and "${" in item):
                _collect(item, (*path, key), found, named)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (Mapping, list)) or (isinstance(item, str) and "${" in item):
                _collect(item, (*path, index), found, named)
    elif isinstance(value, str):
        found += [(path, str(Address(match[1], match[2])), match[3]) for match in REFERENCE.finditer(value)]


def resolve(value: Any, lookup: Lookup) -> tuple[Any, list[str]]:
    """`value` with `${…}` replaced where the lookup knows it (and `card: KEY` turned into `card_id`, `tag: KEY`
    into `tag_id`); also the references still unknown (kept as written)."""
    unknown: list[str] = []
    named = shorthands()

    def walk(item: Any) -> Any:
        if isinstance(item, Mapping):
            result = {}
            for key, child in item.items():
                if key in named and isinstance(child, str):
                    kind, field = named[key]
                    target = Address(kind, child)
                    found = lookup(str(target), "id")
                    if found is None:
                        unknown.append(target.attribute("id"))
                        result[field] = "${" + target.attribute("id") + "}"
                    else:
                        result[field] = found
                else:
                    result[key] = walk(child)
            return result
        if isinstance(item, list):
            return [walk(child) for child in item]
        if isinstance(item, str):
            return REFERENCE.sub(lambda m: _substitute(m, lookup, unknown), item)
        return item

    return walk(value), unknown


def resolve_known(address: str, value: Any, state: State) -> Any:
    """`value` resolved from state at apply time, when everything it refers to must be known."""
    resolved, unknown = resolve(value, state_lookup(state))
    if unknown:
        raise WxrecError(f"{address}: {', '.join(unknown)} is not known: did the change it depends on fail?")
    return resolved


def _substitute(match: re.Match[str], lookup: Lookup, unknown: list[str]) -> str:
    address = Address(match[1], match[2])
    found = lookup(str(address), match[3])
    if found is None:
        unknown.append(address.attribute(match[3]))
        return match[0]
    return found


def value_at(data: Mapping[str, Any], path: JsonPath) -> Any:
    value: Any = data
    for part in path:
        value = value[part]
    return value
