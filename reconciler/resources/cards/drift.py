"""A card's drift: an attribute or stock that is not what the last apply left is someone's hand in WeChat."""

from __future__ import annotations

from reconciler.i18n import said
from reconciler.plan import ResourceChange
from reconciler.resources.base import STOCK_TARGET_CHANGED, Drift
from reconciler.resources.cards.record import CardRecord


def card_drift(change: ResourceChange, record: CardRecord | None, found: Drift) -> None:
    """Compare each changed attribute's live value with the one last applied; protection (`lifecycle.`) lives in
    state alone, so a change of it is always the manifests'."""
    for attribute in change.changes:
        applied = record.applied.get(attribute.path) if record else None
        by_manifest = attribute.old == applied or record is None or attribute.path.startswith("lifecycle.")
        found.attribute(change, attribute, by_hand=not by_manifest)
    stock = change.stock
    if stock is None:
        return
    applied_target = record.stock.target if record and record.stock else None
    refill = stock.mode == "refill" and stock.delta > 0
    if refill and record is not None and record.stock is None:
        # Imported, and no stock applied since (an import recorded none before it learnt to record what already
        # matches, docs/decisions.md): nothing tells claims from a raised target; either is a refill to come.
        found.stock(
            change,
            stock,
            found.refills,
            said("{count} under its refill target, not applied since the import: to refill", count=stock.delta),
        )
    elif applied_target != stock.target:
        found.stock(change, stock, found.manifest, said(STOCK_TARGET_CHANGED, target=stock.target))
    elif refill:
        found.stock(
            change, stock, found.refills, said("{count} claimed since the last apply: to refill", count=stock.delta)
        )
    else:
        found.stock(change, stock, found.live, said("stock changed in WeChat outside wxrec (modifystock)"))
