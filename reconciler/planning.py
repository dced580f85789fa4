"""Planning: manifests, the live account (or state) and state → a Plan of changes, refusals and warnings."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.address import Address, kind_of
from reconciler.errors import WxrecError
from reconciler.i18n import said
from reconciler.manifest import Manifest
from reconciler.plan import Action, Plan, ResourceChange
from reconciler.resources import adoption, cards, codes, images, kinds, scoped_as, with_cards
from reconciler.resources.base import (
    PlanContext,
    ReadsLive,
    ReadsPay,
    Resource,
    SectionPlanned,
)
from reconciler.resources.cards.model import DesiredCard, Palette
from reconciler.resources.cards.record import CardRecord
from reconciler.resources.reference_rules import declared, references
from reconciler.resources.references import references_in, state_lookup
from reconciler.safety import check_state_binding, managed_count, mass_destroy_refusals, refuse_another_account
from reconciler.sources import ApiSource, LiveSource, StateSource, applied_state, deposited_by
from reconciler.state import State, StateBackend, StateWriter
from reconciler.targeting import Targeting
from reconciler.wechat.cards import CardApi

if TYPE_CHECKING:
    from reconciler.scheduler import Outcome


class Observer:
    """What a run reports while it works: the CLI draws a progress bar or prints a line per event."""

    def reading(self, total: int) -> Callable[[], None]:
        """`total` cards are about to be read; returns what to call after each."""
        return lambda: None

    def applied(self, outcome: Outcome) -> None:
        """One action finished (or failed)."""


QUIET = Observer()


@dataclass(frozen=True)
class Options:
    replace: frozenset[str] = frozenset()
    parallelism: int = 16
    allow_duplicate: bool = False
    # apply refuses to delete or replace more than this share of the managed resources at once …
    destroy_threshold: float = 0.25
    # … unless it is no more than this many, so that small accounts are not blocked.
    destroy_minimum: int = 3
    # False: plan against what state says was last applied, reading nothing live.
    refresh: bool = True
    # Where apply writes each QR code's PNG and SVG (the CLI's default: qrcodes/ beside the manifests).
    qrcode_dir: Path = Path("qrcodes")
    # How long apply may wait for WeChat's review before an action that needs an approved card.
    wait_for_review: float = 0.0
    # The manifest directory: a plan names code files relative to it.
    manifest_root: Path = Path(".")
    # How a command a plan prints names the manifests and the run's account (RunSettings.invocation).
    invocation: str = "."
    # How a state command a plan prints names the manifests and the state (RunSettings.state_invocation).
    state_invocation: str = "."
    # apply carries out deletes and replaces only when this says so (--allow-destroy, or an interactive yes).
    allow_destroy: bool = False
    # --target / --exclude: plan the changes of some addresses only.
    targeting: Targeting = field(default_factory=Targeting)
    # The target is an emulator in legacy mode, which still creates coupons (RunSettings.legacy_coupons_target).
    legacy_coupons: bool = False


@dataclass(frozen=True)
class PlanInputs:
    """What a plan is made of besides the account: the manifests, state, whom the plan is for, the options,
    and the ledger of the codes deposited so far (StateBackend.code_hashes)."""

    manifest: Manifest
    state: State | None
    appid: str
    endpoint: str
    options: Options
    ledger: codes.DepositedHashes
    observer: Observer = QUIET


# The warning of a plan against state (--refresh=false); wxrec diff has no account to read and does not say it.
NOT_READ = said("the live account was not read (--refresh=false): compared with state's last-applied values")


@dataclass
class Live:
    """Everything planning reads from the account (or from state), read in one phase before any step."""

    cards: cards.CardsLive
    deposited: dict[str, int] | None  # getdepositcount per card id; None: state's counts (nothing read live)
    kinds: dict[str, Any]  # what each ReadsLive kind's `read` returned


async def plan(inputs: PlanInputs, source: LiveSource) -> Plan:
    """The one planning sequence, for plan and apply (an ApiSource), --refresh=false and wxrec diff (a
    StateSource): bind state, read, desired cards, adoption blocks, cards, the safety rules, codes, then every
    kind planned from its section. Every step after the read is pure but the duplicate check."""
    manifest, state, options = inputs.manifest, inputs.state, inputs.options
    result = Plan(appid=inputs.appid, endpoint=inputs.endpoint, refreshed=source.refreshed)
    if not source.stand_ins:
        _bind_state(result, state)
    imports, moves = adoption.blocks(manifest.document.data)
    live = await _read(inputs, source, imports, moves)
    if not source.refreshed and not source.stand_ins:
        result.warnings.append(NOT_READ)
    palette = live.cards.palette
    if not source.stand_ins:
        result.palette = palette.names
    # wxrec diff knows the account's colours only from a state, if there is one.
    desired = cards.desired_cards(manifest.cards, palette, strict=not source.stand_ins or bool(palette.names))
    uploaded = state.images if state else {}
    desired = images.resolved_cards(desired, manifest.directory, uploaded)
    _check_replace(options.replace, desired, manifest)
    in_scope = _scope(options.targeting, manifest, inputs.state)
    live_cards = live.cards.cards if source.refreshed else None
    adopted = adoption.plan_adoptions(
        imports, moves, state, live_cards, desired, live.kinds, state_invocation=options.state_invocation
    )
    state = adopted.view  # the rest of the plan diffs against state as the blocks leave it
    card_records = cards.records(state)
    card_changes, unmanaged, card_warnings = cards.plan_cards(
        desired, live.cards, card_records, options.replace, options.state_invocation
    )
    images.note_uploads(card_changes, uploaded)
    known, unknown = _known_offline(card_changes, adopted.changes, card_records, source.refreshed)
    # Scoped before the safety rules, so that the destroy threshold counts what this plan destroys.
    result.changes = [c for c in adopted.changes + known if in_scope(c.address)]
    result.warnings += card_warnings + unknown
    result.attention = [a for a in cards.rejected(desired, live.cards, card_records) if in_scope(a.address)]
    result.unmanaged = unmanaged if source.refreshed else []
    # What is declared inside the cards (their settings) after them: a card created or replaced here gets it all.
    planned_cards = {c.address: c for c in result.changes if kind_of(c.address) == cards.KIND}
    for kind in with_cards():
        result.changes += kind.plan_with_cards(manifest.cards, state, planned_cards)
    if source.stand_ins:
        _forget_stand_in_ids(result.changes)
    cards.note_coupon_deletes(result.changes, options.state_invocation, options.legacy_coupons)
    result.refusals = adopted.refusals + cards.refusals(
        result.changes, card_records, time.time(), options.state_invocation, options.legacy_coupons
    )
    if not source.stand_ins:
        refuse_another_account(result, inputs.state, len(card_records))
    if not options.allow_duplicate:
        result.refusals += await source.duplicate_refusals(
            result, set(state.intents) if state else set(), options.invocation
        )
    await _plan_codes(result, inputs, state, live, desired)
    await _plan_sections(result, inputs, state, live, source.stand_ins, in_scope)
    _narrow(result, options.targeting, in_scope)
    # After narrowing, so that the destroy threshold counts what this plan destroys.
    result.refusals += mass_destroy_refusals(result, managed_count(state), options)
    return result


def _bind_state(result: Plan, state: State | None) -> None:
    """A state of another account, or of WeChat for an emulator run (and back), is refused; what an interrupted
    apply left is told."""
    result.warnings = check_state_binding(state, result.appid, result.endpoint)
    if state is None:
        return
    result.state_serial, result.state_lineage, result.seal_key = state.serial, state.lineage, state.seal_key
    # An intent is written before each card/create (of a create or a replace): its action is always a create.
    result.warnings += [
        said(
            "{address}: an earlier apply stopped during a create: uncertain whether WeChat made the card. The next "
            "apply looks for it among live cards and adopts it instead of creating a second one",
            address=address,
        )
        for address in sorted(state.intents)
        if kind_of(address) == cards.KIND
    ]


async def _read(
    inputs: PlanInputs, source: LiveSource, imports: list[adoption.Import], moves: list[adoption.Move]
) -> Live:
    """The read phase: cards (those state owns, those import blocks name, and those codes were deposited into),
    then the codes cards' deposit counts, then each kind's `read` hook, in that order."""
    data, state = inputs.manifest.document.data, inputs.state
    resources = state.resources if state else {}
    # A codes entry's card may have changed since its last deposit: the old card's codes must not be reused.
    deposited_into = sorted({str(r.get("card_id")) for a, r in resources.items() if kind_of(a) == codes.KIND})
    live_cards = await source.cards(state, [b.id for b in imports] + deposited_into, inputs.observer.reading)
    code_cards = _code_card_ids(data, resources, imports, moves)
    deposited = await source.deposited(i for i in code_cards if live_cards.cards.get(i) is not None)
    kinds_read = {
        kind.name: await kind.read(source.account, state)
        for kind in kinds()
        if isinstance(kind, ReadsLive) and kind.name in data
    }
    for kind in kinds():
        if isinstance(kind, ReadsPay) and kind.name in data:
            also = [i for a, i in _imports(data).items() if kind_of(a) == kind.name]
            kinds_read[kind.name] = await kind.read_pay(source.pay, state, also)
    return Live(live_cards, deposited, kinds_read)


def _imports(data: Mapping[str, Any]) -> dict[str, str]:
    """The manifests' import blocks: address → the live id it adopts."""
    return {str(item["to"]): str(item["id"]) for item in data.get("import") or []}


def _code_card_ids(
    data: Mapping[str, Any], resources: Mapping[str, Any], imports: list[adoption.Import], moves: list[adoption.Move]
) -> set[str]:
    """The ids the codes entries' cards may have once the adoption blocks are planned: state's, an imported
    card's, or a moved record's."""
    addresses = {str(Address.card(spec["card"])) for spec in (data.get(codes.KIND) or {}).values()}
    ids = {block.id for block in imports if block.to in addresses}
    ids |= {str(resources[m.source].get("id")) for m in moves if m.to in addresses and m.source in resources}
    ids |= {str(resources[a].get("id")) for a in addresses if a in resources}
    return ids


def _check_replace(replace: frozenset[str], desired: Mapping[str, DesiredCard], manifest: Manifest) -> None:
    unknown = sorted(replace - set(desired) - set(declared(manifest.document.data)))
    if unknown:
        hint = " (addresses look like cards.KEY)" if any("." not in a for a in unknown) else ""
        raise WxrecError(f"-replace names addresses the manifest does not declare: {', '.join(unknown)}{hint}")


def _scope(targeting: Targeting, manifest: Manifest, state: State | None) -> Callable[[str], bool]:
    """Whether an address's changes belong to the plan; an address that names nothing is refused."""
    if not targeting.active:
        return lambda _: True  # no walk of every reference in a plan of 10,000 cards that targets nothing
    graph = references(manifest.document.data)
    known = set(graph) | set(state.resources if state else ())
    for option, addresses in (("--target", targeting.target), ("--exclude", targeting.exclude)):
        unknown = sorted(addresses - known)
        if unknown:
            raise WxrecError(
                f"{option} {', '.join(unknown)}: neither declared in the manifests nor held in state "
                "(addresses look like cards.KEY, qrcodes.KEY, menu)"
            )
    scoped = targeting.in_scope(graph)
    return lambda address: scoped(scoped_as(address))


def _narrow(result: Plan, targeting: Targeting, in_scope: Callable[[str], bool]) -> None:
    """Keep the changes in scope, and say the plan is scoped. A replace retires its old card at the end of apply:
    what refers to it and is left out would be left pointing at a deleted card, so that is refused."""
    if not targeting.active:
        return
    left_out = [c for c in result.changes if not in_scope(c.address)]
    result.changes = [c for c in result.changes if in_scope(c.address)]
    replaced = {c.address for c in result.changes if c.action == Action.REPLACE}
    result.refusals += [
        said(
            "{address} refers to {replaced}, which this plan replaces, but targeting leaves it out: it would be left "
            "on the old card, which apply deletes. Bring it into scope (--target it too, or exclude less), or apply "
            "the replace without targeting",
            address=c.address,
            replaced=", ".join(sorted(blocked)),
        )
        for c in left_out
        if (blocked := depends_on(c) & replaced)
    ]
    result.warnings.insert(0, targeting.warning())
    result.targeting = targeting


def depends_on(change: ResourceChange) -> set[str]:
    """The addresses a change's desired value refers to."""
    after = change.after or {}
    value = after.get("spec") or after.get("menu")
    return {address for _, address, _ in references_in(value)} if value else set()


def _forget_stand_in_ids(changes: list[ResourceChange]) -> None:
    """wxrec diff knows no card ids: a change shows none rather than a stand-in (an import's is the manifest's)."""
    for change in changes:
        if change.id is not None and change.action != Action.IMPORT:
            change.id = ""


async def _plan_codes(
    result: Plan, inputs: PlanInputs, state: State | None, live: Live, desired: dict[str, DesiredCard]
) -> None:
    """Code deposits, after cards: a card created or replaced in this run has no id yet, nor any codes."""
    manifest = inputs.manifest
    sources = codes.code_files(manifest.document.data, manifest.document.named, manifest.directory)
    # Only the cards codes go into: a plan of 10,000 cards without codes does no work here.
    filled = {str(Address.card(spec["card"])) for spec, _ in sources.values()} & desired.keys()
    resources = state.resources if state else {}
    records = {address: CardRecord.from_state(resources[address]) for address in filled if address in resources}
    changing = _changing(result.changes)
    card_ids = {a: None if a in changing or a not in records else records[a].id for a in filled}
    targets = {a: _deposit_target(desired[a], records.get(a), live.cards, a in changing) for a in filled}
    changes, refusals, warnings = await codes.plan_all(
        manifest.directory, sources, live.deposited, state, inputs.ledger, live.cards, card_ids, targets
    )
    result.changes += changes
    result.refusals += refusals
    result.warnings += warnings


def _changing(changes: list[ResourceChange]) -> frozenset[str]:
    """The addresses created or replaced: their ids and urls are known only after apply."""
    return frozenset(c.address for c in changes if c.action in (Action.CREATE, Action.REPLACE))


async def _plan_sections(
    result: Plan,
    inputs: PlanInputs,
    state: State | None,
    live: Live,
    stand_ins: bool,
    in_scope: Callable[[str], bool],
) -> None:
    """The kinds planned from their sections (landing pages, QR codes, menu, whitelist, and any registered
    later), in registry order after cards and codes: a reference to something planned earlier that is created or
    replaced is not known before apply, and makes its dependant change too. With `stand_ins` (wxrec diff),
    state's ids and urls are not real, so no limit is checked on them once filled in, and no QR image is looked
    at."""
    data, options = inputs.manifest.document.data, inputs.options
    changing = _changing(result.changes)
    now = time.time()
    for kind in kinds():
        if not isinstance(kind, SectionPlanned):
            continue
        context = PlanContext(
            section=data.get(kind.name),
            present=kind.name in data,
            state=state,
            lookup=state_lookup(state, changing),
            changing=changing,
            replace=options.replace,
            live=live.kinds.get(kind.name),
            locate=None if stand_ins else inputs.manifest.document.locate,
            qrcode_dir=None if stand_ins else options.qrcode_dir,
            now=now,
            account=data.get("account") or {},
            named=inputs.manifest.document.named,
            manifest_root=inputs.manifest.directory,
            ledger=inputs.ledger,
            imports=_imports(data),
            invocation=options.invocation,
            state_invocation=options.state_invocation,
            allow_duplicate=options.allow_duplicate,
        )
        found = await kind.plan(context)
        result.changes += found.changes
        # A kind --target leaves out whole is not applied: what it refuses must not block the targeted rest.
        if not options.targeting.active or any(map(in_scope, _addresses_of(kind, data, state))):
            result.refusals += found.refusals
        result.warnings += found.warnings
        result.attention += found.attention
        changing |= _changing(found.changes)


def _addresses_of(kind: Resource, data: Mapping[str, Any], state: State | None) -> set[str]:
    """Every address of `kind` the manifests declare or state holds."""
    held = {address for address in (state.resources if state else {}) if kind_of(address) == kind.name}
    if not kind.keyed:
        return held | ({kind.name} if kind.name in data else set())
    return held | {str(Address(kind.name, key)) for key in data.get(kind.name) or {}}


def _deposit_target(card: DesiredCard, record: CardRecord | None, live: cards.CardsLive, replaced: bool) -> int:
    """A deposit card's stock target is a budget over every card its address had: what replaced cards issued
    (and the one this run replaces) counts against it, as for any budget."""
    if record is None:
        return card.stock.target
    issued = record.issued_before
    old = live.cards.get(record.id) if replaced else None
    if old is not None:
        issued += old.total_quantity - old.quantity
    return max(card.stock.target - issued, 0)


def _known_offline(
    card_changes: list[ResourceChange],
    adoptions: list[ResourceChange],
    records: Mapping[str, CardRecord],
    refreshed: bool,
) -> tuple[list[ResourceChange], list[str]]:
    """Without reading the live account, how an adopted card differs from the manifest is not known: one this
    plan imports, or one imported earlier and not applied since (state holds no applied values to stand for
    it). Its field changes wait for a refreshed plan; the warnings say which cards wait. So does the stock of
    one whose record holds no stock target (imported short of it, or by an import that recorded none)."""
    if refreshed:
        return card_changes, []
    imported = {c.address for c in adoptions if c.action == Action.IMPORT}
    kept: list[ResourceChange] = []
    warnings: list[str] = []
    for change in card_changes:
        record = records.get(change.address)
        if change.address in imported:
            continue
        if record is None or change.action not in _FIELD_ACTIONS:
            kept.append(change)
        elif not record.applied:
            warnings.append(
                said(
                    "{address}: adopted and not applied since, so state holds nothing to compare it with; a "
                    "refreshed plan (without --refresh=false) shows how it differs from the manifest",
                    address=change.address,
                )
            )
        elif record.stock is None and change.stock is not None:
            warnings.append(
                said(
                    "{address}: its stock was not applied since its import, so state holds no stock to compare it "
                    "with; a refreshed plan (without --refresh=false) shows how it differs from the manifest's target",
                    address=change.address,
                )
            )
            if change.action != Action.STOCK:
                kept.append(replace(change, stock=None))
        else:
            kept.append(change)
    return kept, warnings


# The changes that compare a card's fields with what state says was applied (not a delete, not a gone card).
_FIELD_ACTIONS = frozenset({Action.UPDATE, Action.REPLACE, Action.STOCK})


async def plan_for_apply(
    manifest: Manifest,
    api: CardApi,
    state: State,
    backend: StateBackend,
    endpoint: str,
    options: Options,
    observer: Observer = QUIET,
) -> tuple[list[str], Plan]:
    """Under the lock: settle the creates an interrupted run left uncertain, then plan from what is now known.

    The caller has checked that `state` is the account's; this checks the endpoint before anything is called."""
    check_state_binding(state, state.appid, endpoint)
    messages = []
    if any(kind_of(address) == cards.KIND for address in state.intents):
        messages = await cards.resolve_intents(api, state, StateWriter(backend, state).save, options.parallelism)
    inputs = PlanInputs(manifest, state, state.appid, endpoint, options, backend.code_hashes, observer)
    return messages, await plan(inputs, source_for(api, state, options))


def source_for(api: CardApi | None, state: State | None, options: Options) -> LiveSource:
    """WeChat through `api`; with refresh off (or no API), state's last-applied values."""
    return ApiSource(api, options.parallelism) if options.refresh and api is not None else StateSource(state)


async def offline_plan(
    base: Manifest, head: Manifest, label: str, palette: dict[str, str], options: Options = Options(refresh=False)
) -> Plan:
    """`wxrec diff`: the plan from `base` to `head` manifests, with no network and no state: as if the base
    manifests had just been applied, with stand-in ids and urls. `options`: the thresholds apply would use."""
    ledger = deposited_by(base)
    base_cards = cards.desired_cards(base.cards, Palette(palette), strict=False)
    state = applied_state(base, base_cards, ledger)
    state.palette = dict(palette)
    inputs = PlanInputs(head, state, head.appid or base.appid or "", label, options, ledger)
    return await plan(inputs, StateSource(state, stand_ins=True))
