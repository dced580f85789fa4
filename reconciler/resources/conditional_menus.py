"""Conditional (personalised) menus, cgi-bin/menu/addconditional: a menu shown to the fans a match rule picks.

WeChat's rules (docs/wechat/tags-and-conditional-menus.md):
- There is no edit: a change publishes the new menu (addconditional) and then removes the old (delconditional).
  WeChat tries the newest menu first, so while both exist the new one wins and members never fall back to the
  default menu.
- Rules match on `tag_id` and `client_platform_type` only since the privacy change (others answer 65320).
- menu/get lists them under `conditionalmenu`, the rule's tag as `group_id` and numbers for strings.
- A default menu must exist (65303), so they are applied after it; menu/delete removes them all.
The buttons follow menu/create's rules (menu_checks.py), the tree of a change is the menu's (menu_tree.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from reconciler.address import Address, kind_of
from reconciler.errors import Locate, Problem
from reconciler.i18n import N_, said
from reconciler.plan import Action, ResourceChange
from reconciler.resources.base import (
    Applier,
    ApplyContext,
    Drift,
    KindPlan,
    PlanContext,
    created_once,
    entry,
    forget,
    save_record,
    schema_fragment,
)
from reconciler.resources.menu import MENU, describe_rule, live_rule, normal_menu
from reconciler.resources.menu_checks import validate_menu
from reconciler.resources.menu_tree import menu_tree
from reconciler.resources.references import GETS_NEW_ID, follows, resolve, resolve_known, state_lookup
from reconciler.state import State
from reconciler.wechat.account import AccountApi

KIND = "conditional_menus"
RULE_FIELDS = ("tag_id", "client_platform_type")
# Withdrawn by WeChat's privacy change: a rule with them is refused (65320), a live one no longer matches.
PRIVACY_FIELDS = ("sex", "country", "province", "city", "language")
REPUBLISH = N_(
    "no edit API: addconditional publishes the new menu first, then delconditional removes the old one; WeChat "
    "tries the newest menu first, so members never fall back to the default menu"
)
REACH = N_("phones pick up a menu change within about 5 minutes")


class ConditionalMenuDocument(TypedDict):
    """A conditional menu's `before`/`after` (plan.schema.json's `other`): its rule and buttons."""

    conditional_menu: dict[str, Any]


@dataclass(frozen=True)
class ConditionalRecord:
    """State's record: the live menu's menuid and what wxrec sent, references filled in; `retired`: menuids of its
    earlier versions whose delconditional has not succeeded yet (kept until it does, tried again by each apply)."""

    id: str
    applied: dict[str, Any]
    retired: tuple[str, ...] = ()

    @classmethod
    def from_state(cls, record: Mapping[str, Any]) -> ConditionalRecord:
        return cls(str(record["id"]), dict(record["applied"]), tuple(str(i) for i in record.get("retired", ())))

    def to_state(self) -> dict[str, Any]:
        return {"id": self.id, "applied": self.applied} | ({"retired": list(self.retired)} if self.retired else {})


@dataclass
class ConditionalLive:
    """menu/get's conditional menus by menuid, normalised as the manifest's; whether a default menu exists."""

    menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    default: bool = True
    read: bool = True


def live_menu(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"matchrule": live_rule(item.get("matchrule") or {}), **normal_menu(item)}


async def read_conditional(api: AccountApi) -> ConditionalLive:
    answer = await api.menu_config()
    if answer is None:
        return ConditionalLive(default=False)
    return ConditionalLive({str(c["menuid"]): live_menu(c) for c in answer.get("conditionalmenu") or []})


def records(state: State | None) -> dict[str, ConditionalRecord]:
    if state is None:
        return {}
    return {a: ConditionalRecord.from_state(r) for a, r in state.resources.items() if kind_of(a) == KIND}


class ConditionalMenus:
    name = KIND
    keyed = True
    layer = 4
    attributes: tuple[str, ...] = ("id",)
    may_refer_to = ("cards", "landing_pages", "qrcodes", "tags")
    new_badge = "new menu"
    panel = "menu"
    # Not an update: one may record a live menu an interrupted publish made (_settled), whose menuid no record has.
    acts_on_id = frozenset({Action.DELETE})
    schema: Mapping[str, Any] = schema_fragment(KIND)

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        problems: list[Problem] = []
        for key, spec in (section or {}).items():
            if not isinstance(spec, Mapping):
                continue
            root = (KIND, key)
            problems += validate_menu(spec, locate, root, ("button", "matchrule"))
            problems += _rule_problems(spec.get("matchrule"), (*root, "matchrule"), locate)
        return problems

    async def read(self, api: AccountApi | None, state: State | None) -> ConditionalLive:
        """menu/get's conditional menus; without `api`, those state says wxrec published."""
        if api is None:
            return ConditionalLive({r.id: r.applied for r in records(state).values()}, read=False)
        return await read_conditional(api)

    async def plan(self, context: PlanContext) -> KindPlan:
        owned = records(context.state)
        if not context.present:
            notes: list[str] = [said("no conditional_menus section any more: the menu is left as it is in WeChat")]
            return KindPlan([ResourceChange(a, Action.FORGET, id=r.id, notes=notes) for a, r in sorted(owned.items())])
        assert isinstance(context.live, ConditionalLive)
        intents = frozenset(context.state.intents) if context.state else frozenset()
        return _plan(context, owned, context.live, intents)

    def drift(self, change: ResourceChange, state: State | None, found: Drift) -> None:
        """The live menu is not the one wxrec last published: changed in WeChat (by another tool: the MP console
        cannot edit conditional menus)."""
        record = records(state).get(change.address)
        before = (change.before or {}).get("conditional_menu")
        if record is not None and before is not None and before != record.applied:
            found.live.append(entry(change, said("conditional menu changed in WeChat")))
        else:
            found.manifest.append(entry(change, said("conditional menu edited in the manifests")))

    def adopt(self, address: str, live_id: str, live: Any) -> ResourceChange | str:
        """An `import:` block adopts a live conditional menu by menuid: state records it as it is live, so a
        manifest that differs is then planned as a re-publish."""
        menu = live.menus.get(live_id) if isinstance(live, ConditionalLive) else None
        if menu is None:
            return f"{live_id} is not a conditional menu of this account (menu/get does not list it)"
        change = ResourceChange(
            address, Action.IMPORT, id=live_id, after=ConditionalMenuDocument(conditional_menu=menu)
        )
        change.reasons = [
            said("an import block adopts this live conditional menu: state records it, WeChat is not changed")
        ]
        return change

    def adopted(self, change: ResourceChange, state: State) -> dict[str, Any]:
        assert change.id is not None and change.after is not None
        return ConditionalRecord(change.id, dict(change.after["conditional_menu"])).to_state()

    def applied_records(self, section: Any, state: State) -> dict[str, dict[str, Any]]:
        """Each menu as an apply of `section` records it, its menuid stood in (wxrec diff)."""
        found = {}
        for key, spec in (section or {}).items():
            address = str(Address(KIND, key))
            resolved, _ = resolve(dict(spec), state_lookup(state))
            found[address] = ConditionalRecord(f"<{address}>", resolved).to_state()
        return found

    def applier(self, context: ApplyContext) -> Applier:
        return ConditionalApplier(context)


def needs_default_menu(data: Mapping[str, Any], locate: Locate) -> list[Problem]:
    """`menu: null` deletes the default menu and, with it, every conditional menu (65303 for new ones): refused
    while conditional menus are declared."""
    if MENU.name in data and data[MENU.name] is None and data.get(KIND):
        declared = ", ".join(f"{KIND}.{key}" for key in data[KIND])
        message = f"is null, which deletes every conditional menu with it, while the manifests declare {declared}"
        return [Problem(locate((MENU.name,)), MENU.name, message)]
    return []


def _rule_problems(rule: Any, path: tuple[str, ...], locate: Locate) -> list[Problem]:
    if not isinstance(rule, Mapping):
        return []
    where = ".".join(path)
    problems = [
        Problem(
            locate((*path, name)),
            f"{where}.{name}",
            "WeChat no longer matches on sex, region or language (65320, its privacy change): use a tag",
        )
        for name in PRIVACY_FIELDS
        if name in rule
    ]
    if "tag" in rule and "tag_id" in rule:
        problems.append(Problem(locate((*path, "tag_id")), f"{where}.tag_id", "give `tag` or `tag_id`, not both"))
    return problems


def _plan(
    context: PlanContext, owned: Mapping[str, ConditionalRecord], live: ConditionalLive, intents: frozenset[str]
) -> KindPlan:
    """`intents`: addresses whose last addconditional was interrupted; a live menu it may have made is adopted."""
    found = KindPlan()
    specs: Mapping[str, Any] = context.section or {}
    for address in sorted({str(Address(KIND, key)) for key in specs} | set(owned)):
        key, record = Address.parse(address).key, owned.get(address)
        if key not in specs:
            if record is not None:
                found.changes.append(_removed(address, record, live))
            continue
        resolved, unknown = resolve(dict(specs[key]), context.lookup)
        if context.locate is not None:
            problems = validate_menu(resolved, context.locate, (KIND, key), ("button", "matchrule"))
            found.refusals += [f"{problem} once its references are filled in" for problem in problems]
        made = _interrupted(_sent(resolved), owned, live) if address in intents and not unknown else None
        if made is not None:
            found.changes.append(_settled(address, made, record, live))
            continue
        change = _change(address, dict(specs[key]), (resolved, unknown), record, live)
        if change is not None:
            found.changes.append(change)
    creating = any(c.action in (Action.CREATE, Action.UPDATE) for c in found.changes)
    if creating and not live.default and MENU.name not in context.changing:
        found.refusals.append(
            f"{KIND}: WeChat publishes a conditional menu only beside a default menu (65303): declare `menu:`"
        )
    found.warnings += _unmanaged(owned, live)
    return found


def _change(
    address: str,
    spec: dict[str, Any],
    resolution: tuple[dict[str, Any], list[str]],
    record: ConditionalRecord | None,
    live: ConditionalLive,
) -> ResourceChange | None:
    resolved, unknown = resolution
    wanted = _sent(resolved)
    current = live.menus.get(record.id) if record is not None else None
    after = ConditionalMenuDocument(conditional_menu=spec)
    if record is None or current is None:
        change = ResourceChange(address, Action.CREATE, after=after, notes=[said(REACH)])
        if record is not None:
            change.reasons.append(
                said("conditional menu {id} was deleted in WeChat (menu/delete removes them all)", id=record.id)
            )
        change.details = menu_tree(None, wanted)
        return change
    pending = [menuid for menuid in record.retired if not live.read or menuid in live.menus]
    if not unknown and current == wanted:
        return _leftovers(address, record.id, current, pending) if pending else None
    change = ResourceChange(address, Action.UPDATE, id=record.id, after=after, notes=[said(REPUBLISH), said(REACH)])
    change.before = ConditionalMenuDocument(conditional_menu=current)
    if unknown:
        change.reasons.append(follows(unknown, GETS_NEW_ID))
    change.details = menu_tree(current, wanted)
    return change


def _kept(address: str, menuid: str, menu: dict[str, Any], reason: str) -> ResourceChange:
    """An update whose live menu `menuid` already is what addconditional would be sent: the applier publishes
    nothing, records `menuid` and removes the menus the address had before."""
    document = ConditionalMenuDocument(conditional_menu=menu)
    return ResourceChange(address, Action.UPDATE, id=menuid, before=document, after=document, reasons=[reason])


def _leftovers(address: str, menuid: str, menu: dict[str, Any], pending: list[str]) -> ResourceChange:
    reason = said(
        "conditional menu {ids} of an earlier version is still live (its delconditional failed): removed now",
        ids=", ".join(pending),
    )
    return _kept(address, menuid, menu, reason)


def _interrupted(wanted: dict[str, Any], owned: Mapping[str, ConditionalRecord], live: ConditionalLive) -> str | None:
    """The live menu an interrupted addconditional of `wanted` made: one no record knows, equal to it."""
    known = {menuid for r in owned.values() for menuid in (r.id, *r.retired)}
    return next((i for i, menu in sorted(live.menus.items()) if i not in known and menu == wanted), None)


def _settled(address: str, menuid: str, record: ConditionalRecord | None, live: ConditionalLive) -> ResourceChange:
    """The menu an interrupted publish made (its answer or its state record was lost): adopted, not made twice."""
    reason = said("an earlier publish of this conditional menu was interrupted: the menu it made is adopted")
    if record is not None:
        return _kept(address, menuid, live.menus[menuid], reason)
    change = CONDITIONAL_MENUS.adopt(address, menuid, live)
    assert isinstance(change, ResourceChange)
    change.reasons = [reason]
    return change


def _sent(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """What addconditional is sent, as menu/get reads back: the rule's values as strings."""
    rule = {k: str(v) for k, v in (resolved.get("matchrule") or {}).items() if k in RULE_FIELDS}
    return {"matchrule": rule, **normal_menu(resolved)}


def _removed(address: str, record: ConditionalRecord, live: ConditionalLive) -> ResourceChange:
    if live.read and record.id not in live.menus:
        return ResourceChange(address, Action.FORGET, id=record.id, notes=[said("already deleted in WeChat")])
    before = ConditionalMenuDocument(conditional_menu=live.menus.get(record.id, record.applied))
    change = ResourceChange(address, Action.DELETE, id=record.id, before=before, after=None)
    change.notes.append(said("the fans it matched see the default menu again"))
    return change


def _unmanaged(owned: Mapping[str, ConditionalRecord], live: ConditionalLive) -> list[str]:
    """Conditional menus made elsewhere: reported, never deleted; dead rules named."""
    ids = {menuid for r in owned.values() for menuid in (r.id, *r.retired)}
    found = []
    for menuid, menu in sorted(live.menus.items()):
        if menuid in ids:
            continue
        rule = menu["matchrule"]
        dead = [name for name in PRIVACY_FIELDS if name in rule]
        why = f"; it matches nobody since WeChat dropped {', '.join(dead)}" if dead else ""
        found.append(
            f"{KIND}: conditional menu {menuid} ({describe_rule(rule)}) is live but not in the manifests: "
            f"left as it is{why}"
        )
    return found


@dataclass
class ConditionalApplier:
    context: ApplyContext

    async def apply(self, change: ResourceChange) -> str:
        resources = self.context.state.resources
        if change.action == Action.FORGET:
            return await forget(self.context, change)
        old = records(self.context.state).get(change.address)
        if change.action == Action.DELETE:
            assert change.id is not None and old is not None
            retired = tuple(dict.fromkeys((*old.retired, change.id)))
            await self._retire(change.address, ConditionalRecord(old.id, old.applied, retired))
            resources.pop(change.address, None)
            await self.context.save()
            return f"conditional menu {change.id} deleted"
        assert change.after is not None
        resolved = resolve_known(change.address, change.after["conditional_menu"], self.context.state)
        body = _sent(resolved)
        kept = change.action == Action.UPDATE and (change.before or {}).get("conditional_menu") == body
        menuid = str(change.id) if kept else await self._publish(change.address, body)
        replaced = [old.id] if change.action == Action.UPDATE and old is not None and old.id != menuid else []
        retired = tuple(dict.fromkeys([*(old.retired if old else ()), *replaced]))
        # Recorded before any delete: a failed delconditional leaves the ids to remove in state, not lost.
        await self._retire(change.address, ConditionalRecord(menuid, body, retired))
        done = f"conditional menu {menuid} " + ("kept" if kept else "published")
        return done + (f", then {', '.join(retired)} removed" if retired else "")

    async def _publish(self, address: str, body: dict[str, Any]) -> str:
        """If the answer or the record is lost, the next plan adopts the menu it made (its intent)."""
        return await created_once(self.context, address, lambda: self.context.api.add_conditional_menu(body))

    async def _retire(self, address: str, record: ConditionalRecord) -> None:
        """Record `record`, then delconditional its retired menus one by one, each leaving state once gone."""
        state = self.context.state
        await save_record(self.context, address, record.to_state())
        for position, menuid in enumerate(record.retired, 1):
            # Only now: until the new menu exists, the old one keeps its members off the default menu.
            await self.context.api.delete_conditional_menu(menuid)
            state.resources[address] = ConditionalRecord(
                record.id, record.applied, record.retired[position:]
            ).to_state()
            await self.context.save()


CONDITIONAL_MENUS = ConditionalMenus()
