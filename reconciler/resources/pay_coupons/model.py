"""A merchant coupon stock (商家券) in the one form both sides are compared in, and what WeChat Pay lets change.

The manifest uses the API's own field names (docs/wechat-pay/busifavor.md §2); wxrec adds `codes` (a MERCHANT_UPLOAD
stock's codes file). What may change after create is §3: the modify call's fields, the budget call's two maxima;
every other field is fixed once the stock exists, and a stock can be neither deleted nor stopped by the API (§1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.address import kind_of
from reconciler.i18n import N_
from reconciler.state import State

if TYPE_CHECKING:
    from reconciler.pay import Budget, BudgetChange, CreatedStock, UploadResult

KIND = "pay_coupons"
CHINA_TIME = timezone(timedelta(hours=8))
WXREC_FIELDS = ("codes",)  # the manifest's own, never sent
UPLOAD_MODE = "MERCHANT_UPLOAD"
# The budget call's two dimensions (§5): one per call, each a compare-and-swap on the current value.
BUDGETS = ("stock_send_rule.max_coupons", "stock_send_rule.max_coupons_by_day")
# What the modify call takes (§3, ModifyStockInfoBody): prefixes of the flattened paths.
MODIFIABLE = (
    "comment",
    "goods_name",
    "display_pattern_info.",
    "custom_entrance.mini_programs_info.",
    "custom_entrance.appid",
    "custom_entrance.hall_id",
    "custom_entrance.code_display_mode",
    "coupon_use_rule.use_method",
    "coupon_use_rule.mini_programs_appid",
    "coupon_use_rule.mini_programs_path",
    "stock_send_rule.prevent_api_abuse",
    "notify_config.",
)
# The times the API takes as RFC 3339 (§2.1).
TIME_FIELDS = ("available_begin_time", "available_end_time", "begin_time", "end_time")
# A stock's states (StockStatus.md); STOPED is WeChat Pay's spelling.
STATES = {
    "UNAUDIT": N_("in review"),
    "RUNNING": N_("running"),
    "STOPED": N_("stopped"),
    "PAUSED": N_("paused"),
}
# Set in the merchant platform (no API pauses or stops a stock): the stock issues nothing until it is resumed there.
STOPPED = ("PAUSED", "STOPED")


class PayStocks(Protocol):
    """The calls the kind makes: reconciler.pay.PayClient's (tests give a fake). reconciler.pay is loaded only by a
    run with a merchant, so its types are named here for the checker alone."""

    async def create_stock(self, body: Mapping[str, Any]) -> CreatedStock: ...

    async def get_stock(self, stock_id: str) -> dict[str, Any]: ...

    async def modify_stock(self, stock_id: str, body: Mapping[str, Any]) -> None: ...

    async def modify_budget(self, stock_id: str, change: BudgetChange) -> Budget: ...

    async def upload_codes(self, stock_id: str, codes: Sequence[str], upload_request_no: str) -> UploadResult: ...


def rfc3339(value: Any) -> Any:
    """A time as WeChat Pay takes and answers it (2026-12-01T00:00:00+08:00); ISO 8601 without a zone is UTC+8.
    Anything else is left for the schema to refuse."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TIME)
    return moment.astimezone(CHINA_TIME).isoformat(timespec="seconds")


def _times(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _times(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_times(item, key) for item in value]
    return rfc3339(value) if key in TIME_FIELDS else value


def stock_body(spec: Mapping[str, Any], mchid: str | None) -> dict[str, Any]:
    """What create sends (without its out_request_no): the manifest's stock, times in RFC 3339 at UTC+8,
    belong_merchant defaulting to the account's merchant."""
    body: dict[str, Any] = _times({k: v for k, v in spec.items() if k not in WXREC_FIELDS})
    if mchid and "belong_merchant" not in body:
        body["belong_merchant"] = mchid
    return body


def flat(value: Any, path: str = "") -> dict[str, Any]:
    """Leaf path → value; a list is one leaf (the API takes it whole); an empty object sets nothing."""
    if isinstance(value, Mapping):
        return {p: v for key, item in value.items() for p, v in flat(item, f"{path}{key}.").items()}
    return {path.rstrip("."): value}


def compared(body: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """path → (live, wanted) for every leaf the manifest sets that WeChat Pay holds otherwise. Fields the manifest
    leaves out are WeChat Pay's (merchant_name, defaults): not compared."""
    held = flat(_times(live))
    return {path: (held.get(path), wanted) for path, wanted in flat(body).items() if held.get(path) != wanted}


def modifiable(path: str) -> bool:
    return any(path == prefix or (prefix.endswith(".") and path.startswith(prefix)) for prefix in MODIFIABLE)


def fixed(path: str) -> bool:
    """A field create sets for good: a change needs a new stock."""
    return path not in BUDGETS and not modifiable(path)


def issued(live: Mapping[str, Any]) -> tuple[int, int]:
    """(coupons issued in all, issued today), from the query's send_count_information."""
    counts = live.get("send_count_information") or {}
    return int(counts.get("total_send_num") or 0), int(counts.get("today_send_num") or 0)


def request_no(state: State | None, address: str, generation: int, purpose: str = "create", serial: int = 0) -> str:
    """A request number no other request of this merchant shares: digits from the state's lineage (staging and
    production on one merchant differ, a state rebuilt from scratch too), the address, a generation
    (new_generation), the purpose (create, modify, budget, upload) and the call's serial within the generation.
    The same inputs give the same number, which is what makes a create exactly-once."""
    lineage = state.lineage if state else ""
    seed = f"{lineage}\0{address}\0{generation}\0{purpose}\0{serial}".encode()
    digits = int.from_bytes(hashlib.sha256(seed).digest()[:16]) % 10**30
    return f"wxrec{digits:030d}"


def new_generation(state: State | None) -> int:
    """A generation this state's history never gave at any address: the serial + 1. Each generation given is
    written to state (a create's number in its intent, a record's generation in the intent or the record) before
    another is taken, and every write bumps the serial; so a stock forgotten (or `state rm`ed) and declared or
    imported again at its address never repeats a number of its earlier life."""
    return state.serial + 1 if state else 1


@dataclass(frozen=True)
class StockRecord:
    """State's record of a stock: its id, the merchant, its generation, what was last applied (for drift), how
    many request numbers of each purpose it has used, and the stocks -replace left behind (they keep issuing: no
    API deletes or stops a stock, so state keeps their ids). Never a code."""

    id: str
    mchid: str
    generation: int = 1
    applied: Mapping[str, Any] | None = None
    calls: int = 0  # request numbers spent by modify, budget and upload calls: each gets the next serial
    retired: tuple[str, ...] = ()

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> StockRecord:
        return cls(
            str(data.get("id", "")),
            str(data.get("mchid", "")),
            int(data.get("generation", 1)),
            data.get("applied"),
            int(data.get("calls", 0)),
            tuple(data.get("retired_ids", ())),
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mchid": self.mchid,
            "generation": self.generation,
            "applied": self.applied,
            "calls": self.calls,
            **({"retired_ids": list(self.retired)} if self.retired else {}),
        }


def records(state: State | None) -> dict[str, StockRecord]:
    if state is None:
        return {}
    return {a: StockRecord.from_state(r) for a, r in state.resources.items() if kind_of(a) == KIND}
