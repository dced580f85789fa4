"""The plan as one self-contained HTML page for the people who approve a change: each card drawn as WeChat
shows it, before and after; the menu as the phone's bottom bar; landing pages as their shelf of cards; QR
codes as inline SVG; the whitelist with additions and removals marked.

Rendered from the plan document alone (plus the colour palette and any logos fetched beforehand), with no
script and nothing to fetch: a Content-Security-Policy forbids every load but inline styles and data: images.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import jinja2
import segno
from markupsafe import Markup

from reconciler.address import Address, kind_of
from reconciler.i18n import N_, _, current, say, spoken
from reconciler.render import attention
from reconciler.render.card_face import Face, Stock, changed_parts, colour_hex, differing_parts, face, text_colour_on
from reconciler.render.markdown import attribute_tag, stock_mode
from reconciler.render.pay_face import pay_faces
from reconciler.render.text import attribute_cells, shown_counts, spec_lines, summary_line
from reconciler.resources import find
from reconciler.resources.menu_tree import is_sub_menu, pair_buttons

DESTRUCTIVE = ("replace", "delete", "retire")
# Counts drawn in red when there are any: what loses a card or needs its owner.
ALARMING_COUNTS = frozenset({"replace", "delete", "gone", "rejected"})
BADGES = {
    "create": (N_("new"), "new"),
    "update": (N_("updated in place"), "update"),
    "stock": (N_("stock change"), "update"),
    "replace": (N_("replaced: users keep old copies"), "destroy"),
    "delete": (N_("deleted"), "destroy"),
    "retire": (N_("deleted"), "destroy"),
    "gone": (N_("deleted outside wxrec"), "destroy"),
    "forget": (N_("forgotten: stays live"), "update"),
    "import": (N_("imported: state only"), "update"),
    "move": (N_("renamed: state only"), "update"),
    "render": (N_("images drawn again: no WeChat call"), "update"),
}
# Where a landing page is shown, as its `scene` names it (card/landingpage/create).
SCENES = {
    "SCENE_NEAR_BY": N_("nearby"),
    "SCENE_MENU": N_("custom menu"),
    "SCENE_QRCODE": N_("QR code"),
    "SCENE_ARTICLE": N_("article"),
    "SCENE_H5": N_("H5 page"),
    "SCENE_IVR": N_("auto-reply"),
    "SCENE_CARD_CUSTOM_CELL": N_("card's custom cell"),
}
REVIEW_BADGE = (N_("goes back to review"), "review")
REJECTED_BADGE = (N_("rejected in review"), "destroy")
CONSEQUENCES = {
    "replace": N_("replaced: a new card is created, the old one deleted after review; users keep the copies they hold"),
    "delete": N_("deleted; users keep the copies they hold"),
    "retire": N_("deleted (old card of an earlier replace)"),
}

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("reconciler.render", "templates"),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Row:
    path: str
    old: str
    new: str
    tag: str


@dataclass(frozen=True)
class MenuButton:
    name: str
    detail: str
    changed: bool
    sub: list[MenuButton] = field(default_factory=list)


@dataclass(frozen=True)
class Thumb:
    label: str
    background: str
    foreground: str
    changed: bool


@dataclass(frozen=True)
class Shelf:
    title: str
    banner: str
    scene: str
    thumbs: list[Thumb]
    changed: frozenset[str]  # the page fields that differ from the other side: each is outlined alone


@dataclass(frozen=True)
class Listed:
    kind: str
    value: str
    status: str  # added, removed or kept


@dataclass
class Panel:
    """One change of the plan, drawn by the template according to `kind`."""

    change: dict[str, Any]
    kind: str
    badges: list[tuple[str, str]]
    rows: list[Row] = field(default_factory=list)
    before: Any = None
    after: Any = None
    listed: list[Listed] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # the change's, in the report's language
    notes: list[str] = field(default_factory=list)
    # A card rejected in review (the plan's `attention`): its face is stamped, and what to do is said.
    rejected: str = ""
    # A conditional menu: whom it is shown to.
    label: str = ""


def render_html(
    plan: dict[str, Any],
    *,
    palette: dict[str, str],
    logos: dict[str, str] | None = None,
    title: str = "wxrec plan",
) -> str:
    """The report for `plan` (a plan document); `logos` maps a logo url to the data: URI to draw for it."""
    cards = _card_index(plan["changes"], palette)
    panels = [_panel(change, palette, logos or {}, cards) for change in plan["changes"]]
    panels += _mark_rejected(plan, panels, palette, logos or {})
    panels.sort(key=lambda panel: not (panel.change["action"] in DESTRUCTIVE or panel.rejected))
    if title == "wxrec diff":
        heading = _("{title} for account {appid} from {endpoint} to the working tree")
    else:
        heading = _("{title} for account {appid} at {endpoint}")
    _environment.install_gettext_translations(current(), newstyle=True)  # type: ignore[attr-defined]
    return _environment.get_template("plan.html.j2").render(
        plan=plan,
        heading=heading.format(title=title, appid=plan["appid"], endpoint=plan["endpoint"]),
        title=title,
        panels=panels,
        destructive=[
            (c["address"], _(CONSEQUENCES[action])) for c in plan["changes"] if (action := c["action"]) in DESTRUCTIVE
        ],
        counts=[
            (label, count, "destroy" if key in ALARMING_COUNTS and count else "")
            for key, label, count in shown_counts(plan)
        ],
        summary=summary_line(plan, title),
        refusals=spoken(plan, "refusals"),
        warnings=spoken(plan, "warnings") + _stopped_stocks(plan),
    )


def _stopped_stocks(plan: dict[str, Any]) -> list[str]:
    """Stocks paused or stopped in the merchant platform (the plan's attention that is not a card), said beside
    the warnings: there is no review to stamp on them."""
    return [
        f"{item['address']} ({item['id']}): {say(attention.what(item))}. {say(attention.todo(item, plan))}"
        for item in plan.get("attention", [])
        if kind_of(item["address"]) != "cards"
    ]


def _panel(change: dict[str, Any], palette: dict[str, str], logos: dict[str, str], cards: dict[str, Thumb]) -> Panel:
    kind = find(kind_of(change["address"]))
    new_badge = kind.new_badge if kind else "new"
    badge = (new_badge, "new") if change["action"] == "create" else BADGES[change["action"]]
    badges = [(_(text), tone) for text, tone in [badge] + ([REVIEW_BADGE] if change["review"] else [])]
    panel = Panel(change, "other", badges, reasons=spoken(change, "reasons"), notes=spoken(change, "notes"))
    panel.rows = _rows(change)
    before, after = change["before"] or {}, change["after"] or {}
    if kind is None or kind.panel == "other":
        return panel
    if kind.panel == "card" and "fields" not in before and "fields" not in after:
        return panel  # a card's forget or gone: nothing to draw
    if kind.panel == "pay_coupon":
        if "stock" in before or "stock" in after:  # a forget draws nothing
            panel.kind = "card"  # drawn as a card face: one look for both
            panel.before, panel.after = pay_faces(change)
        return panel
    panel.kind = kind.panel
    if kind.panel == "card":
        panel.before, panel.after = _card_faces(change, palette, logos)
    elif kind.panel == "menu":
        # The default menu's document holds `menu`; a conditional menu's `conditional_menu`, with its rule.
        old, new = (doc.get("menu", doc.get("conditional_menu")) for doc in (before, after))
        panel.before, panel.after = _menu_bars(old, new, change["details"])
        panel.lines = change["details"]
        panel.label = _audience((new or old or {}).get("matchrule"))
    elif kind.panel == "shelf":
        panel.before, panel.after = _shelves(before.get("spec"), after.get("spec"), cards)
    elif kind.panel == "qr":
        panel.before = _qr_svg(before.get("url"))
        panel.lines = spec_lines(after.get("spec") or before.get("spec") or {}) if not change["changes"] else []
    elif kind.panel == "whitelist":
        panel.listed = _listed(before.get("whitelist"), after.get("whitelist"), change["action"])
    return panel


def _mark_rejected(
    plan: dict[str, Any], panels: list[Panel], palette: dict[str, str], logos: dict[str, str]
) -> list[Panel]:
    """Stamp the panel of each card rejected in review; one the plan does not change gets a panel of its own, its
    live face and no after (these are not changes: apply has nothing to do for them)."""
    by_address = {panel.change["address"]: panel for panel in panels}
    added = []
    for item in plan.get("attention", []):
        if kind_of(item["address"]) != "cards":
            continue  # a paused stock: said beside the warnings (_stopped_stocks), nothing to stamp
        panel = by_address.get(item["address"])
        if panel is None:
            change = {"address": item["address"], "id": item["id"], "action": "attention", "review": False}
            change |= {"changes": [], "stock": None, "reasons": [], "notes": [], "retire_ids": [], "details": []}
            before = face(
                item["before"]["card_type"],
                item["before"]["fields"],
                _live_stock(item["before"]["stock"]),
                palette,
                logos,
            )
            panel = Panel(
                change=change | {"before": item["before"], "after": None}, kind="card", badges=[], before=before
            )
            added.append(panel)
        panel.badges.append((_(REJECTED_BADGE[0]), REJECTED_BADGE[1]))
        panel.rejected = f"{say(attention.what(item))}. {say(attention.todo(item, plan))}"
    return added


def _rows(change: dict[str, Any]) -> list[Row]:
    rows = []
    for attribute in change["changes"]:
        summary, old, new = attribute_cells(attribute)
        path = attribute["path"] + (f" ({summary})" if summary else "")
        rows.append(Row(path, old, new, attribute_tag(attribute)))
    stock = change["stock"]
    if stock:
        before, after = stock["quantity"], stock["quantity"] + stock["delta"]
        label = f"{_('stock')} ({stock_mode(stock['mode'])})"
        rows.append(Row(label, _claimable(before), _claimable(after), f"{stock['delta']:+d}"))
    return rows


def _card_faces(
    change: dict[str, Any], palette: dict[str, str], logos: dict[str, str]
) -> tuple[Face | None, Face | None]:
    """The card before and after, each part that changed marked on both: what the plan says changed, and
    whatever is drawn differently (a replaced card's stock, say)."""
    old, new = _faces(change, palette, logos)
    if old is None or new is None:
        return old, new
    changed = changed_parts({attribute["path"] for attribute in change["changes"]}) | differing_parts(old, new)
    return replace(old, changed=changed), replace(new, changed=changed)


def _faces(change: dict[str, Any], palette: dict[str, str], logos: dict[str, str]) -> tuple[Face | None, Face | None]:
    before, after = change["before"], change["after"]
    old = face(before["card_type"], before["fields"], _live_stock(before["stock"]), palette, logos) if before else None
    if not after or "fields" not in after:
        return old, None
    if change["action"] in ("update", "stock") and before:
        # An update leaves what the manifest does not manage as it is live.
        fields = {**before["fields"], **after["fields"]}
        for attribute in change["changes"]:
            fields[attribute["path"]] = attribute["new"]
        stock, live = change["stock"], before["stock"]
        moved = {key: live[key] + stock["delta"] for key in ("quantity", "total_quantity")} if stock else live
        return old, face(after["card_type"], fields, _live_stock(moved), palette, logos)
    return old, face(after["card_type"], after["fields"], _target_stock(after["stock"]), palette, logos)


def _claimable(count: int) -> str:
    return _("{count} claimable").format(count=count)


def _live_stock(stock: dict[str, Any] | None) -> Stock:
    if not stock:
        return Stock(_("Stock unknown"), None)
    text = _("Stock {claimable} claimable · {issued} issued")
    return Stock(text.format(claimable=stock["quantity"], issued=stock["total_quantity"]), stock["quantity"])


def _target_stock(stock: dict[str, Any]) -> Stock:
    if stock["mode"] == "budget":
        return Stock(_("Stock {target} in all (budget)").format(target=stock["target"]), None)
    if stock["mode"] == "deposit":
        return Stock(_("Stock up to {target}, one per deposited code").format(target=stock["target"]), None)
    return Stock(_("Stock {target} claimable (refill)").format(target=stock["target"]), stock["target"])


def _card_index(changes: list[dict[str, Any]], palette: dict[str, str]) -> dict[str, Thumb]:
    """What the plan knows of each card (title and colour, after the change), for landing page shelves."""
    index = {}
    for change in changes:
        address = change["address"]
        known = (change["after"] or {}).get("fields") or (change["before"] or {}).get("fields")
        if kind_of(address) == "cards" and known:
            background = colour_hex(known.get("base_info.color"), palette)
            label = str(known.get("base_info.title") or address)
            index[Address.parse(address).key] = Thumb(label, background, text_colour_on(background), False)
    return index


def _menu_bars(
    before: dict[str, Any] | None, after: dict[str, Any] | None, details: list[str]
) -> tuple[list[MenuButton] | None, list[MenuButton] | None]:
    """The bar before and after, a button marked where the plan's tree diff says it changed: the plan's
    `after` still holds references (`${landing_pages.x.url}`), so comparing it with the live menu would mark
    every button that uses one."""
    old, new = (menu.get("button", []) if menu else None for menu in (before, after))
    drawn = None if new is None else _new_buttons(new, iter(_own_changes(details)))
    return (None if old is None else _old_buttons(old, new or [], drawn or [])), drawn


def _audience(rule: dict[str, Any] | None) -> str:
    """Whom a conditional menu is shown to, as its phone's caption; "" for the default menu."""
    if rule is None:
        return ""
    platforms = {"1": _("iOS"), "2": _("Android"), "3": _("other phones")}
    parts = []
    if "tag" in rule:
        parts.append(_("fans tagged %(tag)s") % {"tag": f"tags.{rule['tag']}"})
    elif "tag_id" in rule:
        parts.append(_("fans with tag %(id)s") % {"id": rule["tag_id"]})
    if "client_platform_type" in rule:
        parts.append(platforms.get(str(rule["client_platform_type"]), str(rule["client_platform_type"])))
    return _("Shown to: %(who)s") % {"who": ", ".join(parts)}


def _own_changes(details: list[str]) -> Iterator[bool]:
    """For each button of the new menu, in the order of the tree diff (`menu_tree`): whether it was added or
    changed itself (a sub-menu whose only change is inside it is not)."""
    for line in details:
        body = line.lstrip(" ")
        prefix = body[:2] if body[:2] in ("+ ", "- ", "~ ") and (len(line) - len(body)) % 4 == 0 else "  "
        if prefix != "- ":
            yield prefix == "+ " or (prefix == "~ " and not body.endswith("(sub-menu)"))


def _new_buttons(buttons: list[dict[str, Any]], changes: Iterator[bool]) -> list[MenuButton]:
    drawn = []
    for button in buttons:
        changed = next(changes, True)  # a plan without the tree diff: mark rather than hide a change
        sub = _new_buttons(button["sub_button"], changes) if is_sub_menu(button) else []
        drawn.append(MenuButton(str(button.get("name", "")), _detail(button), changed, sub))
    return drawn


def _old_buttons(buttons: list[dict[str, Any]], new: list[dict[str, Any]], drawn: list[MenuButton]) -> list[MenuButton]:
    """The old menu, each button matched with its new self as the tree diff matches them: marked when it is
    removed or its new self is marked."""
    marked: list[MenuButton] = []
    partners = {old: index for old, index, _ in pair_buttons(buttons, new) if old is not None}
    for position, button in enumerate(buttons):
        index = partners.get(position)
        partner = None if index is None else drawn[index]
        sub: list[MenuButton] = []
        if is_sub_menu(button) and index is not None and partner is not None and is_sub_menu(new[index]):
            sub = _old_buttons(button["sub_button"], new[index]["sub_button"], partner.sub)
        elif is_sub_menu(button):
            sub = _old_buttons(button["sub_button"], [], [])
        changed = partner is None or partner.changed
        marked.append(MenuButton(str(button.get("name", "")), _detail(button), changed, sub))
    return marked


def _detail(button: dict[str, Any]) -> str:
    return "sub-menu" if "sub_button" in button else _action(button)


def _action(button: dict[str, Any]) -> str:
    target = button.get("url") or button.get("pagepath") or button.get("key") or button.get("media_id") or ""
    return f"{button.get('type', '')}: {target}"


def _shelves(
    before: dict[str, Any] | None, after: dict[str, Any] | None, cards: dict[str, Thumb]
) -> tuple[Shelf | None, Shelf | None]:
    return (
        None if before is None else _shelf(before, after or {}, cards),
        None if after is None else _shelf(after, before or {}, cards),
    )


def _shelf(spec: dict[str, Any], other: dict[str, Any], cards: dict[str, Thumb]) -> Shelf:
    items, theirs = spec.get("card_list", []), other.get("card_list", [])
    thumbs = []
    for index, item in enumerate(items):
        known = cards.get(str(item.get("card")))
        label = known.label if known else str(item.get("card") or item.get("card_id") or "?")
        background = known.background if known else "#e8e8e8"
        moved = index >= len(theirs) or theirs[index] != item
        thumbs.append(Thumb(label, background, text_colour_on(background), moved))
    page_fields = ("page_title", "banner", "scene", "can_share")
    changed = frozenset(name for name in page_fields if spec.get(name) != other.get(name))
    return Shelf(
        str(spec.get("page_title", "")),
        str(spec.get("banner", "")),
        _(SCENES[scene]) if (scene := str(spec.get("scene"))) in SCENES else str(spec.get("scene", "")),
        thumbs,
        changed,
    )


def _qr_svg(url: Any) -> Markup | None:
    """The QR code of a url WeChat gave, drawn inline; None for a stand-in (`wxrec diff`) or a code to come."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    svg = segno.make_qr(url, error="m").svg_inline(scale=3, border=4, dark="#000", light="#fff")
    return Markup(svg)


def _listed(before: dict[str, Any] | None, after: dict[str, Any] | None, action: str) -> list[Listed]:
    entries = []
    for kind in ("openid", "username"):
        old = set((before or {}).get(kind, []))
        new = set((after or {}).get(kind, [])) if after is not None or action == "delete" else old
        for value in sorted(old | new):
            status = N_("kept") if value in old and value in new else N_("added") if value in new else N_("removed")
            entries.append(Listed(kind, value, status))
    return entries
