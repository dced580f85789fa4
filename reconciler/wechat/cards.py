"""The card endpoints, as typed calls over WeChatClient."""

from __future__ import annotations

import asyncio
from typing import Any

from reconciler.wechat.client import WeChatClient
from reconciler.wechat.errors import CardNotFound

BATCHGET_PAGE = 50
DELETED_STATUSES = frozenset({"CARD_STATUS_DELETE", "CARD_STATUS_USER_DELETE"})
# A card's write-only settings, each set by its own call with the setting's body beside card_id.
SETTING_PATHS = {
    "activate_user_form": "/card/membercard/activateuserform/set",
    "pay_cell": "/card/paycell/set",
    "self_consume_cell": "/card/selfconsumecell/set",
}


class CardApi:
    def __init__(self, client: WeChatClient) -> None:
        self.client = client

    async def colours(self) -> dict[str, str]:
        """Colour name → hex value, from card/getcolors."""
        answer = await self.client.get("/card/getcolors")
        return {str(c["name"]): str(c["value"]) for c in answer.get("colors", [])}

    async def list_ids(self) -> list[str]:
        """Every card id of the account, 50 a page (card/batchget). The first page tells how many there are; the
        other pages are then read side by side (10,000 cards are 200 pages: 4 s one after another at 20 ms)."""
        first, total = await self._page(0)
        pages = await asyncio.gather(*(self._page(offset) for offset in range(len(first), total, BATCHGET_PAGE)))
        # As when reading one page after another, cards made or deleted meanwhile shift the later pages: an id
        # seen twice is kept once.
        return list(dict.fromkeys(first + [card_id for page, _ in pages for card_id in page]))

    async def _page(self, offset: int) -> tuple[list[str], int]:
        answer = await self.client.post("/card/batchget", {"offset": offset, "count": BATCHGET_PAGE})
        return [str(i) for i in answer.get("card_id_list", [])], int(answer.get("total_num", 0))

    async def get(self, card_id: str) -> dict[str, Any] | None:
        """card/get's `card` object, or None when the card is gone (40073 or a deleted status)."""
        try:
            answer = await self.client.post("/card/get", {"card_id": card_id})
        except CardNotFound:
            return None
        card: dict[str, Any] = answer["card"]
        body = card.get(str(card.get("card_type", "")).lower(), {})
        if body.get("base_info", {}).get("status") in DELETED_STATUSES:
            return None
        return card

    async def create(self, card: dict[str, Any]) -> str:
        answer = await self.client.post("/card/create", {"card": card}, idempotent=False)
        return str(answer["card_id"])

    async def update(self, card_id: str, card_type: str, body: dict[str, Any]) -> bool:
        """card/update; True when WeChat sent the card back to review (send_check)."""
        answer = await self.client.post("/card/update", {"card_id": card_id, card_type.lower(): body})
        return bool(answer.get("send_check", False))

    async def set_setting(self, card_id: str, name: str, value: dict[str, Any]) -> None:
        """Set one of a card's write-only settings (SETTING_PATHS); a set is whole, so a retry repeats it safely."""
        await self.client.post(SETTING_PATHS[name], {"card_id": card_id, **value})

    async def modify_stock(self, card_id: str, delta: int) -> None:
        # One field, never both: WeChat takes both in one call, but how it nets them is documented nowhere.
        field = "increase_stock_value" if delta > 0 else "reduce_stock_value"
        await self.client.post("/card/modifystock", {"card_id": card_id, field: abs(delta)}, idempotent=False)

    async def delete(self, card_id: str) -> None:
        try:
            await self.client.post("/card/delete", {"card_id": card_id})
        except CardNotFound:
            return  # already gone: the goal of the call is met

    async def deposit(self, card_id: str, codes: list[str]) -> dict[str, list[str]]:
        """card/code/deposit (≤ 100 codes): succ_code, duplicate_code, fail_code. Safe to repeat: WeChat
        filters codes it already holds."""
        answer = await self.client.post("/card/code/deposit", {"card_id": card_id, "code": codes})
        return {name: [str(c) for c in answer.get(name) or []] for name in ("succ_code", "duplicate_code", "fail_code")}

    async def deposit_count(self, card_id: str) -> int:
        answer = await self.client.post("/card/code/getdepositcount", {"card_id": card_id})
        return int(answer.get("count", 0))

    async def check_codes(self, card_id: str, codes: list[str]) -> set[str]:
        """card/code/checkcode (≤ 100 codes): the ones the card holds."""
        answer = await self.client.post("/card/code/checkcode", {"card_id": card_id, "code": codes})
        return {str(c) for c in answer.get("exist_code") or []}
