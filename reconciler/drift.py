"""Drift: which of a plan's differences someone made in WeChat by hand, and which are edits to the manifests."""

from __future__ import annotations

from typing import Any

from reconciler.address import kind_of
from reconciler.plan import ADOPTIONS, Action, Plan, ResourceChange
from reconciler.resources import cards, codes
from reconciler.resources.cards.record import CardRecord
from reconciler.state import State

DRIFT_FORMAT_VERSION = 1


def drift_report(plan: Plan, state: State | None) -> dict[str, Any]:
    """Tell apart changes someone made in WeChat by hand ("live") from edits to the manifests ("manifest").

    Claims under a refill target are the campaign working: reported as stock to refill, never as drift."""
    state_records = cards.records(state)
    live: list[dict[str, Any]] = []
    manifest: list[dict[str, Any]] = []
    refills: list[dict[str, Any]] = []
    for change in plan.ordered():
        record = state_records.get(change.address)
        entry = {"address": change.address, "id": change.id}
        if change.action == Action.GONE:
            live.append({**entry, "what": "deleted outside wxrec"})
        elif knock_on := _knock_on(change):
            manifest.append({**entry, "what": knock_on})
        elif change.action in (Action.CREATE, Action.DELETE):
            verb = "added to" if change.action == Action.CREATE else "removed from"
            manifest.append({**entry, "what": f"{verb} the manifests"})
        elif change.action in ADOPTIONS:
            block = "an import" if change.action == Action.IMPORT else "a moved"
            manifest.append({**entry, "what": f"{block} block in the manifests"})
        elif change.action == Action.RETIRE:
            manifest.append({**entry, "what": "old card of a replace awaiting deletion"})
        elif change.action == Action.FORGET:
            manifest.append({**entry, "what": "removed from the manifests (it stays live in WeChat)"})
        elif kind_of(change.address) == codes.KIND:
            _classify_codes(change, (state.resources.get(change.address) if state else None) or {}, live, manifest)
            continue
        elif change.address == "menu":
            applied = (state.resources.get("menu") or {}).get("applied") if state else None
            by_hand = applied is not None and (change.before or {}).get("menu") != applied
            target = live if by_hand else manifest
            target.append(
                {**entry, "what": "menu changed in WeChat by hand" if by_hand else "menu edited in the manifests"}
            )
        for attribute in change.changes:
            applied = record.applied.get(attribute.path) if record else None
            by_manifest = attribute.old == applied or record is None or attribute.path.startswith("lifecycle.")
            target = manifest if by_manifest else live
            what = "edited in the manifests" if target is manifest else "changed in WeChat by hand"
            target.append(
                {**entry, "what": what, "path": attribute.path, "live": attribute.old, "wanted": attribute.new}
            )
        if change.stock is not None:
            _classify_stock(change, record, entry, live, manifest, refills)
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "appid": plan.appid,
        "endpoint": plan.endpoint,
        "in_sync": not live and not manifest,
        "live": live,
        "manifest": manifest,
        "refills": refills,
    }


def _knock_on(change: ResourceChange) -> str | None:
    """A page, QR code or menu that changes only because a card it points at is created or replaced."""
    follows = [r for r in change.reasons if r.startswith(("re-created because", "re-pointed because"))]
    return follows[0] if follows and not change.changes else None


def _classify_codes(
    change: ResourceChange, record: dict[str, Any], live: list[dict[str, Any]], manifest: list[dict[str, Any]]
) -> None:
    """New codes in the file, or a new target, are manifest edits; anything else moved the card's codes or stock
    in WeChat."""
    entry = {"address": change.address, "id": change.id}
    after = change.after or {}
    if after.get("pending"):
        manifest.append({**entry, "what": f"{after['pending']} codes in the file not deposited yet"})
    if after.get("target") != record.get("target"):
        manifest.append({**entry, "what": f"stock target changed to {after.get('target')}"})
    elif change.stock is not None and not after.get("pending"):
        deposited = (change.before or {}).get("deposited")
        live.append({**entry, "what": f"codes or stock changed in WeChat outside wxrec ({deposited} codes deposited)"})


def _classify_stock(
    change: ResourceChange,
    record: CardRecord | None,
    entry: dict[str, Any],
    live: list[dict[str, Any]],
    manifest: list[dict[str, Any]],
    refills: list[dict[str, Any]],
) -> None:
    stock = change.stock
    assert stock is not None
    numbers = {"quantity": stock.quantity, "total_quantity": stock.total_quantity, "delta": stock.delta}
    applied_target = record.stock.target if record and record.stock else None
    if applied_target != stock.target:
        manifest.append({**entry, **numbers, "what": f"stock target changed to {stock.target}"})
    elif stock.mode == "refill" and stock.delta > 0:
        refills.append({**entry, **numbers, "what": f"{stock.delta} claimed since the last apply: to refill"})
    else:
        live.append({**entry, **numbers, "what": "stock changed in WeChat outside wxrec (modifystock)"})
