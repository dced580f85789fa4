"""The rules no plan passes, whoever made it: the state a plan is made against belongs to this account and endpoint
(or the plan says it most likely reads another account), prevent_destroy and the refusals of cards and of each kind,
and the destroy threshold. Planning applies them to the plan it makes; apply applies them again to a saved plan."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from reconciler.address import kind_of
from reconciler.endpoints import WECHAT_API
from reconciler.errors import WxrecError
from reconciler.i18n import N_, Arg, Said, listed, said
from reconciler.plan import Action, Plan
from reconciler.resources import cards, kinds, threshold_nouns
from reconciler.resources.base import GuardsPlans, SafetyContext
from reconciler.resources.cards.record import CardRecord
from reconciler.state import State
from reconciler.wechat.client import public_url, split_userinfo

if TYPE_CHECKING:
    from reconciler.planning import Options


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
    return [
        said("state was written against {recorded}; this run reads {endpoint}", recorded=recorded, endpoint=endpoint)
    ]


def refuse_another_account(result: Plan, state: State | None, managed: int) -> None:
    """Half the managed cards or more missing at another endpoint than state's: most likely another account (a
    fresh emulator, another data file), for which each card's advice (-replace, `state rm`) would damage state.
    Said among the first warnings, before that advice, and refused (docs/decisions.md)."""
    gone = sum(1 for c in result.changes if c.action is Action.GONE and kind_of(c.address) == cards.KIND)
    recorded = public_url(state.endpoint) if state else result.endpoint
    if recorded == result.endpoint or not gone or 2 * gone < managed:
        return
    counts: dict[str, Arg] = {"gone": gone, "managed": managed, "endpoint": result.endpoint}
    cause = said(
        "{gone} of the {managed} cards state manages are missing at {endpoint}: most likely it is another account "
        "than the one state describes, not cards deleted in WeChat. Do not follow the advice to -replace them or "
        "`state rm` them",
        **counts,
    )
    result.warnings.insert(1, cause)  # right after "state was written against …" (check_state_binding)
    result.refusals.append(said(ANOTHER_ACCOUNT, **counts, recorded=recorded))


# The refusal of a plan that most likely reads another account than state's: nothing it lists is drift either.
ANOTHER_ACCOUNT = N_(
    "{gone} of the {managed} cards state manages are missing at {endpoint}, which is not where state was "
    "written: give --api {recorded} (an embedded emulator's account is .wxrec/emulator.json beside the "
    "manifests, which `wxrec emulator serve --data` serves), or --state this endpoint's own state"
)


def reads_another_account(plan: Plan) -> Said | None:
    """The plan's refusal for reading most likely another account than state's (`refuse_another_account`)."""
    return next((r for r in plan.refusals if isinstance(r, Said) and r.msgid == ANOTHER_ACCOUNT), None)


async def safety_refusals(
    plan: Plan, card_records: Mapping[str, CardRecord], options: Options, context: SafetyContext
) -> list[str]:
    """The rules no plan passes, whoever made it (a saved plan checked by apply): prevent_destroy, cards WeChat
    would refuse to create (coupons among them, but for an emulator in legacy mode), the destroy threshold, and
    each kind's own (GuardsPlans). `card_records`: state's, as the plan's import and moved blocks leave it, as is
    `context.state`."""
    found = cards.refusals(plan.changes, card_records, time.time(), options.state_invocation, options.legacy_coupons)
    found += mass_destroy_refusals(plan, managed_count(context.state), options)
    for kind in kinds():
        changes = [c for c in plan.changes if kind_of(c.address) == kind.name]
        if changes and isinstance(kind, GuardsPlans):
            found += await kind.guard(changes, context)
    return found


def managed_count(state: State | None) -> int:
    """How many resources of state the destroy threshold counts (the kinds that are CountedByThreshold)."""
    counted = threshold_nouns()
    return sum(kind_of(address) in counted for address in state.resources) if state else 0


def mass_destroy_refusals(plan: Plan, managed: int, options: Options) -> list[str]:
    """Like octoDNS's thresholds: a manifest deleted by accident must not take the campaign with it."""
    counted = threshold_nouns()
    destroyed = sum(
        1
        for change in plan.changes
        if change.action in (Action.DELETE, Action.REPLACE) and kind_of(change.address) in counted
    )
    allowed = max(options.destroy_minimum, int(options.destroy_threshold * managed))
    if destroyed <= allowed:
        return []
    return [
        said(
            "the plan deletes or replaces {count} of {managed} managed {kinds}, more than the threshold ({share}, at "
            "least {minimum}). Was a manifest file deleted by accident? If this is intended, raise "
            "--destroy-threshold.",
            count=destroyed,
            managed=managed,
            kinds=listed(list(counted.values())),
            share=f"{options.destroy_threshold:.0%}",
            minimum=options.destroy_minimum,
        )
    ]
