"""The custom menu's checks: WeChat's rules for `menu/create` (WeChat's 自定义菜单 / 创建接口 document).

Pure functions, no I/O. `validate_menu` checks the manifest's `menu` value before any API call and reports every
problem, each with the dotted path of the offending value (`menu.button.0.sub_button.2.url`) and the location that
`locate` gives for exactly that path (for a missing field: the path the field would have).

Rules (the strictest reading where sources differ):
- `menu` is null (delete the menu) or a mapping with only a `button` list of 1–3 buttons.
- A button is an action (`type`) or a sub-menu (`sub_button`, a list of 1–5 sub-buttons), never both: a `sub_button`
  key beside `type` is refused even when the list is empty. Sub-buttons cannot have `sub_button`.
- `name` is required: at most 16 bytes of UTF-8 at top level, 60 in a sub-button (a Chinese character is 3 bytes;
  docs/wechat-today.md: the current menu document says 60, older ones 40).
- Each type needs its fields (`TYPE_FIELDS`); `key` is at most 128 bytes, `url` at most 1024.
- Unknown button fields and unknown types are refused, with a "did you mean" when one is close.
- `url` of a view or miniprogram button is an http(s) URL with a host (65317 otherwise); a menu's urls lead to at
  most 3 hosts (65316 otherwise).
- A string holding a reference `${kind.key.attr}` is resolved later, so no byte limit or URL rule applies to it
  yet: plan and apply run `validate_menu` again on the menu with its references filled in, before menu/create.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import JsonPath, Locate, Problem
from reconciler.resources.references import REFERENCE

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
# Hosts the links of a menu may lead to (65316 "domain count reach limit").
MAX_DOMAINS = 3
NAME_BYTES = (16, 60)  # top level, sub-button
FIELD_BYTES = {"key": 128, "url": 1024}

_KEY_TYPES = (
    "click",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
)
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_KEY_TYPES, ("key",)),
    "view": ("url",),
    "miniprogram": ("url", "appid", "pagepath"),
    "media_id": ("media_id",),
    "view_limited": ("media_id",),
    "article_id": ("article_id",),
    "article_view_limited": ("article_id",),
}
BUTTON_TYPES = tuple(TYPE_FIELDS)
# Every field a button may carry, in the order the plan shows them.
BUTTON_FIELDS = ("name", "type", "key", "url", "appid", "pagepath", "media_id", "article_id", "sub_button")


def validate_menu(
    menu: Any, locate: Locate, root: JsonPath = ("menu",), fields: tuple[str, ...] = ("button",)
) -> list[Problem]:
    """Every problem in the manifest's `menu` value (None means "delete the menu": valid); a conditional menu's
    value is checked at its own `root`, where `fields` also holds its `matchrule` (checked by its kind)."""
    if menu is None:
        return []
    checker = _Checker(locate)
    if not isinstance(menu, Mapping):
        checker.add(root, f"must be a mapping with a `button` list (or null to delete the menu), not {_kind(menu)}")
        return checker.problems
    for name in menu:
        if name not in fields:
            has = ", ".join(f"`{f}`" for f in fields)
            checker.unknown_field((*root, _part(name)), name, fields, f"the menu has only {has}")
    buttons_path: JsonPath = (*root, "button")
    if "button" not in menu:
        checker.add(buttons_path, "missing: the menu needs a `button` list of 1 to 3 buttons")
        return checker.problems
    buttons = menu["button"]
    if not isinstance(buttons, list):
        checker.add(buttons_path, f"must be a list of 1 to {MAX_BUTTONS} buttons, not {_kind(buttons)}")
        return checker.problems
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        checker.add(buttons_path, f"has {_count(len(buttons), 'button')}; WeChat allows 1 to {MAX_BUTTONS}")
    for index, button in enumerate(buttons):
        checker.button((*buttons_path, index), button, level=0)
    checker.domains(buttons_path, buttons)
    return checker.problems


class _Checker:
    def __init__(self, locate: Locate) -> None:
        self.locate = locate
        self.problems: list[Problem] = []

    def add(self, path: JsonPath, message: str) -> None:
        self.problems.append(Problem(self.locate(path), ".".join(map(str, path)), message))

    def unknown_field(self, path: JsonPath, name: Any, allowed: tuple[str, ...], known: str) -> None:
        close = difflib.get_close_matches(name, allowed, n=1) if isinstance(name, str) else []
        hint = f"did you mean {close[0]!r}?" if close else known
        self.add(path, f"unknown field {name!r}; {hint}")

    def button(self, path: JsonPath, button: Any, level: int) -> None:
        what = "button" if level == 0 else "sub-button"
        if not isinstance(button, Mapping):
            self.add(path, f"a {what} must be a mapping, not {_kind(button)}")
            return
        allowed = BUTTON_FIELDS if level == 0 else BUTTON_FIELDS[:-1]
        for name in button:
            if name not in BUTTON_FIELDS:
                self.unknown_field((*path, _part(name)), name, allowed, f"a {what} has {', '.join(allowed)}")
        self.name(path, button, level)
        has_type, has_sub = "type" in button, "sub_button" in button
        if level > 0 and has_sub:
            self.add((*path, "sub_button"), "sub-buttons cannot have sub_button: a menu has only two levels")
        elif has_type and has_sub:
            self.add(path, "has both type and sub_button; a button is an action (type) or a sub-menu (sub_button)")
        if has_type or level > 0:
            self.action(path, button, what)
        if has_sub and level == 0:
            self.sub_menu(path, button["sub_button"])
        elif not has_type and level == 0:
            self.add((*path, "type"), "missing: a button needs a type (an action) or a sub_button list (a sub-menu)")

    def name(self, path: JsonPath, button: Mapping[Any, Any], level: int) -> None:
        what = "top-level button" if level == 0 else "sub-button"
        limit = NAME_BYTES[min(level, 1)]
        self.string((*path, "name"), button, "name", f"a {what} needs a name", limit, f"a {what} name")

    def action(self, path: JsonPath, button: Mapping[Any, Any], what: str) -> None:
        button_type = button.get("type")
        type_path: JsonPath = (*path, "type")
        known = f"known types: {', '.join(BUTTON_TYPES)}"
        if "type" not in button:
            self.add(type_path, f"missing: a {what} needs a type; {known}")
        elif not isinstance(button_type, str):
            self.add(type_path, f"must be a string, not {_kind(button_type)}; {known}")
        elif button_type not in TYPE_FIELDS:
            close = difflib.get_close_matches(button_type, BUTTON_TYPES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.add(type_path, f"unknown button type {button_type!r}{hint}; {known}")
        else:
            for field in TYPE_FIELDS[button_type]:
                self.string((*path, field), button, field, f"a {button_type} button needs {field!r}")
            url = button.get("url")
            if "url" in TYPE_FIELDS[button_type] and isinstance(url, str) and url and not _web_url(url):
                self.add((*path, "url"), "must be an http:// or https:// URL with a host (WeChat answers 65317)")
        for field, limit in FIELD_BYTES.items():
            required = isinstance(button_type, str) and field in TYPE_FIELDS.get(button_type, ())
            value = button.get(field)
            if not required and isinstance(value, str):
                self.byte_limit((*path, field), value, limit, f"a button {field}")

    def string(
        self,
        path: JsonPath,
        button: Mapping[Any, Any],
        field: str,
        missing: str,
        limit: int | None = None,
        what: str = "",
    ) -> None:
        """A required, non-empty string; with `limit`, at most that many bytes of UTF-8 (unless it holds a
        reference, resolved later)."""
        if field not in button:
            self.add(path, f"missing: {missing}")
            return
        value = button[field]
        if not isinstance(value, str):
            self.add(path, f"must be a string, not {_kind(value)}")
        elif not value:
            self.add(path, "must not be empty")
        else:
            limit = limit if limit is not None else FIELD_BYTES.get(field)
            if limit is not None:
                self.byte_limit(path, value, limit, what or f"a button {field}")

    def byte_limit(self, path: JsonPath, value: str, limit: int, what: str) -> None:
        size = len(value.encode("utf-8"))
        if size > limit and not REFERENCE.search(value):
            self.add(
                path, f"is {size} bytes of UTF-8; {what} may have at most {limit} (a Chinese character is 3 bytes)"
            )

    def domains(self, buttons_path: JsonPath, buttons: list[Any]) -> None:
        """The links of view and miniprogram buttons lead to at most MAX_DOMAINS hosts (65316); a url holding a
        reference is counted once it is filled in."""
        hosts: list[str] = []
        for path, button in _leaves(buttons_path, buttons):
            url = button.get("url")
            if button.get("type") not in ("view", "miniprogram") or not isinstance(url, str) or not _web_url(url):
                continue
            host = "" if REFERENCE.search(url) else urlsplit(url).hostname or ""
            if not host or host in hosts:
                continue
            if len(hosts) == MAX_DOMAINS:
                allowed = ", ".join(hosts)
                self.add(
                    (*path, "url"),
                    f"leads to a {MAX_DOMAINS + 1}th domain ({host}): a menu's links may lead to at most "
                    f"{MAX_DOMAINS} ({allowed}; WeChat answers 65316)",
                )
                return
            hosts.append(host)

    def sub_menu(self, path: JsonPath, subs: Any) -> None:
        subs_path: JsonPath = (*path, "sub_button")
        if not isinstance(subs, list):
            self.add(subs_path, f"must be a list of 1 to {MAX_SUB_BUTTONS} sub-buttons, not {_kind(subs)}")
            return
        if not 1 <= len(subs) <= MAX_SUB_BUTTONS:
            self.add(subs_path, f"has {_count(len(subs), 'sub-button')}; WeChat allows 1 to {MAX_SUB_BUTTONS}")
        for index, sub in enumerate(subs):
            self.button((*subs_path, index), sub, level=1)


def _leaves(buttons_path: JsonPath, buttons: list[Any]) -> Iterator[tuple[JsonPath, Mapping[Any, Any]]]:
    """Every button that is an action, top-level or in a sub-menu, with its path."""
    for index, button in enumerate(buttons):
        if not isinstance(button, Mapping):
            continue
        subs = button.get("sub_button")
        if isinstance(subs, list) and "type" not in button:
            for sub_index, sub in enumerate(subs):
                if isinstance(sub, Mapping):
                    yield (*buttons_path, index, "sub_button", sub_index), sub
        else:
            yield (*buttons_path, index), button


def _web_url(url: str) -> bool:
    """What a view or miniprogram button may open; a reference is checked once it is filled in."""
    if REFERENCE.search(url):
        return True
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _part(key: Any) -> str | int:
    return key if isinstance(key, str | int) and not isinstance(key, bool) else str(key)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__
