"""Depositing a codes entry: batches of the codes the ledger lacks, each checked with checkcode, their hashes
recorded as they are verified; then the card's stock follows min(target, deposited)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler.address import Address
from reconciler.errors import WxrecError
from reconciler.plan import Action, ResourceChange
from reconciler.resources.cards.apply import converge_stock
from reconciler.resources.cards.diff import deposit_stock_change
from reconciler.resources.codes.files import CodeFile
from reconciler.resources.codes.planning import BATCH, reuse_refusal, same_card
from reconciler.resources.codes.record import CodesRecord
from reconciler.state import SaveState, State, StateBackend, code_hash
from reconciler.wechat.cards import CardApi

LEDGER_FLUSH = 50  # batches between ledger writes: a crash re-sends at most these, which WeChat filters


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
        stored = self.state.resources.get(change.address)
        record = CodesRecord.from_state(stored) if stored is not None else None
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
        self.state.resources[change.address] = CodesRecord(card_id, deposited, target).to_state()
        await self.save()
        message = f"deposited {sent.new} codes ({deposited} in the card)"
        message += f", {sent.held} others were in it already" if sent.held else ""
        message += f"; {stock}"
        if sent.refused:
            raise WxrecError(f"{change.address}: {message}; WeChat refused {sent.refused} codes (fail_code)")
        return message

    async def _move_to(
        self, address: str, card_id: str, target: int, source: CodeFile, record: CodesRecord | None
    ) -> None:
        """Start the ledger afresh for `card_id`. The codes of another card (replaced, or a first deposit cut short
        before a re-create) are none of them in this card; users may hold some, which is checked again now:
        claims go on until the old card is retired."""
        if record is not None:
            old_ledger = self.backend.code_hashes(address)
            old_id = str(record.card_id)
            refusal = await reuse_refusal(address, f"card {card_id}", source, old_ledger, self.api, old_id)
            if refusal:
                raise WxrecError(refusal)
        self.backend.drop_code_hashes(address)
        self.state.resources[address] = CodesRecord(card_id, 0, target).to_state()
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
