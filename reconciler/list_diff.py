"""Item-level changes of a list-valued field, for the plan document: which items come and go, not two lists.

WeChat takes a list (a card's `location_id_list`, `text_image_list`, the whitelist's openids) whole, so apply
sends the whole new list and the plan keeps both whole lists; this is what a reader is shown. deepdiff's tree
view compares the two lists as multisets (`ignore_order`, repeats counted, no pairing of similar items): an
item is added, removed, or kept. An object that changed is one item removed and one added, as Terraform shows
a set's members. The order of the kept items is a change of its own, said by `reordered`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ListItems:
    """Applied to the old list: take out `removed`, add `added` (each as often as it appears), and the new list
    holds the same items; `reordered`: the items both hold stand in another order."""

    added: list[Any]
    removed: list[Any]
    reordered: bool


def list_items(old: Any, new: Any) -> ListItems | None:
    """The item-level change from `old` to `new`; None unless both are lists (an unset side counts as [])."""
    if not _listlike(old) or not _listlike(new) or (old is None and new is None):
        return None
    before, after = list(old or ()), list(new or ())
    removed, added = _moved_indexes(before, after)
    kept_before = [item for index, item in enumerate(before) if index not in removed]
    kept_after = [item for index, item in enumerate(after) if index not in added]
    return ListItems(
        added=[after[index] for index in sorted(added)],
        removed=[before[index] for index in sorted(removed)],
        reordered=_strict(kept_before) != _strict(kept_after),
    )


def _strict(items: list[Any]) -> str:
    """The items as JSON tells them apart: `==` takes 0 for False and 1 for 1.0, which deepdiff does not."""
    return json.dumps(items, sort_keys=True, ensure_ascii=False, default=str)


def _listlike(value: Any) -> bool:
    return value is None or isinstance(value, list)


def _moved_indexes(before: list[Any], after: list[Any]) -> tuple[set[int], set[int]]:
    """Indexes of the removed items in `before` and of the added ones in `after`. Of an item repeated a different
    number of times, the last occurrences are the ones that go or come."""
    if all(isinstance(item, SCALARS) for item in (*before, *after)):
        return _moved_scalars(before, after)
    from deepdiff import DeepDiff  # loaded by the first list that changed: a plan without one never pays for it

    tree = DeepDiff(
        before,
        after,
        ignore_order=True,
        report_repetition=True,
        # Unpaired: a changed item is one removed and one added, never "item 3 changed from … to …".
        cutoff_intersection_for_pairs=0,
        cutoff_distance_for_pairs=0,
        view="tree",
    )
    removed = set(_indexes(tree.get("iterable_item_removed", ())))
    added = set(_indexes(tree.get("iterable_item_added", ())))
    for report in tree.get("repetition_change", ()):
        repetition = report.additional["repetition"]
        removed.update(repetition["old_indexes"][repetition["new_repeat"] :])
        added.update(repetition["new_indexes"][repetition["old_repeat"] :])
    return removed, added


# Plain values (store ids, openids) need no structural comparison: counting them is what deepdiff's multiset
# comparison does, at a hundredth of its cost (a changed store list cost 0.45 ms through deepdiff).
SCALARS = (str, int, float, bool, type(None))


def _moved_scalars(before: list[Any], after: list[Any]) -> tuple[set[int], set[int]]:
    """_moved_indexes for plain values, told apart as JSON tells them (0 from False, 1 from 1.0)."""
    old_at: defaultdict[str, list[int]] = defaultdict(list)
    new_at: defaultdict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(before):
        old_at[_strict([item])].append(index)
    for index, item in enumerate(after):
        new_at[_strict([item])].append(index)
    removed = {index for key, at in old_at.items() for index in at[len(new_at.get(key, ())) :]}
    added = {index for key, at in new_at.items() for index in at[len(old_at.get(key, ())) :]}
    return removed, added


def _indexes(reports: Iterable[Any]) -> Iterable[int]:
    return (report.path(output_format="list")[-1] for report in reports)
