"""Cards: the package's face to planning, saved plans and export (what they call as `cards.NAME`).

Inside: `model.py` (a card's canonical form), `rules.py` (what WeChat allows), `validate.py`, `record.py` (state's
`CardRecord`), `live.py` (reading live cards, settling interrupted creates), `diff.py` (one address's change),
`planning.py` (every address's change and the refusals), `apply.py` (`CardApplier`), `resource.py` (the kind).
"""

from reconciler.resources.cards.apply import CardApplier
from reconciler.resources.cards.coupons import note_deletes as note_coupon_deletes
from reconciler.resources.cards.live import (
    CardsLive,
    duplicate_refusals,
    live_from_state,
    read_cards,
    read_live,
    resolve_intents,
)
from reconciler.resources.cards.planning import desired_cards, plan_cards, refusals, rejected
from reconciler.resources.cards.record import KIND, record_document, records

__all__ = [
    "KIND",
    "CardApplier",
    "CardsLive",
    "desired_cards",
    "duplicate_refusals",
    "live_from_state",
    "note_coupon_deletes",
    "plan_cards",
    "read_cards",
    "read_live",
    "record_document",
    "records",
    "refusals",
    "rejected",
    "resolve_intents",
]
