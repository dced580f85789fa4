"""User tags (cgi-bin/tags/*): created, renamed in place (tags/update keeps the id and the fans), deleted (which
untags every fan: destructive). Identity is WeChat's id, kept in state; tags/get is read to plan.

WeChat's rules (docs/wechat/tags-and-conditional-menus.md): names unique and at most 30 bytes, tags 0, 1 and 2
reserved (never planned, never exported)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from reconciler.address import Address, kind_of
from reconciler.errors import Locate, Problem
from reconciler.i18n import N_, said, said_n
from reconciler.plan import Action, AttributeChange, ResourceChange
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
from reconciler.state import State
from reconciler.wechat.account import AccountApi

KIND = "tags"
MAX_NAME_BYTES = 30
RESERVED_IDS = frozenset({"0", "1", "2"})


class TagDocument(TypedDict):
    """A tag's `before`/`after` (plan.schema.json's `other`): its name, and on a live tag its fans."""

    tag: dict[str, Any]


@dataclass(frozen=True)
class TagRecord:
    """State's record of a tag address: WeChat's id and the name wxrec last gave it."""

    id: str
    name: str

    @classmethod
    def from_state(cls, record: Mapping[str, Any]) -> TagRecord:
        return cls(str(record["id"]), str(record["name"]))

    def to_state(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class LiveTag:
    name: str
    count: int | None  # fans with the tag; None when read from state


@dataclass
class TagsLive:
    """tags/get by id, the reserved tags left out; `read` False when state stood in for WeChat."""

    tags: dict[str, LiveTag] = field(default_factory=dict)
    read: bool = True

    def named(self, name: str) -> str | None:
        return next((tag_id for tag_id, tag in self.tags.items() if tag.name == name), None)


async def read_tags(api: AccountApi) -> TagsLive:
    answer = await api.tags()
    found = {str(t["id"]): LiveTag(str(t["name"]), int(t.get("count") or 0)) for t in answer}
    return TagsLive({k: v for k, v in found.items() if k not in RESERVED_IDS})


def records(state: State | None) -> dict[str, TagRecord]:
    if state is None:
        return {}
    return {a: TagRecord.from_state(r) for a, r in state.resources.items() if kind_of(a) == KIND}


def _document(name: str, live: LiveTag | None = None) -> TagDocument:
    tag: dict[str, Any] = {"name": name}
    if live is not None and live.count is not None:
        tag["fans"] = live.count
    return TagDocument(tag=tag)


class Tags:
    name = KIND
    keyed = True
    layer = 1
    attributes: tuple[str, ...] = ("id",)
    may_refer_to: tuple[str, ...] = ()
    new_badge = "new tag"
    panel = "other"
    shorthand = ("tag", "tag_id")  # conditional menus match on `tag: KEY`
    threshold_noun = N_("tags")  # a deleted tag loses the fans it groups
    acts_on_id = frozenset({Action.UPDATE, Action.DELETE})
    schema: Mapping[str, Any] = schema_fragment(KIND)

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        """Bytes (WeChat counts 30 bytes, 45158) and names unique (45157), which the schema cannot say."""
        problems: list[Problem] = []
        seen: dict[str, str] = {}
        for key, tag in (section or {}).items():
            name = tag.get("name") if isinstance(tag, Mapping) else None
            if not isinstance(name, str):
                continue
            path = (KIND, key, "name")
            if len(name.encode()) > MAX_NAME_BYTES:
                problems.append(Problem(locate(path), f"{KIND}.{key}.name", f"is over {MAX_NAME_BYTES} bytes"))
            if name in seen:
                problems.append(Problem(locate(path), f"{KIND}.{key}.name", f"is also {KIND}.{seen[name]}'s name"))
            seen.setdefault(name, key)
        return problems

    async def read(self, api: AccountApi | None, state: State | None) -> TagsLive:
        """tags/get; without `api`, the tags state says wxrec made."""
        if api is None:
            return TagsLive({r.id: LiveTag(r.name, None) for r in records(state).values()}, read=False)
        return await read_tags(api)

    async def plan(self, context: PlanContext) -> KindPlan:
        owned = records(context.state)
        if not context.present:
            # As for the menu: no section is no say over the tags, so none is deleted by a file gone missing.
            notes: list[str] = [said("no tags section any more: the tag is left as it is in WeChat")]
            return KindPlan([ResourceChange(a, Action.FORGET, id=r.id, notes=notes) for a, r in sorted(owned.items())])
        assert isinstance(context.live, TagsLive)
        intents = frozenset(context.state.intents) if context.state else frozenset()
        return _plan(context.section or {}, owned, context.live, intents)

    def drift(self, change: ResourceChange, state: State | None, found: Drift) -> None:
        """A rename: the live name is not the one wxrec last gave (renamed in the MP console), or the manifests
        name it anew."""
        record = records(state).get(change.address)
        for attribute in change.changes:
            by_hand = record is not None and attribute.old != record.name
            found.attribute(change, attribute, by_hand=by_hand)
        if not change.changes:
            found.manifest.append(entry(change, said("edited in the manifests")))

    def adopt(self, address: str, live_id: str, live: Any) -> ResourceChange | str:
        """An `import:` block adopts a live tag by id: state records it; a name the manifests give otherwise is
        then planned as a rename."""
        if live_id in RESERVED_IDS:
            return f"tag {live_id} is one of WeChat's reserved tags (0, 1, 2), which cannot be changed"
        tag = live.tags.get(live_id) if isinstance(live, TagsLive) else None
        if tag is None:
            return f"{live_id} is not a tag of this account (tags/get does not list it)"
        change = ResourceChange(address, Action.IMPORT, id=live_id, after=_document(tag.name, tag))
        change.reasons = [said("an import block adopts this live tag: state records it, WeChat is not changed")]
        return change

    def adopted(self, change: ResourceChange, state: State) -> dict[str, Any]:
        assert change.id is not None and change.after is not None
        return TagRecord(change.id, str(change.after["tag"]["name"])).to_state()

    def applied_records(self, section: Any, state: State) -> dict[str, dict[str, Any]]:
        """Each tag as an apply of `section` records it, its id stood in (wxrec diff)."""
        found = {}
        for key, tag in (section or {}).items():
            address = str(Address(KIND, key))
            found[address] = TagRecord(f"<{address}>", tag["name"]).to_state()
        return found

    def applier(self, context: ApplyContext) -> Applier:
        return TagApplier(context)


def _plan(
    specs: Mapping[str, Any], owned: Mapping[str, TagRecord], live: TagsLive, intents: frozenset[str]
) -> KindPlan:
    """`intents`: addresses whose last create was interrupted; a live tag of the name it asked for is adopted."""
    found = KindPlan()
    owned_ids = {r.id for r in owned.values()}
    for address in sorted({str(Address(KIND, key)) for key in specs} | set(owned)):
        key, record = Address.parse(address).key, owned.get(address)
        if key not in specs:
            if record is not None:
                found.changes.append(_removed(address, record, live))
            continue
        name = str(specs[key]["name"])
        clash = live.named(name)
        if record is None or record.id not in live.tags:
            if clash is not None and clash not in owned_ids and address in intents:
                found.changes.append(_settled(address, clash, live))
                continue
            if clash is not None and clash not in owned_ids:
                found.refusals.append(_duplicate(address, name, clash))
            found.changes.append(_create(address, name, record))
        elif live.tags[record.id].name != name:
            if clash is not None and clash != record.id:
                found.refusals.append(f"{address}: another tag is named {name!r} (id {clash}); names are unique")
            found.changes.append(_rename(address, record, live.tags[record.id], name))
    return found


def _settled(address: str, tag_id: str, live: TagsLive) -> ResourceChange:
    """The tag an interrupted create made (its answer or its state record was lost): adopted, not made twice."""
    change = TAGS.adopt(address, tag_id, live)
    assert isinstance(change, ResourceChange)
    change.reasons = [said("an earlier create of this tag was interrupted: the tag it made is adopted")]
    return change


def _duplicate(address: str, name: str, tag_id: str) -> str:
    return (
        f"{address}: WeChat has a tag named {name!r} (id {tag_id}) that wxrec does not manage, and names are "
        f'unique: adopt it with an import block (import: [{{to: {address}, id: "{tag_id}"}}]) or rename one'
    )


def _create(address: str, name: str, record: TagRecord | None) -> ResourceChange:
    change = ResourceChange(address, Action.CREATE, after=_document(name))
    if record is not None:
        change.reasons.append(
            said("tag {id} was deleted in WeChat: created again (a new id, without fans)", id=record.id)
        )
    return change


def _rename(address: str, record: TagRecord, live: LiveTag, name: str) -> ResourceChange:
    change = ResourceChange(address, Action.UPDATE, id=record.id, before=_document(live.name, live))
    change.after = _document(name, live)
    change.changes.append(AttributeChange("name", live.name, name))
    change.notes.append(said("tags/update renames it in place: the same id, the same fans"))
    return change


def _removed(address: str, record: TagRecord, live: TagsLive) -> ResourceChange:
    if live.read and record.id not in live.tags:
        return ResourceChange(address, Action.FORGET, id=record.id, notes=[said("already deleted in WeChat")])
    tag = live.tags.get(record.id)
    change = ResourceChange(address, Action.DELETE, id=record.id, before=_document(record.name, tag), after=None)
    if tag is not None and tag.count is not None:
        change.notes.append(
            said_n(
                "tags/delete takes the tag off every fan who has it ({count} fan)",
                "tags/delete takes the tag off every fan who has it ({count} fans)",
                tag.count,
            )
        )
    else:
        change.notes.append(said("tags/delete takes the tag off every fan who has it"))
    return change


@dataclass
class TagApplier:
    context: ApplyContext

    async def apply(self, change: ResourceChange) -> str:
        api, resources = self.context.api, self.context.state.resources
        if change.action == Action.FORGET:
            return await forget(self.context, change)
        if change.action == Action.DELETE:
            assert change.id is not None
            await api.delete_tag(change.id)
            resources.pop(change.address, None)
            await self.context.save()
            return f"tag {change.id} deleted"
        assert change.after is not None
        name = str(change.after["tag"]["name"])
        if change.action == Action.CREATE:
            tag_id = await self._create(change.address, name)
            done = f"tag {tag_id} created"
        else:
            assert change.id is not None
            tag_id = change.id
            await api.update_tag(tag_id, name)
            done = f"tag {tag_id} renamed"
        await save_record(self.context, change.address, TagRecord(tag_id, name).to_state())
        return done

    async def _create(self, address: str, name: str) -> str:
        """If the answer or the record is lost, the next plan adopts the tag of that name (its intent)."""
        return await created_once(self.context, address, lambda: self.context.api.create_tag(name))


TAGS = Tags()
