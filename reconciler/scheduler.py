"""The apply scheduler: a plan's changes carried out layer by layer, what depends on a failure skipped, the run
stopped when the daily quota is spent or state cannot be written, and the old cards of replaces retired last."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from reconciler.address import kind_of
from reconciler.errors import WxrecError
from reconciler.plan import ADOPTIONS, Action, Plan, ResourceChange
from reconciler.planning import QUIET, Observer, Options, depends_on
from reconciler.resources import adoption, cards, kind_named, kinds
from reconciler.resources.base import Applier, ApplyContext
from reconciler.state import State, StateBackend, StateNotWritten, StateWriter, new_plan_key
from reconciler.wechat.cards import CardApi
from reconciler.wechat.errors import DailyQuotaExhausted


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
# The appliers' key for imports and moved blocks, which are not a kind.
ADOPTION = "adoption"


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
    check_kinds_known(plan)
    if plan.palette:
        state.palette = plan.palette
    state.plan_key = state.plan_key or new_plan_key()  # a state written before there were keys gets one
    appliers = _appliers(api, state, backend, options, plan.refreshed)
    run = _Run(plan, appliers, asyncio.Semaphore(options.parallelism), observer)
    for layer in plan.layers():
        await _cancel_siblings_on_crash(run.carry_out(change) for change in layer if change.action != Action.GONE)
    for change in plan.ordered():
        replaced = change.action == Action.REPLACE and kind_of(change.address) == cards.KIND  # a stock stays
        if (replaced or change.retire_ids) and change.address not in run.failed:
            await run.retire(change)
    return run.report


def adopted_by_blocks(change: ResourceChange) -> bool:
    """Moves and the imports `adoption` plans are adoption's; a kind that adopts by its own ids (pay_coupons)
    applies its imports itself."""
    return change.action == Action.MOVE or (change.action == Action.IMPORT and adoption.adopted_here(change.address))


def check_kinds_known(plan: Plan) -> None:
    """A kind this wxrec does not know (a plan of a newer release): nothing is carried out."""
    for change in plan.changes:
        if change.action not in ADOPTIONS:
            kind_named(kind_of(change.address))


def _appliers(
    api: CardApi, state: State, backend: StateBackend, options: Options, refreshed: bool
) -> dict[str, Applier]:
    """One applier per registered kind, and adoption's (imports and moves), all writing state through one writer."""
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
        api.pay,
        options.state_invocation,
        refreshed,
    )
    appliers: dict[str, Applier] = {kind.name: kind.applier(context) for kind in kinds()}
    appliers[ADOPTION] = adoption.AdoptionApplier(api, state, save, options.state_invocation)
    return appliers


@dataclass
class _Run:
    """One apply under way: its outcomes so far, the addresses that failed, and why it stopped (if it did)."""

    plan: Plan
    appliers: dict[str, Applier]
    limit: asyncio.Semaphore
    observer: Observer
    report: ApplyReport = field(default_factory=ApplyReport)
    failed: set[str] = field(default_factory=set)

    def record(self, outcome: Outcome) -> None:
        self.report.outcomes.append(outcome)
        self.observer.applied(outcome)
        if not outcome.ok:
            self.failed.add(outcome.address)

    def record_failure(self, address: str, action: str, error: WxrecError) -> None:
        self.report.stopped = self.report.stopped or stop_reason(error)
        self.record(Outcome(address, action, FAILED, str(error)))

    async def carry_out(self, change: ResourceChange) -> None:
        """One change, unless the run stopped or something it depends on failed."""
        async with self.limit:
            action = str(change.action)
            if self.report.stopped:
                self.record(Outcome(change.address, action, NOT_ATTEMPTED, self.report.stopped))
                return
            # What it refers to, or its own address (an import of it failed), failed earlier in this run.
            blocked = sorted(self.failed & (depends_on(change) | {change.address}))
            if blocked:
                self.record(Outcome(change.address, action, SKIPPED, f"{', '.join(blocked)} failed"))
                return
            applier = self.appliers[ADOPTION if adopted_by_blocks(change) else kind_of(change.address)]
            try:
                self.record(Outcome(change.address, action, DONE, await applier.apply(change)))
            except WxrecError as exc:
                self.record_failure(change.address, action, exc)

    async def retire(self, change: ResourceChange) -> None:
        """The old card of a replace, after the layers: only once nothing that referred to it failed to move."""
        if self.report.stopped:
            message = f"{self.report.stopped}; the old card stays till then"
            self.record(Outcome(change.address, "retire", NOT_ATTEMPTED, message))
            return
        holding = sorted(
            c.address for c in self.plan.changes if c.address in self.failed and change.address in depends_on(c)
        )
        if holding:
            self.record(Outcome(change.address, "retire", SKIPPED, f"old card kept: {', '.join(holding)} failed"))
            return
        card_applier = self.appliers[cards.KIND]
        assert isinstance(card_applier, cards.CardApplier)
        try:
            retired = await card_applier.retire_replaced(change.address)
        except WxrecError as exc:
            self.record_failure(change.address, "retire", exc)
            return
        if retired:
            self.record(Outcome(change.address, "retire", DONE, retired))


async def _cancel_siblings_on_crash(work: Iterable[Coroutine[Any, Any, None]]) -> None:
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
