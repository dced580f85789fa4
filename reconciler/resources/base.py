"""What every resource kind is to the rest of wxrec: the `Resource` protocol and the contexts it is called with.

A kind is one object in the registry (reconciler/resources/__init__.py). The loader, the manifest schema, the
reference rules, apply's layers, the HTML report and drift ask the registry instead of keeping their own kind lists.
Beside the `Resource` every kind is, a kind may be `SectionPlanned`, `ReadsLive`, `ClassifiesDrift` and
`PlannedWithCards`, may be adopted by `import:` blocks (`Adopts`) or by `wxrec import` (`Adopts` or `ImportsById`),
and has the traits it says of itself (`ReferredById`, `CountedByThreshold`), which the registry reads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from reconciler.address import kind_of
from reconciler.errors import JsonPath, Locate, Problem, WxrecError
from reconciler.hints import state_command
from reconciler.i18n import N_, said
from reconciler.plan import Action, Attention, AttributeChange, ResourceChange, StockChange
from reconciler.resources.cards.model import live_card
from reconciler.resources.pay_coupons.model import PayStocks
from reconciler.resources.references import Lookup
from reconciler.state import SaveState, State, StateBackend
from reconciler.wechat.account import AccountApi
from reconciler.wechat.cards import CardApi
from reconciler.wechat.errors import UncertainOutcome

T = TypeVar("T")


@dataclass
class KindPlan:
    """What planning one kind found: its changes, what no apply may do, and what the reader should know."""

    changes: list[ResourceChange] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    attention: list[Attention] = field(default_factory=list)  # what needs its owner whatever the plan does


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
    account: Mapping[str, Any] = field(default_factory=dict)  # the manifests' account section
    named: Mapping[JsonPath, Path] = field(default_factory=dict)  # the files the manifests name, as accepted
    manifest_root: Path | None = None  # what plans name files relative to
    ledger: Callable[[str], set[bytes]] = lambda address: set()  # the hashes of the codes uploaded per address
    imports: Mapping[str, str] = field(default_factory=dict)  # the manifests' import blocks: address → id
    invocation: str = "."  # how a command the plan prints names the manifests and account (Options.invocation)
    state_invocation: str = "."  # how a state command the plan prints names the state (Options.state_invocation)
    allow_duplicate: bool = False  # --allow-duplicate: a create that may duplicate what a lost state made is planned


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
    pay: PayStocks | None = None  # WeChat Pay (pay_coupons); None: the manifests have no merchant
    state_invocation: str = "."  # how a state command a refusal prints names the state (Options.state_invocation)
    refreshed: bool = True  # the plan read the live account (Plan.refreshed): what it left unchanged matches it

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
class PlannedWithCards(Resource, Protocol):
    """A kind declared inside the cards' entries, one address per card and keyed by the card's KEY (card_settings):
    the planning pipeline plans it right after the cards, from their section and the plan's card changes; targeting
    takes its addresses with their card; `wxrec diff` asks it what an apply of the cards leaves."""

    def plan_with_cards(
        self, cards: Mapping[str, Any], state: State | None, card_changes: Mapping[str, ResourceChange]
    ) -> list[ResourceChange]:
        """The kind's changes: `cards` the manifests' cards section, `card_changes` the plan's card changes."""
        ...

    def applied_records(self, cards: Mapping[str, Any], state: State) -> dict[str, dict[str, Any]]:
        """State's records after an apply of `cards`, on the cards `state` holds (as StandsIn says it)."""
        ...


@dataclass(frozen=True)
class SafetyContext:
    """What a kind's safety rules check a plan against, whoever made the plan: state as the plan's import and moved
    blocks leave it, the manifests' data, and WeChat Pay to read stocks through (None: no merchant connected)."""

    state: State
    data: Mapping[str, Any]
    pay: PayStocks | None = None


@runtime_checkable
class GuardsPlans(Protocol):
    """A kind with rules that must hold however a plan of it was made: `wxrec apply PLANFILE` checks a saved plan
    (edited, or made before the account moved on) against them under the lock, before any call
    (safety.safety_refusals). Planning says the same rules in the plan it makes."""

    async def guard(self, changes: Sequence[ResourceChange], context: SafetyContext) -> list[str]:
        """Why the plan's `changes` of this kind may not be applied now; reads WeChat where a rule needs it."""
        ...


@runtime_checkable
class ReadsLive(Protocol):
    """A kind that compares with something it reads from WeChat. The planning pipeline calls `read` in its one
    read phase, when the manifests have the kind's section, and hands the result to `plan` as `context.live`."""

    async def read(self, api: AccountApi | None, state: State | None) -> Any:
        """What WeChat holds, through `api`; None: what state says was last applied (--refresh=false, diff)."""
        ...


@runtime_checkable
class ReadsPay(Protocol):
    """A kind that compares with what WeChat Pay holds: `read_pay` is called in the read phase when the manifests
    have the kind's section, and its result handed to `plan` as `context.live`."""

    async def read_pay(self, pay: PayStocks | None, state: State | None, also: Sequence[str]) -> Any:
        """What WeChat Pay holds of what state knows and the ids `also` names (import blocks), through `pay`;
        None: what state says was last applied."""
        ...


@runtime_checkable
class ReferredById(Protocol):
    """A kind other kinds name by id (cards; tags, which conditional menus match on). A manifest names an entry with
    the kind's shorthand, `card: KEY`, planned and applied as the id in `card_id`; apply deletes the kind's entries
    in its last layer, once whatever used them is gone or re-pointed."""

    @property
    def shorthand(self) -> tuple[str, str]:
        """The key a manifest writes and the field the id is sent in: ("card", "card_id")."""
        ...


@runtime_checkable
class CountedByThreshold(Protocol):
    """A kind whose deletes and replaces the destroy threshold counts: losing one loses what users hold (a card, the
    fans a tag groups, a stock's issuing)."""

    @property
    def threshold_noun(self) -> str:
        """What the threshold's refusal calls several of them, an `N_` msgid: "cards"."""
        ...


@runtime_checkable
class HoldsIds(Protocol):
    """A kind whose changes of `acts_on_id` act on the live object state's record at their address holds, by that
    record's `id`: `wxrec apply PLANFILE` refuses one that names another id, or an address state does not manage
    (saved_plan.refusals), so that no edited or stale plan reaches an object its address does not own."""

    @property
    def acts_on_id(self) -> frozenset[Action]:
        """The actions whose change carries the id of the object state's record holds: {UPDATE, DELETE}."""
        ...


# One line of the drift document: address, id, what, and the attribute or stock figures it is about.
DriftEntry = dict[str, Any]


@dataclass
class Drift:
    """What `wxrec drift` found (reconciler/drift.py): differences made in WeChat by hand ("live"), edits to the
    manifests not applied yet ("manifest"), and claims under a refill target (the campaign working, not drift)."""

    live: list[DriftEntry] = field(default_factory=list)
    manifest: list[DriftEntry] = field(default_factory=list)
    refills: list[DriftEntry] = field(default_factory=list)

    def attribute(self, change: ResourceChange, attribute: AttributeChange, *, by_hand: bool) -> None:
        """An attribute whose live value is not the manifest's: changed in WeChat by hand, or edited in the
        manifests. `items`: the list's item-level change, as in the plan document."""
        what = said("changed in WeChat by hand") if by_hand else said("edited in the manifests")
        items = asdict(attribute.items) if attribute.items is not None else None
        (self.live if by_hand else self.manifest).append(
            {
                **entry(change, what),
                "path": attribute.path,
                "live": attribute.old,
                "wanted": attribute.new,
                "items": items,
            }
        )

    def stock(self, change: ResourceChange, stock: StockChange, section: list[DriftEntry], what: str) -> None:
        figures = {"quantity": stock.quantity, "total_quantity": stock.total_quantity, "delta": stock.delta}
        section.append({"address": change.address, "id": change.id, **figures, "what": what})


# A stock target edited in the manifests, as every kind with stock words it in drift.
STOCK_TARGET_CHANGED = N_("stock target changed to {target}")


def entry(change: ResourceChange, what: str) -> DriftEntry:
    return {"address": change.address, "id": change.id, "what": what}


@runtime_checkable
class ClassifiesDrift(Protocol):
    """A kind that can tell by itself whether a change of it was made in WeChat by hand. `wxrec drift` words what
    every kind shares (created, deleted or gone, an adoption block, a retire, a forget, a knock-on of a re-created
    card) and hands each other change to its kind's `drift`; a kind without one has every attribute and stock
    setting counted as an edit to the manifests."""

    def drift(self, change: ResourceChange, state: State | None, found: Drift) -> None:
        """Add the change's findings to `found`, comparing with what state says was last applied."""


@runtime_checkable
class Imports(Protocol):
    """A kind whose live objects an `import:` block (or `wxrec import`) adopts: each is an `Adopts` or an
    `ImportsById` kind, and says the record an import change leaves without reading WeChat again, so that a plan's
    view of state (a saved plan's check too) holds the adopted record of every kind."""

    def adopted(self, change: ResourceChange, state: State) -> dict[str, Any]:
        """State's record after the planned import `change` into `state`, from what the change carries."""
        ...


@runtime_checkable
class Adopts(Imports, Protocol):
    """A kind besides cards that `import:` blocks adopt (reconciler/resources/adoption.py): the import of a live id,
    checked against what its `read` hook returned; the state record it leaves is `adopted`'s."""

    def adopt(self, address: str, live_id: str, live: Any) -> ResourceChange | str:
        """The import change, or why `live_id` cannot be adopted as `address`."""
        ...


@dataclass(frozen=True)
class ImportContext:
    """What `wxrec import ADDRESS ID` hands the address's kind: the account, state as it is now, and the entry the
    manifests declare at the address."""

    cards: CardApi  # the account; `cards.pay` is WeChat Pay when the manifests name a merchant
    state: State
    key: str  # the address's key
    spec: Any  # the manifests' entry at the address
    account: Mapping[str, Any]  # the manifests' account section
    state_invocation: str = "."  # how a state command a refusal prints names the state (Options.state_invocation)

    @property
    def api(self) -> AccountApi:
        return AccountApi(self.cards.client)


@runtime_checkable
class ImportsById(Imports, Protocol):
    """A kind `wxrec import` adopts by reading its live object by id itself (cards, pay_coupons). An `Adopts` kind
    needs no more: the command adopts through its `read` hook and `adopt`, as an `import:` block does."""

    async def import_by_id(self, address: str, live_id: str, context: ImportContext) -> dict[str, Any]:
        """State's record once `live_id` is adopted as `address`; a WxrecError saying why it cannot be."""
        ...


def ownership_refusal(
    to: str, live_id: str, resources: Mapping[str, Mapping[str, Any]], state_invocation: str
) -> str | None:
    """Why state cannot take `live_id` as `to`, or None; adopting the id `to` already has is not refused. Ids are
    compared within `to`'s kind only: WeChat numbers tags, menus and stocks each on their own, so a tag and a
    conditional menu may well share one. `state_invocation` names the run's state in the command the refusal
    prints (Options.state_invocation)."""
    kind = kind_of(to)
    owner = next(
        (a for a, record in resources.items() if kind_of(a) == kind and record.get("id") == live_id),
        None,
    )
    if owner is not None and owner != to:
        return said("{id} is already managed as {owner}", id=live_id, owner=owner)
    if to in resources and resources[to].get("id") != live_id:
        return said(
            "{address} already manages {id}; `{command}` first to adopt another",
            address=to,
            id=str(resources[to].get("id")),
            command=state_command("rm", state_invocation, to),
        )
    return None


def unsettled(address: str) -> str:
    """Why an address with an interrupted create cannot be renamed or adopted yet: the next apply settles it."""
    return said(
        "{address} has an unsettled create from an interrupted run: run `wxrec apply` (without it) first",
        address=address,
    )


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


async def created_once(context: ApplyContext, address: str, create: Callable[[], Awaitable[T]]) -> T:
    """A create whose answer may be lost: an intent first, so that the next plan finds what it made instead of
    making it twice; an error WeChat answered made nothing, and takes the intent back."""
    state = context.state
    state.intents[address] = {"action": "create", "started": int(time.time())}
    await context.save()
    try:
        return await create()
    except WxrecError as exc:
        if not isinstance(exc, UncertainOutcome):
            state.intents.pop(address, None)
            await context.save()
        raise


async def save_record(context: ApplyContext, address: str, record: dict[str, Any]) -> None:
    """State's record of what the address now is; an intent it settles is dropped with the same save."""
    context.state.resources[address] = record
    context.state.intents.pop(address, None)
    await context.save()
