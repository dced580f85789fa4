"""Deposited custom codes (`codes` section): codes from a file, deposited into a deposit-mode card.

Codes are money: they never appear in plans, logs, messages or state. State keeps an 8-byte hash per
deposited code in its ledger, so reordering the file changes nothing and an interrupted deposit resumes
where it stopped. Deposits go in batches of 100 (WeChat's limit), each verified with checkcode; the
card's stock then follows min(target, deposited). WeChat offers no way to take a code back: codes gone
from the file stay deposited, and a `codes` section gone from the manifests is only forgotten.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reconciler.address import Address, kind_of
from reconciler.errors import Location, Problem, WxrecError
from reconciler.plan import Action, ResourceChange
from reconciler.resources.base import Applier, ApplyContext, schema_fragment
from reconciler.resources.cards.diff import APPROVED, deposit_stock_change
from reconciler.resources.cards.kind import CardsLive, converge_stock
from reconciler.resources.cards.model import DEPOSIT_MODE, LiveCard, live_card
from reconciler.resources.review import wait_for_approval
from reconciler.state import SaveState, State, StateBackend, code_hash
from reconciler.wechat.cards import CardApi

KIND = "codes"
BATCH = 100  # card/code/deposit and checkcode take at most 100 codes
MAX_CODE_BYTES = 20  # code is string(20) in every card API
LEDGER_FLUSH = 50  # batches between ledger writes: a crash re-sends at most these, which WeChat filters
Locate = Callable[[tuple[str | int, ...]], Location | None]
Ledger = Callable[[str], set[bytes]]


@dataclass(frozen=True)
class CodeFile:
    """A codes file: one code per line, or the column `column` (a header name, or a number from 1) of a CSV whose
    first row is its header."""

    path: Path
    column: str | int | None = None

    def read(self) -> Iterator[tuple[int, str]]:
        """(line number, code) for every non-blank entry; raises WxrecError naming the file when unreadable.

        Lines end at \n (or \r\n) only, never where str.splitlines() would also break (\v, \f, \x1c–\x1e,
        \x85, U+2028, U+2029): such a character is part of its line's code, which validate refuses, instead of
        the line becoming several codes deposited for good. Only spaces around a code are dropped, so no other
        character is hidden from validate."""
        try:
            text = self.path.read_bytes().decode("utf-8-sig")  # not read_text: it would turn a lone \r into \n
        except (OSError, UnicodeDecodeError) as exc:
            raise WxrecError(f"{self.path}: cannot read codes ({exc.__class__.__name__})") from None
        if self.column is None:
            for number, line in enumerate(text.split("\n"), 1):
                code = line.removesuffix("\r").strip(" ")
                if code:
                    yield number, code
            return
        yield from self._column(text)

    def _column(self, text: str) -> Iterator[tuple[int, str]]:
        """A CSV always starts with its header row, even when the column is given by number: a header read as a
        code would be deposited for good. A row is numbered by the line it starts on (a quoted field may hold
        a line break, which validate then refuses)."""
        rows = csv.reader(io.StringIO(text, newline="\n"))
        try:
            header = next(rows, [])
            if isinstance(self.column, int):
                index = self.column - 1
            elif str(self.column) in header:
                index = header.index(str(self.column))
            else:
                raise WxrecError(f"{self.path}:1: the header has no column {self.column!r}")
            number = rows.line_num + 1
            for row in rows:
                code = row[index].strip(" ") if index < len(row) else ""
                if code:
                    yield number, code
                number = rows.line_num + 1
        except csv.Error as exc:
            raise WxrecError(f"{self.path}:{rows.line_num}: not a CSV row ({exc})") from None

    def digest(self) -> str:
        """SHA-256 of the file's bytes: a saved plan is stale once the file it counted changed."""
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError as exc:
            raise WxrecError(f"{self.path}: cannot read codes ({exc.__class__.__name__})") from None

    def hashes(self) -> set[bytes]:
        return {code_hash(code) for _, code in self.read()}


def code_files(
    data: Mapping[str, Any], named: Mapping[tuple[str | int, ...], Path], root: Path
) -> dict[str, tuple[Mapping[str, Any], str]]:
    """key → (spec, its file relative to the manifest directory): plan documents stay valid on another checkout.
    `named`: the files the manifest layer resolved and its path policy accepted."""
    return {
        key: (spec, os.path.relpath(named[(KIND, key, "file")], root))
        for key, spec in (data.get(KIND) or {}).items()
        if (KIND, key, "file") in named
    }


def validate(data: Mapping[str, Any], locate: Locate, named: Mapping[tuple[str | int, ...], Path]) -> list[Problem]:
    """Each entry points at a deposit-mode card no other entry uses, and its file holds valid, distinct codes.
    Problems name lines, never the codes. `named`: the files the manifest layer accepted (a refused one was
    reported there and is not read)."""
    section = data.get(KIND)
    if not isinstance(section, Mapping):
        return []
    cards = data.get("cards") or {}
    problems: list[Problem] = []
    users: dict[str, str] = {}
    for key, spec in section.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("card"), str):
            continue
        where = f"{KIND}.{key}"
        card = cards.get(spec["card"]) if isinstance(cards, Mapping) else None
        base_info = (card or {}).get("base_info") or {}
        if card is not None and base_info.get("get_custom_code_mode") != DEPOSIT_MODE:
            problems.append(
                Problem(
                    locate((KIND, key, "card")),
                    f"{where}.card",
                    f"{Address.card(spec['card'])} is not in {DEPOSIT_MODE}",
                )
            )
        if spec["card"] in users:
            problems.append(
                Problem(locate((KIND, key, "card")), f"{where}.card", f"{users[spec['card']]} already fills this card")
            )
        users.setdefault(spec["card"], where)
        location = locate((KIND, key, "file"))
        path = named.get((KIND, key, "file"))
        if location is not None and path is not None:
            problems += _file_problems(CodeFile(path, spec.get("column")), location, f"{where}.file")
    return problems


def _file_problems(source: CodeFile, location: Location, field: str) -> list[Problem]:
    try:
        entries = list(source.read())
    except WxrecError as exc:
        return [Problem(location, field, str(exc))]
    if not entries:
        return [Problem(location, field, f"{source.path} holds no codes")]
    codes = [code for _, code in entries]
    if _plainly_valid(codes):
        return []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for number, code in entries:
        at = Location(str(source.path), number, 1)
        # isprintable: no character of Unicode's "Other" (controls, format characters) or "Separator" categories
        # (line, paragraph and no-break spaces) but " ", which is refused apart.
        if not code.isprintable() or " " in code:
            problems.append(Problem(at, "code", "holds whitespace or a control character"))
        elif len(code.encode("utf-8")) > MAX_CODE_BYTES:
            problems.append(Problem(at, "code", f"is longer than {MAX_CODE_BYTES} bytes"))
        elif code in first_line:
            problems.append(Problem(at, "code", f"repeats the code on line {first_line[code]}"))
        first_line.setdefault(code, number)
    return problems[:20]


PLAIN_ASCII = re.compile(r"[^\x21-\x7e]")


def _plainly_valid(codes: list[str]) -> bool:
    """The common case at C speed: printable ASCII without spaces, short enough, all distinct. Anything else
    goes through the line-by-line checks, which name each problem."""
    return (
        max(map(len, codes)) <= MAX_CODE_BYTES
        and PLAIN_ASCII.search("".join(codes)) is None
        and len(set(codes)) == len(codes)
    )


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


def same_card(record: Mapping[str, Any] | None, card_id: str | None) -> bool:
    """Whether the ledger's codes are in this card: not after a replace, nor before the card exists."""
    return record is not None and card_id is not None and record.get("card_id") == card_id


def plan_codes(
    key: str,
    spec: Mapping[str, Any],
    file: str,
    counts: CodeCounts,
    record: Mapping[str, Any] | None,
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
        before={"deposited": live.deposited},
        after={
            "spec": dict(spec),
            "file": file,
            "target": target,
            "codes": counts.codes,
            "pending": pending,
            "file_sha256": counts.digest,
        },
        stock=stock,
    )
    calls = -(-counts.pending // BATCH)
    if unrecorded:
        change.reasons += [
            _ledger_gap(counts.known, live.deposited),
            f"{counts.pending} codes the ledger lacks are sent again in {calls} calls of {BATCH}, each checked with "
            f"checkcode: WeChat keeps only those it does not hold ({pending} new, counting the codes it holds beyond "
            "the ledger as the file's), and the ledger records them all",
        ]
    elif pending:
        change.reasons.append(f"{pending} codes to deposit in {calls} calls of {BATCH}, each checked with checkcode")
    if record is not None and not same_card(record, live.card_id):
        change.reasons.append("the card was replaced: every code goes into the new card")
    if counts.gone:
        change.notes.append(
            f"{counts.gone} codes deposited earlier are no longer in the file: WeChat cannot take them back"
        )
    if expected < target:
        change.notes.append(f"codes run short: stock stays at {expected}, below the target {target}")
    if live.card is None or live.card.status != APPROVED:
        change.notes.append("WeChat takes codes only into an approved card: this waits for review")
    return change


def _ledger_gap(known: int, deposited: int) -> str:
    if not known:
        return f"the ledger of deposited codes is missing: WeChat holds {deposited} codes of this card, the ledger none"
    return (
        f"the ledger of deposited codes lacks some: WeChat holds {deposited} codes of this card, the ledger {known} "
        "(an apply stopped before recording them, or the ledger was cut short)"
    )


def forget(address: str, record: Mapping[str, Any]) -> ResourceChange:
    return ResourceChange(
        address,
        Action.FORGET,
        id=record.get("card_id"),
        notes=["removed from the manifests: deposited codes stay in the card (WeChat cannot take them back)"],
    )


def deposited_in(deposited: Mapping[str, int] | None, card_id: str | None, record: Mapping[str, Any] | None) -> int:
    """getdepositcount as read, or without the network what the last apply recorded."""
    if card_id is None:
        return 0
    if deposited is None:
        return int((record or {}).get("deposited", 0))
    return deposited[card_id]


async def plan_all(
    root: Path,
    sources: Mapping[str, tuple[Mapping[str, Any], str]],
    deposited: Mapping[str, int] | None,
    state: State | None,
    ledger: Ledger,
    cards: CardsLive,
    card_ids: Mapping[str, str | None],
    targets: Mapping[str, int],
) -> tuple[list[ResourceChange], list[str]]:
    """Every codes entry's change, and refusals; `card_ids` maps card addresses to their id (None: created or
    replaced in this run). `deposited`: getdepositcount per card id, and `cards` the cards (old ones too), as
    the plan's read phase read them; None: nothing was read live (--refresh=false, wxrec diff)."""
    records = {a: r for a, r in (state.resources.items() if state else ()) if kind_of(a) == KIND}
    changes = [forget(a, r) for a, r in sorted(records.items()) if Address.parse(a).key not in sources]
    refusals: list[str] = []

    async def one(key: str, spec: Mapping[str, Any], file: str) -> ResourceChange | None:
        address, card = str(Address(KIND, key)), str(Address.card(spec["card"]))
        card_id = card_ids.get(card)
        record = records.get(address)
        if card_id is not None and cards.cards.get(card_id, True) is None:
            return None  # the card was deleted outside wxrec: its own plan says so, and nothing can go into it
        read_live = deposited is not None
        live = CodesLive(card_id, deposited_in(deposited, card_id, record), _card(read_live, cards, card_id, record))
        source = CodeFile(root / file, spec.get("column"))
        known = ledger(address) if same_card(record, card_id) else set()
        counts = await asyncio.to_thread(count_codes, source, known)
        if record is not None and not same_card(record, card_id):
            old_ledger = ledger(address)
            old_id = str(record.get("card_id"))
            refusal = await reuse_refusal(
                address, card, source, old_ledger, None, old_id, cards, gone_unknown=read_live
            )
            refusals.extend([refusal] if refusal else [])
        return plan_codes(key, spec, file, counts, record, live, targets.get(card, 0))

    planned = await asyncio.gather(*(one(key, spec, file) for key, (spec, file) in sorted(sources.items())))
    return changes + [c for c in planned if c is not None], refusals


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


def _card(read_live: bool, cards: CardsLive, card_id: str | None, record: Mapping[str, Any] | None) -> LiveCard | None:
    """The card as read; without the network, its stock as the last apply left it: min(target, deposited)."""
    card = cards.cards.get(card_id or "")
    if read_live or card is None or record is None:
        return card
    stock = min(int(record.get("target", 0)), int(record.get("deposited", 0)))
    return replace(card, quantity=stock, total_quantity=stock)


@dataclass
class Sent:
    """What WeChat did with the codes sent: deposited, already held (sent again after a lost ledger or an
    interrupted apply), refused (fail_code)."""

    new: int = 0
    held: int = 0
    refused: int = 0


@dataclass
class CodesApplier:
    """Deposits pending codes with bounded concurrency, verifies them, records their hashes, moves stock."""

    api: CardApi
    state: State
    save: SaveState
    backend: StateBackend
    card_id_of: Callable[[str], str | None]
    await_approval: Callable[[str, str], Awaitable[None]]
    manifest_root: Path
    parallelism: int = 16

    async def apply(self, change: ResourceChange) -> str:
        if change.action == Action.FORGET:
            self.state.resources.pop(change.address, None)
            self.backend.drop_code_hashes(change.address)
            await self.save()
            return "forgotten (the codes stay deposited)"
        assert change.after is not None
        spec = change.after["spec"]
        card = Address.card(spec["card"])
        card_id = self.card_id_of(str(card))
        if card_id is None:
            raise WxrecError(f"{change.address}: {card} has no id: did its create fail?")
        record = self.state.resources.get(change.address)
        target = int(change.after.get("target", 0))
        source = CodeFile(self.manifest_root / change.after["file"], spec.get("column"))
        await self.await_approval(change.address, card_id)
        if not same_card(record, card_id):
            await self._move_to(change.address, card_id, target, source, record)
        known = self.backend.code_hashes(change.address)
        # With an empty ledger nothing is hashed here: each batch hashes its codes once verified, while other
        # batches wait on the network.
        pending = [code for _, code in source.read() if not known or code_hash(code) not in known]
        sent = await self._deposit(change.address, card_id, pending)
        deposited = await self.api.deposit_count(card_id)
        stock = await converge_stock(self.api, card_id, lambda live: deposit_stock_change(target, deposited, live))
        self.state.resources[change.address] = {"card_id": card_id, "deposited": deposited, "target": target}
        await self.save()
        message = f"deposited {sent.new} codes ({deposited} in the card)"
        message += f", {sent.held} others were in it already" if sent.held else ""
        message += f"; {stock}"
        if sent.refused:
            raise WxrecError(f"{change.address}: {message}; WeChat refused {sent.refused} codes (fail_code)")
        return message

    async def _move_to(
        self, address: str, card_id: str, target: int, source: CodeFile, record: Mapping[str, Any] | None
    ) -> None:
        """Start the ledger afresh for `card_id`. The codes of another card (replaced, or a first deposit cut short
        before a re-create) are none of them in this card; users may hold some, which is checked again now:
        claims go on until the old card is retired."""
        if record is not None:
            old_ledger = self.backend.code_hashes(address)
            old_id = str(record.get("card_id"))
            refusal = await reuse_refusal(address, f"card {card_id}", source, old_ledger, self.api, old_id)
            if refusal:
                raise WxrecError(refusal)
        self.backend.drop_code_hashes(address)
        self.state.resources[address] = {"card_id": card_id, "deposited": 0, "target": target}
        await self.save()

    async def _deposit(self, address: str, card_id: str, pending: list[str]) -> Sent:
        """All batches, `parallelism` at a time; returns what WeChat did with the codes."""
        batches = [pending[i : i + BATCH] for i in range(0, len(pending), BATCH)]
        queue: asyncio.Queue[list[str]] = asyncio.Queue()
        for batch in batches:
            queue.put_nowait(batch)
        verified: list[bytes] = []
        sent = Sent()
        failures: list[Exception] = []

        async def worker() -> None:
            while not failures and not queue.empty():
                batch = queue.get_nowait()
                try:
                    await self._batch(address, card_id, batch, verified, sent)
                except Exception as exc:  # the first failure stops every worker; the ledger keeps what was verified
                    failures.append(exc)
                    return
                if queue.qsize() % LEDGER_FLUSH == 0:
                    self._flush(address, verified)

        try:
            await asyncio.gather(*(worker() for _ in range(min(self.parallelism, len(batches)))))
        finally:
            self._flush(address, verified)
        if failures:
            raise failures[0]
        return sent

    async def _batch(self, address: str, card_id: str, batch: list[str], verified: list[bytes], sent: Sent) -> None:
        """Deposit one batch and check it; verified hashes go to `verified`, the answer's counts to `sent`."""
        answer = await self.api.deposit(card_id, batch)
        held = await self.api.check_codes(card_id, batch)
        missing = (set(answer["succ_code"]) | set(answer["duplicate_code"])) - held
        if missing:
            raise WxrecError(f"{address}: checkcode does not find {len(missing)} codes that deposit reported taken")
        verified.extend(code_hash(code) for code in batch if code in held)
        sent.new += len(answer["succ_code"])
        sent.held += len(answer["duplicate_code"])
        sent.refused += len(answer["fail_code"])

    def _flush(self, address: str, verified: list[bytes]) -> None:
        if verified:
            self.backend.add_code_hashes(address, list(verified))
            verified.clear()


class Codes:
    """Codes as a registered kind; the engine plans them right after cards, from the live cards they go into."""

    name = KIND
    keyed = True
    layer = 1
    attributes: tuple[str, ...] = ()
    may_refer_to = ("cards",)
    new_badge = "new"
    panel = "other"
    schema: Mapping[str, Any] = schema_fragment(KIND)

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        return []  # checked with the files they name and the cards they go into: see `validate`

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
