"""The plan as a pull-request comment: summary table, destructive actions first, a fold per resource.

Rendered from the plan document alone. It stays under a code host's comment limit by folding the longest
sections and saying which were folded.
"""

from __future__ import annotations

import html
import re
from typing import Any

from reconciler.address import kind_of
from reconciler.i18n import N_, _, ngettext, say, spoken
from reconciler.render import attention
from reconciler.render.text import (
    HEADLINES,
    attribute_cells,
    format_value,
    new_value,
    shown_counts,
    spec_lines,
    summary_line,
)

COMMENT_LIMIT = 65_536
# What Markdown would read as markup in a value: a backslash, code, emphasis, strikethrough, a link's brackets; an
# underscore only where it can open or close emphasis (not inside a word: CODE_TYPE_QRCODE stays as it is).
MARKUP = re.compile(r"[\\`*~\[\]]|(?<![^\W_])_|_(?![^\W_])")
# Room for the folding note and a code host's own wrapping.
BUDGET = COMMENT_LIMIT - 2_000
DESTRUCTIVE = ("replace", "delete", "retire")
# A message's code spans as CommonMark reads them (spec 6.1): a run of backticks up to the next run of the same
# length, else the run is text; a backslash escapes punctuation outside code only, so an escaped backtick opens
# nothing. Read left to right, a backslash escape or an unclosed run is passed over whole.
CODE_SPAN = re.compile(r"\\[!-/:-@\[-`{-~]|(?P<fence>`++).*?(?<!`)(?P=fence)(?!`)|`+", re.DOTALL)


def render_markdown(plan: dict[str, Any], *, title: str = "wxrec plan", share: int = 1) -> str:
    """`share`: how many plans share one comment (several accounts), each getting that part of the budget."""
    head = _head(plan, title)
    sections = [_section(change) for change in plan["changes"]]
    tail = _tail(plan)
    folded: list[str] = []
    while sections and len(head) + sum(map(len, sections)) + len(tail) > BUDGET // share:
        index = max(range(len(sections)), key=lambda i: len(sections[i]))
        change = plan["changes"][index]
        if change["address"] in folded:
            break
        sections[index] = _folded_section(change)
        folded.append(change["address"])
    if folded:
        tail += (
            "\n_"
            + _("Folded to fit a {limit}-character comment: {addresses}.").format(
                limit=f"{COMMENT_LIMIT:,}", addresses=", ".join(map(_code, folded))
            )
            + " "
            + _("`wxrec plan --format json` has every value.")
            + "_\n"
        )
    return head + "".join(sections) + tail


def _head(plan: dict[str, Any], title: str) -> str:
    if title == "wxrec diff":
        heading = _("{title} for {appid} from {endpoint} to the working tree")
    else:
        heading = _("{title} for {appid} at {endpoint}")
    lines = ["### " + heading.format(title=title, appid=_code(plan["appid"]), endpoint=_code(plan["endpoint"])), ""]
    if not plan.get("refreshed", True) and title == "wxrec plan":
        lines += [
            "> "
            + _("The live account was **not read** (`--refresh=false`): compared with state's last-applied values."),
            "",
        ]
    destructive = [c for c in plan["changes"] if c["action"] in DESTRUCTIVE]
    if destructive:
        items = ", ".join(f"{_code(c['address'])} {_verb(c).split(' (')[0]}" for c in destructive)
        lines += [f"> [!CAUTION]\n> **{_('Destructive:')}** {items}", ""]
    for refusal in spoken(plan, "refusals"):
        lines += [f"> [!WARNING]\n> **{_('Refused:')}** {inline(refusal)}", ""]
    for warning in spoken(plan, "warnings"):
        lines += [f"> **{_('Warning:')}** {inline(warning)}", ""]
    for item in plan.get("attention", []):
        needs = _("Needs attention:")
        what = f"{_code(item['address'])} ({_code(item['id'])}) {inline(say(attention.what(item)))}"
        lines += [f"> [!IMPORTANT]\n> **{needs}** {what}. {inline(say(attention.todo(item, plan)))}", ""]
    counts = shown_counts(plan)
    lines += [
        "| " + " | ".join(label for _key, label, _count in counts) + " |",
        "|" + " ---: |" * len(counts),
        "| " + " | ".join(str(count) for _key, _label, count in counts) + " |",
        "",
        f"**{summary_line(plan, title)}**",
        "",
    ]
    return "\n".join(lines) + "\n"


def _tail(plan: dict[str, Any]) -> str:
    unmanaged = plan["unmanaged"]
    if not unmanaged:
        return ""
    shown = ", ".join(_code(i) for i in unmanaged[:20])
    more = _(" and {count} more").format(count=len(unmanaged) - 20) if len(unmanaged) > 20 else ""
    never_touched = ngettext(
        "{count} unmanaged live card, never touched: {cards}",
        "{count} unmanaged live cards, never touched: {cards}",
        len(unmanaged),
    )
    return "\n" + never_touched.format(count=len(unmanaged), cards=shown + more) + "\n"


VERBS = {
    "create": N_("created"),
    "update": N_("updated in place"),
    "stock": N_("stock changed"),
    "replace": N_("replaced (new card first, old one deleted after review)"),
    "retire": N_("old card(s) deleted"),
    "delete": N_("deleted"),
    "gone": N_("deleted outside wxrec"),
    "forget": N_("forgotten (stays live: WeChat cannot delete it)"),
    "import": N_("imported (state only)"),
    "move": N_("renamed: state follows (nothing is re-created)"),
    "render": N_("images drawn again from the url in state (no WeChat call)"),
}


STOCK_REPLACED = N_("replaced by a new stock (the old one keeps issuing until stopped in the merchant platform)")


def _verb(change: dict[str, Any]) -> str:
    action = change["action"]
    if action == "replace" and kind_of(change["address"]) == "pay_coupons":
        return _(STOCK_REPLACED)
    return _(VERBS[action])


def _summary(change: dict[str, Any]) -> str:
    """An HTML line: GitHub reads no Markdown in it, and an id may be a stand-in such as `<cards.x>` (wxrec diff)."""
    symbol = HEADLINES[change["action"]][0]
    card_id = f" ({_html(change['id'])})" if change.get("id") else ""
    review = " — " + _("goes back to review") if change["review"] else ""
    address, verb = _html(change["address"]), _html(_verb(change) + review)
    return f"<summary><code>{_html(symbol)}</code> <b>{address}</b>{card_id} {verb}</summary>"


def _section(change: dict[str, Any]) -> str:
    lines = ["<details>", _summary(change), ""]
    lines += ["- " + _("because {reason}").format(reason=inline(reason)) for reason in spoken(change, "reasons")]
    if change.get("details"):
        fence = "`" * max(3, _longest_backticks("\n".join(change["details"])) + 1)
        lines += ["", f"{fence}diff", *change["details"], fence]
    rows = _rows(change)
    if rows:
        head = f"| {_('field')} | {_('before')} | {_('after')} | |"
        lines += ["", head, "| --- | --- | --- | --- |", *rows, ""]
    lines += [f"- {inline(note)}" for note in spoken(change, "notes")]
    if change["retire_ids"]:
        retired = ", ".join(map(_code, change["retire_ids"]))
        lines.append("- " + _("deletes old card(s) {cards}: the replacement passed review").format(cards=retired))
    return "\n".join([*lines, "", "</details>", "", ""])


def _folded_section(change: dict[str, Any]) -> str:
    after = change["after"] or {}
    count = len(change["changes"]) + len(after.get("fields", ()) if change["action"] == "create" else ())
    return "\n".join(
        [
            "<details>",
            _summary(change),
            "",
            "_" + ngettext("{count} value folded.", "{count} values folded.", count).format(count=count) + "_",
            "",
            "</details>",
            "",
            "",
        ]
    )


def _rows(change: dict[str, Any]) -> list[str]:
    if (value := new_value(change)) is not None:
        return [
            f"| {_cell_code(line.split(': ', 1)[0])} | | {_value(line.split(': ', 1)[1])} | |"
            for line in spec_lines(value)
        ]
    if change["action"] == "create" and "fields" in (change["after"] or {}):
        after = change["after"]
        rows = [f"| `card_type` | | {_value(after['card_type'])} | |"]
        rows += [f"| {_cell_code(p)} | | {_cell(p, v)} | |" for p, v in sorted(after["fields"].items())]
        stock = after["stock"]
        return [*rows, f"| {_('stock')} | | {stock['target']} ({stock_mode(stock['mode'])}) | |"]
    rows = []
    for attribute in change["changes"]:
        summary, old, new = attribute_cells(attribute)
        field = _cell_code(attribute["path"]) + (f" ({inline(summary, cell=True)})" if summary else "")
        rows.append(f"| {field} | {_value(old)} | {_value(new)} | {attribute_tag(attribute)} |")
    stock = change["stock"]
    if stock:
        before, after = stock["quantity"], stock["quantity"] + stock["delta"]
        old, new = (_("{count} claimable").format(count=count) for count in (before, after))
        rows.append(f"| {_('stock')} ({stock_mode(stock['mode'])}) | {old} | {new} | {stock['delta']:+d} |")
    return rows


# A card's stock modes (the manifest's words for sku.quantity, total_quantity and the deposit mode).
STOCK_MODES = {"refill": N_("refill"), "budget": N_("budget"), "deposit": N_("deposit")}


def stock_mode(mode: str) -> str:
    """A stock mode in the report's language (also the HTML report's)."""
    return _(STOCK_MODES[mode]) if mode in STOCK_MODES else mode


def attribute_tag(attribute: dict[str, Any]) -> str:
    """What an attribute change entails, in a word or three (also the HTML report's)."""
    if attribute["reset"]:
        return _("reset: no longer in the manifest")
    if attribute["forces_replace"]:
        return _("forces replacement")
    return _("re-review") if attribute["review"] else ""


def _cell(path: str, value: Any) -> str:
    return _value(format_value(path, value))


def _value(text: str) -> str:
    """A value in a table cell, shown as it is (a message keeps its Markdown: its commands are code)."""
    return inline(MARKUP.sub(r"\\\g<0>", text), cell=True)


def _html(text: str) -> str:
    """Text inside an HTML line of the comment: escaped, and on that line (a blank line would end the HTML block)."""
    return html.escape(" ".join(str(text).splitlines()), quote=False)


def _code(text: str) -> str:
    """A code span holding any text: its backtick fence longer than any run inside, on one line."""
    text = " ".join(str(text).splitlines())
    fence = "`" * (_longest_backticks(text) + 1)
    # A space or backtick at either end would be read as part of the fence (a padding space is taken off).
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell_code(text: str) -> str:
    """A code span inside a table cell, where a pipe ends the cell even in code unless escaped."""
    return _code(text).replace("|", "\\|")


def _longest_backticks(text: str) -> int:
    return max(map(len, re.findall("`+", text)), default=0)


def inline(text: str, *, cell: bool = False) -> str:
    """A message on one line of a quote or a list, or in a table cell (`cell`): no raw newlines, pipes or HTML.
    Its code spans stay as written, CommonMark decoding neither entities nor backslash escapes in code (a command
    must read as it is typed); in a cell a pipe is escaped even there, as GFM's table takes `\\|` back to `|`."""
    text, shown, start = text.replace("\r", ""), [], 0
    for token in CODE_SPAN.finditer(text):
        if token["fence"]:
            code = token[0].replace("\n", " ")  # code reads a line break as a space: the same on one line
            shown += [_plain(text[start : token.start()]), code.replace("|", "\\|") if cell else code]
            start = token.end()
    return "".join([*shown, _plain(text[start:])])


def _plain(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return escaped.replace("\n", "<br>")
