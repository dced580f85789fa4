"""The plan document: what would change, resource by resource. Every renderer reads `Plan.to_dict()`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.address import kind_of
from reconciler.i18n import messages, restored
from reconciler.list_diff import ListItems, list_items
from reconciler.targeting import Targeting

# 2: a list-valued attribute change carries its item-level change (`items`). A plan of format 1 is refused.
PLAN_FORMAT_VERSION = 2


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    STOCK = "stock"
    REPLACE = "replace"
    DELETE = "delete"
    RETIRE = "retire"  # delete old cards left behind by a replace, once the new card passed review
    GONE = "gone"  # managed but deleted outside wxrec: reported, not revived without -replace
    FORGET = "forget"  # gone from the manifests but WeChat cannot delete it: state forgets it, it stays live
    IMPORT = "import"  # an import block adopts a live card: state only
    MOVE = "move"  # a moved block renames an address: state only, nothing is re-created
    RENDER = "render"  # a QR code's image files are missing: drawn again from the url in state, no WeChat call


DESTRUCTIVE = frozenset({Action.REPLACE, Action.DELETE, Action.RETIRE})
# Apply runs in layers (each kind's, see reconciler/resources): cards first, then what shows them (landing
# pages, QR codes), then what links to those (the menu); old and deleted cards last, once every reference has
# moved away from them.
LATE_ACTIONS = {Action.RETIRE: 4, Action.DELETE: 5, Action.FORGET: 6}
# Imports and moves come first: the changes planned after them act on the records they write.
ADOPTIONS = frozenset({Action.IMPORT, Action.MOVE})


def apply_rank(change: ResourceChange) -> tuple[int, int, str]:
    # The kinds import this module: the registry is asked when a plan is ordered.
    from reconciler.resources import deleted_late, layer_of

    kind = kind_of(change.address)
    if change.action in ADOPTIONS:
        return (-1, list(Action).index(change.action), change.address)
    # A kind others name by id (resources.base.ReferredById) is deleted once whatever used it is gone or re-pointed.
    late = change.action == Action.FORGET or (change.action in LATE_ACTIONS and deleted_late(kind))
    layer = LATE_ACTIONS[change.action] if late else layer_of(kind, 3)
    return (layer, list(Action).index(change.action), change.address)


@dataclass
class AttributeChange:
    path: str
    old: Any
    new: Any
    review: bool = False
    forces_replace: bool = False
    reset: bool = False
    # Derived from old and new (both whole: apply sends the whole new list), so a saved plan cannot disagree.
    items: ListItems | None = field(init=False)

    def __post_init__(self) -> None:
        self.items = list_items(self.old, self.new)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AttributeChange:
        return cls(**{name: value for name, value in data.items() if name != "items"})


@dataclass
class StockChange:
    mode: str
    target: int
    quantity: int
    total_quantity: int
    delta: int
    note: str = ""


@dataclass
class ResourceChange:
    address: str
    action: Action
    id: str | None = None
    review: bool = False
    changes: list[AttributeChange] = field(default_factory=list)
    stock: StockChange | None = None
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    retire_ids: list[str] = field(default_factory=list)
    before: Mapping[str, Any] | None = None  # built by each kind's typed builder (a TypedDict)
    after: Mapping[str, Any] | None = None
    details: list[str] = field(default_factory=list)  # pre-rendered lines, e.g. the menu's tree diff

    @property
    def destructive(self) -> bool:
        return self.action in DESTRUCTIVE or bool(self.retire_ids)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["action"] = str(self.action)
        return {**data, **messages(data, ("reasons", "notes"))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceChange:
        stock = data.get("stock")
        return cls(
            address=data["address"],
            action=Action(data["action"]),
            id=data.get("id"),
            review=bool(data.get("review")),
            changes=[AttributeChange.from_dict(c) for c in data.get("changes", [])],
            stock=StockChange(**stock) if stock else None,
            reasons=restored(data, "reasons"),
            notes=restored(data, "notes"),
            retire_ids=list(data.get("retire_ids", [])),
            before=data.get("before"),
            after=data.get("after"),
            details=list(data.get("details", [])),
        )


@dataclass
class Attention:
    """A managed card that needs its owner whatever the plan does: WeChat's review rejected it
    (CARD_STATUS_VERIFY_FAIL). Not a change: apply has nothing to do for it until the manifests change."""

    address: str
    id: str
    status: str
    before: Mapping[str, Any]  # the live card, as a change's `before` (cards.diff.live_document)


@dataclass
class Plan:
    appid: str
    endpoint: str
    changes: list[ResourceChange] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    attention: list[Attention] = field(default_factory=list)
    state_serial: int = 0
    state_lineage: str | None = None
    refreshed: bool = True
    # --target / --exclude: the changes are only those of some addresses (the document says which).
    targeting: Targeting = field(default_factory=Targeting)
    # Colours read while planning; apply keeps them in state. Not part of the document.
    palette: dict[str, str] = field(default_factory=dict, repr=False)
    # The key of the digest `plan -out` seals the document with (State.seal_key). Not part of the document.
    seal_key: bytes = field(default=b"", repr=False)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def destructive(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.destructive]

    def ordered(self) -> list[ResourceChange]:
        """Changes in apply order (see apply_rank); ties by address, so runs are reproducible."""
        return sorted(self.changes, key=apply_rank)

    def layers(self) -> list[list[ResourceChange]]:
        """The ordered changes grouped by apply layer: a layer's changes never depend on one another."""
        grouped: dict[int, list[ResourceChange]] = {}
        for change in self.ordered():
            grouped.setdefault(apply_rank(change)[0], []).append(change)
        return list(grouped.values())

    def counts(self) -> dict[str, int]:
        counts = {str(action): 0 for action in Action}
        for change in self.changes:
            counts[str(change.action)] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        targeting = {"targeting": self.targeting.to_dict()} if self.targeting.active else {}
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "appid": self.appid,
            "endpoint": self.endpoint,
            "state": {"serial": self.state_serial, "lineage": self.state_lineage},
            "refreshed": self.refreshed,
            "summary": self.counts(),
            "changes": [c.to_dict() for c in self.ordered()],
            "unmanaged": sorted(self.unmanaged),
            "warnings": self.warnings,
            "refusals": self.refusals,
            "attention": [asdict(item) for item in self.attention],
            **targeting,
            **messages({"warnings": self.warnings, "refusals": self.refusals}, ("warnings", "refusals")),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """A saved plan (`plan -out`), read back for `apply --plan`."""
        if data.get("format_version") != PLAN_FORMAT_VERSION:
            raise ValueError(f"plan format version {data.get('format_version')!r} is not {PLAN_FORMAT_VERSION}")
        return cls(
            appid=data["appid"],
            endpoint=data["endpoint"],
            changes=[ResourceChange.from_dict(c) for c in data["changes"]],
            unmanaged=list(data["unmanaged"]),
            warnings=restored(data, "warnings"),
            refusals=restored(data, "refusals"),
            attention=[Attention(**item) for item in data.get("attention", [])],
            state_serial=int(data["state"]["serial"]),
            state_lineage=data["state"]["lineage"],
            refreshed=bool(data["refreshed"]),
            targeting=Targeting.from_dict(data.get("targeting")),
        )
