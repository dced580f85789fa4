"""Cards as a registered kind. Their planning reads every managed card live first, so planning takes them (and
the codes that go into them) before the kinds planned from their sections alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import Locate, Problem
from reconciler.i18n import N_
from reconciler.plan import Action, ResourceChange
from reconciler.resources.base import Applier, ApplyContext, Drift, ImportContext, schema_fragment
from reconciler.resources.card_settings import validate_settings
from reconciler.resources.cards.adopt import import_card
from reconciler.resources.cards.apply import CardApplier
from reconciler.resources.cards.drift import card_drift
from reconciler.resources.cards.record import KIND, CardRecord
from reconciler.resources.cards.validate import validate_card
from reconciler.resources.images import ImageUploader
from reconciler.state import State


class Cards:
    name = KIND
    keyed = True
    layer = 0
    attributes = ("id",)
    may_refer_to: tuple[str, ...] = ()
    new_badge = N_("new card")
    panel = "card"
    shorthand = ("card", "card_id")  # `card: KEY` where WeChat takes a card_id
    threshold_noun = N_("cards")
    # A retire acts on the address's card too: the cards it deletes are those its record keeps to retire.
    acts_on_id = frozenset({Action.UPDATE, Action.STOCK, Action.REPLACE, Action.RETIRE, Action.DELETE})
    schema: Mapping[str, Any] = schema_fragment(KIND)

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        if not isinstance(section, Mapping):
            return []
        return [
            problem
            for key, spec in section.items()
            if isinstance(spec, dict)
            for problem in validate_card(key, spec, locate) + validate_settings(key, spec, locate)
        ]

    def drift(self, change: ResourceChange, state: State | None, found: Drift) -> None:
        data = state.resources.get(change.address) if state else None
        card_drift(change, None if data is None else CardRecord.from_state(data), found)

    async def import_by_id(self, address: str, live_id: str, context: ImportContext) -> dict[str, Any]:
        return await import_card(address, live_id, context)

    def adopted(self, change: ResourceChange, state: State) -> dict[str, Any]:
        """Nothing counts as applied: apply itself, which reads the card, records what already matches."""
        after = change.after or {}
        assert change.id is not None
        return CardRecord.adopted(change.id, str(after["card_type"]), bool(after.get("prevent_destroy"))).to_state()

    def applier(self, context: ApplyContext) -> Applier:
        uploader = ImageUploader(context.cards.client, context.state, context.save, context.manifest_root)
        return CardApplier(
            context.cards, context.state, context.save, context.parallelism, uploader.resolve, context.refreshed
        )


CARDS = Cards()
