"""Planning merchant coupon stocks: each address's stock against what WeChat Pay holds (the query by id: there is
no list), and its record in state.

A new stock is a create whose request number is fixed before the call; a lost answer is never sent again but
adopted (`wxrec import`). A changed field the modify call takes is an update; a new maximum is a budget change,
refused below what was issued; any other field is fixed for good, so its change is refused unless -replace asks for
a new stock (the old one cannot be deleted: it keeps running until stopped in the merchant platform). Codes are
counted against the ledger of hashes, never carried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from reconciler.address import Address
from reconciler.errors import WxrecError
from reconciler.hints import state_command
from reconciler.i18n import N_, said, said_n
from reconciler.plan import Action, Attention, AttributeChange, ResourceChange
from reconciler.resources.base import KindPlan
from reconciler.resources.codes.files import CodeFile
from reconciler.resources.pay_coupons.adopt import adopted
from reconciler.resources.pay_coupons.model import (
    BUDGETS,
    KIND,
    STATES,
    STOPPED,
    UPLOAD_MODE,
    PayStocks,
    StockRecord,
    compared,
    fixed,
    issued,
    new_generation,
    records,
    request_no,
    stock_body,
)
from reconciler.state import State

Ledger = Callable[[str], set[bytes]]
NOT_FOUND = 404  # RESOURCE_NOT_EXISTS (docs/wechat-pay/busifavor.md §8)
BELOW_ISSUED = N_("{address} ({id}): {path} {wanted} is below the {floor} coupons already issued")
BELOW_ISSUED_TODAY = N_("{address} ({id}): {path} {wanted} is below the {floor} coupons already issued today")


@dataclass
class PayLive:
    """The stocks state knows, as WeChat Pay answers the query (None: no such stock), or, unread, as last applied."""

    stocks: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    read: bool = True


async def read_stocks(pay: PayStocks | None, state: State | None, also: Iterable[str] = ()) -> PayLive:
    """Each stock state knows (and those `also` names), queried side by side; without `pay`, what state says was
    last applied."""
    known = {record.id: record for record in records(state).values() if record.id}
    if pay is None:
        return PayLive({i: dict(r.applied or {}) for i, r in known.items()}, read=False)
    ids = sorted({*known, *also})
    answers = await asyncio.gather(*(_stock(pay, i) for i in ids))
    return PayLive(dict(zip(ids, answers, strict=True)))


async def _stock(pay: PayStocks, stock_id: str) -> dict[str, Any] | None:
    """The query's answer; None when WeChat Pay has no such stock for this merchant."""
    from reconciler.pay import PayError  # loaded by the run that made `pay`

    try:
        return await pay.get_stock(stock_id)
    except PayError as exc:
        if exc.status == NOT_FOUND:
            return None
        raise


class PayCodes(TypedDict):
    """A MERCHANT_UPLOAD stock's codes in a plan: the file, how many it holds and how many are not uploaded yet.
    Never a code."""

    file: str
    column: str | int | None
    codes: int
    pending: int
    file_sha256: str


class PayCouponDocument(TypedDict, total=False):
    """A stock's `before`/`after` (plan.schema.json's `pay_coupon`): the stock as sent or held, its state and issued
    count (live only), its codes, and the request number a create will carry."""

    stock: dict[str, Any]
    state: str | None
    issued: int
    codes: PayCodes | None
    out_request_no: str


@dataclass(frozen=True)
class Inputs:
    """What planning the section needs beyond the section: the merchant, state, the live stocks, -replace, the
    codes files (path by key, relative name for the plan) and the ledger."""

    mchid: str | None
    state: State | None
    live: PayLive
    replace: frozenset[str] = frozenset()
    files: Mapping[str, tuple[Path, str]] = field(default_factory=dict)
    ledger: Ledger = lambda address: set()
    checks_merchant: bool = True  # False for wxrec diff: its stand-in records know no merchant
    imports: Mapping[str, str] = field(default_factory=dict)  # import blocks: address → stock id
    invocation: str = "."  # how the `wxrec import` a note prints names the manifests and account
    state_invocation: str = "."  # how the `wxrec state rm` a refusal prints names the state
    allow_duplicate: bool = False  # --allow-duplicate: a create the codes ledger says was made before is planned


def plan_stocks(section: Mapping[str, Any] | None, inputs: Inputs) -> KindPlan:
    specs = section or {}
    known = records(inputs.state)
    found = KindPlan()
    if specs and not inputs.mchid:
        found.refusals.append(said("pay_coupons: set account.mchid, the WeChat Pay merchant the stocks belong to"))
        return found
    if specs and not known and inputs.state and inputs.state.resources:
        found.warnings.append(
            said(
                "state manages other resources but no pay_coupons stock: was it lost, or is it the wrong state? "
                "WeChat Pay has no list to find a stock by, so each one planned as new would be made a second time; "
                "adopt those that exist with `wxrec import {invocation} pay_coupons.KEY STOCK_ID`",
                invocation=inputs.invocation,
            )
        )
    for address in sorted({str(Address(KIND, key)) for key in specs} | set(known)):
        spec = specs.get(Address.parse(address).key)
        record = known.get(address)
        if spec is None:
            found.changes.append(_forget(address, record))
        else:
            _plan_one(address, spec, record, inputs, found)
    return found


def _import(address: str, stock_id: str, inputs: Inputs, found: KindPlan) -> StockRecord | None:
    """An import block adopting `stock_id`: the change (state only), and the record the rest of the plan diffs
    against; None when it cannot (refused). It also settles a create whose answer was lost."""
    live, read = inputs.live.stocks.get(stock_id), inputs.live.read  # not read (--refresh=false): apply checks it
    current = inputs.state or State(appid="", endpoint="")
    try:
        record = adopted(address, live, stock_id, inputs.mchid or "", current, inputs.state_invocation, read=read)
    except WxrecError as exc:
        found.refusals.append(said("import {address}: {refusal}", address=address, refusal=str(exc)))
        return None
    change = ResourceChange(address, Action.IMPORT, id=stock_id)
    change.before = PayCouponDocument(stock=dict(live)) if live else None
    change.reasons = [said("an import block adopts this stock: state records it, WeChat Pay is not changed")]
    found.changes.append(change)
    return record


def _forget(address: str, record: StockRecord | None) -> ResourceChange:
    note = said(
        "removed from the manifests; the stock keeps issuing until it is stopped in the merchant platform: "
        "WeChat Pay offers no way to delete or stop it"
    )
    return ResourceChange(address, Action.FORGET, id=record.id if record else None, notes=[note])


def _plan_one(
    address: str, spec: Mapping[str, Any], record: StockRecord | None, inputs: Inputs, found: KindPlan
) -> None:
    mchid = inputs.mchid or ""
    # wxrec diff's stand-ins know no merchant (applied_records): neither side gets the default one.
    body = stock_body(spec, mchid if inputs.checks_merchant else None)
    intent = (inputs.state.intents.get(address) if inputs.state else None) or {}
    # A new stock holds none of the codes the address's ledger counted for the one before it, and an adopted one
    # may not be the stock the ledger counted for (it records no stock id): every code is sent, those it holds
    # come back as held (docs/wechat-pay/busifavor.md §6).
    importing = address in inputs.imports and (record is None or record.id != inputs.imports[address])
    fresh = record is None or importing or address in inputs.replace
    if importing:
        adopted = _import(address, inputs.imports[address], inputs, found)
        if adopted is None:
            return
        record, intent = adopted, {}
    codes = _codes(address, spec, inputs, fresh)
    if record is not None and inputs.checks_merchant and record.mchid != mchid:
        found.refusals.append(other_merchant(address, record, mchid))
        return
    if intent and address not in inputs.replace:
        number = intent.get("out_request_no", "")
        found.refusals.append(
            said(
                "{address}: an earlier create (out_request_no {number}) lost its answer, so WeChat Pay may have made "
                "the stock. Find it in the merchant platform and run wxrec import {address} STOCK_ID; only if there "
                "is none, -replace {address} sends that create again with the same out_request_no",
                address=address,
                number=str(number),
            )
        )
        return
    if record is None or address in inputs.replace:
        if record is None and not intent and not inputs.allow_duplicate:
            found.refusals += _left_behind(address, inputs)
        found.changes.append(_create(address, body, codes, record, inputs, intent))
        return
    live = inputs.live.stocks.get(record.id)
    if live is None:
        found.refusals.append(no_stock(address, record.id, mchid))
        return
    _plan_existing(address, body, codes, record, live, inputs, found)


def _left_behind(address: str, inputs: Inputs) -> list[str]:
    """The codes ledger lives beside state, so it outlives a state file lost or replaced, and only they leave it
    (forgetting a stock, `state rm` and `-replace` drop it): codes it counts for an address state has no stock for
    were uploaded to a stock WeChat Pay still holds, which a create would duplicate, with a second budget. A wxrec
    before session 5 kept the ledger of a stock it forgot: beside a state (which `state rm` needs), the refusal
    names `state rm` of the address, which lets go of that ledger alone; --allow-duplicate lifts every duplicate
    check."""
    deposited = len(inputs.ledger(address))
    if not deposited:
        return []
    named = {"address": address, "invocation": inputs.invocation}
    if inputs.state is None:
        return [
            said_n(
                "{address}: state has no stock here, but the codes ledger beside state counts {count} code uploaded "
                "to one, so WeChat Pay holds a stock made for this address. Was state lost? Adopt it with `wxrec "
                "import {invocation} {address} STOCK_ID`, or pass --allow-duplicate to make a second stock",
                "{address}: state has no stock here, but the codes ledger beside state counts {count} codes uploaded "
                "to one, so WeChat Pay holds a stock made for this address. Was state lost? Adopt it with `wxrec "
                "import {invocation} {address} STOCK_ID`, or pass --allow-duplicate to make a second stock",
                deposited,
                **named,
            )
        ]
    return [
        said_n(
            "{address}: state has no stock here, but the codes ledger beside state counts {count} code uploaded to "
            "one, so WeChat Pay holds a stock made for this address. Was state lost? Adopt it with `wxrec import "
            "{invocation} {address} STOCK_ID`. If that stock was let go (removed from the manifests by a wxrec "
            "that kept its ledger), `{command}` drops the ledger and a new stock is made",
            "{address}: state has no stock here, but the codes ledger beside state counts {count} codes uploaded to "
            "one, so WeChat Pay holds a stock made for this address. Was state lost? Adopt it with `wxrec import "
            "{invocation} {address} STOCK_ID`. If that stock was let go (removed from the manifests by a wxrec "
            "that kept its ledger), `{command}` drops the ledger and a new stock is made",
            deposited,
            command=state_command("rm", inputs.state_invocation, address),
            **named,
        )
    ]


def _create(
    address: str,
    body: dict[str, Any],
    codes: PayCodes | None,
    record: StockRecord | None,
    inputs: Inputs,
    intent: Mapping[str, Any],
) -> ResourceChange:
    """A new stock; after a lost create (`intent`), that create again with its own number, so that WeChat Pay
    makes no second one if the first was made after all (assumed: docs/wechat-pay/busifavor.md §7.1)."""
    if intent:
        number = str(intent.get("out_request_no"))
        reason = said("the create whose answer was lost, sent again with its out_request_no {number}", number=number)
    else:
        number = request_no(inputs.state, address, new_generation(inputs.state))
        reason = said("a new stock") if record is None else said("a new stock requested with -replace")
    change = ResourceChange(
        address,
        Action.CREATE if record is None else Action.REPLACE,
        reasons=[reason],
        after=PayCouponDocument(stock=body, codes=codes, out_request_no=number),
    )
    if record is not None:
        change.id = record.id
        change.notes.append(
            said(
                "the old stock {id} keeps issuing until it is stopped in the merchant platform: WeChat Pay offers no "
                "way to delete or stop it. State keeps its id among the stocks this address left behind: {ids}",
                id=record.id,
                ids=", ".join((*record.retired, record.id)),
            )
        )
    else:
        change.notes.append(
            said(
                "if this stock already exists (state was lost, or another tool made it), adopt it instead with "
                "`wxrec import {invocation} {address} STOCK_ID`: WeChat Pay has no list, so wxrec cannot find it",
                invocation=inputs.invocation,
                address=address,
            )
        )
    if codes:
        change.notes.append(_pending(codes))
    return change


def _plan_existing(
    address: str,
    body: dict[str, Any],
    codes: PayCodes | None,
    record: StockRecord,
    live: Mapping[str, Any],
    inputs: Inputs,
    found: KindPlan,
) -> None:
    differences = compared(body, live)
    status = str(live.get("stock_state") or "")
    total, today = issued(live)
    if status in STOPPED:
        before = PayCouponDocument(stock=dict(live), state=status, issued=total)
        found.attention.append(Attention(address, record.id, status, before))
    elif status and status != "RUNNING":
        state = said(STATES[status]) if status in STATES else status
        found.warnings.append(
            said(
                "{address} ({id}): the stock is {state} ({status})",
                address=address,
                id=record.id,
                state=state,
                status=status,
            )
        )
    frozen = frozen_refusal(address, record.id, differences)
    if frozen:
        found.refusals.append(frozen)
        return
    found.refusals += budget_refusals(address, record.id, differences, total, today)
    changes = [AttributeChange(path, old, new) for path, (old, new) in differences.items()]
    if not changes and not (codes and codes["pending"]):
        return
    before = PayCouponDocument(stock=dict(live), state=status or None, issued=total)
    change = ResourceChange(address, Action.UPDATE, id=record.id, changes=changes, before=before)
    change.after = PayCouponDocument(stock=body, codes=codes)
    if any(path in BUDGETS for path in differences):
        change.reasons.append(said("the budget changes (a compare-and-swap on the current maximum)"))
    if any(path not in BUDGETS for path in differences):
        change.reasons.append(said("fields WeChat Pay can modify in place"))
    if codes and codes["pending"]:
        change.reasons.append(_pending(codes))
    found.changes.append(change)


def other_merchant(address: str, record: StockRecord, mchid: str) -> str:
    return said(
        "{address}: state holds stock {id} of merchant {held}, and the manifests are for merchant {mchid}: use the "
        "state of {mchid}'s stocks",
        address=address,
        id=record.id,
        held=record.mchid,
        mchid=mchid,
    )


def no_stock(address: str, stock_id: str, mchid: str) -> str:
    return said(
        "{address}: WeChat Pay has no stock {id} for merchant {mchid} (a stock cannot be deleted: is this the "
        "merchant's state?)",
        address=address,
        id=stock_id,
        mchid=mchid,
    )


def frozen_refusal(address: str, stock_id: str, differences: Mapping[str, Any]) -> str | None:
    """A change of what create sets for good is refused, naming the fields."""
    frozen = sorted(path for path in differences if fixed(path))
    if not frozen:
        return None
    return said(
        "{address} ({id}): {fields} cannot change once a stock is created. Put the old value back, or pass -replace "
        "{address} for a new stock (the old one keeps issuing until it is stopped in the merchant platform)",
        address=address,
        id=stock_id,
        fields=", ".join(frozen),
    )


def budget_refusals(
    address: str, stock_id: str, differences: Mapping[str, tuple[Any, Any]], total: int, today: int
) -> list[str]:
    """A maximum below what was already issued cannot hold: refused with the figures."""
    refusals: list[str] = []
    for path, floor in zip(BUDGETS, (total, today), strict=True):
        wanted = differences.get(path, (None, None))[1]
        if isinstance(wanted, int) and wanted < floor:
            sentence = BELOW_ISSUED_TODAY if path.endswith("_by_day") else BELOW_ISSUED
            figures = {"wanted": str(wanted), "floor": str(floor)}
            refusals.append(said(sentence, address=address, id=stock_id, path=path, **figures))
    return refusals


def _pending(codes: PayCodes) -> str:
    return said_n(
        "{count} code to upload (of {total} in {file})",
        "{count} codes to upload (of {total} in {file})",
        codes["pending"],
        total=codes["codes"],
        file=codes["file"],
    )


def _codes(address: str, spec: Mapping[str, Any], inputs: Inputs, fresh: bool = False) -> PayCodes | None:
    """Counts of a MERCHANT_UPLOAD stock's codes file against the ledger (`fresh`: a new stock, which holds
    none); None without a file."""
    named = inputs.files.get(Address.parse(address).key)
    if named is None or spec.get("coupon_code_mode") != UPLOAD_MODE:
        return None
    path, shown = named
    column = (spec.get("codes") or {}).get("column")
    source = CodeFile(path, column)
    known = set() if fresh else inputs.ledger(address)
    try:
        wanted = source.hashes()
        digest = source.digest()
    except WxrecError as exc:
        raise WxrecError(f"{address}: {exc}") from None
    return PayCodes(file=shown, column=column, codes=len(wanted), pending=len(wanted - known), file_sha256=digest)
