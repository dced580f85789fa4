"""The cards resource kind: read live cards, plan them, apply one change at a time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.address import Address
from reconciler.errors import WxrecError
from reconciler.plan import Action, Plan, ResourceChange, StockChange
from reconciler.resources.cards.diff import (
    APPROVED,
    LIFECYCLE_PROTECTION,
    CardRecord,
    desired_document,
    initial_quantity,
    plan_card,
    stock_change,
    unclearable,
)
from reconciler.resources.cards.model import (
    DesiredCard,
    LiveCard,
    Palette,
    Stock,
    create_body,
    desired_card,
    live_card,
    update_body,
)
from reconciler.resources.cards.rules import RESET_VALUES, group_of
from reconciler.state import SaveState, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.errors import UncertainOutcome

KIND = "cards"
# How far WeChat's clock (create_time) may be behind ours when looking for a card a lost create made.
CLOCK_SKEW = 300


@dataclass
class CardsLive:
    palette: Palette
    ids: list[str]
    cards: dict[str, LiveCard | None] = field(default_factory=dict)


def records(state: State | None) -> dict[str, CardRecord]:
    if state is None:
        return {}
    return {
        address: CardRecord.from_state(data)
        for address, data in state.resources.items()
        if address.startswith(KIND + ".")
    }


def desired_cards(
    specs: Mapping[str, Mapping[str, Any]], palette: Palette, *, strict: bool = True
) -> dict[str, DesiredCard]:
    """The manifest's cards in canonical form; `strict` refuses colours card/getcolors does not know."""
    cards = {key: desired_card(key, spec, palette) for key, spec in specs.items()}
    if not strict:
        return {card.address: card for card in cards.values()}
    unknown = [
        f"{Address.card(key).attribute('base_info.color')}: {card.fields['base_info.color']!r} is not a colour of "
        "card/getcolors "
        f"(known: {', '.join(sorted(palette.names))})"
        for key, card in cards.items()
        if card.fields.get("base_info.color") not in palette.names
    ]
    if unknown:
        raise WxrecError("\n".join(unknown))
    return {card.address: card for card in cards.values()}


async def read_live(
    api: CardApi,
    state: State | None,
    parallelism: int,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> CardsLive:
    """Colours, every live id, and card/get for each card that state owns (bounded concurrency).

    `progress(total)` is called once with the number of cards to read and returns what to call after each."""
    palette = Palette(await api.colours())  # first, alone: a credential error then stops everything at once
    owned = sorted(owned_ids(records(state)))
    on_read = progress(len(owned)) if progress else None
    ids, cards = await asyncio.gather(api.list_ids(), read_cards(api, owned, parallelism, palette, on_read))
    return CardsLive(palette, ids, cards)


def live_from_state(state: State) -> CardsLive:
    """Each managed card as state says it was last applied, its stock at the target (--refresh=false, diff)."""
    cards: dict[str, LiveCard | None] = {}
    for record in records(state).values():
        stock = record.stock or Stock("budget", 0)
        cards[record.id] = LiveCard(
            id=record.id,
            card_type=record.card_type,
            status=APPROVED,
            fields=dict(record.applied),
            quantity=stock.target,
            total_quantity=stock.target,
        )
    return CardsLive(Palette(state.palette), sorted(cards), cards)


def owned_ids(state_records: Mapping[str, CardRecord]) -> set[str]:
    return {card_id for r in state_records.values() for card_id in (r.id, *r.retire_ids)}


def fingerprint(card_type: str, fields: Mapping[str, Any]) -> tuple[str, Any, Any]:
    """What makes two cards the same campaign to a user: type, brand and title."""
    return (card_type, fields.get("base_info.brand_name"), fields.get("base_info.title"))


async def read_cards(
    api: CardApi,
    ids: Iterable[str],
    parallelism: int,
    palette: Palette | None = None,
    on_read: Callable[[], None] | None = None,
) -> dict[str, LiveCard | None]:
    """card/get for each id, at most `parallelism` at a time; `on_read` is told after each."""
    limit = asyncio.Semaphore(parallelism)

    async def fetch(card_id: str) -> tuple[str, LiveCard | None]:
        async with limit:
            raw = await api.get(card_id)
        if on_read is not None:
            on_read()
        return card_id, live_card(raw, palette) if raw is not None else None

    return dict(await asyncio.gather(*(fetch(card_id) for card_id in ids)))


async def find_created(api: CardApi, intent: Mapping[str, Any], owned: set[str], parallelism: int) -> str | None:
    """The card a lost or interrupted create made, if WeChat has it: an unowned live card with the intended
    type, brand and title, created since the intent (give or take clock skew)."""
    after = intent["after"]
    wanted = fingerprint(after["card_type"], after["fields"])
    unowned = [card_id for card_id in await api.list_ids() if card_id not in owned]
    found = [
        card_id
        for card_id, card in (await read_cards(api, unowned, parallelism)).items()
        if card is not None
        and fingerprint(card.card_type, card.fields) == wanted
        and int(card.extra.get("create_time", 0)) >= int(intent["started"]) - CLOCK_SKEW
    ]
    if len(found) > 1:
        raise WxrecError(
            f"an interrupted create may have made any of {', '.join(found)}; adopt the right one with "
            "`wxrec import` and delete the others by hand"
        )
    return found[0] if found else None


async def resolve_intents(api: CardApi, state: State, save: SaveState, parallelism: int) -> list[str]:
    """Settle creates that an earlier run left unfinished: adopt the card WeChat made, or forget the intent."""
    messages = []
    for address, intent in sorted(state.intents.items()):
        if not address.startswith(KIND + "."):
            continue  # landing pages and QR codes cannot be looked up: their plan says so
        found = await find_created(api, intent, owned_ids(records(state)), parallelism)
        if found:
            card = desired_from_document(address, intent["after"])
            retire = tuple(intent.get("retire_ids", ()))
            state.resources[address] = record_document(card, found, retire, int(intent.get("issued_before", 0)))
            messages.append(f"{address}: adopted {found}, created by an interrupted run")
        else:
            messages.append(f"{address}: the interrupted create never reached WeChat; it will be planned again")
        del state.intents[address]
        await save()
    return messages


async def duplicate_refusals(api: CardApi, plan: Plan, intents: set[str], parallelism: int) -> list[str]:
    """A create that would duplicate a live card no state entry owns means state was lost: refuse.

    Creates left unfinished by an interrupted run are exempt: apply adopts their card instead."""
    creates = [c for c in plan.changes if c.action == Action.CREATE and c.address not in intents and c.after]
    if not creates or not plan.unmanaged:
        return []
    owners: dict[tuple[str, Any, Any], list[str]] = {}
    for card_id, card in (await read_cards(api, plan.unmanaged, parallelism)).items():
        if card is not None:
            owners.setdefault(fingerprint(card.card_type, card.fields), []).append(card_id)
    found = []
    for change in creates:
        assert change.after is not None
        twins = owners.get(fingerprint(change.after["card_type"], change.after["fields"]))
        if twins:
            found.append(
                f"{change.address} would duplicate live card(s) {', '.join(twins)} (same type, brand and title) "
                f"that no state entry owns. Was state lost? Adopt it with `wxrec import MANIFEST {change.address} "
                f"{twins[0]}`, or pass --allow-duplicate to create a second card"
            )
    return found


def desired_from_document(address: str, after: Mapping[str, Any]) -> DesiredCard:
    return DesiredCard(
        key=Address.parse(address).key,
        card_type=after["card_type"],
        fields=dict(after["fields"]),
        stock=Stock.from_dict(after["stock"]),
        prevent_destroy=bool(after.get("prevent_destroy")),
        ignore_changes=tuple(after.get("ignore_changes", ())),
    )


def record_document(
    card: DesiredCard, card_id: str, retire: tuple[str, ...] = (), issued_before: int = 0
) -> dict[str, Any]:
    return {
        "id": card_id,
        "card_type": card.card_type,
        "applied": card.fields,
        "stock": card.stock.to_dict(),
        "prevent_destroy": card.prevent_destroy,
        "retire_ids": list(retire),
        "issued_before": issued_before,
    }


def plan_cards(
    desired: Mapping[str, DesiredCard],
    live: CardsLive,
    state_records: Mapping[str, CardRecord],
    replace: frozenset[str] = frozenset(),
) -> tuple[list[ResourceChange], list[str], list[str]]:
    """Changes for every card address in the manifest or in state, the unmanaged live ids, and warnings."""
    changes = []
    warnings: list[str] = []
    for address in sorted(set(desired) | set(state_records)):
        record = state_records.get(address)
        live_one = live.cards.get(record.id) if record else None
        retiring = {old: live.cards.get(old) for old in record.retire_ids} if record else {}
        change = plan_card(
            address,
            desired.get(address),
            live_one,
            record,
            force_replace=address in replace,
            retiring=retiring,
        )
        if change is not None:
            changes.append(change)
        wanted = desired.get(address)
        if wanted is not None and record is not None and live_one is not None:
            warnings += unclearable(wanted, live_one, record.applied)
    owned = owned_ids(state_records)
    unmanaged = [card_id for card_id in live.ids if card_id not in owned]
    return changes, unmanaged, warnings


def refusals(changes: list[ResourceChange], state_records: Mapping[str, CardRecord], now: float) -> list[str]:
    """prevent_destroy (from the manifest or remembered in state) refuses deletes and replaces; WeChat
    refuses to create a card whose validity already ended, so such a plan is refused before any call."""
    found = []
    for change in changes:
        end = (change.after or {}).get("fields", {}).get("base_info.date_info.end_timestamp")
        if change.action in (Action.CREATE, Action.REPLACE) and isinstance(end, int) and end <= now:
            found.append(
                f"{change.address}: base_info.date_info.end_timestamp {end} is in the past; "
                "WeChat does not create a card that has already expired"
            )
        if change.action not in (Action.DELETE, Action.REPLACE):
            continue
        record = state_records.get(change.address)
        protected = (record is not None and record.prevent_destroy) or bool(
            change.after and change.after.get("prevent_destroy")
        )
        if protected:
            found.append(
                f"{change.address}: lifecycle.prevent_destroy forbids this {change.action}; "
                f"to stop managing it without deleting it, run `wxrec state rm MANIFEST {change.address}`"
            )
    return found


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

    def _desired(self, change: ResourceChange) -> DesiredCard:
        assert change.after is not None
        return desired_from_document(change.address, change.after)

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
        self.state.resources[address] = record_document(card, card_id, retire, issued_before)
        self.state.intents.pop(address, None)
        await self.save()
        return card_id

    async def _create(self, change: ResourceChange) -> str:
        card = self._desired(change)
        quantity = initial_quantity(card.stock)
        card_id = await self._create_card(change.address, card, quantity)
        return f"created {card_id} with {quantity} claimable"

    async def _update(self, change: ResourceChange) -> str:
        card = self._desired(change)
        assert change.id is not None
        target = dict(card.fields)
        target.update({c.path: RESET_VALUES[c.path] for c in change.changes if c.reset})
        groups = sorted({group_of(c.path) for c in change.changes if c.path != LIFECYCLE_PROTECTION})
        send_check = False
        if groups:
            send_check = await self.api.update(change.id, card.card_type, update_body(target, groups))
        record = self.state.resources[change.address]
        record["applied"] = card.fields
        record["prevent_destroy"] = card.prevent_destroy
        await self.save()
        message = f"updated {change.id}" if groups else "updated state only (lifecycle)"
        message += " (sent back to review)" if send_check else ""
        if change.stock is not None:
            message += "; " + await self._stock(change)
        return message

    async def _stock(self, change: ResourceChange) -> str:
        card = self._desired(change)
        assert change.id is not None
        issued_before = int(self.state.resources[change.address].get("issued_before", 0))
        message = await converge_stock(self.api, change.id, lambda live: stock_change(card.stock, live, issued_before))
        self.state.resources[change.address]["stock"] = card.stock.to_dict()
        await self.save()
        return message

    async def _replace(self, change: ResourceChange) -> str:
        card = self._desired(change)
        old_id = change.id
        assert old_id is not None
        record = self.state.resources[change.address]
        raw = await self.api.get(old_id)
        issued = int(record.get("issued_before", 0))
        if raw is not None:
            old = live_card(raw, None)
            issued += old.total_quantity - old.quantity
        quantity = initial_quantity(card.stock, issued)
        retire = (*record.get("retire_ids", ()), old_id)
        new_id = await self._create_card(change.address, card, quantity, retire, issued)
        return f"created {new_id} with {quantity} claimable to replace {old_id}"

    async def retire_replaced(self, address: str) -> str | None:
        """After everything that referenced the old card moved to the new one: delete the old card, once the
        new one has passed review. None when nothing was deleted."""
        record = self.state.resources.get(address)
        if not record or not record.get("retire_ids"):
            return None
        new = await self.api.get(record["id"])
        if new is None or live_card(new, None).status != APPROVED:
            waiting = ", ".join(record["retire_ids"])
            return f"{waiting} stays until {record['id']} passes review (a later apply deletes it)"
        return await self._retire_ids(address, list(record["retire_ids"]))

    async def card_status(self, card_id: str) -> str | None:
        raw = await self.api.get(card_id)
        return None if raw is None else live_card(raw, None).status

    async def _retire(self, change: ResourceChange) -> str:
        # Checked again now, not trusted from the plan: a saved plan may be older than a rejection.
        return await self.retire_replaced(change.address) or "nothing left to retire"

    async def _retire_ids(self, address: str, ids: list[str]) -> str:
        record = self.state.resources[address]
        for old_id in ids:
            await self.api.delete(old_id)
            record["retire_ids"] = [i for i in record.get("retire_ids", []) if i != old_id]
            await self.save()
        return f"deleted old card(s) {', '.join(ids)}"

    async def _delete(self, change: ResourceChange) -> str:
        record = self.state.resources.get(change.address, {})
        for card_id in (record.get("id"), *record.get("retire_ids", [])):
            if card_id:
                await self.api.delete(card_id)
        self.state.resources.pop(change.address, None)
        await self.save()
        return f"deleted {change.id}"
