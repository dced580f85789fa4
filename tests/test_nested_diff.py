"""The deepdiff-backed leaf diff agrees with a plain walk of the nested values, ignored paths included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconciler.resources.cards.diff import field_changes
from reconciler.resources.cards.model import DesiredCard, LiveCard, Stock, flatten
from reconciler.resources.cards.nested import changed_leaves

# Few keys, so that old and new share most of them; quotes, brackets and `root` test deepdiff's path spelling.
KEYS = st.sampled_from(["a", "b", "root", "it's", 'say "x"', "'\"", "[0]", "0", "地址"])
SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-2, 2, allow_nan=False) | st.text(max_size=3)
ITEMS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3))
NESTED = st.recursive(
    st.dictionaries(KEYS, ITEMS, max_size=4),
    lambda inner: st.dictionaries(KEYS, inner | ITEMS, max_size=4),
    max_leaves=12,
)


def reference(old: Mapping[str, Any], new: Mapping[str, Any], ignored: list[str], prefix: str = "") -> set[str]:
    """Plain walk: each leaf of `new` (a list is one leaf) whose value in `old` is not `==`, unless ignored;
    a value missing from `old` counts as None."""
    changed: set[str] = set()
    for key, value in new.items():
        path = f"{prefix}{key}"
        if any(path == p or path.startswith(p + ".") for p in ignored):
            continue
        there = old.get(key) if isinstance(old, Mapping) else None
        if isinstance(value, Mapping):
            changed |= reference(there if isinstance(there, Mapping) else {}, value, ignored, path + ".")
        elif (None if isinstance(there, Mapping) else there) != value:  # a mapping is no value at this path
            changed.add(path)
    return changed


def ignore_lists(new: Mapping[str, Any]) -> st.SearchStrategy[list[str]]:
    """Ignored paths: prefixes of the new value's leaves (so they bite), and some that name nothing."""
    prefixes = sorted({".".join(leaf.split(".")[:depth]) for leaf in flatten(new) for depth in (1, 2, 3)})
    choices = st.sampled_from(prefixes) if prefixes else st.nothing()
    return st.lists(choices | st.builds(".".join, st.lists(KEYS, min_size=1, max_size=3)), max_size=3)


@given(st.data(), NESTED, NESTED)
def test_changed_leaves_agree_with_a_plain_walk(data: st.DataObject, old: dict[str, Any], new: dict[str, Any]) -> None:
    ignored = data.draw(ignore_lists(new))
    found = changed_leaves(flatten(new), flatten(old), ignored)
    assert set(found) == reference(old, new, ignored)
    assert found == [path for path in flatten(new) if path in found]  # in the manifest's order


@given(NESTED, NESTED)
def test_a_changed_card_field_records_the_whole_leaf_old_and_new(old: dict[str, Any], new: dict[str, Any]) -> None:
    """A change inside a list still shows the list whole, as the plan always has."""
    wanted, there = flatten(new), flatten(old)
    card = DesiredCard("k", "GROUPON", wanted, Stock("budget", 1))
    changes = field_changes(card, LiveCard("p1", "GROUPON", "", there, 1, 1), applied={})
    assert [(c.path, c.old, c.new) for c in changes] == [
        (path, there.get(path), value) for path, value in wanted.items() if path in reference(old, new, [])
    ]


def test_a_changed_store_list_is_found_and_an_unchanged_card_is_not() -> None:
    live = {"base_info.title": "拿铁", "base_info.location_id_list": [1, 2, 3], "advanced_info.abstract.abstract": "x"}
    same = dict(live)
    assert changed_leaves(same, live, ()) == []
    moved = {**live, "base_info.location_id_list": [1, 2, 4], "advanced_info.abstract.abstract": "y"}
    assert changed_leaves(moved, live, ()) == ["base_info.location_id_list", "advanced_info.abstract.abstract"]
    assert changed_leaves(moved, live, ("advanced_info",)) == ["base_info.location_id_list"]
    assert changed_leaves(moved, live, ("base_info.location_id_list",)) == ["advanced_info.abstract.abstract"]
