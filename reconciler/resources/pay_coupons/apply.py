"""Applying a stock's change: create once (the intent with its request number written first), modify in place,
change the budget with the compare-and-swap, upload codes 200 a call. Every request number is spent (written to
state) before its call, so no number is ever sent with two bodies."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from reconciler.errors import WxrecError
from reconciler.plan import Action, AttributeChange, ResourceChange
from reconciler.resources.base import ApplyContext, forget
from reconciler.resources.codes.files import CodeFile
from reconciler.resources.pay_coupons.adopt import adopted
from reconciler.resources.pay_coupons.model import (
    BUDGETS,
    PayStocks,
    StockRecord,
    modifiable,
    new_generation,
    request_no,
)
from reconciler.resources.pay_coupons.planning import read_stocks
from reconciler.state import code_hash
from reconciler.wechat.errors import NetworkError

UPLOAD_BATCH = 200  # UploadCouponCodeResponse: "条目个数限制为【1，200】" (docs/wechat-pay/busifavor.md §6)
# What the modify call takes of the objects that hold fixed fields too (ModifyCouponUseRule, ModifyStockSendRule).
MODIFY_ONLY = {
    "coupon_use_rule": ("use_method", "mini_programs_appid", "mini_programs_path"),
    "stock_send_rule": ("prevent_api_abuse",),
    "custom_entrance": ("mini_programs_info", "appid", "hall_id", "code_display_mode"),
}


def modify_body(stock: Mapping[str, Any], paths: list[str]) -> dict[str, Any]:
    """The modify call's body: each changed top-level field whole, as far as the call takes it."""
    body: dict[str, Any] = {}
    for top in dict.fromkeys(path.partition(".")[0] for path in paths if modifiable(path)):
        value = stock[top]
        if top in MODIFY_ONLY and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if k in MODIFY_ONLY[top]}
        body[top] = value
    return body


def budget_order(changes: list[AttributeChange]) -> list[AttributeChange]:
    """The day's maximum never exceeds the stock's (WeChat Pay refuses it: docs/wechat-pay/busifavor.md §5), so a
    raised maximum goes first and a lowered one last."""
    return sorted(changes, key=lambda c: (c.path == BUDGETS[0]) != (isinstance(c.new, int) and c.new > (c.old or 0)))


@dataclass
class PayCouponApplier:
    context: ApplyContext

    @property
    def pay(self) -> PayStocks:
        if self.context.pay is None:
            raise WxrecError("no WeChat Pay client: pay_coupons need account.mchid and the WXREC_PAY_… credentials")
        return self.context.pay

    async def apply(self, change: ResourceChange) -> str:
        if change.action == Action.FORGET:
            # The ledger goes with the record (as codes' forget and `state rm`), dropped first: a crash between
            # leaves a record whose codes are uploaded again (answered as held), never a ledger that would make
            # the next plan refuse the address as a lost state's.
            self.context.backend.drop_code_hashes(change.address)
            return await forget(self.context, change)
        if change.action == Action.IMPORT:
            return await self._import(change)
        assert change.after is not None
        if change.action in (Action.CREATE, Action.REPLACE):
            done = [await self._create(change)]
        else:
            done = await self._update(change)
        codes = change.after.get("codes")
        if codes and codes.get("pending"):
            done.append(await self._upload(change.address, codes))
        return "; ".join(done)

    async def _import(self, change: ResourceChange) -> str:
        """An import block: the stock checked again (a plan made without reading it could not), then state only."""
        assert change.id is not None
        state = self.context.state
        live = (await read_stocks(self.pay, None, [change.id])).stocks.get(change.id)
        # WeChat Pay shows a merchant its own stocks only: the plan checked it is the manifests' merchant.
        mchid = str((live or {}).get("belong_merchant", ""))
        record = adopted(change.address, live, change.id, mchid, state, self.context.state_invocation)
        state.resources[change.address] = record.to_state()
        state.intents.pop(change.address, None)
        await self.context.save()
        # Dropped once state holds the stock (as `wxrec import` does): a crash before would leave the address
        # with neither record nor ledger, so nothing would stop the next plan from making a second stock.
        self.context.backend.drop_code_hashes(change.address)
        return f"imported stock {change.id} into state"

    def _record(self, address: str) -> StockRecord:
        return StockRecord.from_state(self.context.state.resources[address])

    async def _spend(self, address: str, purpose: str) -> str:
        """The next request number of `purpose` for this stock, written to state before it is sent."""
        record = self._record(address)
        record = replace(record, calls=record.calls + 1)
        self.context.state.resources[address] = record.to_state()
        await self.context.save()
        return request_no(self.context.state, address, record.generation, purpose, record.calls)

    async def _create(self, change: ResourceChange) -> str:
        assert change.after is not None
        state, address = self.context.state, change.address
        stock, number = dict(change.after["stock"]), str(change.after["out_request_no"])
        old, intent = state.resources.get(address), state.intents.get(address) or {}
        resent = intent.get("out_request_no") == number  # the lost create sent again (-replace)
        # The plan numbered the create; the stock's later numbers take a generation of their own (another purpose
        # keeps them apart from any create's), decided here so that the intent records it.
        generation = int(intent["generation"]) if resent and intent.get("generation") else new_generation(state)
        started = int(time.time())
        state.intents[address] = {
            "action": "create",
            "out_request_no": number,
            "generation": generation,
            "started": started,
        }
        await self.context.save()
        try:
            answer = await self.pay.create_stock({**stock, "out_request_no": number})
        except WxrecError as exc:
            if isinstance(exc, NetworkError) and exc.maybe_applied:
                raise WxrecError(
                    f"{address}: {exc}. Uncertain whether WeChat Pay made the stock (out_request_no {number}): "
                    f"wxrec never sends that create again. Find the stock in the merchant platform and run wxrec "
                    f"import {address} STOCK_ID"
                ) from None
            if not resent:  # a first send WeChat Pay refused made nothing; a resend may be refused for a made stock
                state.intents.pop(address, None)
                await self.context.save()
            raise
        stock_id = answer.stock_id
        mchid = str(stock.get("belong_merchant", ""))
        held = StockRecord.from_state(old) if old else None
        retired = (*held.retired, held.id) if held else ()
        state.resources[address] = StockRecord(stock_id, mchid, generation, stock, retired=retired).to_state()
        state.intents.pop(address, None)
        # The ledger counted the codes of a stock made here before (replaced, or one a lost state forgot); the new
        # stock holds none yet.
        self.context.backend.drop_code_hashes(address)
        await self.context.save()
        return f"created stock {stock_id}" + (f" to replace {held.id} (it keeps issuing)" if held else "")

    async def _update(self, change: ResourceChange) -> list[str]:
        assert change.after is not None and change.id is not None
        stock, paths = change.after["stock"], [c.path for c in change.changes]
        done = []
        body = modify_body(stock, paths)
        if body:
            number = await self._spend(change.address, "modify")
            await self.pay.modify_stock(change.id, {**body, "out_request_no": number})
            done.append(f"modified {', '.join(body)}")
        for budget in budget_order([c for c in change.changes if c.path in BUDGETS]):
            done.append(await self._budget(change.address, change.id, budget.path, budget.old, budget.new))
        record = self._record(change.address)
        self.context.state.resources[change.address] = replace(record, applied=stock).to_state()
        await self.context.save()
        return done

    async def _budget(self, address: str, stock_id: str, path: str, current: int, target: int) -> str:
        """One dimension per call, a compare-and-swap on the maximum the plan read: if it moved since, WeChat
        Pay refuses, and the next plan starts from the new figure."""
        from reconciler.pay import BudgetChange  # loaded by the run that made the client

        dimension: Literal["max_coupons", "max_coupons_by_day"] = (
            "max_coupons_by_day" if path.endswith("_by_day") else "max_coupons"
        )
        number = await self._spend(address, "budget")
        await self.pay.modify_budget(stock_id, BudgetChange(dimension, current, target, number))
        return f"{dimension} {current} → {target}"

    async def _upload(self, address: str, codes: Mapping[str, Any]) -> str:
        """The codes the ledger lacks, 200 a call; each batch's accepted and already-held codes go into the ledger
        as it is answered (a re-sent code comes back as exist_codes: harmless)."""
        stock_id = self._record(address).id
        path = Path(self.context.manifest_root) / str(codes["file"])
        known = self.context.backend.code_hashes(address)
        pending = [code for _, code in CodeFile(path, codes.get("column")).read() if code_hash(code) not in known]
        uploaded = already = failed = 0
        for start in range(0, len(pending), UPLOAD_BATCH):
            batch = pending[start : start + UPLOAD_BATCH]
            number = await self._spend(address, "upload")
            answer = await self.pay.upload_codes(stock_id, batch, number)
            held = [*answer.success_codes, *answer.exist_codes]
            self.context.backend.add_code_hashes(address, (code_hash(code) for code in held))
            uploaded += len(answer.success_codes)
            already += len(answer.exist_codes)
            failed += answer.fail_count
        if failed:
            raise WxrecError(
                f"{address}: WeChat Pay refused {failed} codes of {len(pending)} (the others are uploaded)"
            )
        return f"uploaded {uploaded} codes" + (f", {already} already held" if already else "")
