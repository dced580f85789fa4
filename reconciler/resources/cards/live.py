"""Cards as WeChat holds them: the colours, live ids and card/get reads a plan starts from, state's stand-in for
them (--refresh=false, `wxrec diff`), and settling the creates an interrupted run left unfinished."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.address import kind_of
from reconciler.errors import WxrecError
from reconciler.i18n import said_n
from reconciler.plan import Action, Plan
from reconciler.resources.cards.diff import APPROVED, desired_from_document
from reconciler.resources.cards.model import LiveCard, Palette, Stock, live_card
from reconciler.resources.cards.record import KIND, CardRecord, owned_ids, records
from reconciler.state import SaveState, State
from reconciler.wechat.cards import CardApi

# How far WeChat's clock (create_time) may be behind ours when looking for a card a lost create made.
CLOCK_SKEW = 300


@dataclass
class CardsLive:
    palette: Palette
    ids: list[str]
    cards: dict[str, LiveCard | None] = field(default_factory=dict)


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
        if kind_of(address) != KIND:
            continue  # landing pages and QR codes cannot be looked up: their plan says so
        found = await find_created(api, intent, owned_ids(records(state)), parallelism)
        if found:
            card = desired_from_document(address, intent["after"])
            retire = tuple(intent.get("retire_ids", ()))
            issued_before = int(intent.get("issued_before", 0))
            state.resources[address] = CardRecord.applied_as(card, found, retire, issued_before).to_state()
            messages.append(f"{address}: adopted {found}, created by an interrupted run")
        else:
            messages.append(f"{address}: the interrupted create never reached WeChat; it will be planned again")
        del state.intents[address]
        await save()
    return messages


async def duplicate_refusals(
    api: CardApi, plan: Plan, intents: set[str], parallelism: int, invocation: str
) -> list[str]:
    """A create that would duplicate a live card no state entry owns means state was lost: refuse, and offer the
    import command (`invocation`: the manifests and options of the run, settings.RunSettings.invocation).

    Creates left unfinished by an interrupted run are exempt: apply adopts their card instead."""
    creates = [c for c in plan.changes if c.action == Action.CREATE and c.address not in intents and c.after]
    if not creates or not plan.unmanaged:
        return []
    owners: dict[tuple[str, Any, Any], list[str]] = {}
    for card_id, card in (await read_cards(api, plan.unmanaged, parallelism)).items():
        if card is not None:
            owners.setdefault(fingerprint(card.card_type, card.fields), []).append(card_id)
    found: list[str] = []
    for change in creates:
        assert change.after is not None
        twins = owners.get(fingerprint(change.after["card_type"], change.after["fields"]))
        if twins:
            found.append(
                said_n(
                    "{address} would duplicate live card {cards} (same type, brand and title) that no state entry "
                    "owns. Was state lost? Adopt it with `wxrec import {invocation} {address} {id}`, or pass "
                    "--allow-duplicate to create a second card",
                    "{address} would duplicate live cards {cards} (same type, brand and title) that no state entry "
                    "owns. Was state lost? Adopt it with `wxrec import {invocation} {address} {id}`, or pass "
                    "--allow-duplicate to create a second card",
                    len(twins),
                    address=change.address,
                    cards=", ".join(twins),
                    invocation=invocation,
                    id=twins[0],
                )
            )
    return found
