"""Drift: which of a plan's differences someone made in WeChat by hand, and which are edits to the manifests.

What every kind shares is worded here: a create or delete, a card gone from WeChat, an adoption block, a retire, a
forget, a knock-on change of a re-created card. Every other change goes to its kind's `drift` hook (a kind that is
`ClassifiesDrift`: cards, codes, the menu), or, for a kind without one, counts as an edit to the manifests."""

from __future__ import annotations

from typing import Any

from reconciler.address import kind_of
from reconciler.errors import WxrecError
from reconciler.i18n import N_, messages, said
from reconciler.plan import Action, Plan, ResourceChange
from reconciler.render import attention
from reconciler.resources import find
from reconciler.resources.base import STOCK_TARGET_CHANGED, ClassifiesDrift, Drift, entry
from reconciler.resources.references import is_knock_on
from reconciler.safety import reads_another_account
from reconciler.state import State

# 2: an attribute entry carries its list's item-level change (`items`, as the plan document's). Still 2 with the
# plan's `warnings` and `refusals` (and their `messages`), which a reader may ignore (docs/decisions.md).
DRIFT_FORMAT_VERSION = 2


def drift_report(plan: Plan, state: State | None) -> dict[str, Any]:
    """Tell apart changes someone made in WeChat by hand ("live") from edits to the manifests ("manifest").

    Claims under a refill target are the campaign working: reported as stock to refill, never as drift. A card
    rejected in review is drift too ("attention"): WeChat's reviewer changed what users can get. The plan's warnings
    and refusals come along and leave the verdict alone: what apply would refuse is still what differs. But a plan
    that most likely reads another account than state's gives no verdict (a WxrecError): each card would be listed
    as deleted outside wxrec."""
    misread = reads_another_account(plan)
    if misread is not None:
        raise WxrecError(
            f"no drift verdict: state was written against {misread.args['recorded']}; this run reads {plan.endpoint}, "
            f"most likely another account, which would show every card it lacks as deleted outside wxrec. {misread}"
        )
    found = Drift()
    for change in plan.ordered():
        kind = find(kind_of(change.address))
        if _shared(change, found) or not isinstance(kind, ClassifiesDrift):
            manifest_edits(change, found)
        else:
            kind.drift(change, state, found)
    document = plan.to_dict()
    needs = [
        {"address": a["address"], "id": a["id"], "what": attention.what(a), "todo": attention.todo(a, document)}
        for a in document["attention"]
    ]
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "appid": plan.appid,
        "endpoint": plan.endpoint,
        "in_sync": not found.live and not found.manifest and not needs,
        "live": found.live,
        "manifest": found.manifest,
        "refills": found.refills,
        "attention": needs,
        "warnings": plan.warnings,
        "refusals": plan.refusals,
        **messages({"warnings": plan.warnings, "refusals": plan.refusals}, ("warnings", "refusals")),
    }


def _shared(change: ResourceChange, found: Drift) -> bool:
    """Word a change whose action says what it is, whatever its kind; False for the kind to classify."""
    if change.action == Action.GONE:
        found.live.append(entry(change, said("deleted outside wxrec")))
        return True
    action = _ACTIONS.get(change.action)
    what = _knock_on(change) or (said(action) if action else None)
    if what is not None:
        found.manifest.append(entry(change, what))
    return what is not None


_ACTIONS = {
    Action.CREATE: N_("added to the manifests"),
    Action.DELETE: N_("removed from the manifests"),
    Action.IMPORT: N_("an import block in the manifests"),
    Action.MOVE: N_("a moved block in the manifests"),
    Action.RETIRE: N_("old card of a replace awaiting deletion"),
    Action.FORGET: N_("removed from the manifests (it stays live in WeChat)"),
}


def _knock_on(change: ResourceChange) -> str | None:
    """A page, QR code or menu that changes only because a card it points at is created or replaced."""
    follows = [r for r in change.reasons if is_knock_on(r)]
    if not follows or change.changes:
        return None
    if change.action == Action.UPDATE:
        return said("re-pointed because {reason}", reason=follows[0])
    return said("re-created because {reason}", reason=follows[0])


def manifest_edits(change: ResourceChange, found: Drift) -> None:
    """The default: with nothing applied to compare with, every attribute and stock setting is the manifests'."""
    for attribute in change.changes:
        found.attribute(change, attribute, by_hand=False)
    if change.stock is not None:
        found.stock(change, change.stock, found.manifest, said(STOCK_TARGET_CHANGED, target=change.stock.target))
