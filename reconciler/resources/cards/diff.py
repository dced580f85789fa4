"""Pure planning for cards: (desired, live, state record) → one ResourceChange, or None when in sync."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from reconciler.address import Address
from reconciler.hints import state_command
from reconciler.i18n import said, said_n
from reconciler.plan import Action, AttributeChange, ResourceChange, StockChange
from reconciler.resources.cards.coupons import REPLACE_FLAG
from reconciler.resources.cards.model import DEPOSIT_MODE, DesiredCard, Flat, LiveCard, Stock, subtree
from reconciler.resources.cards.nested import changed_leaves
from reconciler.resources.cards.record import CardRecord
from reconciler.resources.cards.rules import (
    FIX_TIME_RANGE,
    ONE_WAY_SWITCHES,
    RESET_VALUES,
    WEB_LINKS,
    group_of,
    review_fields,
    updatable_fields,
)

APPROVED = "CARD_STATUS_VERIFY_OK"
REJECTED = "CARD_STATUS_VERIFY_FAIL"
LIFECYCLE_PROTECTION = "lifecycle.prevent_destroy"


def field_changes(desired: DesiredCard, live: LiveCard, applied: Flat) -> list[AttributeChange]:
    """Three-way diff: desired vs live for managed fields; fields dropped from the manifest are reset."""
    changes: list[AttributeChange] = []
    for path in changed_leaves(desired.fields, live.fields, desired.ignore_changes):
        wanted = desired.fields[path]
        if path not in live.fields and applied.get(path) == wanted:
            continue  # WeChat does not echo this field back; trust what was applied
        changes.append(AttributeChange(path, live.fields.get(path), wanted))
    for path in sorted(set(applied) - set(desired.fields)):
        if desired.ignores(path) or group_of(path) in _dropped_groups_still_set(desired, path):
            continue
        reset = RESET_VALUES.get(path)
        if path in RESET_VALUES and live.fields.get(path) != reset:
            changes.append(AttributeChange(path, live.fields.get(path), reset, reset=True))
    return changes


def adopted_record(desired: DesiredCard, live: LiveCard) -> CardRecord:
    """What an apply of `desired` would record for the live card an import adopts: the fields that already match
    and, when the live stock meets it, the stock target. The rest stays unapplied: the plan's update of it
    records it, as for any card, so drift has a baseline to tell WeChat's changes from the manifests' from then on."""
    differing = {change.path for change in field_changes(desired, live, {})}
    applied = {path: value for path, value in desired.fields.items() if path not in differing}
    met = not desired.manages_stock or stock_change(desired.stock, live) is None
    return CardRecord(live.id, desired.card_type, applied, desired.stock if met else None, desired.prevent_destroy)


def unclearable(desired: DesiredCard, live: LiveCard, applied: Flat) -> list[str]:
    """Fields an earlier apply set, now gone from the manifest, that WeChat cannot clear: said, not planned."""
    return [
        _stays(desired.address, path, live.fields[path])
        for path in sorted(set(applied) - set(desired.fields))
        if path not in RESET_VALUES
        and path in live.fields
        and not desired.ignores(path)
        and group_of(path) not in _dropped_groups_still_set(desired, path)
    ]


def _stays(address: str, path: str, value: object) -> str:
    """A web link can be neither set nor cleared today: its mini-program pair takes the entry over."""
    pair = WEB_LINKS.get(path.removeprefix("base_info."))
    if pair is None:
        return said(
            "{address}: {path} is no longer in the manifest, but WeChat cannot clear it: it stays {value}",
            address=address,
            path=path,
            value=repr(value),
        )
    return said(
        "{address}: {path} is no longer in the manifest, but WeChat cannot clear it: it stays {value}; set "
        "base_info.{name} and base_info.{password} to send the entry to a mini program",
        address=address,
        path=path,
        value=repr(value),
        name=pair[0],
        password=pair[1],
    )


def _dropped_groups_still_set(desired: DesiredCard, path: str) -> set[str]:
    """A leaf removed inside a group the manifest still sets is not reset on its own: the group is sent whole."""
    group = group_of(path)
    return {group} if group != path and subtree(desired.fields, group) else set()


def classify(card_type: str, changes: list[AttributeChange], desired: Flat, live: Flat) -> list[str]:
    """Mark each change as needing review or replacement; return why the card must be replaced, if it must."""
    reasons: list[str] = []
    review = review_fields(card_type)
    updatable = updatable_fields(card_type)
    for change in changes:
        if change.path == LIFECYCLE_PROTECTION:
            continue  # kept in state only: WeChat never sees it
        group = group_of(change.path)
        change.review = group in review
        if group not in updatable:
            change.forces_replace = True
            reasons.append(said("{path} cannot be changed by card/update", path=change.path))
        elif change.path in ONE_WAY_SWITCHES and change.old is True and change.new is not True:
            # "仅支持从false变为true" (docs/wechat/member-cards.md §3): only a new card turns it off.
            change.forces_replace = True
            reasons.append(said("{path} cannot be switched off once it is on", path=change.path))
    date_reason = _date_rule(desired, live) if any(group_of(c.path) == "base_info.date_info" for c in changes) else None
    if date_reason:
        for change in changes:
            if group_of(change.path) == "base_info.date_info":
                change.forces_replace = True
        reasons.append(date_reason)
    return sorted(set(reasons))


def _date_rule(desired: Flat, live: Flat) -> str | None:
    """card/update only widens a fixed date range: begin earlier or equal, end later or equal."""
    new = subtree(desired, "base_info.date_info")
    old = subtree(live, "base_info.date_info")
    kinds = (old.get("base_info.date_info.type"), new.get("base_info.date_info.type"))
    if kinds != (FIX_TIME_RANGE, FIX_TIME_RANGE):
        return said("date_info can only be changed between fixed date ranges (DATE_TYPE_FIX_TIME_RANGE)")
    begin_old, end_old = (
        old.get("base_info.date_info.begin_timestamp"),
        old.get("base_info.date_info.end_timestamp"),
    )
    begin_new, end_new = (
        new.get("base_info.date_info.begin_timestamp"),
        new.get("base_info.date_info.end_timestamp"),
    )
    if None in (begin_old, end_old, begin_new, end_new):
        return said("date_info is incomplete")
    if begin_new > begin_old or end_new < end_old:  # type: ignore[operator]
        return said("date_info can only be widened (begin earlier, end later)")
    return None


def stock_change(stock: Stock, live: LiveCard, issued_before: int = 0) -> StockChange | None:
    """The modifystock delta that brings live stock to the target; None when nothing moves.

    `issued_before`: claimed from the cards this address had before a replace, which the budget (or the
    refill ceiling) already paid for."""
    if stock.mode == "budget":
        delta = stock.target - issued_before - live.total_quantity
        note = "budget: total issued stock" + (f", {issued_before} of it by replaced cards" if issued_before else "")
    else:
        delta = stock.target - live.quantity
        note = "refill: claimable stock"
        if stock.ceiling is not None:
            delta = min(delta, stock.ceiling - issued_before - live.total_quantity)
            note += f", at most {stock.ceiling} issued in all"
    delta = max(delta, -live.quantity)  # stock cannot go below zero
    if delta == 0:
        return None
    return StockChange(stock.mode, stock.target, live.quantity, live.total_quantity, delta, note)


def deposit_stock_change(target: int, deposited: int, live: LiveCard) -> StockChange | None:
    """A deposit-mode card issues one code per coupon: its total stock is min(target, deposited codes)."""
    wanted = min(target, deposited)
    delta = max(wanted - live.total_quantity, -live.quantity)
    if delta == 0:
        return None
    note = f"deposit: {deposited} codes deposited" + (f", short of the target {target}" if deposited < target else "")
    return StockChange("deposit", target, live.quantity, live.total_quantity, delta, note)


def switches_to_deposit(changes: list[AttributeChange]) -> bool:
    """Whether card/update gives the card the deposit mode (docs/wechat-today.md: 4.1 非新创建卡券)."""
    return any(c.path == "base_info.get_custom_code_mode" and c.new == DEPOSIT_MODE for c in changes)


def emptied_stock(live: LiveCard) -> StockChange | None:
    """Before the switch to the deposit mode: WeChat refuses it while the stock left exceeds the codes deposited,
    and the codes entry deposits after the card's update, so the claimable stock goes to 0 first; the codes
    entry then raises it to the codes."""
    if live.quantity == 0:
        return None
    note = "deposit mode: claimable stock to 0 before the switch; the codes entry raises it to the codes deposited"
    return StockChange("deposit", 0, live.quantity, live.total_quantity, -live.quantity, note)


def initial_quantity(stock: Stock, issued_before: int = 0) -> int:
    """Claimable stock for a new card; a replacement's budget subtracts what the old card already issued.
    A deposit-mode card starts empty: WeChat takes codes only into an approved card."""
    if stock.mode == "deposit":
        return 0
    if stock.mode == "budget":
        return max(stock.target - issued_before, 0)
    return stock.target if stock.ceiling is None else max(min(stock.target, stock.ceiling - issued_before), 0)


class DesiredCardDocument(TypedDict):
    """A change's `after` for a card, and an import's: plan.schema.json's `card` as the manifest wants it."""

    card_type: str
    fields: Flat
    stock: dict[str, Any]  # Stock.to_dict
    prevent_destroy: bool
    ignore_changes: list[str]


class LiveCardDocument(TypedDict):
    """A change's `before` for a card: plan.schema.json's `card` as card/get returned it."""

    card_type: str
    status: str
    fields: Flat
    stock: dict[str, int]  # quantity, total_quantity


def desired_document(card: DesiredCard) -> DesiredCardDocument:
    return {
        "card_type": card.card_type,
        "fields": card.fields,
        "stock": card.stock.to_dict(),
        "prevent_destroy": card.prevent_destroy,
        "ignore_changes": list(card.ignore_changes),
    }


def desired_from_document(address: str, after: Mapping[str, Any]) -> DesiredCard:
    return DesiredCard(
        key=Address.parse(address).key,
        card_type=after["card_type"],
        fields=dict(after["fields"]),
        stock=Stock.from_dict(after["stock"]),
        prevent_destroy=bool(after.get("prevent_destroy")),
        ignore_changes=tuple(after.get("ignore_changes", ())),
    )


def live_document(card: LiveCard) -> LiveCardDocument:
    return {
        "card_type": card.card_type,
        "status": card.status,
        "fields": card.fields,
        "stock": {"quantity": card.quantity, "total_quantity": card.total_quantity},
    }


def plan_card(
    address: str,
    desired: DesiredCard | None,
    live: LiveCard | None,
    record: CardRecord | None,
    *,
    force_replace: bool = False,
    retiring: dict[str, LiveCard | None] | None = None,
    state_invocation: str = ".",
) -> ResourceChange | None:
    """The change for one card address. `retiring` holds the live state of old cards awaiting deletion;
    `state_invocation` names the run's state in a command the change prints (Options.state_invocation)."""
    if desired is None:
        assert record is not None
        return _plan_delete(address, record, live)
    after = desired_document(desired)
    if record is None:
        quantity = initial_quantity(desired.stock)
        return ResourceChange(
            address, Action.CREATE, after=after, notes=[said("initial claimable stock {quantity}", quantity=quantity)]
        )
    if live is None:
        return _plan_gone(desired, record, force_replace, state_invocation)
    change = _plan_existing(desired, live, record, force_replace)
    _plan_retire(change, live, record, retiring or {})
    return change if change.action != Action.UPDATE or change.changes or change.retire_ids else None


def _plan_existing(desired: DesiredCard, live: LiveCard, record: CardRecord, force_replace: bool) -> ResourceChange:
    change = ResourceChange(desired.address, Action.UPDATE, id=live.id, before=live_document(live))
    change.after = desired_document(desired)
    change.changes = field_changes(desired, live, record.applied)
    if desired.prevent_destroy != record.prevent_destroy:
        # State remembers protection (so deleting the block still refuses): keep it in step, both ways.
        change.changes.append(AttributeChange(LIFECYCLE_PROTECTION, record.prevent_destroy, desired.prevent_destroy))
    reasons = classify(desired.card_type, change.changes, desired.fields, live.fields)
    if desired.card_type != live.card_type:
        reasons.insert(0, said("card_type changes from {old} to {new}", old=live.card_type, new=desired.card_type))
    if force_replace:
        reasons.insert(0, REPLACE_FLAG)
    if reasons:
        change.action = Action.REPLACE
        change.reasons = reasons
        issued = record.issued_before + live.total_quantity - live.quantity
        change.notes = [
            said("the new card starts with {count} claimable", count=initial_quantity(desired.stock, issued)),
            said(
                "the old card's QR codes, landing pages and add-card links stop working; copies users hold stay valid"
            ),
            said("the old card is deleted once the new one has passed review"),
        ]
        return change
    # A rejected card goes back to review on any card/update (docs/wechat-today.md, reviews).
    resubmits = live.status == REJECTED and any(c.path != LIFECYCLE_PROTECTION for c in change.changes)
    change.review = resubmits or any(c.review for c in change.changes)
    if switches_to_deposit(change.changes):
        change.stock = emptied_stock(live)
    elif desired.manages_stock:
        change.stock = stock_change(desired.stock, live, record.issued_before)
    if not change.changes and change.stock is not None:
        change.action = Action.STOCK
    return change


def _plan_delete(address: str, record: CardRecord, live: LiveCard | None) -> ResourceChange:
    if live is None:
        return ResourceChange(
            address, Action.DELETE, id=record.id, notes=[said("already gone from WeChat: only state is cleaned up")]
        )
    return ResourceChange(
        address,
        Action.DELETE,
        id=record.id,
        before=live_document(live),
        notes=[said("its QR codes, landing pages and add-card links stop working; copies users hold stay valid")],
    )


def _plan_gone(desired: DesiredCard, record: CardRecord, force_replace: bool, state_invocation: str) -> ResourceChange:
    after = desired_document(desired)
    if force_replace:
        return ResourceChange(
            desired.address,
            Action.CREATE,
            after=after,
            reasons=[said("{id} was deleted outside wxrec; re-created as requested with -replace", id=record.id)],
        )
    return ResourceChange(
        desired.address,
        Action.GONE,
        id=record.id,
        after=after,
        reasons=[
            said(
                "someone deleted it (in the MP console, maybe on purpose); it is not re-created silently. Run with "
                "-replace {address} to create it again, or `{command}` to stop managing it",
                address=desired.address,
                command=state_command("rm", state_invocation, desired.address),
            )
        ],
    )


def _plan_retire(
    change: ResourceChange, live: LiveCard, record: CardRecord, retiring: dict[str, LiveCard | None]
) -> None:
    """Old cards of an earlier replace are deleted once their replacement passed review."""
    pending = [old for old in record.retire_ids if retiring.get(old) is not None]
    if not pending:
        return
    if live.status == APPROVED:
        change.retire_ids = pending
        if change.action == Action.UPDATE and not change.changes and change.stock is None:
            change.action = Action.RETIRE
    else:
        change.notes.append(
            said_n(
                "old card {cards} stays until {id} passes review ({status})",
                "old cards {cards} stay until {id} passes review ({status})",
                len(pending),
                cards=", ".join(pending),
                id=live.id,
                status=live.status,
            )
        )
