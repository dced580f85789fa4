"""Planning every card address: the manifest's cards in canonical form, one change per address in the manifest or
in state (diff.py plans each), and what refuses a plan (prevent_destroy, a validity already over)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.address import Address, kind_of
from reconciler.errors import WxrecError
from reconciler.hints import state_command
from reconciler.i18n import Said, said
from reconciler.plan import Action, Attention, ResourceChange
from reconciler.resources.cards import coupons
from reconciler.resources.cards.diff import REJECTED, initial_quantity, live_document, plan_card, unclearable
from reconciler.resources.cards.live import CardsLive
from reconciler.resources.cards.model import DesiredCard, Palette, Stock, desired_card
from reconciler.resources.cards.record import KIND, CardRecord, owned_ids


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


def plan_cards(
    desired: Mapping[str, DesiredCard],
    live: CardsLive,
    state_records: Mapping[str, CardRecord],
    replace: frozenset[str],
    state_invocation: str,
) -> tuple[list[ResourceChange], list[str], list[str]]:
    """Changes for every card address in the manifest or in state, the unmanaged live ids, and warnings.
    `state_invocation` names the run's state in the commands the changes print (Options.state_invocation)."""
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
            state_invocation=state_invocation,
        )
        if change is not None:
            changes.append(change)
        wanted = desired.get(address)
        if wanted is not None and record is not None and live_one is not None:
            warnings += unclearable(wanted, live_one, record.applied)
    owned = owned_ids(state_records)
    unmanaged = [card_id for card_id in live.ids if card_id not in owned]
    return changes, unmanaged, warnings


def rejected(
    desired: Mapping[str, DesiredCard], live: CardsLive, state_records: Mapping[str, CardRecord]
) -> list[Attention]:
    """The manifest's cards that WeChat's review rejected: reported by plan and drift whatever the plan does, since
    a rejected card is invisible to users and nothing in the diff says so."""
    found = []
    for address in sorted(set(desired) & set(state_records)):
        card = live.cards.get(state_records[address].id)
        if card is not None and card.status == REJECTED:
            found.append(Attention(address, card.id, card.status, live_document(card)))
    return found


def refusals(
    changes: list[ResourceChange],
    state_records: Mapping[str, CardRecord],
    now: float,
    state_invocation: str,
    legacy_coupons: bool = False,
) -> list[str]:
    """prevent_destroy (from the manifest or remembered in state) refuses deletes and replaces; WeChat
    refuses to create a card whose validity already ended, one with no stock outside the deposit mode, and any
    coupon since 2021-04-01 (but an emulator in legacy mode), so such a plan is refused before any call."""
    found = coupons.refusals(changes, state_records, state_invocation, legacy_coupons)
    for change in changes:
        end = (change.after or {}).get("fields", {}).get("base_info.date_info.end_timestamp")
        if change.action in (Action.CREATE, Action.REPLACE) and isinstance(end, int) and end <= now:
            found.append(
                said(
                    "{address}: base_info.date_info.end_timestamp {end} is in the past; WeChat does not create a "
                    "card that has already expired",
                    address=change.address,
                    end=end,
                )
            )
        record = state_records.get(change.address)
        if change.action in (Action.CREATE, Action.REPLACE) and kind_of(change.address) == KIND:
            found += _empty_start(change, record)
        if change.action not in (Action.DELETE, Action.REPLACE):
            continue
        protected = (record is not None and record.prevent_destroy) or bool(
            change.after and change.after.get("prevent_destroy")
        )
        if protected:
            found.append(_protected(change.address, change.action, state_invocation))
    return found


def _protected(address: str, action: Action, state_invocation: str) -> Said:
    command = state_command("rm", state_invocation, address)
    if action == Action.DELETE:
        return said(
            "{address}: lifecycle.prevent_destroy forbids this delete; to stop managing it without deleting it, run "
            "`{command}`",
            address=address,
            command=command,
        )
    return said(
        "{address}: lifecycle.prevent_destroy forbids this replace; to stop managing it without deleting it, run "
        "`{command}`",
        address=address,
        command=command,
    )


def _empty_start(change: ResourceChange, record: CardRecord | None) -> list[str]:
    """WeChat creates no card with stock 0 unless it is in the deposit mode ("不支持填写0", docs/wechat-today.md),
    and wxrec never asks it to: a new card, or a replacement whose budget the old cards spent, is refused with
    the figures."""
    stock = Stock.from_dict((change.after or {})["stock"])
    if stock.mode == "deposit":
        return []
    live = (change.before or {}).get("stock", {})
    issued = (record.issued_before if record else 0) + live.get("total_quantity", 0) - live.get("quantity", 0)
    if change.action != Action.REPLACE:
        issued = 0
    if initial_quantity(stock, issued) > 0:
        return []
    if stock.target == 0:
        what = "sku.total_quantity" if stock.mode == "budget" else "sku.quantity"
        return [
            said(
                "{address}: {field} is 0, and WeChat creates no card without stock (except in the deposit mode)",
                address=change.address,
                field=what,
            )
        ]
    limit = "sku.total_quantity" if stock.mode == "budget" else "sku.max_total_quantity"
    allowed = stock.target if stock.mode == "budget" else stock.ceiling
    return [
        said(
            "{address}: its replacement would start with 0 claimable: {field} is {allowed} and the cards it replaces "
            "already issued {issued}, and WeChat creates no card without stock (except in the deposit mode); raise "
            "{field} above {issued}, or undo the change that forces the replacement",
            address=change.address,
            field=limit,
            allowed=str(allowed),
            issued=issued,
        )
    ]
