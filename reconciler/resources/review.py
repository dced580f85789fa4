"""Waiting for WeChat's review of a card, for the actions that need an approved one (is_unique_code QR codes,
code deposits)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from reconciler.errors import WxrecError
from reconciler.resources.cards.diff import APPROVED, REJECTED


async def wait_for_approval(
    card_status: Callable[[str], Awaitable[str | None]], card_id: str, address: str, purpose: str, deadline: float
) -> None:
    """Some actions need an approved card: wait until the monotonic `deadline` (--wait-for-review) or say so."""
    while (status := await card_status(card_id)) != APPROVED:
        if status == REJECTED:
            raise WxrecError(f"{address}: card {card_id} was rejected in review ({status}): fix the card")
        if time.monotonic() >= deadline:
            raise WxrecError(
                f"{address}: {purpose} needs approved card {card_id} ({status}); apply again after review, "
                "or pass --wait-for-review DURATION"
            )
        await asyncio.sleep(min(5.0, max(deadline - time.monotonic(), 0.1)))
