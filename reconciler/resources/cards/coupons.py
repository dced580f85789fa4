"""Coupons since 2021-04-01: WeChat creates no new coupon, through the API or the MP console, and keeps serving
the coupons already made (docs/wechat-today.md). So a plan that would create one, by a create, a replace or the
re-creation of a deleted coupon, is refused before any call, and a planned delete says it is for good. An
emulator in legacy mode (Options.legacy_coupons) still creates them: there, none of this applies."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.hints import state_command
from reconciler.i18n import Said, said
from reconciler.plan import Action, ResourceChange
from reconciler.resources.cards.record import CardRecord

# 「微信卡券>优惠券」: GROUPON 团购券, CASH 代金券, DISCOUNT 折扣券, GIFT 兑换券, GENERAL_COUPON 优惠券.
COUPON_TYPES = frozenset({"GROUPON", "CASH", "DISCOUNT", "GIFT", "GENERAL_COUPON"})
REPLACE_FLAG = said("replacement requested with -replace")

# Each message is one whole sentence for the catalogs, so what WeChat closed and the ways forward are repeated in
# each rather than glued from shared fragments a translation could not reorder.
FOR_GOOD = said(
    "a deleted coupon can never be made again: WeChat has created no coupons (GROUPON, CASH, DISCOUNT, GIFT, "
    "GENERAL_COUPON) since 2021-04-01"
)


def refusals(
    changes: list[ResourceChange], records: Mapping[str, CardRecord], state_invocation: str, legacy: bool
) -> list[str]:
    """Each change that would have WeChat create a coupon, with the way forward (`state_invocation`: how its
    commands name the run's state, Options.state_invocation)."""
    if legacy:
        return []
    return [
        refusal for change in changes if (refusal := _refusal(change, records.get(change.address), state_invocation))
    ]


def _refusal(change: ResourceChange, record: CardRecord | None, state_invocation: str) -> Said | None:
    card_type = _type(change.after)
    if change.action not in (Action.CREATE, Action.REPLACE) or card_type not in COUPON_TYPES:
        return None
    address, kind = change.address, str(card_type)
    if change.action == Action.REPLACE:
        return said(
            "{address}: changing {fields} needs a new card (a replace), but WeChat has created no coupons (GROUPON, "
            "CASH, DISCOUNT, GIFT, GENERAL_COUPON) since 2021-04-01. Revert {fields} to keep the coupon as it is, or "
            "adopt a coupon the account already has with an `import:` block, make it a member card (MEMBER_CARD) or "
            "a ticket, or use a WeChat Pay merchant coupon (kind pay_coupons) (--legacy-coupons lifts this "
            "against an emulator in legacy mode only)",
            address=address,
            fields=_replacing(change),
        )
    if record is not None:
        return said(
            "{address}: re-creating the deleted {card_type} coupon {id} is impossible: WeChat has created no coupons "
            "(GROUPON, CASH, DISCOUNT, GIFT, GENERAL_COUPON) since 2021-04-01. Remove it from the manifests and run "
            "`{command}`, or adopt a coupon the account already has with an `import:` "
            "block, make it a member card (MEMBER_CARD) or a ticket, or use a WeChat Pay merchant coupon ("
            "kind pay_coupons) (--legacy-coupons lifts this against an emulator in legacy mode only)",
            address=address,
            card_type=kind,
            id=record.id,
            command=state_command("rm", state_invocation, address),
        )
    return said(
        "{address}: creates a {card_type} coupon, but WeChat has created no coupons (GROUPON, CASH, DISCOUNT, GIFT, "
        "GENERAL_COUPON) since 2021-04-01. Instead, adopt a coupon the account already has with an `import:` block, "
        "make it a member card (MEMBER_CARD) or a ticket, or use a WeChat Pay merchant coupon (kind "
        "pay_coupons) (--legacy-coupons lifts this against an emulator in legacy mode only)",
        address=address,
        card_type=kind,
    )


def _replacing(change: ResourceChange) -> str:
    """What makes this change a replace: the fields to revert (card_type among them), or the -replace asked for."""
    fields = [c.path for c in change.changes if c.forces_replace]
    if _type(change.before) != _type(change.after):
        fields.insert(0, "card_type")
    if REPLACE_FLAG in change.reasons:
        fields.append(f"-replace {change.address}")
    return ", ".join(fields) if fields else said("the card")


def note_deletes(changes: list[ResourceChange], state_invocation: str, legacy: bool) -> None:
    """A delete of a coupon, or a replace that retires one, says it is for good; a coupon deleted outside wxrec is
    told what can be done instead of the -replace that re-creates any other card."""
    if legacy:
        return
    for change in changes:
        if change.action == Action.GONE and _type(change.after) in COUPON_TYPES:
            change.reasons = [
                said(
                    "someone deleted this coupon (in the MP console, maybe on purpose), and WeChat has created no "
                    "coupons since 2021-04-01, so it cannot be made again: remove it from the manifests and run "
                    "`{command}`, or adopt another coupon of the account with an `import:` block",
                    address=change.address,
                    command=state_command("rm", state_invocation, change.address),
                )
            ]
        elif change.action in (Action.DELETE, Action.REPLACE) and _type(change.before) in COUPON_TYPES:
            change.notes.append(FOR_GOOD)


def _type(document: Mapping[str, object] | None) -> object:
    return None if document is None else document.get("card_type")
