"""Item-level changes of list-valued fields: derived from both whole lists, shown by every renderer."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconciler import list_diff
from reconciler.drift import DRIFT_FORMAT_VERSION, drift_report
from reconciler.list_diff import list_items
from reconciler.plan import Action, AttributeChange, Plan, ResourceChange
from reconciler.render.drift import render_drift_text
from reconciler.render.html import render_html
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_plan
from reconciler.state import State

# What list-valued card fields hold: store ids, names, flat objects (text_image_list, time_limit).
SCALARS = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b", "门店"]), st.booleans(), st.none())
ITEMS = st.one_of(SCALARS, st.dictionaries(st.sampled_from(["text", "image_url", "type"]), SCALARS, max_size=2))
LISTS = st.lists(ITEMS, max_size=8)
STORES = "base_info.location_id_list"


def strict(items: list[Any]) -> str:
    return json.dumps(items, sort_keys=True)


def test_equal_items_of_other_types_that_swap_places_are_reordered() -> None:
    items = list_items([0, False], [False, 0])
    assert items is not None and items.reordered


def bag(items: list[Any]) -> Counter[str]:
    """A multiset of items, told apart as JSON tells them apart (1 is not true, key order does not count)."""
    return Counter(json.dumps(item, sort_keys=True) for item in items)


@given(LISTS, LISTS)
def test_taking_out_the_removed_and_adding_the_added_gives_the_new_items(old: list[Any], new: list[Any]) -> None:
    items = list_items(old, new)
    assert items is not None
    assert bag(items.removed) <= bag(old) and bag(items.added) <= bag(new)
    assert bag(old) - bag(items.removed) + bag(items.added) == bag(new)
    assert not bag(items.removed) & bag(items.added), "nothing is taken out and put back"
    # A change is never invisible: what is not added or removed has moved.
    assert bool(items.added or items.removed or items.reordered) == (strict(old) != strict(new))


@given(LISTS, LISTS)
def test_the_rendered_summary_counts_what_comes_and_goes(old: list[Any], new: list[Any]) -> None:
    items = list_items(old, new)
    assert items is not None
    lines = render_plan(plan_of(AttributeChange(STORES, old, new)).to_dict()).splitlines()
    if not (items.added or items.removed):
        return
    summary = next(line for line in lines if line.startswith(f"    {STORES}: "))
    counts = dict(re.findall(r"([+−])(\d+)", summary))
    assert (int(counts.get("+", 0)), int(counts.get("−", 0))) == (len(items.added), len(items.removed))
    assert ("reordered" in summary) == items.reordered
    listed = [line.strip()[0] for line in lines if line.startswith("        ")]
    assert (listed.count("+"), listed.count("−")) == (len(items.added), len(items.removed))


def test_a_changed_object_is_one_removed_and_one_added_and_the_rest_keep_their_place() -> None:
    old = [{"text": "拿铁", "image_url": "a"}, {"text": "可颂", "image_url": "b"}]
    new = [{"text": "拿铁", "image_url": "a"}, {"text": "可颂", "image_url": "c"}]
    items = list_items(old, new)
    assert items is not None and (items.added, items.removed, items.reordered) == ([new[1]], [old[1]], False)


def test_items_that_only_moved_are_reordered_and_shown_whole() -> None:
    items = list_items([1, 2, 3], [3, 1, 2])
    assert items is not None and (items.added, items.removed, items.reordered) == ([], [], True)
    text = render_plan(plan_of(AttributeChange(STORES, [1, 2, 3], [3, 1, 2])).to_dict())
    assert f"{STORES}: [1, 2, 3] → [3, 1, 2]" in text


def test_a_repeated_item_counts_as_often_as_it_appears() -> None:
    items = list_items(["a", "a", "b"], ["b", "a"])
    assert items is not None and (items.added, items.removed) == ([], ["a"])


def test_an_unset_side_is_an_empty_list_and_other_values_have_no_items() -> None:
    assert asdict(list_items(None, [7]) or {}) == {"added": [7], "removed": [], "reordered": False}
    assert list_items("a", "b") is None and list_items(None, None) is None and list_items([1], "x") is None


def test_three_stores_gained_and_one_lost_in_every_renderer() -> None:
    change = AttributeChange(STORES, [4101, 4102], [4102, 4201, 4202, 4203], review=True)
    document = plan_of(change).to_dict()
    assert f"{STORES}: +3 stores, −1   # re-review" in render_plan(document)
    assert f"| `{STORES}` (+3 stores, −1) | − 4101 | + 4201<br>+ 4202<br>+ 4203 | re-review |" in render_markdown(
        document
    )
    html = render_html(document, palette={})
    assert f"{STORES} (+3 stores, −1)" in html and "+ 4201\n+ 4202\n+ 4203" in html and "− 4101" in html


def test_one_store_is_named_in_the_singular_and_a_long_list_is_cut_short() -> None:
    text = render_plan(plan_of(AttributeChange(STORES, [1], list(range(2, 32)))).to_dict())
    assert f"{STORES}: +30 stores, −1" in text and "+ … and 10 more" in text
    assert f"{STORES}: −1 store" in render_plan(plan_of(AttributeChange(STORES, [1, 2], [2])).to_dict())


def test_a_saved_plan_reads_back_the_same_items() -> None:
    document = plan_of(AttributeChange(STORES, [4101, 4102], [4102, 4201])).to_dict()
    assert Plan.from_dict(json.loads(json.dumps(document))).to_dict() == document


def test_drift_carries_and_names_the_stores_that_differ() -> None:
    """A card's stores changed by hand: the drift entry holds the item-level change, and its line names them."""
    state = State(appid="wx1", endpoint="emulator")
    state.resources["cards.a"] = {"id": "p1", "card_type": "GROUPON", "applied": {STORES: [4101, 4102]}}
    report = drift_report(plan_of(AttributeChange(STORES, [4101, 4102, 4301], [4101, 4102])), state)
    assert report["format_version"] == DRIFT_FORMAT_VERSION == 2
    assert [entry["items"] for entry in report["live"]] == [{"added": [], "removed": [4301], "reordered": False}]
    assert f"the manifest's {STORES} against WeChat's: −1 store (− 4301)" in render_drift_text(report)


def plan_of(change: AttributeChange) -> Plan:
    return Plan("wx1", "emulator", [ResourceChange("cards.a", Action.UPDATE, id="p1", changes=[change])])


@given(st.lists(SCALARS | st.floats(-2, 2, allow_nan=False), max_size=8), st.lists(SCALARS, max_size=8))
def test_plain_values_are_counted_exactly_as_deepdiff_compares_them(old: list[Any], new: list[Any]) -> None:
    """The fast path for store ids and openids gives the same indexes as deepdiff's multiset comparison (an
    object appended to both lists sends them down deepdiff's path; being on both sides, it is kept)."""
    assert list_diff._moved_scalars(old, new) == list_diff._moved_indexes([*old, {}], [*new, {}])
