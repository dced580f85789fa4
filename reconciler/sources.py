"""Where a plan's "live" side comes from: WeChat (`ApiSource`), or state (`StateSource`: --refresh=false, and
`wxrec diff`'s stand-ins of what an apply of the base manifests would have left).

The planning pipeline reads through a source in one phase, before it plans anything: the cards (with the ones
import blocks and codes entries name), each codes card's deposit count, and each kind's `read` hook. Only the
duplicate check reads later, and only when the plan creates cards (see `duplicate_refusals`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from reconciler.address import Address
from reconciler.errors import WxrecError
from reconciler.manifest import Manifest
from reconciler.plan import Plan
from reconciler.resources import adoption, cards, codes, kinds, with_cards
from reconciler.resources.base import SectionPlanned, StandsIn
from reconciler.resources.cards.model import DesiredCard
from reconciler.resources.pay_coupons.model import KIND as PAY_COUPONS
from reconciler.resources.pay_coupons.model import PayStocks
from reconciler.state import State
from reconciler.wechat.account import AccountApi
from reconciler.wechat.cards import CardApi

Progress = Callable[[int], Callable[[], None]]


class LiveSource(Protocol):
    """What a plan compares the manifests with."""

    @property
    def refreshed(self) -> bool:
        """Whether WeChat is read (False: state's last-applied values stand in for it)."""
        ...

    @property
    def stand_ins(self) -> bool:
        """Whether state's ids and urls are stand-ins (wxrec diff): no account to bind to, no limit to check."""
        ...

    @property
    def account(self) -> AccountApi | None:
        """What the kinds' `read` hooks read through; None: they read state."""
        ...

    @property
    def pay(self) -> PayStocks | None:
        """What the kinds' `read_pay` hooks read through; None: they read state."""
        ...

    async def cards(self, state: State | None, also: Iterable[str], progress: Progress) -> cards.CardsLive:
        """Colours, live ids, and every card state owns, plus the cards `also` names."""
        ...

    async def deposited(self, card_ids: Iterable[str]) -> dict[str, int] | None:
        """getdepositcount of each card; None: not read (codes plan from state's counts)."""
        ...

    async def duplicate_refusals(self, plan: Plan, intents: set[str], invocation: str) -> list[str]:
        """Creates that would duplicate a live card no state entry owns; `invocation` names the run in the
        import command each refusal offers."""
        ...


@dataclass(frozen=True)
class ApiSource:
    """The live account through the card API."""

    api: CardApi
    parallelism: int
    refreshed = True
    stand_ins = False

    @property
    def account(self) -> AccountApi:
        return AccountApi(self.api.client)

    @property
    def pay(self) -> PayStocks | None:
        return self.api.pay

    async def cards(self, state: State | None, also: Iterable[str], progress: Progress) -> cards.CardsLive:
        live = await cards.read_live(self.api, state, self.parallelism, progress)
        unread = sorted(set(also) - set(live.cards))
        if unread:
            live.cards.update(await cards.read_cards(self.api, unread, self.parallelism, live.palette))
        return live

    async def deposited(self, card_ids: Iterable[str]) -> dict[str, int]:
        ids = sorted(set(card_ids))
        return dict(zip(ids, await asyncio.gather(*(self.api.deposit_count(i) for i in ids)), strict=True))

    async def duplicate_refusals(self, plan: Plan, intents: set[str], invocation: str) -> list[str]:
        return await cards.duplicate_refusals(self.api, plan, intents, self.parallelism, invocation)


@dataclass(frozen=True)
class StateSource:
    """State's last-applied values as the live account: nothing is read."""

    state: State | None
    stand_ins: bool = False
    refreshed = False
    account = None
    pay = None

    async def cards(self, state: State | None, also: Iterable[str], progress: Progress) -> cards.CardsLive:
        # wxrec diff's stand-ins know the account's colours only when a state does.
        if self.state is None or not (self.state.palette or self.stand_ins):
            raise WxrecError(
                "--refresh=false plans against state, and there is none yet (or it predates colours): run one apply"
            )
        return cards.live_from_state(self.state)

    async def deposited(self, card_ids: Iterable[str]) -> None:
        return None

    async def duplicate_refusals(self, plan: Plan, intents: set[str], invocation: str) -> list[str]:
        return []


def deposited_by(manifest: Manifest) -> codes.DepositedHashes:
    """The codes an apply of `manifest` would have deposited, as a ledger (wxrec diff's base)."""
    sources = codes.code_files(manifest.document.data, manifest.document.named, manifest.directory)

    pay = manifest.document.data.get(PAY_COUPONS) or {}

    @cache  # state counts them, then the plan compares with them: each file is hashed once
    def ledger(address: str) -> set[bytes]:
        kind, key = Address.parse(address).kind, Address.parse(address).key
        if kind == PAY_COUPONS:  # a MERCHANT_UPLOAD stock's codes, uploaded by an apply of the base
            named = manifest.document.named.get((PAY_COUPONS, key, "codes", "file"))
            column = (pay.get(key, {}).get("codes") or {}).get("column")
            return codes.CodeFile(named, column).hashes() if named else set()
        found = sources.get(key)
        return codes.CodeFile(manifest.directory / found[1], found[0].get("column")).hashes() if found else set()

    return ledger


def applied_state(base: Manifest, base_cards: Mapping[str, DesiredCard], ledger: codes.DepositedHashes) -> State:
    """The state an apply of `base` would leave, ids and urls stood in by their addresses; `ledger`: the codes
    its files hold."""
    state = State(appid=base.appid or "", endpoint="offline")
    data = base.document.data
    # An imported card keeps the id its import block names; the others get a stand-in.
    ids = {block.to: block.id for block in adoption.blocks(data)[0]}
    for address, card in base_cards.items():
        state.resources[address] = cards.record_document(card, ids.get(address, f"<{address}>"))
    for nested in with_cards():
        state.resources.update(nested.applied_records(base.cards, state))
    for key, spec in (data.get(codes.KIND) or {}).items():
        card_address, address = Address.card(spec["card"]), str(Address(codes.KIND, key))
        filled = base_cards.get(str(card_address))
        state.resources[address] = {
            "card_id": ids.get(str(card_address), f"<{card_address}>"),
            "deposited": len(ledger(address)),
            "target": filled.stock.target if filled else 0,
        }
    # Every kind planned from its section says what an apply of it leaves, in registry order: a kind's references
    # are filled in from the records of the kinds before it.
    for kind in kinds():
        if kind.name not in data:
            continue
        if isinstance(kind, StandsIn):
            state.resources.update(kind.applied_records(data[kind.name], state))
        elif isinstance(kind, SectionPlanned):
            raise WxrecError(
                f"wxrec diff cannot stand in for the base's {kind.name}: the kind does not say what an apply of "
                "it leaves in state (applied_records)"
            )
    return state
