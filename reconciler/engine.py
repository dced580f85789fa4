"""Plan and apply: manifests + live account + state → Plan → actions → state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from reconciler.address import Address, kind_of
from reconciler.errors import WxrecError
from reconciler.manifest import Manifest
from reconciler.plan import ADOPTIONS, Action, Plan, ResourceChange
from reconciler.resources import adoption, cards, codes, kind_named, kinds
from reconciler.resources.base import Applier, ApplyContext, PlanContext, SectionPlanned
from reconciler.resources.cards.model import DesiredCard, Palette
from reconciler.resources.cards.record import CardRecord
from reconciler.resources.menu import MENU, normal_menu
from reconciler.resources.reference_rules import declared
from reconciler.resources.references import references_in, resolve, state_lookup
from reconciler.resources.whitelist import WhitelistRecord
from reconciler.resources.write_only import WriteOnlyKind, WriteOnlyRecord, api_value
from reconciler.state import State, StateBackend, StateNotWritten, StateWriter, new_plan_key
from reconciler.wechat.account import AccountApi
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, public_url, split_userinfo
from reconciler.wechat.errors import DailyQuotaExhausted


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
    ledger: codes.DepositedHashes,
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
    ledger: codes.DepositedHashes,
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


def check_refusals(plan: Plan) -> None:
    """A refused plan changes nothing (the CLI checks before asking for 'yes', apply_plan again)."""
    if plan.refusals:
        raise WxrecError("the plan was refused (see above); nothing was changed")


def check_permitted(plan: Plan, options: Options) -> None:
    """What every apply passes, whoever calls it: no refusals, and deletes and replaces only when allowed."""
    check_refusals(plan)
    if plan.destructive and not options.allow_destroy:
        addresses = ", ".join(c.address for c in plan.destructive)
        raise WxrecError(f"the plan deletes or replaces {addresses}; pass --allow-destroy to permit it")


# What became of a planned action: done; failed; skipped, since something it depends on failed; or not
# attempted, since the run stopped before it (the daily quota spent, state not writable).
DONE, FAILED, SKIPPED, NOT_ATTEMPTED = "done", "failed", "skipped", "not attempted"
STATUSES = (DONE, FAILED, SKIPPED, NOT_ATTEMPTED)


@dataclass
class Outcome:
    address: str
    action: str
    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == DONE

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)
    # Why the run stopped before its end, and what to do; None when it did not stop.
    stopped: str | None = None

    @property
    def failed(self) -> list[Outcome]:
        """Every outcome but the done ones."""
        return [o for o in self.outcomes if not o.ok]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        return counts

    def summary(self) -> str:
        """`5 done, 1 failed, 6 not attempted (why)`: skipped and not attempted only when there are any."""
        counts = self.counts()
        parts = [f"{counts[DONE]} done", f"{counts[FAILED]} failed"]
        if counts[SKIPPED]:
            parts.append(f"{counts[SKIPPED]} skipped")
        if counts[NOT_ATTEMPTED]:
            parts.append(f"{counts[NOT_ATTEMPTED]} not attempted ({self.stopped})")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcomes": [o.to_dict() for o in self.outcomes],
            "failed": len(self.failed),
            "summary": self.counts(),
            "stopped": self.stopped,
        }


def stop_reason(error: WxrecError) -> str | None:
    """Errors after which every further action would fail too: the run stops and says why."""
    if isinstance(error, DailyQuotaExhausted):
        return "WeChat's daily API quota is spent: run apply again after midnight UTC+8"
    if isinstance(error, StateNotWritten):
        return str(error)
    return None


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


async def apply_plan(
    plan: Plan,
    api: CardApi,
    state: State,
    backend: StateBackend,
    options: Options | None = None,
    observer: Observer = QUIET,
) -> ApplyReport:
    """Carry out the plan layer by layer (see apply_rank), the changes of a layer side by side, at most
    `parallelism` at a time. One failure does not stop the independent changes, but what depends on a failed
    change is skipped. Old cards of a replace go last, once references moved away.

    Nothing is carried out of a plan with refusals, nor of a destructive plan without options.allow_destroy."""
    options = options or Options()
    check_permitted(plan, options)
    for change in plan.changes:
        if change.action not in ADOPTIONS:
            kind_named(kind_of(change.address))  # a kind this wxrec does not know: nothing is carried out
    if plan.palette:
        state.palette = plan.palette
    state.plan_key = state.plan_key or new_plan_key()  # a state written before there were keys gets one
    save = StateWriter(backend, state).save
    context = ApplyContext(
        api,
        backend,
        state,
        save,
        options.qrcode_dir,
        options.manifest_root,
        options.parallelism,
        options.wait_for_review,
    )
    appliers: dict[str, Applier] = {kind.name: kind.applier(context) for kind in kinds()}
    appliers["adoption"] = adoption.AdoptionApplier(api, state, save)
    card_applier = appliers[cards.KIND]
    assert isinstance(card_applier, cards.CardApplier)  # it retires the old cards of replaces, after the layers
    report = ApplyReport()
    failed: set[str] = set()

    def record(outcome: Outcome) -> None:
        report.outcomes.append(outcome)
        observer.applied(outcome)
        if not outcome.ok:
            failed.add(outcome.address)

    limit = asyncio.Semaphore(options.parallelism)

    async def carry_out(change: ResourceChange) -> None:
        async with limit:
            action = str(change.action)
            if report.stopped:
                record(Outcome(change.address, action, NOT_ATTEMPTED, report.stopped))
                return
            # What it refers to, or its own address (an import of it failed), failed earlier in this run.
            blocked = sorted(failed & (depends_on(change) | {change.address}))
            if blocked:
                record(Outcome(change.address, action, SKIPPED, f"{', '.join(blocked)} failed"))
                return
            kind = "adoption" if change.action in ADOPTIONS else kind_of(change.address)
            applier = appliers[kind]
            try:
                record(Outcome(change.address, action, DONE, await applier.apply(change)))
            except WxrecError as exc:
                report.stopped = report.stopped or stop_reason(exc)
                record(Outcome(change.address, action, FAILED, str(exc)))

    for layer in plan.layers():
        await _all_or_none(carry_out(change) for change in layer if change.action != Action.GONE)
    for change in plan.ordered():
        if (change.action != Action.REPLACE and not change.retire_ids) or change.address in failed:
            continue
        if report.stopped:
            record(Outcome(change.address, "retire", NOT_ATTEMPTED, f"{report.stopped}; the old card stays till then"))
            continue
        holding = sorted(c.address for c in plan.changes if c.address in failed and change.address in depends_on(c))
        if holding:
            # The old card stays while anything that should have moved away from it did not.
            record(Outcome(change.address, "retire", SKIPPED, f"old card kept: {', '.join(holding)} failed"))
            continue
        try:
            message = await card_applier.retire_replaced(change.address)
        except WxrecError as exc:
            report.stopped = report.stopped or stop_reason(exc)
            record(Outcome(change.address, "retire", FAILED, str(exc)))
            continue
        if message:
            record(Outcome(change.address, "retire", DONE, message))
    return report


async def _all_or_none(work: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run side by side; when one raises what it does not handle (a bug, an interrupt), stop the others before
    passing it on, so that nothing goes on changing WeChat after apply has given up."""
    tasks = [asyncio.ensure_future(job) for job in work]
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def depends_on(change: ResourceChange) -> set[str]:
    """The addresses a change's desired value refers to."""
    after = change.after or {}
    value = after.get("spec") or after.get("menu")
    return {address for _, address, _ in references_in(value)} if value else set()


async def stale_reasons(saved: Plan, state: State, api: CardApi, parallelism: int, manifest_root: Path) -> list[str]:
    """Why a saved plan no longer describes the account: state moved on, a live value it relied on changed, or a
    codes file it counted changed (its new codes were never reviewed).

    Stock is exempt: claims move it all the time, and stock actions converge to their target anyway."""
    reasons = [
        f"{c.address}: {c.after['file']} changed since the plan was made"
        for c in saved.changes
        if c.after
        and c.after.get("file_sha256")
        and codes.CodeFile(manifest_root / c.after["file"]).digest() != c.after["file_sha256"]
    ]
    if saved.state_lineage is not None and saved.state_lineage != state.lineage:
        reasons.append(f"state lineage is {state.lineage}, the plan was made from {saved.state_lineage}")
    if saved.state_serial != state.serial:
        reasons.append(f"state serial is {state.serial}, the plan was made at serial {saved.state_serial}")
    menu = next((c for c in saved.changes if c.address == "menu" and c.before is not None), None)
    if menu is not None:
        now_menu = await AccountApi(api.client).menu()
        if (normal_menu(now_menu) if now_menu else None) != (menu.before or {}).get("menu"):
            reasons.append("menu: changed in WeChat since the plan was made")
    relied_on = {
        c.id: c for c in saved.changes if c.id and "fields" in (c.before or {}) and kind_of(c.address) == cards.KIND
    }
    if not relied_on:
        return reasons
    palette = Palette(await api.colours())
    live = await cards.read_cards(api, sorted(relied_on), parallelism, palette)
    for card_id, change in sorted(relied_on.items()):
        now = live.get(card_id)
        planned = (change.before or {}).get("fields", {})
        if now is None:
            reasons.append(f"{change.address}: {card_id} is gone from WeChat")
            continue
        moved = sorted(p for p in set(planned) | set(now.fields) if planned.get(p) != now.fields.get(p))
        if moved:
            reasons.append(f"{change.address}: {', '.join(moved)} changed in WeChat since the plan was made")
    return reasons


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


def deposited_by(manifest: Manifest) -> codes.DepositedHashes:
    """The codes an apply of `manifest` would have deposited, as a ledger (wxrec diff's base)."""
    sources = codes.code_files(manifest.document.data, manifest.document.named, manifest.directory)

    @cache  # state counts them, then the plan compares with them: each file is hashed once
    def ledger(address: str) -> set[bytes]:
        found = sources.get(Address.parse(address).key)
        return codes.CodeFile(manifest.directory / found[1], found[0].get("column")).hashes() if found else set()

    return ledger


def applied_state(base: Manifest, base_cards: dict[str, DesiredCard], ledger: codes.DepositedHashes) -> State:
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


DRIFT_FORMAT_VERSION = 1


def drift_report(plan: Plan, state: State | None) -> dict[str, Any]:
    """Tell apart changes someone made in WeChat by hand ("live") from edits to the manifests ("manifest").

    Claims under a refill target are the campaign working: reported as stock to refill, never as drift."""
    state_records = cards.records(state)
    live: list[dict[str, Any]] = []
    manifest: list[dict[str, Any]] = []
    refills: list[dict[str, Any]] = []
    for change in plan.ordered():
        record = state_records.get(change.address)
        entry = {"address": change.address, "id": change.id}
        if change.action == Action.GONE:
            live.append({**entry, "what": "deleted outside wxrec"})
        elif knock_on := _knock_on(change):
            manifest.append({**entry, "what": knock_on})
        elif change.action in (Action.CREATE, Action.DELETE):
            verb = "added to" if change.action == Action.CREATE else "removed from"
            manifest.append({**entry, "what": f"{verb} the manifests"})
        elif change.action in ADOPTIONS:
            block = "an import" if change.action == Action.IMPORT else "a moved"
            manifest.append({**entry, "what": f"{block} block in the manifests"})
        elif change.action == Action.RETIRE:
            manifest.append({**entry, "what": "old card of a replace awaiting deletion"})
        elif change.action == Action.FORGET:
            manifest.append({**entry, "what": "removed from the manifests (it stays live in WeChat)"})
        elif kind_of(change.address) == codes.KIND:
            _classify_codes(change, (state.resources.get(change.address) if state else None) or {}, live, manifest)
            continue
        elif change.address == "menu":
            applied = (state.resources.get("menu") or {}).get("applied") if state else None
            by_hand = applied is not None and (change.before or {}).get("menu") != applied
            target = live if by_hand else manifest
            target.append(
                {**entry, "what": "menu changed in WeChat by hand" if by_hand else "menu edited in the manifests"}
            )
        for attribute in change.changes:
            applied = record.applied.get(attribute.path) if record else None
            by_manifest = attribute.old == applied or record is None or attribute.path.startswith("lifecycle.")
            target = manifest if by_manifest else live
            what = "edited in the manifests" if target is manifest else "changed in WeChat by hand"
            target.append(
                {**entry, "what": what, "path": attribute.path, "live": attribute.old, "wanted": attribute.new}
            )
        if change.stock is not None:
            _classify_stock(change, record, entry, live, manifest, refills)
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "appid": plan.appid,
        "endpoint": plan.endpoint,
        "in_sync": not live and not manifest,
        "live": live,
        "manifest": manifest,
        "refills": refills,
    }


def _knock_on(change: ResourceChange) -> str | None:
    """A page, QR code or menu that changes only because a card it points at is created or replaced."""
    follows = [r for r in change.reasons if r.startswith(("re-created because", "re-pointed because"))]
    return follows[0] if follows and not change.changes else None


def _classify_codes(
    change: ResourceChange, record: dict[str, Any], live: list[dict[str, Any]], manifest: list[dict[str, Any]]
) -> None:
    """New codes in the file, or a new target, are manifest edits; anything else moved the card's codes or stock
    in WeChat."""
    entry = {"address": change.address, "id": change.id}
    after = change.after or {}
    if after.get("pending"):
        manifest.append({**entry, "what": f"{after['pending']} codes in the file not deposited yet"})
    if after.get("target") != record.get("target"):
        manifest.append({**entry, "what": f"stock target changed to {after.get('target')}"})
    elif change.stock is not None and not after.get("pending"):
        deposited = (change.before or {}).get("deposited")
        live.append({**entry, "what": f"codes or stock changed in WeChat outside wxrec ({deposited} codes deposited)"})


def _classify_stock(
    change: ResourceChange,
    record: CardRecord | None,
    entry: dict[str, Any],
    live: list[dict[str, Any]],
    manifest: list[dict[str, Any]],
    refills: list[dict[str, Any]],
) -> None:
    stock = change.stock
    assert stock is not None
    numbers = {"quantity": stock.quantity, "total_quantity": stock.total_quantity, "delta": stock.delta}
    applied_target = record.stock.target if record and record.stock else None
    if applied_target != stock.target:
        manifest.append({**entry, **numbers, "what": f"stock target changed to {stock.target}"})
    elif stock.mode == "refill" and stock.delta > 0:
        refills.append({**entry, **numbers, "what": f"{stock.delta} claimed since the last apply: to refill"})
    else:
        live.append({**entry, **numbers, "what": "stock changed in WeChat outside wxrec (modifystock)"})
