"""Carrying out one card change (create, update, stock, replace, retire, delete), writing state after every call
that changed WeChat; stock converges from what is read just before each move."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.errors import WxrecError
from reconciler.plan import Action, ResourceChange, StockChange
from reconciler.resources.cards.diff import (
    APPROVED,
    LIFECYCLE_PROTECTION,
    desired_document,
    desired_from_document,
    emptied_stock,
    initial_quantity,
    stock_change,
    switches_to_deposit,
)
from reconciler.resources.cards.live import find_created, fingerprint
from reconciler.resources.cards.model import DesiredCard, Flat, LiveCard, create_body, live_card, update_body
from reconciler.resources.cards.record import CardRecord, owned_ids, records
from reconciler.resources.cards.rules import RESET_VALUES, group_of
from reconciler.state import SaveState, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.errors import UncertainOutcome


async def converge_stock(api: CardApi, card_id: str, step_for: Callable[[LiveCard], StockChange | None]) -> str:
    """Converge to the target from stock read just now: claims move it while we look."""
    before = await _live(api, card_id)
    step = step_for(before)
    if step is not None:
        try:
            await api.modify_stock(card_id, step.delta)
        except UncertainOutcome:
            # Never retried blindly: read again and apply only what is still missing.
            retry = step_for(await _live(api, card_id))
            if retry is not None:
                await api.modify_stock(card_id, retry.delta)
    after = await _live(api, card_id)
    applied = after.total_quantity - before.total_quantity
    return f"stock {applied:+d} (claimable {before.quantity} → {after.quantity})"


async def _live(api: CardApi, card_id: str) -> LiveCard:
    raw = await api.get(card_id)
    if raw is None:
        raise WxrecError(f"{card_id} disappeared while it was being changed")
    return live_card(raw, None)


@dataclass
class CardApplier:
    """Carries out one card change, writing state after every call that changed WeChat."""

    api: CardApi
    state: State
    save: SaveState
    parallelism: int = 8
    # Uploads the local images a card names and puts their URLs in its fields (resources/images.py).
    images: Callable[[Flat], Awaitable[Flat]] | None = None
    # Whether the plan read live stock: without it, no stock change planned says nothing of the live stock.
    refreshed: bool = True
    _creating: dict[tuple[str, Any, Any], asyncio.Lock] = field(default_factory=dict)

    async def apply(self, change: ResourceChange) -> str:
        handler = {
            Action.CREATE: self._create,
            Action.UPDATE: self._update,
            Action.STOCK: self._stock,
            Action.REPLACE: self._replace,
            Action.RETIRE: self._retire,
            Action.DELETE: self._delete,
        }.get(change.action)
        if handler is None:
            return "nothing to do"
        return await handler(change)

    def _record(self, address: str) -> CardRecord:
        return CardRecord.from_state(self.state.resources[address])

    def _keep(self, address: str, record: CardRecord) -> None:
        self.state.resources[address] = record.to_state()

    async def _desired(self, change: ResourceChange) -> DesiredCard:
        assert change.after is not None
        card = desired_from_document(change.address, change.after)
        return replace(card, fields=await self.images(card.fields)) if self.images else card

    async def _create_card(
        self, address: str, card: DesiredCard, quantity: int, retire: tuple[str, ...] = (), issued_before: int = 0
    ) -> str:
        """Create exactly once: an intent is written before the call, the id (replacing it) after.

        A lost answer is resolved by looking for the card among live cards before creating again, by type,
        brand and title: so cards alike in those are created one at a time, or two lost answers would each
        find both cards."""
        alike = self._creating.setdefault(fingerprint(card.card_type, card.fields), asyncio.Lock())
        async with alike:
            return await self._create_once(address, card, quantity, retire, issued_before)

    async def _create_once(
        self, address: str, card: DesiredCard, quantity: int, retire: tuple[str, ...], issued_before: int
    ) -> str:
        intent = {
            "action": "create",
            "started": int(time.time()),
            "after": desired_document(card),
            "retire_ids": list(retire),
            "issued_before": issued_before,
        }
        self.state.intents[address] = intent
        await self.save()
        try:
            card_id = await self.api.create(create_body(card, quantity))
        except UncertainOutcome:
            found = await find_created(self.api, intent, owned_ids(records(self.state)), self.parallelism)
            card_id = found or await self.api.create(create_body(card, quantity))
        except WxrecError:
            self.state.intents.pop(address, None)  # WeChat answered with an error: nothing was made
            await self.save()
            raise
        self._keep(address, CardRecord.applied_as(card, card_id, retire, issued_before))
        self.state.intents.pop(address, None)
        await self.save()
        return card_id

    async def _create(self, change: ResourceChange) -> str:
        card = await self._desired(change)
        quantity = initial_quantity(card.stock)
        card_id = await self._create_card(change.address, card, quantity)
        return f"created {card_id} with {quantity} claimable"

    async def _update(self, change: ResourceChange) -> str:
        card = await self._desired(change)
        assert change.id is not None
        target = dict(card.fields)
        target.update({c.path: RESET_VALUES[c.path] for c in change.changes if c.reset})
        groups = sorted({group_of(c.path) for c in change.changes if c.path != LIFECYCLE_PROTECTION})
        send_check = False
        emptied, switching = "", switches_to_deposit(change.changes)
        if switching and change.stock is not None:
            emptied = "; " + await converge_stock(self.api, change.id, emptied_stock)
        if groups:
            send_check = await self.api.update(change.id, card.card_type, update_body(target, groups))
        # No stock change planned by a plan that read live: the stock meets the target (or follows codes), which
        # the record then holds too, as a create's does; an imported card's record gets it here if it had none. An
        # offline plan compared the record's stock (and left out a stock it has none for): the record keeps it.
        met = change.stock is None and self.refreshed
        stock = card.stock if met else self._record(change.address).stock
        self._keep(
            change.address,
            replace(
                self._record(change.address), applied=card.fields, stock=stock, prevent_destroy=card.prevent_destroy
            ),
        )
        await self.save()
        message = f"updated {change.id}" if groups else "updated state only (lifecycle)"
        message += (" (sent back to review)" if send_check else "") + emptied
        if change.stock is not None and not switching:
            message += "; " + await self._stock(change)
        return message

    async def _stock(self, change: ResourceChange) -> str:
        card = await self._desired(change)
        assert change.id is not None
        issued_before = self._record(change.address).issued_before
        message = await converge_stock(self.api, change.id, lambda live: stock_change(card.stock, live, issued_before))
        # The fields are the manifest's too: a stock change is planned alone only when they all match, and after
        # an update otherwise. So an imported card's first apply records them even when only its stock moved.
        self._keep(change.address, replace(self._record(change.address), applied=card.fields, stock=card.stock))
        await self.save()
        return message

    async def _replace(self, change: ResourceChange) -> str:
        card = await self._desired(change)
        old_id = change.id
        assert old_id is not None
        record = self._record(change.address)
        raw = await self.api.get(old_id)
        issued = record.issued_before
        if raw is not None:
            old = live_card(raw, None)
            issued += old.total_quantity - old.quantity
        quantity = initial_quantity(card.stock, issued)
        retire = (*record.retire_ids, old_id)
        new_id = await self._create_card(change.address, card, quantity, retire, issued)
        return f"created {new_id} with {quantity} claimable to replace {old_id}"

    async def retire_replaced(self, address: str) -> str | None:
        """After everything that referenced the old card moved to the new one: delete the old card, once the
        new one has passed review. None when nothing was deleted."""
        if address not in self.state.resources or not self._record(address).retire_ids:
            return None
        record = self._record(address)
        new = await self.api.get(record.id)
        if new is None or live_card(new, None).status != APPROVED:
            waiting = ", ".join(record.retire_ids)
            return f"{waiting} stays until {record.id} passes review (a later apply deletes it)"
        return await self._retire_ids(address, list(record.retire_ids))

    async def card_status(self, card_id: str) -> str | None:
        raw = await self.api.get(card_id)
        return None if raw is None else live_card(raw, None).status

    async def _retire(self, change: ResourceChange) -> str:
        # Checked again now, not trusted from the plan: a saved plan may be older than a rejection.
        return await self.retire_replaced(change.address) or "nothing left to retire"

    async def _retire_ids(self, address: str, ids: list[str]) -> str:
        for old_id in ids:
            await self.api.delete(old_id)
            record = self._record(address)
            self._keep(address, replace(record, retire_ids=tuple(i for i in record.retire_ids if i != old_id)))
            await self.save()
        return f"deleted old card(s) {', '.join(ids)}"

    async def _delete(self, change: ResourceChange) -> str:
        record = self._record(change.address) if change.address in self.state.resources else None
        for card_id in (record.id, *record.retire_ids) if record else ():
            await self.api.delete(card_id)
        self.state.resources.pop(change.address, None)
        await self.save()
        return f"deleted {change.id}"
