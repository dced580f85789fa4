"""The registry of resource kinds: the one list the loader, the schema, the reference rules, apply's layers, the
renderers and drift derive their kind tables from. Its order is the planning order: a kind planned later sees what the
earlier ones create or replace.

Layering: this package imports the kinds, which import plan, state, wechat and errors; nothing here imports
reconciler.manifest, so the manifest package may import the registry at module level. plan.py is imported by the
kinds, so it asks the registry for a kind's layer when it orders a plan, not when it is imported.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from reconciler.address import Address, kind_of
from reconciler.english import counted
from reconciler.errors import WxrecError
from reconciler.resources.base import CountedByThreshold, PlannedWithCards, ReferredById, Resource, shipped_json
from reconciler.resources.card_settings import CARD_SETTINGS
from reconciler.resources.cards.resource import CARDS
from reconciler.resources.codes.resource import CODES
from reconciler.resources.conditional_menus import CONDITIONAL_MENUS
from reconciler.resources.landing_pages import LANDING_PAGES
from reconciler.resources.menu import MENU
from reconciler.resources.pay_coupons.resource import PAY_COUPONS
from reconciler.resources.qrcodes import QRCODES
from reconciler.resources.tags import TAGS
from reconciler.resources.whitelist import WHITELIST

BUILT_IN: tuple[Resource, ...] = (
    CARDS,
    CODES,
    CARD_SETTINGS,
    TAGS,
    LANDING_PAGES,
    QRCODES,
    MENU,
    CONDITIONAL_MENUS,
    WHITELIST,
    PAY_COUPONS,
)
_registry: list[Resource] = list(BUILT_IN)
# Sections that are not kinds: the account the manifests are for, and the adoption blocks.
OTHER_SECTIONS = ("account", "import", "moved")


def register(kind: Resource) -> None:
    """Add a kind defined elsewhere (after the built-in ones: it may refer to them)."""
    if find(kind.name) is not None or kind.name in OTHER_SECTIONS:
        raise ValueError(f"a kind named {kind.name!r} is registered already")
    _registry.append(kind)
    _forget_traits()


def unregister(name: str) -> None:
    _registry[:] = [kind for kind in _registry if kind.name != name or kind in BUILT_IN]
    _forget_traits()


def _forget_traits() -> None:
    """The traits are read on hot paths (every reference walked, every change ordered), and a protocol's isinstance
    is slow: each is derived once per registry."""
    for derived in (deleted_late, shorthands, threshold_nouns, with_cards):
        derived.cache_clear()


def kinds() -> tuple[Resource, ...]:
    return tuple(_registry)


def find(name: str) -> Resource | None:
    return next((kind for kind in _registry if kind.name == name), None)


def kind_named(name: str) -> Resource:
    """The registered kind `name`; a clear error for one this wxrec does not know (a plan of a newer release)."""
    kind = find(name)
    if kind is None:
        known = ", ".join(k.name for k in _registry)
        raise WxrecError(f"no resource kind {name!r} is known to this wxrec (known: {known})")
    return kind


def sections() -> tuple[str, ...]:
    return ("account", *(kind.name for kind in _registry), "import", "moved")


def keyed_sections() -> frozenset[str]:
    return frozenset(kind.name for kind in _registry if kind.keyed)


def layer_of(name: str, default: int) -> int:
    kind = find(name)
    return default if kind is None else kind.layer


@cache
def deleted_late(name: str) -> bool:
    """Whether apply deletes the kind's entries in its last layer: other kinds name them by id."""
    return isinstance(find(name), ReferredById)


@cache
def shorthands() -> Mapping[str, tuple[str, str]]:
    """The shorthands manifests name entries by id with: `card` → ("cards", "card_id"), the kind and the field."""
    return {kind.shorthand[0]: (kind.name, kind.shorthand[1]) for kind in _registry if isinstance(kind, ReferredById)}


@cache
def threshold_nouns() -> Mapping[str, str]:
    """The kinds the destroy threshold counts, each with what its refusal calls several of them."""
    return {kind.name: kind.threshold_noun for kind in _registry if isinstance(kind, CountedByThreshold)}


@cache
def with_cards() -> tuple[PlannedWithCards, ...]:
    """The kinds declared inside the cards' entries, planned with them."""
    return tuple(kind for kind in _registry if isinstance(kind, PlannedWithCards))


def scoped_as(address: str) -> str:
    """What targeting scopes an address as: a kind planned with the cards goes with its card (`card_settings.KEY`
    with `cards.KEY`), any other address is itself."""
    with_card = any(kind.name == kind_of(address) for kind in with_cards())
    return str(Address.card(Address.parse(address).key)) if with_card else address


def manifest_schema() -> dict[str, Any]:
    """The manifest's JSON Schema: the base (account, import, moved) with every kind's section and $defs."""
    schema = shipped_json("schemas/manifest.base.json")
    account, *adoption = schema["properties"].items()
    # A kind declared inside another kind's entries (card_settings) has no section of its own.
    sections = {kind.name: kind.schema["section"] for kind in _registry if "section" in kind.schema}
    schema["properties"] = dict([account, *sections.items(), *adoption])
    for kind in _registry:
        schema["$defs"].update(kind.schema.get("$defs", {}))
    return copy.deepcopy(schema)  # a validator may rewrite its schema's $refs: never the kinds' own fragments


def schema_text() -> str:
    """The built schema as shipped in schemas/manifest.schema.json."""
    return json.dumps(manifest_schema(), ensure_ascii=False, indent=2) + "\n"


def declared(data: Mapping[str, Any]) -> list[str]:
    """What the manifests declare, counted per kind in the registry's order ("2 tags", "1 menu"); a kind the
    manifests leave out is not named. A kind's noun is its name ("landing_pages": landing page) unless it says
    otherwise with a `nouns` attribute (singular, plural)."""
    found = []
    for kind in _registry:
        section = data.get(kind.name)
        count = (len(section) if isinstance(section, Mapping) else 0) if kind.keyed else int(section is not None)
        if count:
            singular, plural = getattr(kind, "nouns", None) or _nouns(kind)
            found.append(counted(count, singular, plural))
    return found


def _nouns(kind: Resource) -> tuple[str, str]:
    plural = kind.name.replace("_", " ")
    return (plural.removesuffix("s") if kind.keyed else plural), (plural if kind.keyed else f"{plural}s")
