"""What a kind says of itself through the Resource protocol, and nothing else names by kind: the shorthand others
refer to it by (and so its late deletes), and whether the destroy threshold counts it. A kind registered later takes
part in each without an edit to plan.py, planning.py or references.py."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from reconciler import resources
from reconciler.errors import Locate, Problem
from reconciler.i18n import N_
from reconciler.plan import Action, Plan, ResourceChange
from reconciler.planning import Options, managed_count, mass_destroy_refusals
from reconciler.resources.base import Applier, ApplyContext
from reconciler.resources.references import references_in, resolve
from reconciler.state import State


@dataclass
class Kind:
    """A kind with no trait: named, layered, and nothing else."""

    name: str
    layer: int = 1
    keyed: bool = True
    attributes: tuple[str, ...] = ("id",)
    may_refer_to: tuple[str, ...] = ()
    new_badge: str = "new"
    panel: str = "other"
    schema: Mapping[str, Any] = field(default_factory=dict)

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        return []

    def applier(self, context: ApplyContext) -> Applier:
        raise AssertionError("not applied here")


@dataclass
class Beacons(Kind):
    """Others name a beacon by id (`beacon: KEY` → beacon_id), and losing one loses what users hold."""

    shorthand: tuple[str, str] = ("beacon", "beacon_id")
    threshold_noun: str = N_("beacons")


@pytest.fixture
def registered() -> Iterator[None]:
    for kind in (Beacons("beacons"), Kind("signs")):
        resources.register(kind)
    yield
    for name in ("beacons", "signs"):
        resources.unregister(name)


def test_a_registered_kinds_shorthand_is_a_reference_to_it(registered: None) -> None:
    value = {"rule": {"beacon": "door", "sign": "door"}}
    assert list(references_in(value)) == [(("rule", "beacon"), "beacons.door", "id")]
    resolved, unknown = resolve(value, lambda address, attribute: "b-17" if address == "beacons.door" else None)
    assert resolved == {"rule": {"beacon_id": "b-17", "sign": "door"}} and unknown == []
    resolved, unknown = resolve(value, lambda address, attribute: None)
    assert resolved["rule"]["beacon_id"] == "${beacons.door.id}" and unknown == ["beacons.door.id"]


def test_a_kind_others_name_by_id_is_deleted_in_the_last_layer(registered: None) -> None:
    changes = [ResourceChange(f"{kind}.door", Action.DELETE, id="1") for kind in ("beacons", "signs", "cards")]
    ordered = [c.address for c in Plan("wx", "emulator", changes=changes).ordered()]
    # signs' deletes go in their own layer, before the menu (3) re-points; beacons' wait with the cards'.
    assert ordered == ["signs.door", "beacons.door", "cards.door"]


def test_the_destroy_threshold_counts_the_kinds_that_say_so_and_names_them(registered: None) -> None:
    state = State(appid="wx", endpoint="emulator")
    state.resources = {f"{kind}.{n}": {"id": str(n)} for kind in ("beacons", "signs") for n in range(10)}
    assert managed_count(state) == 10
    signs = [ResourceChange(f"signs.{n}", Action.DELETE, id=str(n)) for n in range(10)]
    assert mass_destroy_refusals(Plan("wx", "emulator", changes=signs), 10, Options()) == []
    beacons = [ResourceChange(f"beacons.{n}", Action.DELETE, id=str(n)) for n in range(4)]
    (refusal,) = mass_destroy_refusals(Plan("wx", "emulator", changes=beacons), 10, Options())
    assert "deletes or replaces 4 of 10 managed cards, tags, stocks and beacons" in refusal


def test_without_a_registered_kind_its_shorthand_is_plain_data() -> None:
    assert list(references_in({"beacon": "door"})) == []
    assert resources.shorthands() == {"card": ("cards", "card_id"), "tag": ("tags", "tag_id")}
