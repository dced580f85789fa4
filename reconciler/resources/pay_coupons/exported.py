"""`wxrec export` of WeChat Pay stocks: a stock as the query answers it, written back as a manifest entry (the
fields a manifest can carry) with the record an apply of it would leave, so the next plan is empty."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.resources.base import schema_fragment
from reconciler.resources.pay_coupons.model import KIND, StockRecord, stock_body

_STOCK = schema_fragment(KIND)["$defs"]["pay_coupon"]


def manifest_stock(live: Mapping[str, Any]) -> dict[str, Any]:
    """The query's answer without what WeChat Pay adds (stock_id, stock_state, counts, merchant_name): only the
    fields the manifest schema has, so an exported stock validates."""
    known: dict[str, Any] = _known(live, _STOCK)
    return known


def _known(value: Any, schema: Mapping[str, Any]) -> Any:
    properties = schema.get("properties")
    if not isinstance(value, Mapping) or properties is None:
        return value
    known = {key: _known(item, properties[key]) for key, item in value.items() if key in properties and key != "codes"}
    return {key: item for key, item in known.items() if item != {}}  # display_pattern_info of merchant_name alone


def exported_record(stock_id: str, spec: Mapping[str, Any], mchid: str) -> dict[str, Any]:
    return StockRecord(stock_id, mchid, applied=stock_body(spec, mchid)).to_state()
