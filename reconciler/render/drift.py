"""The drift report (`wxrec drift`) for a terminal and for an alert, from the report document."""

from __future__ import annotations

from typing import Any

from reconciler.render.text import SHOWN_ITEMS, format_value, gains_or_loses, item_lines, items_summary

SECTIONS = (
    ("attention", "Needs attention in WeChat (drift)"),
    ("live", "Changed in WeChat by hand (drift)"),
    ("manifest", "Changed in the manifests, not applied yet"),
    ("refills", "Claimed since the last apply (the campaign working: stock to refill, not drift)"),
)


def _line(item: dict[str, Any]) -> str:
    card = f" ({item['id']})" if item.get("id") else ""
    text = f"{item['address']}{card}: {item['what']}" + (f". {item['todo']}" if "todo" in item else "")
    if "path" not in item:
        return text
    path = item["path"]
    live, wanted, items = item["live"], item["wanted"], item["items"]
    if items is not None and gains_or_loses(items):
        listed = ", ".join(item_lines(path, items, SHOWN_ITEMS))
        return f"{text}: the manifest's {path} against WeChat's: {items_summary(path, items)} ({listed})"
    return f"{text}: {path} is {format_value(path, live)}, the manifest says {format_value(path, wanted)}"


def render_drift_text(report: dict[str, Any]) -> str:
    lines = [f"wxrec drift for account {report['appid']} at {report['endpoint']}", ""]
    for key, title in SECTIONS:
        if report[key]:
            lines += [f"{title}:", *(f"  {_line(item)}" for item in report[key]), ""]
    lines.append("In sync." if report["in_sync"] else "Drifted.")
    return "\n".join(lines) + "\n"


def render_drift_markdown(report: dict[str, Any]) -> str:
    verdict = "in sync" if report["in_sync"] else "**drifted**"
    lines = [f"### wxrec drift for `{report['appid']}`: {verdict}", ""]
    for key, title in SECTIONS:
        if report[key]:
            lines += [f"#### {title}", "", *(f"- {_escape(_line(item))}" for item in report[key]), ""]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")
