"""The stocks' rules that hold however a plan was made (`wxrec apply PLANFILE`, resources.base.GuardsPlans): a
change acts on the stock its address holds, of the manifests' merchant; a fixed field never changes; a budget is
never set below what was issued, counted when the plan is applied (coupons keep being issued after a plan is saved).
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
        if change.action not in ACTS_ON_ID:
            continue
        held = context.state.resources.get(change.address)
        record = StockRecord.from_state(held) if held is not None else None
        refusal = _owned(change, record, mchid)
        if refusal:
            found.append(refusal)
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


def _owned(change: ResourceChange, record: StockRecord | None, mchid: str) -> str | None:
    """A change acts on the stock its address holds, of the manifests' merchant."""
    if record is None:
        return said("{address}: the plan changes this stock, but state does not manage it", address=change.address)
    if change.id != record.id:
        return said(
            "{address}: the plan acts on stock {id}, but state says the address manages {managed}",
            address=change.address,
            id=str(change.id),
            managed=record.id,
        )
    return other_merchant(change.address, record, mchid) if record.mchid != mchid else None


async def _updates(acting: Mapping[str, ResourceChange], context: SafetyContext, mchid: str) -> list[str]:
    """Fixed fields, and budgets against what was issued by now: the stocks a budget change acts on are read."""
    found = []
    budgeted = {c.id: c for c in acting.values() if any(a.path in BUDGETS for a in c.changes)}
    live = (await read_stocks(context.pay, None, sorted(i for i in budgeted if i))).stocks if context.pay else {}
    for change in acting.values():
        assert change.id is not None  # _owned: the id state holds
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
