"""`wxrec import pay_coupons.KEY STOCK_ID`: adopt a stock by its id (WeChat Pay has no list to find it by). This is
how a create whose answer was lost is settled: its out_request_no is in the plan's refusal, its stock id in the
merchant platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import WxrecError
from reconciler.resources.base import ownership_refusal
from reconciler.resources.pay_coupons.model import StockRecord, new_generation
from reconciler.state import State


def adopted(
    address: str,
    live: Mapping[str, Any] | None,
    stock_id: str,
    mchid: str,
    state: State,
    state_invocation: str,
    *,
    read: bool = True,
) -> StockRecord:
    """The record of `stock_id` under `address`; refused for a stock WeChat Pay does not show this merchant, one
    of another merchant, one another address holds, or while `address` manages another stock (but for settling
    its own lost create, a -replace's too: the stock it replaced is then kept among the retired). `read` False:
    WeChat Pay was not asked (--refresh=false), so only state is checked. `state_invocation` names the state in
    the `wxrec state rm` a refusal prints."""
    if live is None and read:
        raise WxrecError(f"WeChat Pay has no stock {stock_id} for merchant {mchid}; nothing was changed")
    live = live or {}
    owner = live.get("belong_merchant")
    if owner and owner != mchid:
        raise WxrecError(f"stock {stock_id} belongs to merchant {owner}, not {mchid}; nothing was changed")
    intent = state.intents.get(address) or {}
    held = state.resources.get(address)
    others = {a: r for a, r in state.resources.items() if a != address} if intent else state.resources
    refusal = ownership_refusal(address, stock_id, others, state_invocation)
    if refusal:
        raise WxrecError(f"{refusal}; nothing was changed")
    old = StockRecord.from_state(held) if held else StockRecord("", mchid)
    generation = int(intent.get("generation") or new_generation(state))  # this life's numbers: none spent yet
    retired = (*old.retired, old.id) if intent and old.id and old.id != stock_id else old.retired
    return StockRecord(stock_id, mchid, generation, retired=retired)
