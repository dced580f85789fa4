"""Codes as a registered kind."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from reconciler.errors import Locate, Problem
from reconciler.i18n import said, said_n
from reconciler.plan import ResourceChange
from reconciler.resources.base import STOCK_TARGET_CHANGED, Applier, ApplyContext, Drift, entry, schema_fragment
from reconciler.resources.codes.apply import CodesApplier
from reconciler.resources.codes.record import KIND, CodesRecord
from reconciler.resources.review import wait_for_approval
from reconciler.state import State


class Codes:
    """Codes as a registered kind; planning takes them right after cards, from the live cards they go into."""

    name = KIND
    keyed = True
    layer = 1
    attributes: tuple[str, ...] = ()
    may_refer_to = ("cards",)
    nouns = ("codes file", "codes files")  # validate's summary: one entry is one file of codes for a card
    new_badge = "new"
    panel = "other"
    schema: Mapping[str, Any] = schema_fragment(KIND)

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        return []  # checked with the files they name and the cards they go into: see files.validate

    def drift(self, change: ResourceChange, state: State | None, found: Drift) -> None:
        """New codes in the file, or a new target, are manifest edits; anything else moved the card's codes or
        stock in WeChat."""
        record = CodesRecord.from_state((state.resources.get(change.address) if state else None) or {})
        after = change.after or {}
        if after.get("pending"):
            pending = after["pending"]
            what = said_n(
                "{count} code in the file not deposited yet", "{count} codes in the file not deposited yet", pending
            )
            found.manifest.append(entry(change, what))
        if after.get("target") != record.target:
            found.manifest.append(entry(change, said(STOCK_TARGET_CHANGED, target=str(after.get("target")))))
        elif change.stock is not None and not after.get("pending"):
            deposited = (change.before or {}).get("deposited")
            what = said(
                "codes or stock changed in WeChat outside wxrec ({count} codes deposited)", count=str(deposited)
            )
            found.live.append(entry(change, what))

    def applier(self, context: ApplyContext) -> Applier:
        deadline = time.monotonic() + context.wait_for_review
        return CodesApplier(
            context.cards,
            context.state,
            context.save,
            context.backend,
            lambda address: (context.state.resources.get(address) or {}).get("id"),
            lambda address, card_id: wait_for_approval(
                context.card_status, card_id, address, "a code deposit", deadline
            ),
            context.manifest_root,
            context.parallelism,
        )


CODES = Codes()
