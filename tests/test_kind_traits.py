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
from reconciler.manifest import load_manifest
from reconciler.plan import Action, Plan, ResourceChange
from reconciler.planning import Options
from reconciler.resources.base import Applier, ApplyContext
from reconciler.resources.cards import desired_cards
from reconciler.resources.cards.model import Palette
from reconciler.resources.references import references_in, resolve
from reconciler.safety import managed_count, mass_destroy_refusals
from reconciler.sources import applied_state, deposited_by
from reconciler.state import State
from reconciler.targeting import Targeting
from tests.support import Harness


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


@dataclass
class CardNotes(Kind):
    """Declared inside each card (`note:`), planned with the cards: a note for every card the plan creates."""

    seen: list[str] = field(default_factory=list)

    def plan_with_cards(
        self, cards: Mapping[str, Any], state: State | None, card_changes: Mapping[str, ResourceChange]
    ) -> list[ResourceChange]:
        self.seen = sorted(card_changes)
        return [
            ResourceChange(f"{self.name}.{address.removeprefix('cards.')}", Action.CREATE)
            for address, change in sorted(card_changes.items())
            if change.action == Action.CREATE
        ]

    def applied_records(self, cards: Mapping[str, Any], state: State) -> dict[str, dict[str, Any]]:
        return {f"{self.name}.{key}": {"card_id": state.resources[f"cards.{key}"]["id"]} for key in cards}


@pytest.fixture
def card_notes() -> Iterator[CardNotes]:
    kind = CardNotes("card_notes")
    resources.register(kind)
    yield kind
    resources.unregister(kind.name)


async def test_a_kind_planned_with_the_cards_gets_their_changes_and_goes_with_its_card(
    shop: Harness, card_notes: CardNotes
) -> None:
    plan = await shop.plan()
    cards = {c.address: c.action for c in plan.changes if c.address.startswith("cards.")}
    assert card_notes.seen == sorted(cards)
    created = [a.replace("cards.", "card_notes.") for a, action in cards.items() if action == Action.CREATE]
    assert sorted(c.address for c in plan.changes if c.address.startswith("card_notes.")) == sorted(created)
    targeted = await shop.plan(targeting=Targeting(target=frozenset({"cards.member"})))
    assert {c.address for c in targeted.changes} >= {"cards.member", "card_notes.member"}
    assert not [c for c in targeted.changes if c.address.startswith("card_notes.") and c.address != "card_notes.member"]


async def test_wxrec_diff_asks_a_kind_planned_with_the_cards_what_an_apply_leaves(
    shop: Harness, card_notes: CardNotes
) -> None:
    base = load_manifest(shop.directory)
    state = applied_state(base, desired_cards(base.cards, Palette({}), strict=False), deposited_by(base))
    assert {a: r for a, r in state.resources.items() if a.startswith("card_notes.")} == {
        f"card_notes.{key}": {"card_id": state.resources[f"cards.{key}"]["id"]} for key in base.cards
    }
