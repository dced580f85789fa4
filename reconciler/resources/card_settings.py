"""A card's write-only settings: a member card's activation form (card/membercard/activateuserform/set), the pay cell
(card/paycell/set) and the self-consume cell (card/selfconsumecell/set). Declared in the card beside base_info; set by
their own calls, never returned by card/get (docs/wechat/member-cards.md §5–7), so, like the whitelist, a plan compares
them with what wxrec last applied to the card, and applies them after the card exists, and again to a card that
replaces it. Their address is `card_settings.KEY`, KEY the card's; the kind has no manifest section of its own and
is `PlannedWithCards`: the planning pipeline plans it right after the cards (it needs their changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.address import Address, kind_of
from reconciler.errors import JsonPath, Locate, Problem
from reconciler.i18n import N_, said
from reconciler.plan import Action, ResourceChange
from reconciler.resources.base import Applier, ApplyContext, forget
from reconciler.resources.cards.model import WRITE_ONLY_SETTINGS
from reconciler.resources.references import resolve_known
from reconciler.resources.write_only import WriteOnlyDocument, spec_changes
from reconciler.state import State

KIND = "card_settings"
MEMBER_CARD = "MEMBER_CARD"
# Cells WeChat opens only on a card with stores: "设置买单/自助核销的card_id必须已经配置了门店，否则会报错" (43017);
# each with whether a body without is_open opens it (the pay cell: "不填默认true").
CELLS = {"pay_cell": True, "self_consume_cell": False}
# Byte limits of the form's texts: string(32) names, string(128) urls (the activation form's table).
FORM_BYTES = {"name": 32, "url": 128}
CANNOT_READ = N_(
    "WeChat cannot read a card's activation form, pay cell or self-consume cell back: compared with what "
    "wxrec last applied to the card"
)


def wanted(spec: Any) -> dict[str, Any]:
    """The settings a manifest's card declares."""
    if not isinstance(spec, Mapping):
        return {}
    return {name: spec[name] for name in WRITE_ONLY_SETTINGS if spec.get(name) is not None}


@dataclass(frozen=True)
class SettingsRecord:
    """State's record: the card the settings were applied to, and each setting as last applied."""

    card_id: str
    applied: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_state(cls, data: Mapping[str, Any] | None) -> SettingsRecord | None:
        return None if data is None else cls(str(data.get("card_id", "")), dict(data.get("applied") or {}))

    def to_state(self) -> dict[str, Any]:
        return {"card_id": self.card_id, "applied": self.applied}


def validate_settings(key: str, spec: Mapping[str, Any], locate: Locate) -> list[Problem]:
    """What the schema cannot say: the form is a member card's, a cell needs a store, the form's byte limits."""
    settings = wanted(spec)
    prefix: JsonPath = ("cards", key)

    def problem(path: JsonPath, message: str) -> Problem:
        return Problem(locate((*prefix, *path)), ".".join(map(str, (*prefix, *path))), message)

    found = []
    if "activate_user_form" in settings and spec.get("card_type") != MEMBER_CARD:
        message = f"only a MEMBER_CARD has an activation form, not {spec.get('card_type')}"
        found.append(problem(("activate_user_form",), message))
    base_info = spec.get("base_info")
    base_info = base_info if isinstance(base_info, Mapping) else {}
    for name in sorted(set(CELLS) & set(settings)):
        if _opens(name, settings[name]) and not _has_stores(base_info):
            found.append(
                problem(
                    (name,),
                    "needs a store: set base_info.location_id_list (or use_all_locations: "
                    "true); WeChat refuses a cell on a card without one (43017 require location id!)",
                )
            )
    return found + [problem(path, message) for path, message in _form_bytes(settings.get("activate_user_form"))]


def _opens(name: str, cell: Any) -> bool:
    return isinstance(cell, Mapping) and cell.get("is_open", CELLS[name]) is True


def _has_stores(base_info: Mapping[str, Any]) -> bool:
    return bool(base_info.get("location_id_list")) or base_info.get("use_all_locations") is True


def _form_bytes(form: Any) -> list[tuple[JsonPath, str]]:
    """The form's names and urls over their string(N) limits, in UTF-8 bytes."""
    if not isinstance(form, Mapping):
        return []
    texts: list[tuple[JsonPath, Any]] = [
        (("activate_user_form", link, part), (form.get(link) or {}).get(part))
        for link in ("service_statement", "bind_old_card")
        if isinstance(form.get(link), Mapping)
        for part in FORM_BYTES
    ]
    for name in ("required_form", "optional_form"):
        rich = (form.get(name) or {}).get("rich_field_list") if isinstance(form.get(name), Mapping) else None
        for index, item in enumerate(rich if isinstance(rich, list) else []):
            if isinstance(item, Mapping):
                texts.append((("activate_user_form", name, "rich_field_list", index, "name"), item.get("name")))
    return [
        (path, f"is {len(text.encode('utf-8'))} bytes of UTF-8, WeChat allows {FORM_BYTES[str(path[-1])]}")
        for path, text in texts
        if isinstance(text, str) and len(text.encode("utf-8")) > FORM_BYTES[str(path[-1])]
    ]


def plan_settings(
    cards: Mapping[str, Any], state: State | None, card_changes: Mapping[str, ResourceChange]
) -> list[ResourceChange]:
    """A change for every card whose settings differ from what was last applied to it, or whose card is created or
    replaced; a forget for settings no card declares any more. `card_changes`: the plan's changes of cards."""
    resources = state.resources if state else {}
    records = {a: r for a, r in resources.items() if kind_of(a) == KIND}
    keys = {key for key, spec in cards.items() if wanted(spec)} | {Address.parse(a).key for a in records}
    changes = []
    for key in sorted(keys):
        address, card = str(Address(KIND, key)), str(Address.card(key))
        record = SettingsRecord.from_state(records.get(address))
        card_id = (resources.get(card) or {}).get("id")
        change = _plan_one(address, key, wanted(cards.get(key)), record, card_changes.get(card), card_id)
        if change is not None:
            changes.append(change)
    return changes


def _plan_one(
    address: str,
    key: str,
    settings: dict[str, Any],
    record: SettingsRecord | None,
    card_change: ResourceChange | None,
    card_id: str | None,
) -> ResourceChange | None:
    if not settings:
        if record is None:
            return None
        note = said("no setting declared for the card any more: left as they are in WeChat")
        return ResourceChange(address, Action.FORGET, id=record.card_id, notes=[note], before=_document(record.applied))
    applied = record.applied if record is not None else {}
    reason = _whole_reason(key, record, card_change, card_id)
    # A first set shows the settings themselves (the document's spec), not a change from nothing.
    changes = (
        []
        if record is None
        else [
            c for name in WRITE_ONLY_SETTINGS for c in spec_changes(applied.get(name), settings.get(name), f"{name}.")
        ]
    )
    if reason is None and not changes:  # a first set always has a reason
        return None
    change = ResourceChange(
        address,
        Action.CREATE if record is None else Action.UPDATE,
        id=card_id,
        reasons=[reason] if reason else [],
        changes=changes,
        before=_document(applied) if record is not None else None,
        after=WriteOnlyDocument(spec={"card": key, **settings}),
    )
    change.notes.append(said(CANNOT_READ))
    change.notes += [
        said("{name} is no longer declared: left as it is in WeChat", name=name)
        for name in WRITE_ONLY_SETTINGS
        if name in applied and name not in settings
    ]
    return change


def _whole_reason(
    key: str, record: SettingsRecord | None, card_change: ResourceChange | None, card_id: str | None
) -> str | None:
    """Why every setting is set, not only those that changed: the card is new, or not the one they were set on."""
    card = str(Address.card(key))
    if card_change is not None and card_change.action == Action.CREATE:
        return said("{card} is created: its settings are set once it exists", card=card)
    if card_change is not None and card_change.action == Action.REPLACE:
        return said("{card} is replaced: the card that replaces it gets its settings again", card=card)
    if record is None:
        return said("never applied by wxrec")
    if record.card_id != card_id:
        return said("{card} is not the card they were set on: set again", card=card)
    return None


def _document(applied: Mapping[str, Any]) -> WriteOnlyDocument:
    return WriteOnlyDocument(spec=dict(applied))


def applied_records(cards: Mapping[str, Any], state: State) -> dict[str, dict[str, Any]]:
    """What an apply of `cards` leaves in state (wxrec diff): each card's settings, on the card state holds."""
    return {
        str(Address(KIND, key)): SettingsRecord(str(state.resources[card]["id"]), settings).to_state()
        for key, spec in cards.items()
        if (settings := wanted(spec)) and (card := str(Address.card(key))) in state.resources
    }


class CardSettings:
    name = KIND
    keyed = True
    layer = 1  # after the cards they are set on
    attributes: tuple[str, ...] = ()
    may_refer_to = ("cards",)
    new_badge = N_("new settings")
    panel = "other"
    # Declared inside each card (the cards fragment's activate_user_form, pay_cell, self_consume_cell): no section.
    schema: Mapping[str, Any] = {"$defs": {}}

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        return []  # the cards kind checks them in each card (validate_settings)

    def plan_with_cards(
        self, cards: Mapping[str, Any], state: State | None, card_changes: Mapping[str, ResourceChange]
    ) -> list[ResourceChange]:
        return plan_settings(cards, state, card_changes)

    def applied_records(self, cards: Mapping[str, Any], state: State) -> dict[str, dict[str, Any]]:
        return applied_records(cards, state)

    def applier(self, context: ApplyContext) -> Applier:
        return SettingsApplier(context)


@dataclass
class SettingsApplier:
    context: ApplyContext

    async def apply(self, change: ResourceChange) -> str:
        if change.action == Action.FORGET:
            return await forget(self.context, change)
        assert change.after is not None
        spec = resolve_known(change.address, change.after["spec"], self.context.state)
        card_id = spec.pop("card_id")
        state = self.context.state
        record = SettingsRecord.from_state(state.resources.get(change.address))
        # Whole when the card is not the one they were set on; else only what differs, from state as it is now.
        applied = record.applied if record is not None and record.card_id == card_id else {}
        kept = {name: value for name, value in applied.items() if name in spec}
        sent = [name for name in WRITE_ONLY_SETTINGS if name in spec and spec[name] != applied.get(name)]
        for name in sent:
            await self.context.cards.set_setting(card_id, name, spec[name])
            kept[name] = spec[name]
            state.resources[change.address] = SettingsRecord(card_id, kept).to_state()
            await self.context.save()
        state.resources[change.address] = SettingsRecord(card_id, kept).to_state()
        await self.context.save()
        return f"set {', '.join(sent)} on {card_id}" if sent else "state only (settings no longer declared)"


CARD_SETTINGS = CardSettings()
