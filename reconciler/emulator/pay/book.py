"""What the emulated WeChat Pay keeps per merchant: its stocks with their issued counts and uploaded codes, and
the request numbers it has seen. Kept in the account file beside the card API's account (store.py)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..clock import beijing_day
from ..model import JSON
from .errors import PARAM_ERROR, RESOURCE_NOT_EXISTS, PayApiError

_UTC8 = 8 * 3600


def rfc3339(moment: float) -> str:
    """Beijing time with its offset, as WeChat Pay writes times (create_time, success_time)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(moment + _UTC8))


@dataclass
class Stock:
    stock_id: str
    document: JSON  # the create body as held, out_request_no left out (§4: the query does not return it)
    state: str
    create_time: str
    total_send: int = 0
    today_send: int = 0
    send_day: str = ""
    codes: list[str] = field(default_factory=list)
    codes_sent: int = 0

    @property
    def max_coupons(self) -> int:
        return int(self.document["stock_send_rule"]["max_coupons"])

    def today(self, now: float) -> int:
        return self.today_send if self.send_day == beijing_day(now) else 0

    def query(self, now: float, merchant_name: str) -> JSON:
        """The query answer (§4): the stock as held, its state and issued counts."""
        answer: JSON = {**json.loads(json.dumps(self.document)), "stock_id": self.stock_id, "stock_state": self.state}
        answer.setdefault("display_pattern_info", {})["merchant_name"] = merchant_name
        answer["send_count_information"] = {
            "total_send_num": self.total_send,
            "total_send_amount": self.total_send * _face_value(self.document),
            "today_send_num": self.today(now),
            "today_send_amount": self.today(now) * _face_value(self.document),
        }
        if self.document.get("coupon_code_mode") == "MERCHANT_UPLOAD":
            answer["coupon_code_count"] = {
                "total_count": len(self.codes),
                "available_count": len(self.codes) - self.codes_sent,
            }
        return answer


def _face_value(document: JSON) -> int:
    return int(document["coupon_use_rule"].get("fixed_normal_coupon", {}).get("discount_amount", 0))


@dataclass
class Merchant:
    stocks: dict[str, Stock] = field(default_factory=dict)
    next_stock: int = 0
    # kind:number → the digest of the body first sent with it (§7: "商户侧需保持唯一性").
    requests: dict[str, str] = field(default_factory=dict)

    def stock(self, stock_id: str) -> Stock:
        stock = self.stocks.get(stock_id)
        if stock is None:
            raise PayApiError(RESOURCE_NOT_EXISTS, f"批次 {stock_id} 不存在")
        return stock

    def claim_request(self, kind: str, number: str, body: JSON) -> None:
        """Records a request number, refusing one seen before, with the same body or another. What WeChat Pay
        answers a reused number is not documented (§7): the strictest reading, as issue 18 decides."""
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        seen = self.requests.get(f"{kind}:{number}")
        if seen is not None:
            same = "相同" if seen == digest else "不同"
            raise PayApiError(PARAM_ERROR, f"请求单号 {number} 已使用（与此前请求内容{same}），请更换单号后重试")
        self.requests[f"{kind}:{number}"] = digest


@dataclass
class PayBook:
    merchants: dict[str, Merchant] = field(default_factory=dict)

    def merchant(self, mchid: str) -> Merchant:
        return self.merchants.setdefault(mchid, Merchant())

    def to_json(self) -> JSON:
        return {mchid: asdict(m) for mchid, m in self.merchants.items()}

    @classmethod
    def from_json(cls, data: Any) -> PayBook:
        book = cls()
        for mchid, raw in (data or {}).items():
            stocks = {k: Stock(**v) for k, v in raw["stocks"].items()}
            book.merchants[str(mchid)] = Merchant(stocks, int(raw["next_stock"]), dict(raw["requests"]))
        return book


def make_stock_id(mchid: str, number: int) -> str:
    """16 digits like WeChat Pay's stock ids (e.g. 1265060000000067): the merchant's last digits, then a count."""
    return f"1{mchid[-6:].rjust(6, '0')}{number:09d}"
