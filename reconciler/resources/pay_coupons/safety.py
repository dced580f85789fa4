"""The stocks' rules that hold however a plan was made (`wxrec apply PLANFILE`, resources.base.GuardsPlans): a
change acts on a stock of the manifests' merchant (the saved plan's check of every kind says it is the one its
address holds: resources.base.HoldsIds); a fixed field never changes; a budget is never set below what was issued,
counted when the plan is applied (coupons keep being issued after a plan is saved).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.address import Address
from reconciler.i18n import said
from reconciler.plan import Action, ResourceChange
from reconciler.resources.base import SafetyContext
from reconciler.resources.pay_coupons.model import BUDGETS, KIND, StockRecord, issued, stock_body
from reconciler.resources.pay_coupons.planning import (
    budget_refusals,
    frozen_refusal,
    no_stock,
    other_merchant,
    read_stocks,
)

# Changes that act on the stock state holds for their address, by its id.
ACTS_ON_ID = frozenset({Action.UPDATE, Action.REPLACE})


async def guard(changes: Sequence[ResourceChange], context: SafetyContext) -> list[str]:
    mchid = str((context.data.get("account") or {}).get("mchid") or "")
    specs: Mapping[str, Any] = context.data.get(KIND) or {}
    found = [r for c in changes if (r := _made_for(c, specs.get(Address.parse(c.address).key), mchid))]
    acting = {}
    for change in changes:
        held = context.state.resources.get(change.address)
        # A change naming a stock its address does not hold is refused by the saved plan's check of every kind.
        if change.action not in ACTS_ON_ID or held is None or held.get("id") != change.id:
            continue
        record = StockRecord.from_state(held)
        if record.mchid != mchid:
            found.append(other_merchant(change.address, record, mchid))
        elif change.action == Action.UPDATE:
            acting[change.address] = change
    return found + await _updates(acting, context, mchid)


def _made_for(change: ResourceChange, spec: Mapping[str, Any] | None, mchid: str) -> str | None:
    """A new stock belongs to the merchant the manifests give it."""
    if change.action not in (Action.CREATE, Action.REPLACE) or change.after is None:
        return None
    wanted = stock_body(spec or {}, mchid).get("belong_merchant", mchid)
    made = str(change.after["stock"].get("belong_merchant", ""))
    if made == wanted:
        return None
    return said(
        "{address}: the plan makes a stock of merchant {made}, and the manifests give it to merchant {wanted}",
        address=change.address,
        made=made,
        wanted=str(wanted),
    )


async def _updates(acting: Mapping[str, ResourceChange], context: SafetyContext, mchid: str) -> list[str]:
    """Fixed fields, and budgets against what was issued by now: the stocks a budget change acts on are read."""
    found = []
    budgeted = {c.id: c for c in acting.values() if any(a.path in BUDGETS for a in c.changes)}
    live = (await read_stocks(context.pay, None, sorted(i for i in budgeted if i))).stocks if context.pay else {}
    for change in acting.values():
        assert change.id is not None  # the id state holds
        differences = {a.path: (a.old, a.new) for a in change.changes}
        frozen = frozen_refusal(change.address, change.id, differences)
        if frozen:
            found.append(frozen)
        if change.id not in budgeted or context.pay is None:
            continue
        stock = live.get(change.id)
        if stock is None:
            found.append(no_stock(change.address, change.id, mchid))
        else:
            found += budget_refusals(change.address, change.id, differences, *issued(stock))
    return found
