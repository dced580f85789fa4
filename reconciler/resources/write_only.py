"""Resources WeChat can create but never read back, edit or delete: landing pages and QR codes.

What was created is known only from state. A changed resource is created anew (the old one stays live);
one whose referenced card was replaced is created anew pointing at the new card; one gone from the
manifests is forgotten (it stays live: there is no delete). A create whose answer was lost cannot be looked
up, so the next plan says so and refuses to create a second one unless -replace asks for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from reconciler.address import Address, kind_of
from reconciler.errors import WxrecError
from reconciler.i18n import said
from reconciler.plan import Action, AttributeChange, ResourceChange
from reconciler.resources.base import ApplyContext, KindPlan, PlanContext, created_once, forget, save_record
from reconciler.resources.images import ImageUploader, Where, known_images, upload_notes
from reconciler.resources.references import GETS_NEW_ID, Lookup, follows, resolve, resolve_known, state_lookup
from reconciler.state import State
from reconciler.wechat.errors import UncertainOutcome


def api_value(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What is sent to WeChat: the manifest's value without wxrec's own `lifecycle`."""
    return {key: value for key, value in spec.items() if key != "lifecycle"}


@dataclass(frozen=True)
class WriteOnlyRecord:
    """State's record of a created page or code: its id and url, the manifest's value and what was sent."""

    id: str
    url: str
    applied: Any
    resolved: Any

    def to_state(self) -> dict[str, Any]:
        return {"applied": self.applied, "resolved": self.resolved, "id": self.id, "url": self.url}


@dataclass(frozen=True)
class Sentences:
    """What a plan says of one page or code: whole sentences (msgids, marked with N_ where a kind defines them),
    so that each language words them its own way."""

    new: str  # the reason for a first create
    changed: str  # the reason a changed one is created anew
    old_stays: str  # a note on the old one a new one leaves behind: {id}
    forgotten: str  # the note on one gone from the manifests
    lost: str  # the refusal of one whose create lost its answer: {address}


@dataclass(frozen=True)
class WriteOnlyKind:
    """The part landing pages and QR codes share: planning from state alone, one layer after cards."""

    name: str  # "landing_pages"
    sentences: Sentences
    layer: int
    attributes: tuple[str, ...]
    new_badge: str
    panel: str
    images: Where | None = None  # where its value may name local images (resources/images.py)
    nouns: tuple[str, str] | None = None  # what validate's summary calls one and several, if not its name
    keyed = True
    may_refer_to = ("cards",)

    def applied_records(self, section: Any, state: State) -> dict[str, dict[str, Any]]:
        """Each page or code as an apply of `section` records it, its id and url stood in (wxrec diff)."""
        found = {}
        for key, spec in (section or {}).items():
            address = str(Address(self.name, key))
            resolved, _ = resolve(api_value(spec), state_lookup(state))
            found[address] = WriteOnlyRecord(f"<{address}>", f"<{address}.url>", spec, resolved).to_state()
        return found

    def records(self, state: State | None) -> dict[str, dict[str, Any]]:
        if state is None:
            return {}
        return {a: r for a, r in state.resources.items() if kind_of(a) == self.name}

    def notes(self, address: str, record: Mapping[str, Any], now: float) -> list[str]:
        """Facts about one left as it is, which are not changes (an expired temporary QR code)."""
        return []

    async def plan(self, context: PlanContext) -> KindPlan:
        """Changes for every address of this kind, refusals (uncertain creates), and warnings."""
        specs: Mapping[str, Any] = context.section or {}
        records = self.records(context.state)
        intents = context.state.intents if context.state else {}
        found = KindPlan()
        for address in sorted({str(Address(self.name, key)) for key in specs} | set(records)):
            key = Address.parse(address).key
            record = records.get(address)
            if key not in specs:
                found.changes.append(self._forget(address, record))
                continue
            spec = self._known_images(specs[key], context)
            reasons = self._reasons(address, spec, record, context.lookup, context.replace)
            if address in intents and address not in context.replace:
                found.refusals.append(said(self.sentences.lost, address=address))
            if reasons:
                change = ResourceChange(address, Action.CREATE, reasons=reasons, after=WriteOnlyDocument(spec=spec))
                change.notes += self._upload_notes(record, spec, context.state)
                if record is not None:
                    change.id = record.get("id")
                    change.before = recorded(record)
                    change.changes = spec_changes(record.get("applied"), spec)
                    change.notes.append(said(self.sentences.old_stays, id=str(record.get("id"))))
                found.changes.append(change)
            elif record is not None:
                found.warnings += self.notes(address, record, context.now)
        return found

    def _known_images(self, spec: Any, context: PlanContext) -> Any:
        """The value as apply would make it: each local image whose bytes state knows stands as the URL it was
        uploaded as, so that an unchanged file compares equal with what the page was made with."""
        if self.images is None or context.manifest_root is None or not isinstance(spec, dict):
            return spec
        uploaded = context.state.images if context.state else {}
        return known_images(spec, context.manifest_root, uploaded, self.images)

    def _upload_notes(self, record: Mapping[str, Any] | None, spec: Any, state: State | None) -> list[str]:
        if self.images is None or not isinstance(spec, dict):
            return []
        before = (record or {}).get("applied")
        uploaded = state.images if state else {}
        return upload_notes(before if isinstance(before, dict) else {}, spec, uploaded, self.images)

    def _reasons(
        self,
        address: str,
        spec: Any,
        record: Mapping[str, Any] | None,
        lookup: Lookup,
        replace: frozenset[str],
    ) -> list[str]:
        if record is None:
            return [said(self.sentences.new)]
        if address in replace:
            return [said("a new one requested with -replace")]
        if record.get("applied") != spec:
            return [said(self.sentences.changed)]
        resolved, unknown = resolve(api_value(spec), lookup)
        if unknown:
            return [follows(unknown, GETS_NEW_ID)]
        if resolved != record.get("resolved"):
            return [said("a card it shows was replaced since it was made")]
        return []

    def _forget(self, address: str, record: Mapping[str, Any] | None) -> ResourceChange:
        return ResourceChange(
            address,
            Action.FORGET,
            id=(record or {}).get("id"),
            notes=[said(self.sentences.forgotten)],
            before=recorded(record),
        )


def spec_changes(old: Any, new: Any, path: str = "") -> list[AttributeChange]:
    """The leaves of a page's or code's value that differ from what was created, so that a changed one shows what
    changed (a list is one leaf: its change lists the items added and removed)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        keys = [*old, *(key for key in new if key not in old)]
        return [change for key in keys for change in spec_changes(old.get(key), new.get(key), f"{path}{key}.")]
    return [] if old == new else [AttributeChange(path.rstrip("."), old, new)]


class WriteOnlyDocument(TypedDict, total=False):
    """A landing page's or QR code's `before`/`after` (plan.schema.json's `other`): its spec, and the url WeChat
    gave it ({url} alone for a QR code's render)."""

    spec: Any
    url: str | None


def recorded(record: Mapping[str, Any] | None) -> WriteOnlyDocument:
    """What state says was created: the spec as applied, and its url."""
    return {"spec": (record or {}).get("applied"), "url": (record or {}).get("url")}


class WriteOnlyApplier:
    """Creates one page or code: an intent first, the record once WeChat answered."""

    def __init__(self, context: ApplyContext) -> None:
        self.context = context

    async def apply(self, change: ResourceChange) -> str:
        if change.action == Action.FORGET:
            return await forget(self.context, change)
        return await self.create(change)

    async def create(self, change: ResourceChange) -> str:
        raise NotImplementedError

    async def uploaded(self, spec: Any, images: Where) -> Any:
        """`spec` with the local images it names uploaded (those state knows cost no call) and stood in by URL."""
        context = self.context
        uploader = ImageUploader(context.cards.client, context.state, context.save, context.manifest_root)
        return await uploader.resolve(spec, images)

    def resolved(self, change: ResourceChange, value: Any) -> Any:
        return resolve_known(change.address, value, self.context.state)

    async def create_once(
        self, change: ResourceChange, create: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Write-only creates: a lost answer leaves the intent, so the next plan says it is uncertain."""
        try:
            return await created_once(self.context, change.address, create)
        except UncertainOutcome as exc:
            raise WxrecError(
                f"{change.address}: {exc}. WeChat may have made it and it cannot be read back; the next plan "
                f"refuses to create another unless -replace {change.address} says so"
            ) from None

    async def record(self, change: ResourceChange, record: WriteOnlyRecord) -> None:
        await save_record(self.context, change.address, record.to_state())
