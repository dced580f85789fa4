"""A card as WeChat draws it (colour, logo, brand, title, validity, code, stock), from the plan document's
flat `fields`; and the black-or-white text colour that stays readable on any card colour (WCAG AA)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.i18n import N_, _, ngettext
from reconciler.render.text import CHINA_TIME

# card/getcolors as WeChat's card documents list them. The report draws colours from the plan's own palette
# (read live, or kept in state); this is only the fallback for a name it has never seen, e.g. `wxrec diff`
# in a repository with no state. Comparison never uses it.
DOCUMENTED_COLOURS = {
    "Color010": "#63b359",
    "Color020": "#2c9f67",
    "Color030": "#509fc9",
    "Color040": "#5885cf",
    "Color050": "#9062c0",
    "Color060": "#d09a45",
    "Color070": "#e4b138",
    "Color080": "#ee903c",
    "Color081": "#f08500",
    "Color082": "#a9d92d",
    "Color090": "#dd6549",
    "Color100": "#cc463d",
    "Color101": "#cf3e36",
    "Color102": "#5e6671",
}
# What the face calls each colour: WeChat's documents give the names and values only, so these describe the hue.
COLOUR_NAMES = {
    "Color010": N_("green"),
    "Color020": N_("dark green"),
    "Color030": N_("blue"),
    "Color040": N_("cornflower blue"),
    "Color050": N_("purple"),
    "Color060": N_("ochre"),
    "Color070": N_("yellow"),
    "Color080": N_("orange"),
    "Color081": N_("deep orange"),
    "Color082": N_("lime"),
    "Color090": N_("coral"),
    "Color100": N_("red"),
    "Color101": N_("crimson"),
    "Color102": N_("slate grey"),
}
UNKNOWN_COLOUR = "#8c8c8c"
BLACK, WHITE = "#000000", "#ffffff"
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

CARD_TYPES = {
    "GROUPON": "团购券",
    "CASH": "代金券",
    "DISCOUNT": "折扣券",
    "GIFT": "兑换券",
    "GENERAL_COUPON": "优惠券",
    "MEMBER_CARD": "会员卡",
    "SCENIC_TICKET": "景点门票",
    "MOVIE_TICKET": "电影票",
    "BOARDING_PASS": "飞机票",
    "MEETING_TICKET": "会议门票",
    "BUS_TICKET": "汽车票",
}
CODE_TYPES = {
    "CODE_TYPE_QRCODE": N_("QR code"),
    "CODE_TYPE_BARCODE": N_("barcode"),
    "CODE_TYPE_TEXT": N_("text code"),
    "CODE_TYPE_ONLY_QRCODE": N_("QR code only"),
    "CODE_TYPE_ONLY_BARCODE": N_("barcode only"),
    "CODE_TYPE_NONE": N_("no code"),
}
# The card's entries that open a mini program (web links are refused today): the name field beside
# base_info's mini-program pair for the centre button, the custom entry and the promotion entry.
ENTRIES = (
    ("center_title", "center_app_brand_user_name", "center_app_brand_pass"),
    ("custom_url_name", "custom_app_brand_user_name", "custom_app_brand_pass"),
    ("promotion_url_name", "promotion_app_brand_user_name", "promotion_app_brand_pass"),
)
# What a face shows, by the plan paths it is drawn from: a change to any of them is highlighted on the face.
FACE_PATHS = {
    "colour": ("base_info.color",),
    "logo": ("base_info.logo_url",),
    "brand": ("base_info.brand_name",),
    "title": ("base_info.title",),
    "sub_title": ("base_info.sub_title",),
    "validity": (
        "base_info.date_info.type",
        "base_info.date_info.begin_timestamp",
        "base_info.date_info.end_timestamp",
        "base_info.date_info.fixed_begin_term",
        "base_info.date_info.fixed_term",
    ),
    "code": ("base_info.code_type",),
    "notice": ("base_info.notice",),
    "entries": tuple(f"base_info.{name}" for entry in ENTRIES for name in entry),
}
# The Face attribute each part is drawn from.
# The stock line is compared by the number a user can claim, not by its words: a live card's count and a
# replacement's target say the same number differently.
DRAWN_FROM = (
    {"colour": "background", "brand": "brand", "title": "title", "sub_title": "sub_title"}
    | {part: part for part in ("logo", "validity", "code", "notice", "entries")}
    | {"stock": "claimable"}
)


@dataclass(frozen=True)
class Stock:
    """The stock line of a face, and the number of copies it says can be claimed (None: it does not say)."""

    text: str
    claimable: int | None


@dataclass(frozen=True)
class Face:
    card_type: str
    colour_name: str
    background: str
    foreground: str
    logo: str | None  # a data: URI, or None for the placeholder
    initial: str
    brand: str
    title: str
    sub_title: str
    validity: str
    code: str
    notice: str
    stock: str
    claimable: int | None
    entries: tuple[str, ...] = ()
    changed: frozenset[str] = field(default_factory=frozenset)


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of `#rrggbb`."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever contrasts more with `background` (always at least 4.58:1)."""
    return BLACK if contrast_ratio(background, BLACK) >= contrast_ratio(background, WHITE) else WHITE


def colour_hex(colour: Any, palette: dict[str, str]) -> str:
    """A colour name or hex value as `#rrggbb` (lower case); grey when it is neither known nor hex."""
    text = str(colour or "")
    found = palette.get(text) or DOCUMENTED_COLOURS.get(text) or text
    return found.lower() if HEX_COLOUR.fullmatch(found) else UNKNOWN_COLOUR


def validity(fields: dict[str, Any]) -> str:
    """The validity line as WeChat shows it: dates in UTC+8, or days counted from claiming."""
    kind = fields.get("base_info.date_info.type")
    if kind == "DATE_TYPE_FIX_TIME_RANGE":
        begin, end = (fields.get(f"base_info.date_info.{edge}_timestamp") for edge in ("begin", "end"))
        return _("Valid {begin} – {end} (UTC+8)").format(begin=_day(begin), end=_day(end))
    if kind == "DATE_TYPE_FIX_TERM":
        begin = int(fields.get("base_info.date_info.fixed_begin_term") or 0)
        term = int(fields.get("base_info.date_info.fixed_term") or 0)
        start = (
            _("from the day it is claimed")
            if begin == 0
            else ngettext("from {days} day after claiming", "from {days} days after claiming", begin).format(days=begin)
        )
        return ngettext("Valid {days} day, {start}", "Valid {days} days, {start}", term).format(days=term, start=start)
    if kind == "DATE_TYPE_PERMANENT":
        return _("Valid permanently")
    return _("Validity not set")


def entries(fields: dict[str, Any]) -> tuple[str, ...]:
    """Each entry that opens a mini program, in words: its name, the mini program and the page."""
    lines = []
    for name, user_name, page in ENTRIES:
        program, path = (fields.get(f"base_info.{field}") for field in (user_name, page))
        if program or path:
            lines.append(
                _("“{name}” opens mini program {program}, page {page}").format(
                    name=fields.get(f"base_info.{name}") or _("(no name)"),
                    program=program or _("(not set)"),
                    page=path or _("(its home page)"),
                )
            )
    return tuple(lines)


def _colour_name(colour: Any) -> str:
    """The colour in words; a hex value as it is (it has no name)."""
    if not colour:
        return _("no colour")
    return _(COLOUR_NAMES[str(colour)]) if str(colour) in COLOUR_NAMES else str(colour)


def _day(timestamp: Any) -> str:
    if not isinstance(timestamp, int):
        return "?"
    return datetime.fromtimestamp(timestamp, CHINA_TIME).strftime("%Y-%m-%d")


def face(
    card_type: str,
    fields: dict[str, Any],
    stock: Stock,
    palette: dict[str, str],
    logos: dict[str, str],
) -> Face:
    background = colour_hex(fields.get("base_info.color"), palette)
    brand = str(fields.get("base_info.brand_name") or "")
    code = str(fields.get("base_info.code_type") or "")
    return Face(
        card_type=CARD_TYPES.get(card_type, card_type),
        colour_name=_colour_name(fields.get("base_info.color")),
        background=background,
        foreground=text_colour_on(background),
        logo=logos.get(str(fields.get("base_info.logo_url") or "")),
        initial=brand[:1] or "?",
        brand=brand,
        title=str(fields.get("base_info.title") or ""),
        sub_title=str(fields.get("base_info.sub_title") or ""),
        validity=validity(fields),
        code=_(CODE_TYPES[code]) if code in CODE_TYPES else code or _("no code"),
        notice=str(fields.get("base_info.notice") or ""),
        stock=stock.text,
        claimable=stock.claimable,
        entries=entries(fields),
    )


def differing_parts(first: Face, second: Face) -> frozenset[str]:
    """The parts drawn differently on two faces."""
    return frozenset(part for part, name in DRAWN_FROM.items() if getattr(first, name) != getattr(second, name))


def changed_parts(paths: set[str]) -> frozenset[str]:
    """The parts of a face drawn from any of `paths`."""
    return frozenset(part for part, sources in FACE_PATHS.items() if paths.intersection(sources))
