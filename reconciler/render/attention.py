"""How every report words a card that needs its owner (the plan document's `attention`): rejected in review.

One wording for text, Markdown, HTML and drift, so that they say the same thing; `_` gives the report's language
(English outside a `language` block, as for text and drift)."""

from __future__ import annotations

from typing import Any

from reconciler.i18n import _


def what(item: dict[str, Any]) -> str:
    return _("rejected in WeChat's review ({status})").format(status=item["status"])


def todo(item: dict[str, Any], plan: dict[str, Any]) -> str:
    """What to do: nothing more when this plan already updates the card (card/update sends a rejected card back to
    review); otherwise edit and apply. WeChat's API never says why it rejected a card."""
    where = _(
        "WeChat's API does not say why: the reason comes in the card_not_pass_check event (RefuseReason) and shows "
        "in the MP console."
    )
    if any(change["address"] == item["address"] and change["review"] for change in plan["changes"]):
        return _("This plan's update sends it back to review.") + " " + where
    return (
        _(
            "Users cannot add it. Edit what the reviewer objected to in the manifests and apply: the update sends it "
            "back to review."
        )
        + " "
        + where
    )


def line(item: dict[str, Any], plan: dict[str, Any]) -> str:
    return f"{item['address']} ({item['id']}): {what(item)}. {todo(item, plan)}"
