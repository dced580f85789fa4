"""The test whitelist (card/testwhitelist/set): who may see cards still in review. No API reads it back, so a
plan compares with what wxrec last set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from reconciler.errors import Locate, Problem
from reconciler.i18n import said
from reconciler.plan import Action, AttributeChange, ResourceChange
from reconciler.resources.base import Applier, ApplyContext, KindPlan, PlanContext, forget, schema_fragment
from reconciler.state import State

LIMIT = 10


class WhitelistDocument(TypedDict):
    """The whitelist's `before`/`after` (plan.schema.json's `other`): the openids and usernames, as last applied
    and as wanted (before: None when never applied)."""

    whitelist: dict[str, list[str]] | None


@dataclass(frozen=True)
class WhitelistRecord:
    """State's record: the openids and usernames wxrec last set, each list sorted."""

    openid: list[str]
    username: list[str]

    @classmethod
    def of(cls, desired: Any) -> WhitelistRecord:
        """The record of a manifest section (null empties the whitelist)."""
        desired = desired or {}
        return cls(sorted(desired.get("openid", [])), sorted(desired.get("username", [])))

    def value(self) -> dict[str, list[str]]:
        return {"openid": self.openid, "username": self.username}

    def to_state(self) -> dict[str, Any]:
        return {"applied": self.value()}


class Whitelist:
    name = "whitelist"
    keyed = False
    layer = 3
    attributes: tuple[str, ...] = ()
    may_refer_to: tuple[str, ...] = ()
    new_badge = "new"
    panel = "whitelist"
    schema: Mapping[str, Any] = schema_fragment("whitelist")

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        if not isinstance(section, Mapping):
            return []
        size = sum(len(v) for v in section.values() if isinstance(v, list))
        if size > LIMIT:
            return [Problem(locate((self.name,)), self.name, f"has {size} entries; WeChat allows {LIMIT}")]
        return []

    async def plan(self, context: PlanContext) -> KindPlan:
        record = context.state.resources.get(self.name) if context.state else None
        if not context.present:
            if record is None:
                return KindPlan()
            return KindPlan(
                [ResourceChange(self.name, Action.FORGET, notes=[said("no whitelist section any more: left as it is")])]
            )
        wanted = WhitelistRecord.of(context.section).value()
        applied = (record or {}).get("applied")
        # Never set by wxrec: an empty one is nothing to do (no record to clear), a filled one is a create.
        if applied == wanted or (applied is None and not any(wanted.values())):
            return KindPlan()
        change = ResourceChange(
            self.name,
            Action.UPDATE if applied is not None else Action.CREATE,
            before=WhitelistDocument(whitelist=applied),
            after=WhitelistDocument(whitelist=wanted),
        )
        for name in ("openid", "username"):
            old, new = (applied or {}).get(name, []), wanted[name]
            if old != new:
                change.changes.append(AttributeChange(f"whitelist.{name}", old, new))
        change.notes.append(said("WeChat cannot read the whitelist back: compared with what wxrec last applied"))
        return KindPlan([change])

    def applied_records(self, section: Any, state: State) -> dict[str, dict[str, Any]]:
        """What an apply of `section` leaves in state (null empties the whitelist)."""
        return {self.name: WhitelistRecord.of(section).to_state()}

    def applier(self, context: ApplyContext) -> Applier:
        return WhitelistApplier(context)


@dataclass
class WhitelistApplier:
    context: ApplyContext

    async def apply(self, change: ResourceChange) -> str:
        if change.action == Action.FORGET:
            return await forget(self.context, change)
        assert change.after is not None
        wanted = WhitelistRecord.of(change.after["whitelist"])
        await self.context.api.set_whitelist(wanted.openid, wanted.username)
        self.context.state.resources[WHITELIST.name] = wanted.to_state()
        await self.context.save()
        return f"whitelist set ({len(wanted.openid) + len(wanted.username)} entries)"


WHITELIST = Whitelist()
