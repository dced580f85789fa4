"""What the commands do, with every safety rule inside: a library caller gets the same refusals as `wxrec`.

plan, drift and diff read; apply, import, export and the state repairs write, each under the state lock. apply
refuses a refused plan before asking, asks (through the caller's `confirm`) unless auto-approved, permits deletes
and replaces only with allow_destroy or a "yes", and re-checks a saved plan (reconciler/saved_plan.py) against
current state and WeChat. scheduler.apply_plan refuses refused and unpermitted plans again, whoever calls it.
"""

from __future__ import annotations

import difflib
import logging
import os
import shlex
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import connection, planning, saved_plan
from reconciler.address import Address
from reconciler.drift import drift_report
from reconciler.endpoints import WECHAT_PAY_API
from reconciler.errors import WxrecError
from reconciler.manifest import Manifest, load_variables
from reconciler.manifest.base import load_base_manifest
from reconciler.manifest.loader import Document
from reconciler.plan import Plan
from reconciler.planning import Observer, Options, PlanInputs, offline_plan, plan_for_apply
from reconciler.resources import adoption
from reconciler.resources.base import ImportContext, unsettled
from reconciler.resources.pay_coupons import model as pay_coupons
from reconciler.safety import check_state_binding
from reconciler.scheduler import ApplyReport, apply_plan, check_refusals
from reconciler.settings import RunSettings, overrides, state_backend
from reconciler.sources import ApiSource, StateSource
from reconciler.state import FileBackend, State, StateBackend, new_plan_key
from reconciler.state.holder import StateLocked
from reconciler.wechat.limiter import CallLimiter

if TYPE_CHECKING:
    from reconciler.export import Export

log = logging.getLogger("wxrec")

# Asks whether to apply the plan (already shown by Reporter.planned); True for "yes".
Confirm = Callable[[Plan], bool]


class Reporter(Observer):
    """What a workflow says while it works, beyond planning and apply progress: warnings, and the plan apply is about
    to carry out (shown before `confirm` is asked)."""

    def warn(self, message: str) -> None:
        log.warning("%s", message)

    def planned(self, messages: list[str], plan: Plan) -> None:
        """apply planned (after settling what an interrupted run left: `messages`), before any check or question."""


def ci_warnings(backend: StateBackend) -> list[str]:
    """A throwaway CI runner forgets `.wxrec/` (git-ignored by default): say so before state is lost."""
    if os.environ.get("CI") != "true" or not isinstance(backend, FileBackend) or ".wxrec" not in backend.path.parts:
        return []
    return [
        f"CI=true and state is {backend.location}, which is not committed by default: runners are throwaway. "
        "Keep state with --state on a path you commit back (see examples/ci/), or the next run starts empty"
    ]


async def plan(settings: RunSettings, reporter: Reporter | None = None) -> Plan:
    """What apply would change; never writes state. With refresh off, nothing live is read."""
    reporter = reporter or Reporter()
    manifest = settings.manifest(reporter.warn)
    backend = settings.backend()
    appid = connection.appid_of(manifest, settings.api, settings.credentials)
    options = settings.options()

    def inputs(endpoint: str) -> PlanInputs:
        return PlanInputs(manifest, backend.load(), appid, endpoint, options, backend.code_hashes, reporter)

    if not settings.refresh:
        read = inputs(connection.endpoint_label(settings.api))
        return await planning.plan(read, StateSource(read.state))
    said: list[str] = []
    warn = _kept(reporter, said)
    connected = connection.connect(
        settings.api, manifest, appid, settings.limiter(), settings.credentials, warn, settings.pay_api
    )
    async with connected as (api, endpoint):
        result = await planning.plan(inputs(endpoint), ApiSource(api, options.parallelism))
    result.warnings += said + ci_warnings(backend)
    return result


def _kept(reporter: Reporter, said: list[str]) -> Callable[[str], None]:
    """A warning about the connection, said now and kept in `said` for the plan's own warnings."""

    def warn(message: str) -> None:
        reporter.warn(message)
        said.append(message)

    return warn


async def drift(settings: RunSettings, reporter: Reporter | None = None) -> dict[str, Any]:
    """The drift document (drift.drift_report) of a plan against the live account."""
    if settings.targeting().active:
        raise WxrecError("drift compares the whole account: it takes no --target or --exclude")
    result = await plan(settings, reporter)
    return drift_report(result, settings.backend().load())


async def diff(base: str, settings: RunSettings, reporter: Reporter | None = None) -> Plan:
    """The plan of the manifest changes since `base` (a git ref or a directory), offline: no credentials."""
    reporter = reporter or Reporter()
    head = settings.manifest(reporter.warn)
    variables = load_variables(settings.manifest_path, settings.env, overrides(settings.var))
    before = load_base_manifest(base, settings.manifest_path, variables)
    stored = settings.backend().load()
    palette = stored.palette if stored else {}
    # No account to tell: --legacy-coupons says the manifests go to an emulator in legacy mode.
    options = Options(
        refresh=False,
        destroy_threshold=settings.destroy_threshold,
        legacy_coupons=settings.legacy_coupons,
        state_invocation=settings.state_invocation(),
    )
    return await offline_plan(before, head, f"manifests at {base}", palette, options)


def check_approval_possible(settings: RunSettings, confirm: Confirm | None) -> None:
    """Without auto_approve there must be someone to ask (the CLI gives no `confirm` without a terminal)."""
    if not settings.auto_approve and confirm is None:
        raise WxrecError("no terminal to confirm on: pass --auto-approve to apply without a prompt")


async def apply(
    settings: RunSettings,
    confirm: Confirm | None,
    reporter: Reporter | None = None,
    saved_path: Path | None = None,
) -> ApplyReport | None:
    """Plan under the lock (or check the saved plan at `saved_path`), refuse a refused plan, get approval, apply.
    None when there was nothing to change."""
    reporter = reporter or Reporter()
    check_approval_possible(settings, confirm)
    if saved_path is not None and settings.targeting().active:
        raise WxrecError("a saved plan keeps the targeting it was made with: apply it without --target or --exclude")
    saved = saved_plan.read(saved_path) if saved_path else None
    manifest = settings.manifest(reporter.warn)
    backend = settings.backend()
    appid = connection.appid_of(manifest, settings.api, settings.credentials)
    # The lock comes first: nothing is read (state, live cards) while another apply still changes them.
    said: list[str] = []
    with _locked(backend, settings.lock_timeout, settings.state_invocation()):
        connected = connection.connect(
            settings.api,
            manifest,
            appid,
            settings.limiter(),
            settings.credentials,
            _kept(reporter, said),
            settings.pay_api,
        )
        async with connected as (api, endpoint):
            state = backend.load() or State(appid=appid, endpoint=endpoint)
            check_state_binding(state, appid, endpoint)
            if saved is None:
                messages, result = await plan_for_apply(manifest, api, state, backend, endpoint, settings.options())
            else:
                result = await saved_plan.checked(
                    saved, state, backend.location, api, endpoint, manifest, settings.options()
                )
                messages = []
            result.warnings += said + ci_warnings(backend)
            reporter.planned(messages, result)
            check_refusals(result)  # before asking
            if not result.has_changes:
                _record_what_state_lacks(result, state, backend)
                return None
            options = replace(settings.options(), allow_destroy=_approved(result, settings, confirm))
            return await apply_plan(result, api, state, backend, options, reporter)


def _record_what_state_lacks(result: Plan, state: State, backend: StateBackend) -> None:
    """A state written before wxrec recorded the colours (which --refresh=false compares with) or the key of saved
    plans gets them from an apply with nothing to change too: otherwise only a change would ever write them."""
    if not state.serial or (state.plan_key and (state.palette or not result.palette)):
        return
    state.palette = result.palette or state.palette
    state.plan_key = state.plan_key or new_plan_key()
    backend.write(state)


def _approved(result: Plan, settings: RunSettings, confirm: Confirm | None) -> bool:
    """Whether deletes and replaces are permitted: auto-approved, only with allow_destroy; else only after a
    'yes', which also permits them (anything else cancels the run)."""
    if settings.auto_approve:
        return settings.allow_destroy
    check_approval_possible(settings, confirm)
    assert confirm is not None
    if not confirm(result):
        raise WxrecError("apply cancelled; nothing was changed")
    return True


async def import_(settings: RunSettings, address: str, live_id: str, reporter: Reporter | None = None) -> None:
    """Adopt the live object `live_id` (a card, a tag, a conditional menu, a WeChat Pay stock: adoption.importable)
    under `address`, which the manifests declare; the next plan shows the differences. Refused for an id state
    already holds, one its kind cannot find or adopt, or while `address` holds another (its kind says; a create an
    interrupted run left unsettled is settled by the stock or tag it made)."""
    reporter = reporter or Reporter()
    manifest = settings.manifest(reporter.warn)
    target = adoption.import_target(address, manifest.document.data)
    backend = settings.backend()
    appid = connection.appid_of(manifest, settings.api, settings.credentials)
    with _locked(backend, settings.lock_timeout, settings.state_invocation()):
        connecting = connection.connect(
            settings.api,
            manifest,
            appid,
            credentials=settings.credentials,
            warn=reporter.warn,
            pay_api=settings.pay_api,
        )
        async with connecting as (card_api, endpoint):
            current = backend.load() or State(appid=appid, endpoint=endpoint)
            check_state_binding(current, appid, endpoint)
            if current.resources.get(address, {}).get("id") == live_id and address not in current.intents:
                raise WxrecError(f"{address} already has {live_id} in state")
            data = manifest.document.data
            spec = data[target.kind][target.key]
            context = ImportContext(
                card_api, current, target.key, spec, data.get("account") or {}, settings.state_invocation()
            )
            current.resources[address] = await adoption.import_by_id(address, live_id, context)
            current.intents.pop(address, None)  # an interrupted create it settles (a kind that cannot, refused)
            backend.write_with_backup(current)
            # A codes ledger does not say which object its codes went to, and the adopted one may not be it: with
            # none, every code is sent again and those it holds come back as held. Dropped once state holds the
            # object: before, a crash would leave an address with neither, which nothing stops from being made twice.
            backend.drop_code_hashes(address)


@dataclass(frozen=True)
class Exported:
    appid: str
    export: Export
    state_location: str
    backup: str | None  # where the previous state was kept


@dataclass(frozen=True)
class PayExport:
    """What export reads of WeChat Pay: the merchant, the stock ids given (besides those state knows), its API."""

    mchid: str | None = None
    stock_ids: tuple[str, ...] = ()
    api: str = WECHAT_PAY_API


async def export(
    directory: Path,
    api: str,
    state_location: str | None,
    force: bool,
    parallelism: int,
    lock_timeout: float,
    reporter: Reporter | None = None,
    pay: PayExport = PayExport(),
) -> Exported:
    """Manifests and state for the live account, written into `directory`: the next plan of it is empty. Never
    over manifests or state it did not write, unless `force`. `reporter` hears of an emulator's faults in force.
    With `pay.mchid`, also the merchant's stocks state knows and those `pay.stock_ids` names (no list exists)."""
    # pypinyin's dictionary takes 0.2 s to load: only export needs it.
    from reconciler.export import export_account, read_account, refuse_to_clobber, write_export

    reporter = reporter or Reporter()
    directory.mkdir(parents=True, exist_ok=True)  # first: state's default place is inside it
    backend = state_backend(directory, state_location)
    refuse_to_clobber(directory, backend.load(), force)
    # The manifests do not exist yet: export writes them. The merchant, if any, is the command line's.
    stocks = {"account": {"mchid": pay.mchid}, pay_coupons.KIND: {}}
    nothing_yet = Manifest(directory, Document(stocks if pay.mchid else {}))
    credentials = connection.credentials_of_one(directory)
    appid = connection.appid_of(nothing_yet, api, credentials)
    embedded = connection.embedded_account(nothing_yet)
    made_here = api == connection.EMULATOR and not embedded.exists()
    with _locked(backend, lock_timeout, RunSettings(directory, state_location=state_location).state_invocation()):
        current = backend.load()
        refuse_to_clobber(directory, current, force)  # again under the lock: another run may have written since
        known = [r.id for r in pay_coupons.records(current).values()] if pay.mchid else []
        connected = connection.connect(
            api, nothing_yet, appid, CallLimiter(parallelism), credentials, reporter.warn, pay.api
        )
        async with connected as (card_api, endpoint):
            check_state_binding(current, appid, endpoint)
            ids = [*known, *pay.stock_ids]
            live = await read_account(card_api, parallelism, reporter.reading, pay.mchid, ids)
        exported = export_account(appid, live)
        if made_here:
            reporter.warn(_new_embedded_account(embedded, directory))
        backup = write_export(directory, exported, backend, current or State(appid=appid, endpoint=endpoint))
    return Exported(appid, exported, backend.location, backup)


def _new_embedded_account(embedded: Path, directory: Path) -> str:
    """An export of the embedded emulator reads the account kept in DIR, which this very run made: never the demo
    account another directory's runs filled (see docs/decisions.md)."""
    again = f"wxrec export {shlex.quote(str(directory))} --api http://127.0.0.1:8080 --force"
    return (
        f"the embedded emulator made a new account for this export, kept in {embedded}: each manifest directory has "
        "its own embedded account, in its .wxrec/emulator.json. To export another directory's, serve it "
        f"(`wxrec emulator serve --port 8080 --data OTHER/.wxrec/emulator.json`), then `{again}`"
    )


@contextmanager
def _locked(backend: StateBackend, timeout: float, state_invocation: str) -> Iterator[None]:
    """`backend.lock`, whose refusal prints the `state unlock` command for the state as this run names it."""
    with ExitStack() as held:
        try:
            held.enter_context(backend.lock(timeout))
        except StateLocked as locked:
            raise WxrecError(locked.told(state_invocation)) from None
        yield


class NoState(WxrecError):
    """There is no state where one was needed (a caller may add how to find one)."""


def loaded(backend: StateBackend) -> State:
    """The state at `backend`; NoState when there is none."""
    state = backend.load()
    if state is None:
        raise NoState(f"no state at {backend.location}")
    return state


@dataclass(frozen=True)
class Removed:
    """What `state rm` removed: the record (None: there was only a codes ledger, of `codes` codes), and where the
    old state is kept."""

    record: dict[str, Any] | None
    codes: int
    backup: str


def state_rm(settings: RunSettings, address: str) -> Removed:
    """Stop managing `address` without touching WeChat, forgetting its codes ledger too. An address with no record
    but a ledger (a stock forgotten by a wxrec that kept ledgers, which now makes a create there look like a lost
    state's) loses the ledger alone; state is written all the same (backup, serial, history), since saved plans
    rely on a ledger changing only with a state write."""
    backend = settings.backend()
    with _locked(backend, settings.lock_timeout, settings.state_invocation()):
        current = loaded(backend)
        record = current.resources.pop(address, None)
        codes = 0 if record else len(backend.code_hashes(address))
        if record is None and not codes:
            raise WxrecError(f"{address} is not in state; nothing was changed")
        backup = backend.write_with_backup(current)
        backend.drop_code_hashes(address)
    return Removed(record, codes, backup)


def state_mv(settings: RunSettings, old: str, new: str) -> str:
    """Give `old`'s record and its ledger of deposited codes the address `new` (of the same kind), which the
    manifests declare, without touching WeChat; returns where the old state is kept."""
    old_address, new_address = Address.keyed(old), Address.keyed(new)
    if old_address is None or new_address is None or old_address.kind != new_address.kind:
        raise WxrecError(f"cannot move {old} to {new}: both must be addresses of one kind, such as cards.a to cards.b")
    # A record under an undeclared address is an orphan: the next plan would delete its live resource and
    # create another for the address the manifests do declare.
    declared = settings.manifest().document.data.get(new_address.kind) or {}
    if new_address.key not in declared:
        close = difflib.get_close_matches(new_address.key, list(declared), n=1)
        hint = f" (did you mean {new_address.kind}.{close[0]}?)" if close else ""
        raise WxrecError(f"{new} is not declared in the manifests{hint}; nothing was changed")
    backend = settings.backend()
    with _locked(backend, settings.lock_timeout, settings.state_invocation()):
        current = loaded(backend)
        if old not in current.resources:
            raise WxrecError(f"{old} is not in state; nothing was changed")
        if new in current.resources:
            raise WxrecError(f"{new} is already in state ({current.resources[new].get('id')}); nothing was changed")
        if old in current.intents:
            raise WxrecError(unsettled(old))
        current.resources[new] = current.resources.pop(old)
        # Copy, write, then drop: a crash in between leaves a spare ledger, never a record without its codes.
        backend.copy_code_hashes(old, new)
        try:
            backup = backend.write_with_backup(current)
        except BaseException:
            backend.drop_code_hashes(new)
            raise
        backend.drop_code_hashes(old)
    return backup
