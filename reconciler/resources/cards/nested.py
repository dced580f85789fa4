"""Which of a card's leaf paths differ between live and desired, found by deepdiff on the nested values.

The canonical card is flat (model.py): `advanced_info.abstract.abstract`, `base_info.location_id_list`.
Equality comes first: a card with no differing leaf never reaches deepdiff (it costs a tenth of a millisecond
a call, more than the whole plan of an unchanged card). Otherwise deepdiff's tree view compares the differing
leaves, nested again, with `ignore_changes` as its excluded paths, and each place it reports (an item inside
a list, a key WeChat lacks) is traced back to the leaf (or the leaves) of the manifest it lies in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.resources.cards.model import Flat, unflatten

Key = tuple[Any, ...]


def changed_leaves(desired: Flat, live: Flat, ignored: Sequence[str]) -> list[str]:
    """Desired leaf paths whose live value is not `==` the desired one and not ignored, in desired's order.

    A path absent from `live` counts as None (as card/get leaving a field out means it is unset)."""
    differing = [path for path, wanted in desired.items() if live.get(path) != wanted]
    if not differing:
        return []
    old = {path: live[path] for path in differing if path in live}
    found = _reported_leaves(old, {path: desired[path] for path in differing}, ignored)
    return [path for path in differing if path in found]


def _reported_leaves(old: Flat, new: Flat, ignored: Sequence[str]) -> set[str]:
    """The leaves of `new` under the places deepdiff's tree view reports, comparing both nested again."""
    leaves = {tuple(path.split(".")): path for path in new}
    from deepdiff import DeepDiff  # loaded by the first changed card: a plan without one never pays for it

    excluded = [_deepdiff_path(path) for path in ignored]
    tree = DeepDiff(unflatten(old), unflatten(new), view="tree", exclude_paths=excluded)
    found: set[str] = set()
    for report in (item for items in tree.values() for item in items):
        found.update(_leaves_at(tuple(report.path(output_format="list")), leaves, ignored))
    return found


def _leaves_at(where: Key, leaves: Mapping[Key, str], ignored: Sequence[str]) -> Iterable[str]:
    """The manifest leaves a report touches: the one it lies inside (a list is one leaf), or all below it."""
    for depth in range(len(where), 0, -1):
        if where[:depth] in leaves:
            return [leaves[where[:depth]]]
    # A report above the leaves (a field WeChat lacks, or a value in place of a mapping) covers each leaf
    # below it; deepdiff's exclusion cannot reach leaves it never descends to, so ignored ones are left here.
    return [
        path
        for key, path in leaves.items()
        if key[: len(where)] == where and not any(_within(path, prefix) for prefix in ignored)
    ]


def _within(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


def _deepdiff_path(path: str) -> str:
    """`a.b` as deepdiff spells it (`root['a']['b']`): excluding it excludes everything below it too."""
    # deepdiff's own spelling, so that odd keys (quotes, brackets) match the paths it compares against.
    from deepdiff.path import GET, stringify_path

    return str(stringify_path([(part, GET) for part in path.split(".")]))  # type: ignore[no-untyped-call]
