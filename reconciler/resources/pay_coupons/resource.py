"""WeChat Pay merchant coupons (商家券) as a registered kind."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.address import Address, kind_of
from reconciler.errors import Locate, Problem, WxrecError
from reconciler.i18n import N_, said
from reconciler.plan import ResourceChange
from reconciler.resources.base import (
    Applier,
    ApplyContext,
    Drift,
    ImportContext,
    KindPlan,
    PlanContext,
    SafetyContext,
    schema_fragment,
)
from reconciler.resources.pay_coupons.adopt import adopted
from reconciler.resources.pay_coupons.apply import PayCouponApplier
from reconciler.resources.pay_coupons.model import KIND, PayStocks, StockRecord, flat, stock_body
from reconciler.resources.pay_coupons.planning import Inputs, PayLive, plan_stocks, read_stocks
from reconciler.resources.pay_coupons.safety import ACTS_ON_ID, guard
from reconciler.resources.pay_coupons.validate import validate_section
from reconciler.state import State


class PayCoupons:
    name = KIND
    keyed = True
    layer = 1  # refers to nothing; nothing refers to it
    attributes = ("id",)
    may_refer_to: tuple[str, ...] = ()
    new_badge = "new stock"
    panel = "pay_coupon"
    # A replaced stock keeps issuing beside the new one: WeChat Pay cannot stop it.
    threshold_noun = N_("stocks")
    acts_on_id = ACTS_ON_ID
    schema: Mapping[str, Any] = schema_fragment(KIND)

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        return validate_section(section, locate)

    async def read_pay(self, pay: PayStocks | None, state: State | None, also: Sequence[str]) -> PayLive:
        """The stocks state knows and those import blocks name, queried by id (there is no list); without `pay`,
        as state last applied them."""
        return await read_stocks(pay, state, also)

    async def plan(self, context: PlanContext) -> KindPlan:
        live = context.live if isinstance(context.live, PayLive) else PayLive(read=False)
        root = context.manifest_root
        files = {
            str(path[1]): (file, os.path.relpath(file, root) if root else str(file))
            for path, file in context.named.items()
            if path[0] == KIND and path[2:] == ("codes", "file")
        }
        mchid = (context.account or {}).get("mchid")
        imports = {a: i for a, i in context.imports.items() if kind_of(a) == KIND}
        checks = context.locate is not None
        inputs = Inputs(
            mchid,
            context.state,
            live,
            context.replace,
            files,
            context.ledger,
            checks,
            imports,
            invocation=context.invocation,
            state_invocation=context.state_invocation,
            allow_duplicate=context.allow_duplicate,
        )
        return plan_stocks(context.section, inputs)

    async def import_by_id(self, address: str, live_id: str, context: ImportContext) -> dict[str, Any]:
        """A stock adopted by its id (there is no list to find it by): how a create whose answer was lost is
        settled. It must be the manifests' merchant's."""
        mchid = context.account.get("mchid")
        if context.cards.pay is None or not mchid:
            raise WxrecError(f"{address}: set account.mchid, the merchant the stock belongs to")
        live = await read_stocks(context.cards.pay, None, [live_id])
        stock = live.stocks.get(live_id)
        return adopted(address, stock, live_id, str(mchid), context.state, context.state_invocation).to_state()

    def adopted(self, change: ResourceChange, state: State) -> dict[str, Any]:
        """The stock as the plan read it (a refreshed plan reads each stock an import block names), of the merchant
        WeChat Pay showed it to, as apply records it. Whether `state` may take it is the caller's check
        (ownership_refusal): only the lost create it settles is looked up here."""
        assert change.id is not None
        stock = (change.before or {}).get("stock")
        mchid = str((stock or {}).get("belong_merchant", ""))
        return adopted(change.address, stock, change.id, mchid, state, ".", read=False).to_state()

    def applied_records(self, section: Any, state: State) -> dict[str, dict[str, Any]]:
        """Each stock as an apply of `section` records it, its id stood in (wxrec diff); the merchant is not
        known there, so it is not checked."""
        return {
            str(Address(KIND, key)): StockRecord(f"<{KIND}.{key}>", "", applied=stock_body(spec, None)).to_state()
            for key, spec in (section or {}).items()
        }

    async def guard(self, changes: Sequence[ResourceChange], context: SafetyContext) -> list[str]:
        return await guard(changes, context)

    def drift(self, change: ResourceChange, state: State | None, found: Drift) -> None:
        """A field whose live value is not the one wxrec last applied was changed in the merchant platform (a
        budget moved there shows here; issuing moves only the issued counts, never the maximum); codes not yet
        uploaded and other differences are edits to the manifests."""
        record = (state.resources.get(change.address) if state else None) or {}
        applied = flat(StockRecord.from_state(record).applied or {})
        for attribute in change.changes:
            by_hand = attribute.path in applied and applied[attribute.path] != attribute.old
            found.attribute(change, attribute, by_hand=by_hand)
        codes = (change.after or {}).get("codes") or {}
        if codes.get("pending"):
            found.manifest.append(
                {"address": change.address, "id": change.id, "what": said("codes in the file not uploaded yet")}
            )

    def applier(self, context: ApplyContext) -> Applier:
        return PayCouponApplier(context)


PAY_COUPONS = PayCoupons()
