"""The cards an emulated account starts with, as a real account has cards made before anyone ran wxrec on it:
coupons above all, which WeChat has not created since 2021-04-01 but keeps serving.

The file is JSON, ``{"cards": [CARD, ...]}``, each CARD shaped as card/get answers it::

    {"card_type": "CASH", "cash": {"base_info": {"id": "pSeedCoffeeCash0000000000001",
     "status": "CARD_STATUS_VERIFY_OK", "sku": {"quantity": 80, "total_quantity": 100}, ...}, "reduce_cost": 500}}

``base_info.id`` is the card's id, kept as given so that manifests can ``import:`` it by id;
``base_info.status`` its status (approved when left out); ``sku.total_quantity`` what it has issued in all
(its quantity when left out). The rest is read as card/create reads a card, whatever its type: the answer
fields card/get adds (create_time, update_time, area_code_list …) are ignored as card/create ignores unknown
fields. A card whose validity has ended is refused, as card/create refuses it: give a seed a relative
validity (DATE_TYPE_FIX_TERM) so it never goes stale.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from . import errors as e
from . import rules
from .model import STATUSES, VERIFY_OK
from .rules import NewCard

# The file an embedded emulator looks for beside the manifests (the manifest loader reads only *.yaml/*.yml).
FILE_NAME: Final = "emulator-cards.json"
_CARD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ExistingCardsError(ValueError):
    """The file of existing cards cannot be read, or card/create would refuse one of its cards."""


@dataclass(frozen=True)
class ExistingCard:
    card_id: str
    status: str
    card: NewCard
    total_quantity: int


def load(path: Path, now: float) -> list[ExistingCard]:
    """Every card of the file at `path`; an ExistingCardsError names the file, the card and the field."""
    cards = _card_list(path)
    found: dict[str, ExistingCard] = {}
    for index, raw in enumerate(cards):
        where = f"{path}: cards[{index}]"
        try:
            card = _existing(raw, now)
        except e.ApiError as exc:
            raise ExistingCardsError(f"{where}: card/create would refuse it: {exc}") from None
        except ExistingCardsError as exc:
            raise ExistingCardsError(f"{where}: {exc}") from None
        if card.card_id in found:
            raise ExistingCardsError(f"{where}: base_info.id {card.card_id} is already the id of an earlier card")
        found[card.card_id] = card
    return list(found.values())


def _card_list(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExistingCardsError(f"cannot read the existing cards in {path}: {exc.strerror}") from None
    except ValueError as exc:  # JSONDecodeError names the line and column
        raise ExistingCardsError(f"{path}: not JSON: {exc}") from None
    cards = data.get("cards") if isinstance(data, dict) else None
    if not isinstance(cards, list):
        raise ExistingCardsError(f'{path}: expected a JSON object with a list "cards" (cards as card/get answers)')
    return cards


def _existing(raw: Any, now: float) -> ExistingCard:
    if not isinstance(raw, dict):
        raise ExistingCardsError("expected a card as card/get answers it (an object with card_type)")
    new = rules.parse_create({"card": raw}, now)
    base = raw[new.card_type.lower()]["base_info"]
    card_id = base.get("id")
    if not isinstance(card_id, str) or not _CARD_ID.fullmatch(card_id):
        raise ExistingCardsError("base_info.id: give the card's id (letters, digits, _ and -, at most 64)")
    status = base.get("status", VERIFY_OK)
    if status not in STATUSES:
        raise ExistingCardsError(f"base_info.status {status!r}: one of {', '.join(sorted(STATUSES))}")
    total = rules.as_int(base["sku"].get("total_quantity", new.quantity), "base_info.sku.total_quantity")
    if total < new.quantity:
        raise ExistingCardsError("base_info.sku.total_quantity is less than its quantity")
    return ExistingCard(card_id, status, new, total)
