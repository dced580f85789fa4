"""The plan for a terminal, rendered from the plan document (the same one `--format json` prints)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from reconciler.address import kind_of
from reconciler.english import counted
from reconciler.i18n import N_, _, language, ngettext
from reconciler.render import attention

CHINA_TIME = timezone(timedelta(hours=8))
# Items of a list-valued field listed, of those added and of those removed each; the JSON plan has them all.
SHOWN_ITEMS = 20

HEADLINES = {
    "create": ("+", "green", "will be created"),
    "update": ("~", "yellow", "will be updated in place"),
    "stock": ("~", "yellow", "stock will change"),
    "replace": ("-/+", "magenta", "will be replaced (new card first, then the old one is deleted)"),
    "retire": ("-", "red", "old card(s) of an earlier replace will be deleted"),
    "delete": ("-", "red", "will be deleted"),
    "gone": ("!", "red", "was deleted outside wxrec"),
    "forget": ("~", "yellow", "will be forgotten by wxrec (WeChat cannot delete it; it stays live)"),
    "import": ("=", "cyan", "will be imported (state only)"),
    "move": ("=", "cyan", "was renamed: state follows (nothing is re-created)"),
    "render": ("+", "cyan", "images will be drawn again from the url in state (no WeChat call)"),
}
# A replaced stock is not deleted: no WeChat Pay API stops one.
STOCK_REPLACED = "will be replaced by a new stock (the old one keeps issuing until stopped in the merchant platform)"


def render_plan(plan: dict[str, Any], *, color: bool = False, title: str = "wxrec plan") -> str:
    """The terminal's plan, in English whatever --lang says (see docs/decisions.md)."""
    with language("en"):
        return _render_plan(plan, color, title)


def _render_plan(plan: dict[str, Any], color: bool, title: str) -> str:
    where = f"at {plan['endpoint']}" if title != "wxrec diff" else f"from {plan['endpoint']} to the working tree"
    lines = [f"{title} for account {plan['appid']} {where}", ""]
    for warning in plan["warnings"]:
        lines.append(_style(f"Warning: {warning}", "yellow", color))
    destructive = [c["address"] for c in plan["changes"] if c["action"] in ("replace", "delete", "retire")]
    if destructive:
        lines.append(_style(f"Destructive: {', '.join(destructive)}", "red", color))
    if plan["warnings"] or destructive:
        lines.append("")
    for change in plan["changes"]:
        lines += _render_change(change, color)
    for item in plan.get("attention", []):
        lines += [_style(f"! {attention.line(item, plan)}", "red", color), ""]
    if plan["unmanaged"]:
        shown = ", ".join(plan["unmanaged"][:10])
        more = f" and {len(plan['unmanaged']) - 10} more" if len(plan["unmanaged"]) > 10 else ""
        lines.append(
            f"Unmanaged: {counted(len(plan['unmanaged']), 'live card')} not in state, never touched: {shown}{more}"
        )
        lines.append("")
    for refusal in plan["refusals"]:
        lines.append(_style(f"Refused: {refusal}", "red", color))
    lines.append(summary_line(plan, title))
    return "\n".join(lines) + "\n"


def _in_sync(plan: dict[str, Any], title: str) -> str:
    """What an empty plan compared: only what was read can be said to match."""
    if title == "wxrec diff":
        return _("No changes. The manifests are the same.")
    if not plan.get("refreshed", True):
        return _(
            "No changes. State's last-applied values match the manifests (the live account was not read: "
            "--refresh=false)."
        )
    return _("No changes. The live account matches the manifests.")


def tally(plan: dict[str, Any]) -> dict[str, int]:
    """The plan's counts as every format shows them, so text, Markdown and HTML agree: each change counted once under
    its action, as its headline says (the plan document's per-action summary), an old card a replace leaves counted
    as a delete; and beside them the codes the plan deposits into cards and uploads to WeChat Pay stocks, the
    changes going back to review and the cards rejected in review (`rejected`: not changes, the plan's
    `attention`)."""
    counts = dict(plan["summary"])
    counts["codes"] = sum(
        (change.get("after") or {}).get("pending", 0)
        for change in plan["changes"]
        if kind_of(change["address"]) == "codes"
    )
    counts["upload"] = sum(
        ((change.get("after") or {}).get("codes") or {}).get("pending", 0)
        for change in plan["changes"]
        if kind_of(change["address"]) == "pay_coupons"
    )
    counts["delete"] += counts.pop("retire")
    counts["review"] = sum(1 for change in plan["changes"] if change["review"])
    counts["rejected"] = sum(1 for item in plan.get("attention", []) if kind_of(item["address"]) == "cards")
    return counts


# What every format counts, in the order it says them: (key of `tally`, the label of the Markdown table's column and
# of the HTML report's chip). The summary line says the same counts in a sentence.
COUNTED = (
    ("create", N_("create")),
    ("update", N_("update")),
    ("review", N_("back to review")),
    ("stock", N_("stock")),
    ("codes", N_("codes to deposit")),
    ("upload", N_("codes to upload")),
    ("replace", N_("replace")),
    ("delete", N_("delete")),
    ("gone", N_("deleted outside wxrec")),
    ("forget", N_("forget")),
    ("import", N_("import")),
    ("move", N_("move")),
    ("render", N_("QR images to draw")),
    ("rejected", N_("rejected in review")),
)
# Shown even at 0: what a reviewer looks for first. The others only when there are any.
ALWAYS_COUNTED = frozenset({"create", "update", "stock", "replace", "delete"})


def shown_counts(plan: dict[str, Any]) -> list[tuple[str, str, int]]:
    """The counts every format shows, in order: (key, label in the report's language, count)."""
    counts = tally(plan)
    return [
        (key, _(label), counts.get(key, 0)) for key, label in COUNTED if key in ALWAYS_COUNTED or counts.get(key, 0)
    ]


def summary_line(plan: dict[str, Any], title: str = "wxrec plan") -> str:
    """The counts in one sentence, in the report's language (the terminal's is English)."""
    if "targeting" in plan:
        # A scoped plan says nothing about the rest: never "the account matches".
        if not plan["changes"]:
            return _(
                "No changes to the targeted resources. Only the targeted resources were considered; the rest of the "
                "manifests was not."
            )
        scoped = _("{counts} Only the targeted resources were considered; the rest of the manifests was not.")
        return scoped.format(counts=_counts(plan))
    rejected = tally(plan)["rejected"]
    if not plan["changes"] and rejected:
        return ngettext(
            "No changes, but {count} card rejected in WeChat's review: see above.",
            "No changes, but {count} cards rejected in WeChat's review: see above.",
            rejected,
        ).format(count=rejected)
    if not plan["changes"]:
        return _in_sync(plan, title)
    return _counts(plan)


def _counts(plan: dict[str, Any]) -> str:
    counts = tally(plan)
    review = _(" ({count} back to review)").format(count=counts["review"]) if counts["review"] else ""
    words = {
        "create": _("{count} to create"),
        "update": _("{count} to update") + review,
        "stock": ngettext("{count} stock change", "{count} stock changes", counts["stock"]),
        "codes": ngettext("{count} code to deposit", "{count} codes to deposit", counts["codes"]),
        "upload": ngettext("{count} code to upload", "{count} codes to upload", counts["upload"]),
        "replace": _("{count} to replace"),
        "delete": _("{count} to delete"),
        "gone": _("{count} deleted outside wxrec"),
        "forget": _("{count} to forget"),
        "import": _("{count} to import"),
        "move": _("{count} to move"),
        "render": ngettext("{count} QR image to draw", "{count} QR images to draw", counts.get("render", 0)),
        "rejected": _("{count} rejected in review"),
    }
    # Back to review is said with the updates it is part of.
    parts = [words[key].format(count=count) for key, _label, count in shown_counts(plan) if key != "review"]
    return _("Plan: {counts}.").format(counts=_(", ").join(parts))


def _render_change(change: dict[str, Any], color: bool) -> list[str]:
    symbol, tint, text = HEADLINES[change["action"]]
    if change["action"] == "replace" and kind_of(change["address"]) == "pay_coupons":
        text = STOCK_REPLACED
    card_id = f" ({change['id']})" if change.get("id") else ""
    headline = f"{symbol} {change['address']}{card_id} {text}"
    if change["review"]:
        headline += ": goes back to review"
    lines = [_style(headline, tint, color)]
    lines += [f"    because {reason}" for reason in change["reasons"]]
    if change["action"] == "create" and "fields" in (change["after"] or {}):
        lines += _render_fields(change["after"])
    elif (value := new_value(change)) is not None:
        lines += [f"    {line}" for line in spec_lines(value)]
    lines += [f"    {line}" for line in change.get("details", [])]
    for attribute in change["changes"]:
        lines += [f"    {line}" for line in _render_attribute(attribute)]
    if change["stock"]:
        lines.append("    " + _render_stock(change["stock"]))
    if change["retire_ids"]:
        lines.append(f"    delete old card(s) {', '.join(change['retire_ids'])}: the replacement passed review")
    lines += [f"    note: {note}" for note in change["notes"]]
    lines.append("")
    return lines


def _render_fields(after: dict[str, Any]) -> list[str]:
    lines = [f"    card_type: {after['card_type']}"]
    lines += [f"    {path}: {format_value(path, value)}" for path, value in sorted(after["fields"].items())]
    stock = after["stock"]
    lines.append(f"    stock: {stock['target']} ({stock['mode']})")
    return lines


def new_value(change: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest value of a resource made for the first time, every line of it new: a landing page's or QR
    code's `spec`, a WeChat Pay stock's `stock` (the body its creation sends). One made anew in place of an
    earlier one shows only what changed (its `changes`), or nothing when only what it points at did; a card lists
    its `fields` instead (None here)."""
    after, before = change["after"] or {}, change["before"] or {}
    if change["action"] != "create" or "fields" in after:
        return None
    return next(
        (after[key] for key in ("spec", "stock") if isinstance(after.get(key), dict) and not before.get(key)), None
    )


def spec_lines(spec: dict[str, Any], prefix: str = "") -> list[str]:
    """A landing page's or QR code's manifest value, one leaf per line."""
    lines = []
    for key, value in spec.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            lines += spec_lines(value, path + ".")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, item in enumerate(value):
                lines += spec_lines(item, f"{path}.{index}.")
        else:
            lines.append(f"{path}: {format_value(path, value)}")
    return lines


def _render_attribute(attribute: dict[str, Any]) -> list[str]:
    path, items = attribute["path"], attribute["items"]
    if gains_or_loses(items):
        text = f"{path}: {items_summary(path, items)}"
        return [text + _tags(attribute), *(f"    {line}" for line in item_lines(path, items, SHOWN_ITEMS))]
    # A list whose items only moved: the order is the change, so both orders are shown.
    text = f"{path}: {format_value(path, attribute['old'])} → {format_value(path, attribute['new'])}"
    return [text + _tags(attribute)]


def _tags(attribute: dict[str, Any]) -> str:
    tags = []
    if attribute["reset"]:
        tags.append("no longer in the manifest: reset")
    if attribute["forces_replace"]:
        tags.append("forces replacement")
    elif attribute["review"]:
        tags.append("re-review")
    return f"   # {'; '.join(tags)}" if tags else ""


def gains_or_loses(items: dict[str, Any] | None) -> bool:
    """Whether a change's `items` (null unless its field holds a list) add or remove any."""
    return bool(items and (items["added"] or items["removed"]))


def items_summary(path: str, items: dict[str, Any]) -> str:
    """`+3 stores, −1`: what a list-valued field gains and loses, the item's noun (if it has one) said once."""
    parts = [f"{sign}{len(found)}" for sign, found in (("+", items["added"]), ("−", items["removed"])) if found]
    if parts and path.rsplit(".", 1)[-1] == "location_id_list":  # its items are things with a name
        first = len(items["added"] or items["removed"])
        parts[0] += " " + ngettext("store", "stores", first)
    if items["reordered"]:
        parts.append(_("reordered"))
    return ", ".join(parts)


def item_lines(path: str, items: dict[str, Any], limit: int) -> list[str]:
    """`+ item` and `− item`, one per line, at most `limit` of each and then how many more."""
    return _side("+", path, items["added"], limit) + _side("−", path, items["removed"], limit)


def _side(sign: str, path: str, found: list[Any], limit: int) -> list[str]:
    more = [f"{sign} " + _("… and {count} more").format(count=len(found) - limit)] if len(found) > limit else []
    return [f"{sign} {format_value(path, item)}" for item in found[:limit]] + more


def attribute_cells(attribute: dict[str, Any]) -> tuple[str, str, str]:
    """What the Markdown and HTML tables show of a change in their summary, before and after columns: for a
    list that gains or loses items, how many, the removed ones (one a line) and the added ones; else both
    values whole."""
    path, items = attribute["path"], attribute["items"]
    if not gains_or_loses(items):
        return "", format_value(path, attribute["old"]), format_value(path, attribute["new"])
    removed = _side("−", path, items["removed"], SHOWN_ITEMS)
    return items_summary(path, items), "\n".join(removed), "\n".join(_side("+", path, items["added"], SHOWN_ITEMS))


def _render_stock(stock: dict[str, Any]) -> str:
    delta = stock["delta"]
    return (
        f"stock {delta:+d}: claimable {stock['quantity']} → {stock['quantity'] + delta}, "
        f"issued in all {stock['total_quantity']} → {stock['total_quantity'] + delta} ({stock['note']})"
    )


def format_value(path: str, value: Any) -> str:
    if value is None:
        return _("(unset)")
    if isinstance(value, int) and not isinstance(value, bool) and path.endswith(("_timestamp", "_time")):
        moment = datetime.fromtimestamp(value, CHINA_TIME)
        return f"{value} ({moment:%Y-%m-%d %H:%M:%S} UTC+8)"
    return json.dumps(value, ensure_ascii=False)


def _style(text: str, tint: str, color: bool) -> str:
    return click.style(text, fg=tint) if color else text
