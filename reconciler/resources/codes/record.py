"""What state holds for a codes entry: `CodesRecord`. The codes themselves are never in it: the ledger of their
hashes lives beside state (StateBackend.code_hashes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

KIND = "codes"
# A codes address → the hashes of the codes its ledger says are deposited (StateBackend.code_hashes).
DepositedHashes = Callable[[str], set[bytes]]


@dataclass(frozen=True)
class CodesRecord:
    """The card the ledger's codes went into, how many codes it held after the last deposit, and the stock target
    then."""

    card_id: str | None
    deposited: int = 0
    target: int = 0

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> CodesRecord:
        return cls(data.get("card_id"), int(data.get("deposited", 0)), int(data.get("target", 0)))

    def to_state(self) -> dict[str, Any]:
        return {"card_id": self.card_id, "deposited": self.deposited, "target": self.target}
