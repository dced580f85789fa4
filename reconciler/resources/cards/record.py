"""What state holds for one card address: `CardRecord`, the one place a card's state record is built and read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.address import kind_of
from reconciler.resources.cards.model import DesiredCard, Flat, Stock
from reconciler.state import State

KIND = "cards"


@dataclass(frozen=True)
class CardRecord:
    """What state holds for one card address."""

    id: str
    card_type: str
    applied: Flat
    stock: Stock | None
    prevent_destroy: bool = False
    retire_ids: tuple[str, ...] = ()
    # Claimed from the earlier cards of this address (before replaces): they count against the budget.
    issued_before: int = 0

    @classmethod
    def applied_as(
        cls, card: DesiredCard, card_id: str, retire: tuple[str, ...] = (), issued_before: int = 0
    ) -> CardRecord:
        """The record of `card` once WeChat holds it as `card_id`."""
        return cls(card_id, card.card_type, card.fields, card.stock, card.prevent_destroy, retire, issued_before)

    @classmethod
    def adopted(cls, card_id: str, card_type: str, prevent_destroy: bool) -> CardRecord:
        """The record of a card wxrec did not create: nothing applied yet, so the next plan shows every managed
        field that differs from the manifest, and the stock target it would set."""
        return cls(card_id, card_type, {}, None, prevent_destroy)

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> CardRecord:
        stock = data.get("stock")
        return cls(
            id=data["id"],
            card_type=data["card_type"],
            applied=dict(data.get("applied", {})),
            stock=Stock.from_dict(stock) if stock else None,
            prevent_destroy=bool(data.get("prevent_destroy", False)),
            retire_ids=tuple(data.get("retire_ids", ())),
            issued_before=int(data.get("issued_before", 0)),
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "card_type": self.card_type,
            "applied": self.applied,
            "stock": self.stock.to_dict() if self.stock else None,
            "prevent_destroy": self.prevent_destroy,
            "retire_ids": list(self.retire_ids),
            "issued_before": self.issued_before,
        }


def records(state: State | None) -> dict[str, CardRecord]:
    if state is None:
        return {}
    return {
        address: CardRecord.from_state(data) for address, data in state.resources.items() if kind_of(address) == KIND
    }


def owned_ids(state_records: Mapping[str, CardRecord]) -> set[str]:
    return {card_id for r in state_records.values() for card_id in (r.id, *r.retire_ids)}


def record_document(
    card: DesiredCard, card_id: str, retire: tuple[str, ...] = (), issued_before: int = 0
) -> dict[str, Any]:
    """State's document for `card` held by WeChat as `card_id`."""
    return CardRecord.applied_as(card, card_id, retire, issued_before).to_state()
