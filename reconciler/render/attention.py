"""How every report words a card that needs its owner (the plan document's `attention`): rejected in review.

One wording for text, Markdown, HTML and drift, so that they say the same thing: sentences `said`, so each report
says them in its own language (`say`)."""

from __future__ import annotations

from typing import Any

from reconciler.i18n import Said, said


def what(item: dict[str, Any]) -> Said:
    return said("rejected in WeChat's review ({status})", status=item["status"])


def todo(item: dict[str, Any], plan: dict[str, Any]) -> Said:
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
