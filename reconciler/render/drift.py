"""The drift report (`wxrec drift`) for a terminal and for an alert, from the report document."""

from __future__ import annotations

from typing import Any

from reconciler.render.text import format_value

SECTIONS = (
    ("live", "Changed in WeChat by hand (drift)"),
    ("manifest", "Changed in the manifests, not applied yet"),
    ("refills", "Claimed since the last apply (the campaign working: stock to refill, not drift)"),
)


def _line(item: dict[str, Any]) -> str:
    card = f" ({item['id']})" if item.get("id") else ""
    text = f"{item['address']}{card}: {item['what']}"
    if "path" in item:
        path = item["path"]
        text += (
            f": {path} is {format_value(path, item['live'])}, the manifest says {format_value(path, item['wanted'])}"
        )
    return text


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
