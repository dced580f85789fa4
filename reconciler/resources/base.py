"""What every resource kind is to the rest of wxrec: the `Resource` protocol and the contexts it is called with.

A kind is one object in the registry (reconciler/resources/__init__.py). The loader, the manifest schema, the
reference rules, apply's layers and the HTML report ask the registry instead of keeping their own kind lists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from reconciler.errors import Locate, Problem
from reconciler.plan import ResourceChange
from reconciler.resources.cards.model import live_card
from reconciler.resources.references import Lookup
from reconciler.state import SaveState, State, StateBackend
from reconciler.wechat.account import AccountApi
from reconciler.wechat.cards import CardApi


@dataclass
class KindPlan:
    """What planning one kind found: its changes, what no apply may do, and what the reader should know."""

    changes: list[ResourceChange] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlanContext:
    """One kind's inputs: its manifest section, state, and what the kinds planned before it create or replace."""

    section: Any  # the manifest's section (None when absent: see `present`)
    present: bool  # whether the manifests have the section at all (`menu: null` is present)
    state: State | None
    lookup: Lookup  # references answered from state; None for what `changing` holds
    changing: frozenset[str]  # addresses the kinds planned so far create or replace
    replace: frozenset[str] = frozenset()  # -replace ADDRESS
    live: Any = None  # what the kind's `read` hook returned (see ReadsLive); None for a kind without one
    locate: Locate | None = None  # None: state holds stand-ins (wxrec diff), so no limit is checked on them
    qrcode_dir: Path | None = None  # where apply draws QR images; None: image files are not looked at
    now: float = 0.0


@dataclass(frozen=True)
class ApplyContext:
    cards: CardApi
    backend: StateBackend
    state: State
    save: SaveState
    qrcode_dir: Path
    manifest_root: Path  # codes files are named relative to it
    parallelism: int = 16
    wait_for_review: float = 0.0  # how long an action may wait for a card's review

    @property
    def api(self) -> AccountApi:
        return AccountApi(self.cards.client)

    async def card_status(self, card_id: str) -> str | None:
        """A card's review status, for what needs an approved card; None: no such card."""
        raw = await self.cards.get(card_id)
        return None if raw is None else live_card(raw, None).status


class Applier(Protocol):
    async def apply(self, change: ResourceChange) -> str: ...


class Resource(Protocol):
    """A kind of resource: one manifest section, one address kind, one applier."""

    @property
    def name(self) -> str:
        """The manifest section and the addresses' kind: "landing_pages"."""
        ...

    @property
    def keyed(self) -> bool:
        """`KIND.KEY` addresses from a mapping of entries; a singleton's address is its name."""
        ...

    @property
    def layer(self) -> int:
        """Apply's layer: a kind is applied after every kind it may refer to."""
        ...

    @property
    def attributes(self) -> tuple[str, ...]:
        """What `${KIND.KEY.ATTRIBUTE}` may name."""
        ...

    @property
    def may_refer_to(self) -> tuple[str, ...]:
        """The kinds its values may refer to (all of lower layers)."""
        ...

    @property
    def new_badge(self) -> str:
        """The HTML report's badge on a create."""
        ...

    @property
    def panel(self) -> str:
        """How the HTML report draws a change: card, shelf, qr, menu, whitelist or other."""
        ...

    @property
    def schema(self) -> Mapping[str, Any]:
        """JSON Schema fragment: {"section": …, "$defs": {…}}."""
        ...

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        """What JSON Schema cannot express, in the section the schema accepted, each problem located."""
        ...

    def applier(self, context: ApplyContext) -> Applier: ...


@runtime_checkable
class SectionPlanned(Resource, Protocol):
    """A kind planned from its own section, state and references alone (all but cards and codes, which the
    planning pipeline plans from the live cards it reads first)."""

    async def plan(self, context: PlanContext) -> KindPlan: ...


@runtime_checkable
class ReadsLive(Protocol):
    """A kind that compares with something it reads from WeChat. The planning pipeline calls `read` in its one
    read phase, when the manifests have the kind's section, and hands the result to `plan` as `context.live`."""

    async def read(self, api: AccountApi | None, state: State | None) -> Any:
        """What WeChat holds, through `api`; None: what state says was last applied (--refresh=false, diff)."""
        ...


@runtime_checkable
class StandsIn(Protocol):
    """A kind planned from its section that says what an apply of that section leaves in state: how `wxrec diff`
    plans without an account (reconciler/sources.py, applied_state). Ids and urls are stood in by addresses."""

    def applied_records(self, section: Any, state: State) -> dict[str, dict[str, Any]]:
        """State's records (address → record) after an apply of `section`, references filled in from `state`
        (which holds what the kinds before it in the registry left)."""
        ...


def shipped_json(path: str) -> dict[str, Any]:
    """A JSON document shipped in the reconciler package."""
    document: dict[str, Any] = json.loads(resources.files("reconciler").joinpath(path).read_text(encoding="utf-8"))
    return document


def schema_fragment(name: str) -> dict[str, Any]:
    """A built-in kind's schema fragment, shipped in reconciler/schemas/kinds/."""
    return shipped_json(f"schemas/kinds/{name}.json")


async def forget(context: ApplyContext, change: ResourceChange) -> str:
    """State forgets what WeChat cannot delete (or what a removed section leaves as it is)."""
    context.state.resources.pop(change.address, None)
    await context.save()
    return "forgotten (nothing changed in WeChat)"
