"""`wxrec import pay_coupons.KEY STOCK_ID`: adopt a stock by its id (WeChat Pay has no list to find it by). This is
how a create whose answer was lost is settled: its out_request_no is in the plan's refusal, its stock id in the
merchant platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import WxrecError
from reconciler.resources.pay_coupons.model import StockRecord, records
from reconciler.state import State


def adopted(
    address: str, live: Mapping[str, Any] | None, stock_id: str, mchid: str, state: State, *, read: bool = True
) -> StockRecord:
    """The record of `stock_id` under `address`; refused for a stock WeChat Pay does not show this merchant, one
    of another merchant, or one another address holds. `read` False: WeChat Pay was not asked (--refresh=false),
    so only state is checked."""
    if live is None and read:
        raise WxrecError(f"WeChat Pay has no stock {stock_id} for merchant {mchid}; nothing was changed")
    live = live or {}
    owner = live.get("belong_merchant")
    if owner and owner != mchid:
        raise WxrecError(f"stock {stock_id} belongs to merchant {owner}, not {mchid}; nothing was changed")
    for other, record in records(state).items():
        if record.id == stock_id:
            raise WxrecError(f"{other} already holds stock {stock_id}; nothing was changed")
    intent = state.intents.get(address) or {}
    held = state.resources.get(address)
    generation = int(intent.get("generation") or (StockRecord.from_state(held).generation if held else 1))
    return StockRecord(stock_id, mchid, generation)
