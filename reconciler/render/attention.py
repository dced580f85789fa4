"""How every report words a card that needs its owner (the plan document's `attention`): rejected in review.

One wording for text, Markdown, HTML and drift, so that they say the same thing: sentences `said`, so each report
says them in its own language (`say`)."""

from __future__ import annotations

from typing import Any

from reconciler.address import kind_of
from reconciler.i18n import Said, said

PAY_COUPONS = "pay_coupons"  # a stock's state, not a review: its own words


def what(item: dict[str, Any]) -> Said:
    if kind_of(item["address"]) == PAY_COUPONS:
        return said("paused or stopped in the merchant platform ({status})", status=item["status"])
    return said("rejected in WeChat's review ({status})", status=item["status"])


def todo(item: dict[str, Any], plan: dict[str, Any]) -> Said:
    if kind_of(item["address"]) == PAY_COUPONS:
        return said(
            "It issues no coupons until it is resumed in the merchant platform: WeChat Pay has no API to resume it."
        )
    return _card_todo(item, plan)


def _card_todo(item: dict[str, Any], plan: dict[str, Any]) -> Said:
    """What to do: nothing more when this plan already updates the card (card/update sends a rejected card back to
    review); otherwise edit and apply. WeChat's API never says why it rejected a card."""
    where = said(
        "WeChat's API does not say why: the reason comes in the card_not_pass_check event (RefuseReason) and shows "
        "in the MP console."
    )
    if any(change["address"] == item["address"] and change["review"] for change in plan["changes"]):
        return said("This plan's update sends it back to review. {where}", where=where)
    return said(
        "Users cannot add it. Edit what the reviewer objected to in the manifests and apply: the update sends it "
        "back to review. {where}",
        where=where,
    )


def line(item: dict[str, Any], plan: dict[str, Any]) -> str:
    return f"{item['address']} ({item['id']}): {what(item)}. {todo(item, plan)}"
