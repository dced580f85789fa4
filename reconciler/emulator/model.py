"""What the emulator keeps per card, and the card statuses WeChat reports."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final

JSON = dict[str, Any]

NOT_VERIFY: Final = "CARD_STATUS_NOT_VERIFY"
VERIFY_FAIL: Final = "CARD_STATUS_VERIFY_FAIL"
VERIFY_OK: Final = "CARD_STATUS_VERIFY_OK"
DELETE: Final = "CARD_STATUS_DELETE"
DISPATCH: Final = "CARD_STATUS_DISPATCH"

STATUSES: Final = frozenset({NOT_VERIFY, VERIFY_FAIL, VERIFY_OK, DELETE, DISPATCH})
# Older spellings that batchget still accepts in status_list.
STATUS_ALIASES: Final = {
    "CARD_STATUS_VERIFY_FALL": VERIFY_FAIL,
    "CARD_STATUS_USER_DELETE": DELETE,
    "CARD_STATUS_USER_DISPATCH": DISPATCH,
}

CARD_TYPES: Final = (
    "GROUPON",
    "CASH",
    "DISCOUNT",
    "GIFT",
    "GENERAL_COUPON",
    "MEMBER_CARD",
    "SCENIC_TICKET",
    "MOVIE_TICKET",
    "BOARDING_PASS",
    "MEETING_TICKET",
    "BUS_TICKET",
)

# 「微信卡券>优惠券」: the types WeChat stopped creating on 2021-04-01 (docs/wechat-today.md, "Coupons can no
# longer be created"); member cards and tickets are not affected.
COUPON_TYPES: Final = frozenset({"GROUPON", "CASH", "DISCOUNT", "GIFT", "GENERAL_COUPON"})


@dataclass
class Card:
    """One card as the server holds it.

    ``base`` holds the creator's base_info fields (normalised: colour as its name, epoch ints,
    date types by name) without the server's own fields; ``fields`` the type's own fields;
    ``advanced`` the advanced_info with the server's empty defaults filled in.
    """

    card_id: str
    card_type: str
    base: JSON
    fields: JSON
    advanced: JSON
    status: str
    quantity: int
    total_quantity: int
    create_time: int
    update_time: int
    review_due: float | None = None
    # The reviewer's reason when the card failed review: WeChat tells it only in the card_not_pass_check event
    # (RefuseReason), never in card/get, so only the controls show it.
    refuse_reason: str | None = None
    # For auditors: when it was created (emulator clock), every successful modifystock delta, users' claims.
    created_at: float = 0.0
    stock_ops: list[int] = field(default_factory=list)
    claimed: int = 0
    # What card/membercard/activateuserform/set, card/paycell/set and card/selfconsumecell/set last set
    # (card_settings.py): card/get never shows them, only the controls do.
    settings: JSON = field(default_factory=dict)

    @property
    def deleted(self) -> bool:
        return self.status == DELETE

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> Card:
        return cls(**copy.deepcopy(data))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# A body nested deeper is one WeChat "cannot parse" (47001). WeChat publishes no limit; its deepest request
# (card/create's advanced_info) is 7 levels, and the bound keeps every later walk of a body, and json's own
# recursive parser, far from Python's recursion limit.
MAX_DEPTH = 64


def loads_object(raw: bytes) -> JSON:
    """A JSON object, or ValueError: NaN and Infinity are refused, as they could never be answered, and so is a
    body nested deeper than MAX_DEPTH."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    if _depth(value) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return value


def _depth(value: Any) -> int:
    """How many objects and arrays deep `value` goes, without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest
