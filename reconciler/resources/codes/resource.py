"""Codes as a registered kind."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from reconciler.errors import Locate, Problem
from reconciler.resources.base import Applier, ApplyContext, schema_fragment
from reconciler.resources.codes.apply import CodesApplier
from reconciler.resources.codes.record import KIND
from reconciler.resources.review import wait_for_approval


class Codes:
    """Codes as a registered kind; planning takes them right after cards, from the live cards they go into."""

    name = KIND
    keyed = True
    layer = 1
    attributes: tuple[str, ...] = ()
    may_refer_to = ("cards",)
    new_badge = "new"
    panel = "other"
    schema: Mapping[str, Any] = schema_fragment(KIND)

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        return []  # checked with the files they name and the cards they go into: see files.validate

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
