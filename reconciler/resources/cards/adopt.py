"""Adopting a live card (`wxrec import cards.KEY CARD_ID`, and the check an `import:` block's apply makes): it must
exist, have the type the manifests declare, and belong to no other address."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import WxrecError
from reconciler.i18n import said
from reconciler.resources.base import ImportContext, ownership_refusal, unsettled
from reconciler.resources.cards.diff import adopted_record
from reconciler.resources.cards.model import LiveCard, Palette, desired_card, live_card


def card_refusal(to: str, card_id: str, declared_type: str, live: LiveCard | None) -> str | None:
    """Why the live card `card_id` is not one `to` can adopt (gone, or of another type), or None."""
    if live is None:
        return said("{id} does not exist in this account (or was deleted)", id=card_id)
    if live.card_type != declared_type:
        return said(
            "{id} is a {card_type} card; {address} declares {declared}",
            id=card_id,
            card_type=live.card_type,
            address=to,
            declared=declared_type,
        )
    return None


def import_refusal(
    to: str,
    card_id: str,
    declared_type: str,
    live: LiveCard | None,
    resources: Mapping[str, Mapping[str, Any]],
    state_invocation: str,
) -> str | None:
    """Why `card_id` cannot be adopted as `to` (the command and the block's apply alike), or None."""
    return ownership_refusal(to, card_id, resources, state_invocation) or card_refusal(to, card_id, declared_type, live)


async def import_card(address: str, card_id: str, context: ImportContext) -> dict[str, Any]:
    """State's record of the live card adopted as `address`: what already matches the manifests counts as
    applied, so the next plan shows only the differences."""
    if address in context.state.intents:
        raise WxrecError(unsettled(address))
    raw = await context.cards.get(card_id)
    palette = Palette(await context.cards.colours())  # read as a plan reads it, so a hex colour matches
    live = live_card(raw, palette) if raw is not None else None
    spec = context.spec
    refusal = import_refusal(
        address, card_id, spec["card_type"], live, context.state.resources, context.state_invocation
    )
    if refusal:
        raise WxrecError(refusal)
    assert live is not None  # card_refusal refuses a card that is gone
    return adopted_record(desired_card(context.key, spec, palette), live).to_state()
