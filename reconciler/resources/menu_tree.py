"""The plan's view of a menu change: two menus rendered as one tree, button by button (see `menu_tree` for how
buttons are matched). Pure, no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.resources.menu_checks import BUTTON_FIELDS, TYPE_FIELDS

_MISSING: Any = object()
_INDENT = "    "


def menu_tree(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """A readable tree diff of two menus ({"button": [...]}), for the plan: one line per button, prefixed
    "  " unchanged, "+ " added, "- " removed, "~ " changed (with `field: old → new` for what changed, joined
    by "; "), indented four spaces per level; e.g.
        ~ 优惠券 (sub-menu)
            ~ 领券中心 [view] url: https://old → https://new
            + 会员卡 [click] key=MEMBER
          门店 [location_select] key=STORES

    Matching, level by level (top-level buttons, then the sub-buttons of each matched sub-menu):
    - Same number of buttons on both sides: matched by position (the i-th with the i-th); a different name
      shows as `name: old → new` on a "~" line. The output follows that order.
    - Different numbers: matched by name (the k-th button of a name before with the k-th of that name after);
      the rest are removed ("-") or added ("+"). Lines follow the new order; a removed button goes just before
      the first new-side line whose next matched button (itself or a later one) was after it in the old order,
      so removals come before the additions at their spot, and trailing removals come last. A matched button
      whose order relative to the other matched buttons changed is "~" with `moved: i → j` (1-based positions).
    - A matched pair where one is an action and the other a sub-menu is shown as removed and added.
    An action's line shows `name [type]` and its fields (`key=…`); `sub_button: []` on an action (as menu/get
    returns it) is ignored. Either menu may be None (no menu): everything is added or removed.
    """
    return _level(_buttons(before), _buttons(after), 0)


def _buttons(container: Any, field: str = "button") -> list[Mapping[str, Any]]:
    items = container.get(field) if isinstance(container, Mapping) else None
    return [b for b in items if isinstance(b, Mapping)] if isinstance(items, list) else []


def _level(before: list[Mapping[str, Any]], after: list[Mapping[str, Any]], level: int) -> list[str]:
    lines: list[str] = []
    for old_index, new_index, moved in pair_buttons(before, after):
        if new_index is None:
            assert old_index is not None
            lines += _whole(before[old_index], level, "- ")
        elif old_index is None:
            lines += _whole(after[new_index], level, "+ ")
        else:
            moved_note = f"moved: {old_index + 1} → {new_index + 1}" if moved else ""
            lines += _matched(before[old_index], after[new_index], level, moved_note)
    return lines


Pair = tuple[int | None, int | None, bool]


def pair_buttons(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> list[Pair]:
    """(old index, new index, moved) in output order; see menu_tree for the rule."""
    if len(before) == len(after):
        return [(i, i, False) for i in range(len(after))]
    waiting: dict[str, list[int]] = {}
    for index, button in enumerate(before):
        waiting.setdefault(_name_key(button), []).append(index)
    match: dict[int, int] = {}  # new index → old index
    for index, button in enumerate(after):
        queue = waiting.get(_name_key(button))
        if queue:
            match[index] = queue.pop(0)
    old_rank = {old: rank for rank, old in enumerate(sorted(match.values()))}
    new_rank = {new: rank for rank, new in enumerate(sorted(match))}
    # For each new index: the old index of the first matched button at or after it (len(before) when none).
    next_old = [len(before)] * (len(after) + 1)
    for index in range(len(after) - 1, -1, -1):
        next_old[index] = match.get(index, next_old[index + 1])
    matched_old = set(match.values())
    removed = [i for i in range(len(before)) if i not in matched_old]
    pairs: list[Pair] = []
    for index in range(len(after) + 1):
        while removed and removed[0] < next_old[index]:
            pairs.append((removed.pop(0), None, False))
        if index == len(after):
            break
        old = match.get(index)
        pairs.append((old, index, old is not None and old_rank[old] != new_rank[index]))
    return pairs


def _name_key(button: Mapping[str, Any]) -> str:
    return json.dumps(button.get("name"), ensure_ascii=False, sort_keys=True, default=str)


def is_sub_menu(button: Mapping[str, Any]) -> bool:
    return "type" not in button and isinstance(button.get("sub_button"), list)


def _whole(button: Mapping[str, Any], level: int, prefix: str) -> list[str]:
    """A button and, for a sub-menu, its sub-buttons, all with the same prefix."""
    lines = [f"{_INDENT * level}{prefix}{_label(button)}"]
    if is_sub_menu(button):
        for sub in _buttons(button, "sub_button"):
            lines += _whole(sub, level + 1, prefix)
    return lines


def _matched(old: Mapping[str, Any], new: Mapping[str, Any], level: int, moved_note: str) -> list[str]:
    if is_sub_menu(old) != is_sub_menu(new):
        return _whole(old, level, "- ") + _whole(new, level, "+ ")
    changes = [f"{field}: {_show(a)} → {_show(b)}" for field, a, b in _field_changes(old, new)]
    if moved_note:
        changes.append(moved_note)
    children: list[str] = []
    if is_sub_menu(new):
        children = _level(_buttons(old, "sub_button"), _buttons(new, "sub_button"), level + 1)
    indent = _INDENT * level
    child_prefix = slice(len(indent + _INDENT), len(indent + _INDENT) + 2)
    changed = bool(changes) or any(line[child_prefix] != "  " for line in children)
    if not changed:
        return [f"{indent}  {_label(new)}", *children]
    head = f"{_name(new)} (sub-menu)" if is_sub_menu(new) else f"{_name(new)} [{_show_type(new)}]"
    return [f"{indent}~ {head} {'; '.join(changes)}".rstrip(), *children]


def _field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    fields = [f for f in _field_order(old, new) if f != "sub_button"]
    return [
        (f, old.get(f, _MISSING), new.get(f, _MISSING)) for f in fields if old.get(f, _MISSING) != new.get(f, _MISSING)
    ]


def _field_order(*buttons: Mapping[str, Any]) -> list[str]:
    present = {str(k) for button in buttons for k in button}
    return [f for f in BUTTON_FIELDS if f in present] + sorted(present - set(BUTTON_FIELDS))


def _label(button: Mapping[str, Any]) -> str:
    if is_sub_menu(button):
        return f"{_name(button)} (sub-menu)"
    button_type = button.get("type")
    first = TYPE_FIELDS.get(button_type, ()) if isinstance(button_type, str) else ()
    rest = [f for f in _field_order(button) if f not in ("name", "type", "sub_button") and f not in first]
    details = [f"{f}={_show(button[f])}" for f in (*first, *rest) if f in button]
    return " ".join([f"{_name(button)} [{_show_type(button)}]", *details])


def _name(button: Mapping[str, Any]) -> str:
    return _show(button.get("name", _MISSING))


def _show_type(button: Mapping[str, Any]) -> str:
    return _show(button.get("type", _MISSING))


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(none)"
    if isinstance(value, str) and value and value.isprintable():
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
