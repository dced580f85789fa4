"""The plan as a pull-request comment: summary table, destructive actions first, a fold per resource.

Rendered from the plan document alone. It stays under a code host's comment limit by folding the longest
sections and saying which were folded.
"""

from __future__ import annotations

from typing import Any

from reconciler.address import kind_of
from reconciler.i18n import N_, _, ngettext, say, spoken
from reconciler.render import attention
from reconciler.render.text import (
    HEADLINES,
    attribute_cells,
    format_value,
    is_new_spec,
    spec_lines,
    summary_line,
    tally,
)

COMMENT_LIMIT = 65_536
# Room for the folding note and a code host's own wrapping.
BUDGET = COMMENT_LIMIT - 2_000
DESTRUCTIVE = ("replace", "delete", "retire")
# The summary table's columns: (key of render.text.tally, heading).
TABLE = (
    ("create", N_("create")),
    ("update", N_("update")),
    ("review", N_("back to review")),
    ("stock", N_("stock")),
    ("codes", N_("codes to deposit")),
    ("replace", N_("replace")),
    ("delete", N_("delete")),
    ("gone", N_("deleted outside wxrec")),
    ("forget", N_("forget")),
)


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
                limit=f"{COMMENT_LIMIT:,}", addresses=", ".join(f"`{a}`" for a in folded)
            )
            + " "
            + _("`wxrec plan --format json` has every value.")
            + "_\n"
        )
    return head + "".join(sections) + tail


def _head(plan: dict[str, Any], title: str) -> str:
    lines = [
        "### "
        + _("{title} for `{appid}` at `{endpoint}`").format(
            title=title, appid=plan["appid"], endpoint=plan["endpoint"]
        ),
        "",
    ]
    if not plan.get("refreshed", True) and title == "wxrec plan":
        lines += [
            "> "
            + _("The live account was **not read** (`--refresh=false`): compared with state's last-applied values."),
            "",
        ]
    destructive = [c for c in plan["changes"] if c["action"] in DESTRUCTIVE]
    if destructive:
        items = ", ".join(f"`{c['address']}` {_verb(c).split(' (')[0]}" for c in destructive)
        lines += [f"> [!CAUTION]\n> **{_('Destructive:')}** {items}", ""]
    for refusal in spoken(plan, "refusals"):
        lines += [f"> [!WARNING]\n> **{_('Refused:')}** {_inline(refusal)}", ""]
    for warning in spoken(plan, "warnings"):
        lines += [f"> **{_('Warning:')}** {_inline(warning)}", ""]
    for item in plan.get("attention", []):
        needs = _("Needs attention:")
        what = f"`{item['address']}` (`{item['id']}`) {say(attention.what(item))}"
        lines += [f"> [!IMPORTANT]\n> **{needs}** {what}. {say(attention.todo(item, plan))}", ""]
    counts = tally(plan)
    lines += [
        "| " + " | ".join(_(label) for _key, label in TABLE) + " |",
        "|" + " ---: |" * len(TABLE),
        "| " + " | ".join(str(counts[key]) for key, _label in TABLE) + " |",
        "",
        f"**{summary_line(plan, title)}**",
        "",
    ]
    return "\n".join(lines) + "\n"


def _tail(plan: dict[str, Any]) -> str:
    unmanaged = plan["unmanaged"]
    if not unmanaged:
        return ""
    shown = ", ".join(f"`{i}`" for i in unmanaged[:20])
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
    symbol = HEADLINES[change["action"]][0]
    card_id = f" ({change['id']})" if change.get("id") else ""
    review = " — " + _("goes back to review") if change["review"] else ""
    return f"<summary><code>{symbol}</code> <b>{change['address']}</b>{card_id} {_verb(change)}{review}</summary>"


def _section(change: dict[str, Any]) -> str:
    lines = ["<details>", _summary(change), ""]
    lines += ["- " + _("because {reason}").format(reason=_inline(reason)) for reason in spoken(change, "reasons")]
    if change.get("details"):
        lines += ["", "```diff", *change["details"], "```"]
    rows = _rows(change)
    if rows:
        head = f"| {_('field')} | {_('before')} | {_('after')} | |"
        lines += ["", head, "| --- | --- | --- | --- |", *rows, ""]
    lines += [f"- {_inline(note)}" for note in spoken(change, "notes")]
    if change["retire_ids"]:
        retired = ", ".join(change["retire_ids"])
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
    if is_new_spec(change):
        return [
            f"| `{line.split(': ', 1)[0]}` | | {_inline(line.split(': ', 1)[1])} | |"
            for line in spec_lines(change["after"]["spec"])
        ]
    if change["action"] == "create" and "fields" in (change["after"] or {}):
        after = change["after"]
        rows = [f"| `card_type` | | {after['card_type']} | |"]
        rows += [f"| `{p}` | | {_cell(p, v)} | |" for p, v in sorted(after["fields"].items())]
        stock = after["stock"]
        return [*rows, f"| {_('stock')} | | {stock['target']} ({stock_mode(stock['mode'])}) | |"]
    rows = []
    for attribute in change["changes"]:
        summary, old, new = attribute_cells(attribute)
        field = f"`{attribute['path']}`" + (f" ({summary})" if summary else "")
        rows.append(f"| {field} | {_inline(old)} | {_inline(new)} | {attribute_tag(attribute)} |")
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
    return _inline(format_value(path, value))


def _inline(text: str) -> str:
    """Text safe inside a table cell or a one-line quote: no raw newlines, pipes or HTML."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return escaped.replace("\r", "").replace("\n", "<br>")
