"""The drift report (`wxrec drift`) for a terminal (English) and for an alert (markdown, in the report's
language), from the report document."""

from __future__ import annotations

from typing import Any

from reconciler.i18n import N_, _, language, say, spoken
from reconciler.render.markdown import inline
from reconciler.render.text import SHOWN_ITEMS, format_value, gains_or_loses, item_lines, items_summary

SECTIONS = (
    ("warnings", N_("Warnings")),
    ("attention", N_("Needs attention in WeChat (drift)")),
    ("live", N_("Changed in WeChat by hand (drift)")),
    ("manifest", N_("Changed in the manifests, not applied yet")),
    ("refills", N_("Claimed since the last apply (the campaign working: stock to refill, not drift)")),
    ("refusals", N_("What apply would refuse")),
)
# The plan's own sentences (Said): the rest are drift entries.
SENTENCES = ("warnings", "refusals")


def _lines(report: dict[str, Any], key: str) -> list[str]:
    if key in SENTENCES:
        return spoken(report, key)
    return [_line(item) for item in report[key]]


def _line(item: dict[str, Any]) -> str:
    card = f" ({item['id']})" if item.get("id") else ""
    text = f"{item['address']}{card}: {say(item['what'])}" + (f". {say(item['todo'])}" if "todo" in item else "")
    if "path" not in item:
        return text
    path = item["path"]
    live, wanted, items = item["live"], item["wanted"], item["items"]
    if items is not None and gains_or_loses(items):
        listed = ", ".join(item_lines(path, items, SHOWN_ITEMS))
        against = _("{text}: the manifest's {path} against WeChat's: {change} ({items})")
        return against.format(text=text, path=path, change=items_summary(path, items), items=listed)
    says = _("{text}: {path} is {live}, the manifest says {wanted}")
    return says.format(text=text, path=path, live=format_value(path, live), wanted=format_value(path, wanted))


def render_drift_text(report: dict[str, Any]) -> str:
    with language("en"):
        lines = [f"wxrec drift for account {report['appid']} at {report['endpoint']}", ""]
        for key, title in SECTIONS:
            if report[key]:
                lines += [f"{title}:", *(f"  {line}" for line in _lines(report, key)), ""]
        lines.append("In sync." if report["in_sync"] else "Drifted.")
        return "\n".join(lines) + "\n"


def render_drift_markdown(report: dict[str, Any]) -> str:
    verdict = _("in sync") if report["in_sync"] else "**" + _("drifted") + "**"
    lines = ["### " + _("wxrec drift for `{appid}`: {verdict}").format(appid=report["appid"], verdict=verdict), ""]
    for key, title in SECTIONS:
        if report[key]:
            lines += [f"#### {_(title)}", "", *(f"- {inline(line)}" for line in _lines(report, key)), ""]
    return "\n".join(lines) + "\n"
