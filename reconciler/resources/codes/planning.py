"""Planning codes entries: count what the file holds against the ledger, predict the stock, and refuse codes that
went into another card users hold. Plans carry counts only, never codes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypedDict

from reconciler.address import Address, kind_of
from reconciler.i18n import said, said_n
from reconciler.plan import Action, ResourceChange
from reconciler.resources.cards.diff import APPROVED, deposit_stock_change
from reconciler.resources.cards.live import CardsLive
from reconciler.resources.cards.model import LiveCard, live_card
from reconciler.resources.codes.files import CodeFile
from reconciler.resources.codes.record import KIND, CodesRecord, DepositedHashes
from reconciler.state import State
from reconciler.wechat.cards import CardApi

BATCH = 100  # card/code/deposit and checkcode take at most 100 codes


@dataclass(frozen=True)
class CodesLive:
    """What plan knows of a codes entry's card: its id (None while this run creates or replaces it), how many
    codes it holds, and its stock."""

    card_id: str | None
    deposited: int
    card: LiveCard | None


@dataclass(frozen=True)
class CodeCounts:
    """Codes in the file, those the ledger lacks, those deposited but gone from the file, the file's digest, and
    how many codes the ledger holds."""

    codes: int
    pending: int
    gone: int
    digest: str = ""
    known: int = 0


def count_codes(source: CodeFile, known: set[bytes]) -> CodeCounts:
    """With an empty ledger every code is pending (the file's codes are distinct: validate saw to it), so a
    first deposit of a million codes hashes none of them here."""
    if not known:
        codes = sum(1 for _ in source.read())
        return CodeCounts(codes, codes, 0, source.digest())
    wanted = source.hashes()
    return CodeCounts(len(wanted), len(wanted - known), len(known - wanted), source.digest(), len(known))


def same_card(record: CodesRecord | None, card_id: str | None) -> bool:
    """Whether the ledger's codes are in this card: not after a replace, nor before the card exists."""
    return record is not None and card_id is not None and record.card_id == card_id


class CodesBefore(TypedDict):
    """A codes change's `before` (plan.schema.json's `codes`): how many codes the card holds."""

    deposited: int


class CodesAfter(TypedDict):
    """A codes change's `after` (plan.schema.json's `codes`): the entry, its file, the target, the counts. Never
    the codes."""

    spec: dict[str, Any]
    file: str
    target: int
    codes: int
    pending: int
    file_sha256: str


def codes_after(spec: Mapping[str, Any], file: str, target: int, counts: CodeCounts, pending: int) -> CodesAfter:
    return {
        "spec": dict(spec),
        "file": file,
        "target": target,
        "codes": counts.codes,
        "pending": pending,
        "file_sha256": counts.digest,
    }


def plan_codes(
    key: str,
    spec: Mapping[str, Any],
    file: str,
    counts: CodeCounts,
    record: CodesRecord | None,
    live: CodesLive,
    target: int,
) -> ResourceChange | None:
    """Deposit what the ledger lacks, then move stock to min(target, deposited). Pure; `counts` are against the
    ledger of this card (empty after a replace).

    Codes WeChat holds beyond the ledger (it was lost, or an apply stopped before recording them) are counted as
    codes of the file: apply sends the file's codes the ledger lacks, WeChat keeps only those it does not hold,
    and the stock follows getdepositcount."""
    address = f"{KIND}.{key}"
    unrecorded = max(live.deposited - counts.known, 0)
    pending = max(counts.pending - unrecorded, 0)
    expected = live.deposited + pending
    card = live.card or LiveCard("", "", "", {}, 0, 0)
    stock = deposit_stock_change(target, expected, card)
    if not counts.pending and stock is None and same_card(record, live.card_id):
        return None
    change = ResourceChange(
        address,
        Action.CREATE if record is None else Action.UPDATE,
        id=live.card_id,
        before=CodesBefore(deposited=live.deposited),
        after=codes_after(spec, file, target, counts, pending),
        stock=stock,
    )
    batches = said_n("{count} call of {size}", "{count} calls of {size}", -(-counts.pending // BATCH), size=BATCH)
    if unrecorded:
        change.reasons += [
            _ledger_gap(counts.known, live.deposited),
            said_n(
                "{count} code the ledger lacks is sent again in {batches}, checked with checkcode: WeChat keeps it "
                "only if it does not hold it ({new} new, counting the codes it holds beyond the ledger as the "
                "file's), and the ledger records it",
                "{count} codes the ledger lacks are sent again in {batches}, each checked with checkcode: WeChat "
                "keeps only those it does not hold ({new} new, counting the codes it holds beyond the ledger as the "
                "file's), and the ledger records them all",
                counts.pending,
                batches=batches,
                new=pending,
            ),
        ]
    elif pending:
        change.reasons.append(
            said_n(
                "{count} code to deposit in {batches}, checked with checkcode",
                "{count} codes to deposit in {batches}, each checked with checkcode",
                pending,
                batches=batches,
            )
        )
    if record is not None and not same_card(record, live.card_id):
        change.reasons.append(said("the card was replaced: every code goes into the new card"))
    if counts.gone:
        change.notes.append(gone_note(counts.gone))
    if expected < target:
        change.notes.append(
            said(
                "codes run short: stock stays at {expected}, below the target {target}",
                expected=expected,
                target=target,
            )
        )
    if live.card is None or live.card.status != APPROVED:
        change.notes.append(said("WeChat takes codes only into an approved card: this waits for review"))
    return change


def gone_note(gone: int) -> str:
    """What becomes of codes removed from the file (README's promise: the plan says how many)."""
    return said_n(
        "{count} code deposited earlier is no longer in the file: WeChat cannot take it back",
        "{count} codes deposited earlier are no longer in the file: WeChat cannot take them back",
        gone,
    )


def _ledger_gap(known: int, deposited: int) -> str:
    if not known:
        return said(
            "the ledger of deposited codes is missing: WeChat holds {deposited} codes of this card, the ledger none",
            deposited=deposited,
        )
    return said(
        "the ledger of deposited codes lacks some: WeChat holds {deposited} codes of this card, the ledger {known} "
        "(an apply stopped before recording them, or the ledger was cut short)",
        deposited=deposited,
        known=known,
    )


def forget(address: str, record: CodesRecord) -> ResourceChange:
    return ResourceChange(
        address,
        Action.FORGET,
        id=record.card_id,
        notes=[said("removed from the manifests: deposited codes stay in the card (WeChat cannot take them back)")],
    )


def deposited_in(deposited: Mapping[str, int] | None, card_id: str | None, record: CodesRecord | None) -> int:
    """getdepositcount as read, or without the network what the last apply recorded."""
    if card_id is None:
        return 0
    if deposited is None:
        return record.deposited if record else 0
    return deposited[card_id]


async def plan_all(
    root: Path,
    sources: Mapping[str, tuple[Mapping[str, Any], str]],
    deposited: Mapping[str, int] | None,
    state: State | None,
    deposited_hashes: DepositedHashes,
    cards: CardsLive,
    card_ids: Mapping[str, str | None],
    targets: Mapping[str, int],
) -> tuple[list[ResourceChange], list[str], list[str]]:
    """Every codes entry's change, refusals and warnings; `card_ids` maps card addresses to their id (None: created or
    replaced in this run). `deposited`: getdepositcount per card id, and `cards` the cards (old ones too), as
    the plan's read phase read them; None: nothing was read live (--refresh=false, wxrec diff)."""
    records = {
        a: CodesRecord.from_state(r) for a, r in (state.resources.items() if state else ()) if kind_of(a) == KIND
    }
    changes = [forget(a, r) for a, r in sorted(records.items()) if Address.parse(a).key not in sources]
    refusals: list[str] = []
    warnings: list[str] = []

    async def one(key: str, spec: Mapping[str, Any], file: str) -> ResourceChange | None:
        address, card = str(Address(KIND, key)), str(Address.card(spec["card"]))
        card_id = card_ids.get(card)
        record = records.get(address)
        if card_id is not None and cards.cards.get(card_id, True) is None:
            return None  # the card was deleted outside wxrec: its own plan says so, and nothing can go into it
        read_live = deposited is not None
        live = CodesLive(card_id, deposited_in(deposited, card_id, record), _card(read_live, cards, card_id, record))
        source = CodeFile(root / file, spec.get("column"))
        known = deposited_hashes(address) if same_card(record, card_id) else set()
        counts = await asyncio.to_thread(count_codes, source, known)
        if record is not None and not same_card(record, card_id):
            old_ledger = deposited_hashes(address)
            refusal = await reuse_refusal(
                address, card, source, old_ledger, None, str(record.card_id), cards, gone_unknown=read_live
            )
            refusals.extend([refusal] if refusal else [])
        change = plan_codes(key, spec, file, counts, record, live, targets.get(card, 0))
        if change is None and counts.gone:  # with a change, its note says it
            warnings.append(said("{address}: {note}", address=address, note=gone_note(counts.gone)))
        return change

    planned = await asyncio.gather(*(one(key, spec, file) for key, (spec, file) in sorted(sources.items())))
    return changes + [c for c in planned if c is not None], refusals, sorted(warnings)


async def reuse_refusal(
    address: str,
    card: str,
    source: CodeFile,
    old_ledger: set[bytes],
    api: CardApi | None,
    old_id: str,
    known: CardsLive | None = None,
    *,
    gone_unknown: bool = False,
) -> str | None:
    """Codes deposited into another card (one replaced, or the entry pointed elsewhere) must not go into this one
    once users hold some: WeChat does not say which were handed out, and this card could hand one out again.
    Checked at plan (against `known`, the cards plan read: with `gone_unknown`, an old card missing from them is
    gone from WeChat) and again at apply, against the old card read live through `api` then."""
    if not old_ledger:
        return None
    old = known.cards.get(old_id) if known is not None and old_id in known.cards else None
    if old is None and api is not None:
        raw = await api.get(old_id)
        old = live_card(raw, None) if raw is not None else None
    issued = (
        None if old is None and (api is not None or gone_unknown) else (old.total_quantity - old.quantity if old else 0)
    )
    if issued == 0:
        return None
    reused = len(await asyncio.to_thread(source.hashes) & old_ledger)
    if not reused:
        return None
    held = (
        "users may hold some of its codes (it is gone, so wxrec cannot tell how many)"
        if issued is None
        else f"{issued} codes of it are with users already"
    )
    return (
        f"{address}: the codes were deposited into another card ({old_id}), and {held}; {reused} codes of the "
        f"file were among them, so {card} could hand them out again. Give {card} fresh codes (a file without "
        "those already deposited)"
    )


def _card(read_live: bool, cards: CardsLive, card_id: str | None, record: CodesRecord | None) -> LiveCard | None:
    """The card as read; without the network, its stock as the last apply left it: min(target, deposited)."""
    card = cards.cards.get(card_id or "")
    if read_live or card is None or record is None:
        return card
    stock = min(record.target, record.deposited)
    return replace(card, quantity=stock, total_quantity=stock)
