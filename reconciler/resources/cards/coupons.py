"""Coupons since 2021-04-01: WeChat creates no new coupon, through the API or the MP console, and keeps serving
the coupons already made (docs/wechat-today.md). So a plan that would create one, by a create, a replace or the
re-creation of a deleted coupon, is refused before any call, and a planned delete says it is for good. An
emulator in legacy mode (Options.legacy_coupons) still creates them: there, none of this applies.

The messages are plain f-strings, kept together here so that they can be made translatable in one place."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.i18n import said
from reconciler.plan import Action, ResourceChange
from reconciler.resources.cards.record import CardRecord

# 「微信卡券>优惠券」: GROUPON 团购券, CASH 代金券, DISCOUNT 折扣券, GIFT 兑换券, GENERAL_COUPON 优惠券.
COUPON_TYPES = frozenset({"GROUPON", "CASH", "DISCOUNT", "GIFT", "GENERAL_COUPON"})
REPLACE_FLAG = said("replacement requested with -replace")

_CLOSED = "WeChat has created no coupons (GROUPON, CASH, DISCOUNT, GIFT, GENERAL_COUPON) since 2021-04-01"
_WAYS = (
    "adopt a coupon the account already has with an `import:` block, make it a member card (MEMBER_CARD) or a "
    "ticket, or use a WeChat Pay merchant coupon (coming as kind pay_coupons)"
)
_LEGACY = "(--legacy-coupons lifts this against an emulator in legacy mode only)"
FOR_GOOD = f"a deleted coupon can never be made again: {_CLOSED}"


def refusals(changes: list[ResourceChange], records: Mapping[str, CardRecord], legacy: bool) -> list[str]:
    """Each change that would have WeChat create a coupon, with the way forward."""
    if legacy:
        return []
    return [refusal for change in changes if (refusal := _refusal(change, records.get(change.address)))]


def _refusal(change: ResourceChange, record: CardRecord | None) -> str | None:
    card_type = _type(change.after)
    if change.action not in (Action.CREATE, Action.REPLACE) or card_type not in COUPON_TYPES:
        return None
    address = change.address
    if change.action == Action.REPLACE:
        fields = ", ".join(_replacing(change))
        return (
            f"{address}: changing {fields} needs a new card (a replace), but {_CLOSED}. Revert {fields} to keep "
            f"the coupon as it is, or {_WAYS} {_LEGACY}"
        )
    if record is not None:
        return (
            f"{address}: re-creating the deleted {card_type} coupon {record.id} is impossible, {FOR_GOOD}. Remove "
            f"it from the manifests and run `wxrec state rm MANIFEST {address}`, or {_WAYS} {_LEGACY}"
        )
    return f"{address}: creates a {card_type} coupon, but {_CLOSED}. Instead, {_WAYS} {_LEGACY}"


def _replacing(change: ResourceChange) -> list[str]:
    """What makes this change a replace: the fields to revert (card_type among them), or the -replace asked for."""
    fields = [c.path for c in change.changes if c.forces_replace]
    if _type(change.before) != _type(change.after):
        fields.insert(0, "card_type")
    if REPLACE_FLAG in change.reasons:
        fields.append(f"-replace {change.address}")
    return fields or ["the card"]


def note_deletes(changes: list[ResourceChange], legacy: bool) -> None:
    """A delete of a coupon, or a replace that retires one, or a coupon deleted outside wxrec: say it is for good."""
    if legacy:
        return
    for change in changes:
        if change.action in (Action.DELETE, Action.REPLACE, Action.GONE) and _coupon_goes(change):
            change.notes.append(FOR_GOOD)


def _coupon_goes(change: ResourceChange) -> bool:
    if change.action == Action.GONE:
        return _type(change.after) in COUPON_TYPES
    return _type(change.before) in COUPON_TYPES


def _type(document: Mapping[str, object] | None) -> object:
    return None if document is None else document.get("card_type")
