"""Plan and apply: manifests + live account + state → Plan → actions → state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import WxrecError
from reconciler.manifest import Manifest
from reconciler.plan import Action, Plan
from reconciler.resources.cards import kind as cards
from reconciler.state import FileBackend, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API
from reconciler.wechat.errors import DailyQuotaExhausted


@dataclass(frozen=True)
class Options:
    replace: frozenset[str] = frozenset()
    parallelism: int = 8
    allow_duplicate: bool = False
    # apply refuses to delete or replace more than this share of the managed resources at once …
    destroy_threshold: float = 0.25
    # … unless it is no more than this many, so that small accounts are not blocked.
    destroy_minimum: int = 3


def check_state_binding(state: State | None, appid: str, endpoint: str) -> list[str]:
    """Refuse a state of another account, or an emulator's state against WeChat (and back); warn otherwise."""
    if state is None:
        return []
    if state.appid != appid:
        raise WxrecError(
            f"state belongs to account {state.appid}, but this run targets {appid}. "
            "Refusing: this is how the wrong account gets changed. Point --state at that account's state."
        )
    if state.endpoint == endpoint:
        return []
    if WECHAT_API in (state.endpoint, endpoint):
        raise WxrecError(
            f"state was written against {state.endpoint}, this run targets {endpoint}. "
            "Refusing: an emulator's state must never be used against the real WeChat API, nor the reverse."
        )
    return [f"state was written against {state.endpoint}; this run reads {endpoint}"]


async def make_plan(
    manifest: Manifest, api: CardApi, state: State | None, appid: str, endpoint: str, options: Options
) -> Plan:
    plan = Plan(appid=appid, endpoint=endpoint)
    plan.warnings = check_state_binding(state, appid, endpoint)
    if state is not None:
        plan.state_serial, plan.state_lineage = state.serial, state.lineage
        plan.warnings += [
            f"{address}: an earlier apply stopped during a {intent['action']}: uncertain whether WeChat made the "
            "card. The next apply looks for it among live cards and adopts it instead of creating a second one"
            for address, intent in sorted(state.intents.items())
        ]
    live = await cards.read_live(api, state, options.parallelism)
    desired = cards.desired_cards(manifest.cards, live.palette)
    unknown = sorted(options.replace - set(desired))
    if unknown:
        hint = " (addresses look like cards.KEY)" if any("." not in a for a in unknown) else ""
        raise WxrecError(f"-replace names addresses the manifest does not declare: {', '.join(unknown)}{hint}")
    card_records = cards.records(state)
    plan.changes, plan.unmanaged = cards.plan_cards(desired, live, card_records, options.replace)
    plan.refusals = cards.refusals(plan.changes, card_records, time.time())
    if not options.allow_duplicate:
        intents = set(state.intents) if state else set()
        plan.refusals += await cards.duplicate_refusals(api, plan, intents, options.parallelism)
    plan.refusals += mass_destroy_refusals(plan, len(card_records), options)
    return plan


def mass_destroy_refusals(plan: Plan, managed: int, options: Options) -> list[str]:
    """Like octoDNS's thresholds: a manifest deleted by accident must not take the campaign with it."""
    destroyed = sum(1 for change in plan.changes if change.action in (Action.DELETE, Action.REPLACE))
    allowed = max(options.destroy_minimum, int(options.destroy_threshold * managed))
    if destroyed <= allowed:
        return []
    return [
        f"the plan deletes or replaces {destroyed} of {managed} managed resources, more than the threshold "
        f"({options.destroy_threshold:.0%}, at least {options.destroy_minimum}). Was a manifest file deleted by "
        "accident? If this is intended, raise --destroy-threshold."
    ]


@dataclass
class Outcome:
    address: str
    action: str
    ok: bool
    message: str


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def to_dict(self) -> dict[str, Any]:
        return {"outcomes": [o.__dict__ for o in self.outcomes], "failed": len(self.failed)}


async def plan_for_apply(
    manifest: Manifest, api: CardApi, state: State, backend: FileBackend, endpoint: str, options: Options
) -> tuple[list[str], Plan]:
    """Under the lock: settle the creates an interrupted run left uncertain, then plan from what is now known."""
    check_state_binding(state, state.appid, endpoint)
    messages = []
    if state.intents:
        save = lambda: backend.write(state)  # noqa: E731
        messages = await cards.resolve_intents(api, state, save, options.parallelism)
    return messages, await make_plan(manifest, api, state, state.appid, endpoint, options)


async def apply_plan(
    plan: Plan, api: CardApi, state: State, backend: FileBackend, options: Options | None = None
) -> ApplyReport:
    """Carry out the plan in order; one failure does not stop the independent changes after it."""
    parallelism = (options or Options()).parallelism
    applier = cards.CardApplier(api, state, lambda: backend.write(state), parallelism)
    report = ApplyReport()
    for change in plan.ordered():
        if change.action == Action.GONE:
            continue
        try:
            message = await applier.apply(change)
        except DailyQuotaExhausted as exc:
            report.outcomes.append(Outcome(change.address, str(change.action), False, str(exc)))
            break  # every further call would fail the same way today
        except WxrecError as exc:
            report.outcomes.append(Outcome(change.address, str(change.action), False, str(exc)))
            continue
        report.outcomes.append(Outcome(change.address, str(change.action), True, message))
    return report
