"""The plan for a terminal, rendered from the plan document (the same one `--format json` prints)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import click

CHINA_TIME = timezone(timedelta(hours=8))

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


def render_plan(plan: dict[str, Any], *, color: bool = False, title: str = "wxrec plan") -> str:
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
    if plan["unmanaged"]:
        shown = ", ".join(plan["unmanaged"][:10])
        more = f" and {len(plan['unmanaged']) - 10} more" if len(plan["unmanaged"]) > 10 else ""
        lines.append(f"Unmanaged: {len(plan['unmanaged'])} live card(s) not in state, never touched: {shown}{more}")
        lines.append("")
    for refusal in plan["refusals"]:
        lines.append(_style(f"Refused: {refusal}", "red", color))
    in_sync = "The manifests are the same." if title == "wxrec diff" else "The live account matches the manifests."
    lines.append(summary_line(plan, in_sync=in_sync))
    return "\n".join(lines) + "\n"


def summary_line(plan: dict[str, Any], *, in_sync: str = "The live account matches the manifests.") -> str:
    if not plan["changes"]:
        return f"No changes. {in_sync}"
    counts = plan["summary"]
    review = sum(1 for c in plan["changes"] if c["review"])
    parts = [
        f"{counts['create']} to create",
        f"{counts['update']} to update" + (f" ({review} back to review)" if review else ""),
        f"{counts['stock']} stock",
        f"{counts['replace']} to replace",
        f"{counts['delete'] + counts['retire']} to delete",
    ]
    if counts["gone"]:
        parts.append(f"{counts['gone']} deleted outside wxrec")
    if counts["forget"]:
        parts.append(f"{counts['forget']} to forget")
    for action, words in (("import", "to import"), ("move", "to move"), ("render", "QR image(s) to draw")):
        if counts.get(action):
            parts.append(f"{counts[action]} {words}")
    return "Plan: " + ", ".join(parts) + "."


def _render_change(change: dict[str, Any], color: bool) -> list[str]:
    symbol, tint, text = HEADLINES[change["action"]]
    card_id = f" ({change['id']})" if change.get("id") else ""
    headline = f"{symbol} {change['address']}{card_id} {text}"
    if change["review"]:
        headline += ": goes back to review"
    lines = [_style(headline, tint, color)]
    lines += [f"    because {reason}" for reason in change["reasons"]]
    if change["action"] == "create" and "fields" in (change["after"] or {}):
        lines += _render_fields(change["after"])
    elif change["action"] == "create" and change["after"]:
        lines += [f"    {line}" for line in spec_lines(change["after"]["spec"])]
    lines += [f"    {line}" for line in change.get("details", [])]
    for attribute in change["changes"]:
        lines.append("    " + _render_attribute(attribute))
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


def _render_attribute(attribute: dict[str, Any]) -> str:
    path = attribute["path"]
    text = f"{path}: {format_value(path, attribute['old'])} → {format_value(path, attribute['new'])}"
    tags = []
    if attribute["reset"]:
        tags.append("no longer in the manifest: reset")
    if attribute["forces_replace"]:
        tags.append("forces replacement")
    elif attribute["review"]:
        tags.append("re-review")
    return text + (f"   # {'; '.join(tags)}" if tags else "")


def _render_stock(stock: dict[str, Any]) -> str:
    delta = stock["delta"]
    return (
        f"stock {delta:+d}: claimable {stock['quantity']} → {stock['quantity'] + delta}, "
        f"issued in all {stock['total_quantity']} → {stock['total_quantity'] + delta} ({stock['note']})"
    )


def format_value(path: str, value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, int) and not isinstance(value, bool) and path.endswith(("_timestamp", "_time")):
        moment = datetime.fromtimestamp(value, CHINA_TIME)
        return f"{value} ({moment:%Y-%m-%d %H:%M:%S} UTC+8)"
    return json.dumps(value, ensure_ascii=False)


def _style(text: str, tint: str, color: bool) -> str:
    return click.style(text, fg=tint) if color else text
