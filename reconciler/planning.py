"""Planning: manifests, the live account (or state) and state → a Plan of changes, refusals and warnings."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.address import Address, kind_of
from reconciler.errors import WxrecError
from reconciler.manifest import Manifest
from reconciler.plan import Action, Plan, ResourceChange
from reconciler.resources import adoption, codes, kinds
from reconciler.resources.base import PlanContext, SectionPlanned
from reconciler.resources.cards import kind as cards
from reconciler.resources.cards.diff import CardRecord
from reconciler.resources.cards.model import DesiredCard, Palette
from reconciler.resources.menu import MENU
from reconciler.resources.reference_rules import declared
from reconciler.resources.references import resolve, state_lookup
from reconciler.resources.whitelist import WhitelistRecord
from reconciler.resources.write_only import WriteOnlyKind, WriteOnlyRecord, api_value
from reconciler.state import State, StateBackend, StateWriter
from reconciler.wechat.account import AccountApi
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, public_url, split_userinfo

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
    # apply carries out deletes and replaces only when this says so (--allow-destroy, or an interactive yes).
    allow_destroy: bool = False


def check_state_binding(state: State | None, appid: str, endpoint: str) -> list[str]:
    """Refuse a state of another account, or an emulator's state against WeChat (and back); warn otherwise."""
    if state is None:
        return []
    if state.appid != appid:
        raise WxrecError(
            f"state belongs to account {state.appid}, but this run targets {appid}. "
            "Refusing: this is how the wrong account gets changed. Point --state at that account's state."
        )
    # A state written before wxrec hid the credentials of an --api URL may still hold them.
    recorded = public_url(state.endpoint)
    if recorded == endpoint:
        return []
    # The real API reached with a proxy's user:password@ is still the real API.
    if WECHAT_API in (split_userinfo(recorded)[0], split_userinfo(endpoint)[0]):
        raise WxrecError(
            f"state was written against {recorded}, this run targets {endpoint}. "
            "Refusing: an emulator's state must never be used against the real WeChat API, nor the reverse."
        )
    return [f"state was written against {recorded}; this run reads {endpoint}"]


async def make_plan(
    manifest: Manifest,
    api: CardApi | None,
    state: State | None,
    appid: str,
    endpoint: str,
    options: Options,
    observer: Observer = QUIET,
    *,
    ledger: codes.Ledger,
) -> Plan:
    """The plan for the manifests against the live account (or, without refresh, against state).
    `ledger` reads the hashes of the codes deposited so far (StateBackend.code_hashes)."""
    plan = Plan(appid=appid, endpoint=endpoint)
    plan.warnings = check_state_binding(state, appid, endpoint)
    if state is not None:
        plan.state_serial, plan.state_lineage, plan.seal_key = state.serial, state.lineage, state.seal_key
        plan.warnings += [
            f"{address}: an earlier apply stopped during a {intent['action']}: uncertain whether WeChat made the "
            "card. The next apply looks for it among live cards and adopts it instead of creating a second one"
            for address, intent in sorted(state.intents.items())
            if kind_of(address) == cards.KIND
        ]
    if options.refresh:
        assert api is not None
        live = await cards.read_live(api, state, options.parallelism, observer.reading)
    else:
        if state is None or not state.palette:
            raise WxrecError(
                "--refresh=false plans against state, and there is none yet (or it predates colours): run one apply"
            )
        live = cards.live_from_state(state)
        plan.refreshed = False
        plan.warnings.append(
            "the live account was not read (--refresh=false): compared with state's last-applied values"
        )
    plan.palette = live.palette.names
    desired = cards.desired_cards(manifest.cards, live.palette)
    unknown = sorted(options.replace - set(desired) - set(declared(manifest.document.data)))
    if unknown:
        hint = " (addresses look like cards.KEY)" if any("." not in a for a in unknown) else ""
        raise WxrecError(f"-replace names addresses the manifest does not declare: {', '.join(unknown)}{hint}")
    imports, moves = adoption.blocks(manifest.document.data)
    if plan.refreshed and imports:
        assert api is not None
        unread = sorted({block.id for block in imports} - set(live.cards))
        live.cards.update(await cards.read_cards(api, unread, options.parallelism, live.palette))
    adopted = adoption.plan_adoptions(imports, moves, state, live.cards if plan.refreshed else None, desired)
    state = adopted.view  # the rest of the plan diffs against state as the blocks leave it
    card_records = cards.records(state)
    card_changes, plan.unmanaged, card_warnings = cards.plan_cards(desired, live, card_records, options.replace)
    plan.changes = adopted.changes + _known_after_import(card_changes, adopted.changes, plan.refreshed)
    plan.warnings += card_warnings
    if not plan.refreshed:
        plan.unmanaged = []
    plan.refusals = adopted.refusals + safety_refusals(plan, card_records, options)
    if not options.allow_duplicate and api is not None and plan.refreshed:
        intents = set(state.intents) if state else set()
        plan.refusals += await cards.duplicate_refusals(api, plan, intents, options.parallelism)
    codes_changes, codes_refusals = await _plan_codes(
        plan, manifest, api if plan.refreshed else None, state, ledger, live, desired
    )
    plan.changes += codes_changes
    plan.refusals += codes_refusals
    await _plan_account(plan, manifest, api, state, options, options.qrcode_dir)
    return plan


async def _plan_codes(
    plan: Plan,
    manifest: Manifest,
    api: CardApi | None,
    state: State | None,
    ledger: codes.Ledger,
    live: cards.CardsLive,
    desired: dict[str, DesiredCard],
) -> tuple[list[ResourceChange], list[str]]:
    """Code deposits, after cards: a card created or replaced in this run has no id yet, nor any codes."""
    sources = codes.code_files(manifest.document.data, manifest.document.named, manifest.directory)
    # Only the cards codes go into: a plan of 10,000 cards without codes does no work here.
    filled = {str(Address.card(spec["card"])) for spec, _ in sources.values()} & desired.keys()
    resources = state.resources if state else {}
    records = {address: CardRecord.from_state(resources[address]) for address in filled if address in resources}
    changing = {c.address for c in plan.changes if c.action in (Action.CREATE, Action.REPLACE)}
    card_ids = {a: None if a in changing or a not in records else records[a].id for a in filled}
    targets = {a: _deposit_target(desired[a], records.get(a), live, a in changing) for a in filled}
    return await codes.plan_all(manifest.directory, sources, api, state, ledger, live, card_ids, targets)


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


def _known_after_import(
    card_changes: list[ResourceChange], adoptions: list[ResourceChange], refreshed: bool
) -> list[ResourceChange]:
    """Without reading the live account, how an imported card differs from the manifest is not known: its
    import is shown, its field changes wait for a refreshed plan."""
    if refreshed:
        return card_changes
    imported = {c.address for c in adoptions if c.action == Action.IMPORT}
    return [c for c in card_changes if c.address not in imported]


async def _plan_account(
    plan: Plan,
    manifest: Manifest,
    api: CardApi | None,
    state: State | None,
    options: Options,
    images: Path | None,
    *,
    stand_ins: bool = False,
) -> None:
    """The kinds planned from their sections (landing pages, QR codes and their images in `images` unless None,
    menu, whitelist, and any registered later), in registry order after cards and codes: a reference to something
    planned earlier that is created or replaced is not known before apply, and makes its dependant change too.
    With `stand_ins` (wxrec diff), state's ids and urls are not real, so no limit is checked on them once filled
    in."""
    data = manifest.document.data
    changing = frozenset(c.address for c in plan.changes if c.action in (Action.CREATE, Action.REPLACE))
    account = AccountApi(api.client) if api is not None and options.refresh else None
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
            api=account,
            locate=None if stand_ins else manifest.document.locate,
            qrcode_dir=images,
            now=now,
        )
        found = await kind.plan(context)
        plan.changes += found.changes
        plan.refusals += found.refusals
        plan.warnings += found.warnings
        changing |= {c.address for c in found.changes if c.action in (Action.CREATE, Action.REPLACE)}


def safety_refusals(plan: Plan, card_records: Mapping[str, CardRecord], options: Options) -> list[str]:
    """The rules no plan passes, whoever made it (plan, `wxrec diff`, a saved plan checked by apply):
    prevent_destroy, cards WeChat would refuse to create, and the destroy threshold. `card_records`: state's,
    as the plan's import and moved blocks leave it."""
    return cards.refusals(plan.changes, card_records, time.time()) + mass_destroy_refusals(
        plan, len(card_records), options
    )


def mass_destroy_refusals(plan: Plan, managed: int, options: Options) -> list[str]:
    """Like octoDNS's thresholds: a manifest deleted by accident must not take the campaign with it."""
    destroyed = sum(
        1
        for change in plan.changes
        if change.action in (Action.DELETE, Action.REPLACE) and kind_of(change.address) == cards.KIND
    )
    allowed = max(options.destroy_minimum, int(options.destroy_threshold * managed))
    if destroyed <= allowed:
        return []
    return [
        f"the plan deletes or replaces {destroyed} of {managed} managed cards, more than the threshold "
        f"({options.destroy_threshold:.0%}, at least {options.destroy_minimum}). Was a manifest file deleted by "
        "accident? If this is intended, raise --destroy-threshold."
    ]


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
    return messages, await make_plan(
        manifest, api, state, state.appid, endpoint, options, observer, ledger=backend.code_hashes
    )


async def offline_plan(
    base: Manifest, head: Manifest, label: str, palette: dict[str, str], options: Options = Options(refresh=False)
) -> Plan:
    """`wxrec diff`: the plan from `base` to `head` manifests, with no network and no state: as if the base
    manifests had just been applied, with stand-in ids and urls. `options`: the thresholds apply would use."""
    colours = Palette(palette)
    base_ledger = deposited_by(base)
    state = applied_state(base, cards.desired_cards(base.cards, colours, strict=False), base_ledger)
    # Once state knows the account's colours, a colour plan would refuse is refused here too.
    head_cards = cards.desired_cards(head.cards, colours, strict=bool(palette))
    plan = Plan(appid=head.appid or base.appid or "", endpoint=label, refreshed=False)
    imports, moves = adoption.blocks(head.document.data)
    adopted = adoption.plan_adoptions(imports, moves, state, None, head_cards)
    live = cards.live_from_state(state)
    state = adopted.view or state
    base_records = cards.records(state)
    card_changes, _, plan.warnings = cards.plan_cards(head_cards, live, base_records)
    plan.changes = adopted.changes + _known_after_import(card_changes, adopted.changes, refreshed=False)
    for change in plan.changes:
        if change.id is not None and change.action != Action.IMPORT:
            change.id = ""  # not the stand-in: a diff knows no card ids
    plan.refusals = adopted.refusals + safety_refusals(plan, base_records, options)
    codes_changes, codes_refusals = await _plan_codes(plan, head, None, state, base_ledger, live, head_cards)
    plan.changes += codes_changes
    plan.refusals += codes_refusals
    await _plan_account(plan, head, None, state, options, images=None, stand_ins=True)
    return plan


def deposited_by(manifest: Manifest) -> codes.Ledger:
    """The codes an apply of `manifest` would have deposited, as a ledger (wxrec diff's base)."""
    sources = codes.code_files(manifest.document.data, manifest.document.named, manifest.directory)

    @cache  # state counts them, then the plan compares with them: each file is hashed once
    def ledger(address: str) -> set[bytes]:
        found = sources.get(Address.parse(address).key)
        return codes.CodeFile(manifest.directory / found[1], found[0].get("column")).hashes() if found else set()

    return ledger


def applied_state(base: Manifest, base_cards: dict[str, DesiredCard], ledger: codes.Ledger) -> State:
    """The state an apply of `base` would leave, ids and urls stood in by their addresses; `ledger`: the codes
    its files hold."""
    state = State(appid=base.appid or "", endpoint="offline")
    for address, card in base_cards.items():
        state.resources[address] = cards.record_document(card, f"<{address}>")
    data = base.document.data
    for kind in kinds():
        for key, spec in (data.get(kind.name) or {}).items() if isinstance(kind, WriteOnlyKind) else ():
            address = str(Address(kind.name, key))
            resolved, _ = resolve(api_value(spec), state_lookup(state))
            state.resources[address] = WriteOnlyRecord(f"<{address}>", f"<{address}.url>", spec, resolved).to_state()
    for key, spec in (data.get(codes.KIND) or {}).items():
        card_address, address = Address.card(spec["card"]), str(Address(codes.KIND, key))
        filled = base_cards.get(str(card_address))
        state.resources[address] = {
            "card_id": f"<{card_address}>",
            "deposited": len(ledger(address)),
            "target": filled.stock.target if filled else 0,
        }
    if data.get("menu") is not None:
        state.resources["menu"] = MENU.applied_record(data["menu"], state).to_state()
    if "whitelist" in data:
        state.resources["whitelist"] = WhitelistRecord.of(data["whitelist"]).to_state()
    return state
