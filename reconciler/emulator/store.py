"""The emulated accounts: cards, tokens, the clock offset, and their JSON file.

Secrets are never written to the file: they come from the configuration of each run.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import errors as e
from .assets import Assets
from .calls import DEFAULT_LIMIT, CallLog
from .clock import Clock
from .config import ReviewMode
from .existing_cards import ExistingCard
from .fault_spec import parse_faults
from .model import DELETE, JSON, NOT_VERIFY, VERIFY_FAIL, VERIFY_OK, Card
from .rules import MAX_QUANTITY, NewCard, UpdatePlan
from .tokens import TokenBook

FORMAT = "wxrec-emulator/1"
# What a Store holds for its process rather than for the account (see Store.reload).
_PROCESS_OWN = frozenset({"seed", "review", "clock", "revision", "_dirty"})


class StoreError(ValueError):
    """The data file cannot be read as an emulator account file."""


@dataclass
class Account:
    cards: dict[str, Card] = field(default_factory=dict)
    next_card: int = 0
    # A sandbox test account (接口测试号): "该appid创建的卡券不会被审核通过" (微信卡券接口, 申请沙箱测试账号).
    test: bool = False


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode()


def make_card_id(seed: int, appid: str, number: int) -> str:
    """28 characters like ``pdkJ9uLRSbnB3UFEjZAgUxAJrjeY``: an account prefix, then the card's own part."""
    return "p" + _b64(f"account:{appid}")[:5] + _b64(f"card:{seed}:{appid}:{number}")[:22]


class Store:
    def __init__(
        self,
        *,
        seed: int = 0,
        review: ReviewMode | None = None,
        clock: Clock | None = None,
        call_limit: int = DEFAULT_LIMIT,
    ) -> None:
        self.seed = seed
        self.review = review or ReviewMode("instant")
        self.clock = clock or Clock()
        self.accounts: dict[str, Account] = {}
        self.tokens = TokenBook(seed)
        # Menus, whitelist, landing pages, QR codes, deposited codes (assets.py).
        self.assets = Assets()
        # Faults: the active spec (canonical text), the rate/quota counters, the call log.
        self.fault_spec = ""
        self.fault_usage: dict[str, tuple[str, int]] = {}
        self.calls = CallLog(call_limit)
        # Bumped on every change, so a caller can tell whether a request changed anything.
        self.revision = 0
        self._dirty = False
        # No timed review completes before this time (None: none is waiting): settle, run on every call, need not
        # look at every card (it did: a tenth of the served emulator's CPU per call at 1,000 cards).
        self._next_review: float | None = None

    @property
    def dirty(self) -> bool:
        """Changed since the last save."""
        return self._dirty

    @dirty.setter
    def dirty(self, value: bool) -> None:
        if value:
            self.revision += 1
        self._dirty = value

    def now(self) -> float:
        return self.clock.now()

    def ensure_account(self, appid: str, *, test: bool = False) -> Account:
        """The account, registered if new; `test` marks it a sandbox test account (once marked, it stays one)."""
        if appid not in self.accounts:
            self.accounts[appid] = Account()
            self.dirty = True
        account = self.accounts[appid]
        if test and not account.test:
            account.test = True
            self.dirty = True
        return account

    # ------------------------------------------------------------ tokens

    def issue_token(self, appid: str, ttl: int, overlap: int) -> str:
        token = self.tokens.issue_plain(appid, self.now(), ttl, overlap)
        self.dirty = True
        return token

    def stable_token(self, appid: str, ttl: int, overlap: int, force: bool) -> tuple[str, int]:
        before = self.tokens.counter
        answer = self.tokens.stable(appid, self.now(), ttl, overlap, force)
        self.dirty = self.dirty or self.tokens.counter != before
        return answer

    def token_owner(self, token: str) -> str:
        return self.tokens.verify(token, self.now())

    def invalidate_token(self, token: str, *, expired: bool) -> None:
        """A fault: the token stops working now (then answers 42001 if ``expired``, else 40001)."""
        self.tokens.invalidate(token, self.now(), expired)
        self.dirty = True

    # ------------------------------------------------------------ cards

    def create_card(self, appid: str, new: NewCard) -> Card:
        account = self.ensure_account(appid)
        card_id = ""
        while not card_id or card_id in account.cards:
            account.next_card += 1
            card_id = make_card_id(self.seed, appid, account.next_card)
        card = self._put(account, card_id, new, new.quantity)
        self.submit_for_review(card, test=account.test)
        return card

    def add_existing(self, appid: str, existing: ExistingCard) -> Card:
        """A card the account had before: its own id and status, nothing to review."""
        new = copy.deepcopy(existing.card)  # one file may start several accounts: each gets its own copy
        card = self._put(self.ensure_account(appid), existing.card_id, new, existing.total_quantity)
        card.status = existing.status
        self.dirty = True
        return card

    def _put(self, account: Account, card_id: str, new: NewCard, total_quantity: int) -> Card:
        now = int(self.now())
        card = Card(
            card_id=card_id,
            card_type=new.card_type,
            base=new.base,
            fields=new.fields,
            advanced=new.advanced,
            status=NOT_VERIFY,
            quantity=new.quantity,
            total_quantity=total_quantity,
            create_time=now,
            update_time=now,
            created_at=self.now(),
        )
        account.cards[card_id] = card
        return card

    def find_card(self, appid: str, card_id: str) -> Card | None:
        account = self.accounts.get(appid)
        return account.cards.get(card_id) if account else None

    def live_card(self, appid: str, card_id: str) -> Card:
        """The card, unless unknown to this account or deleted: then 40073 as WeChat answers."""
        card = self.find_card(appid, card_id)
        if card is None or card.deleted:
            raise e.ApiError(e.INVALID_CARD_ID)
        return card

    def card_ids(self, appid: str, statuses: frozenset[str] | None) -> list[str]:
        """Ids in creation order; without a status filter, deleted cards are not listed."""
        account = self.accounts.get(appid)
        cards = account.cards.values() if account else ()
        if statuses is None:
            return [c.card_id for c in cards if not c.deleted]
        return [c.card_id for c in cards if c.status in statuses]

    def apply_update(self, appid: str, card: Card, plan: UpdatePlan) -> None:
        card.base.update(plan.base)
        card.fields.update(plan.fields)
        card.update_time = int(self.now())
        if plan.send_check:
            self.submit_for_review(card, test=self.ensure_account(appid).test)
        self.dirty = True

    def modify_stock(self, card: Card, delta: int) -> None:
        """Moves quantity and total_quantity together, as modifystock does."""
        if card.quantity + delta < 0 or card.total_quantity + delta > MAX_QUANTITY:
            raise e.ApiError(e.INVALID_STOCK)
        card.quantity += delta
        card.total_quantity += delta
        card.stock_ops.append(delta)
        self.dirty = True

    def delete(self, card: Card) -> None:
        card.status = DELETE
        card.review_due = None
        self.dirty = True

    # ------------------------------------------------------------ review

    def submit_for_review(self, card: Card, *, test: bool) -> None:
        """The card waits for review (审核中), then the review mode decides; a test account's card never passes,
        whatever the mode: it stays waiting."""
        card.status = NOT_VERIFY
        card.review_due = None
        card.refuse_reason = None
        if test or self.review.kind in ("manual", "never"):
            pass
        elif self.review.kind == "instant":
            card.status = VERIFY_OK
        elif self.review.kind == "reject":
            card.status, card.refuse_reason = VERIFY_FAIL, self.review.reason
        else:
            card.review_due = self.now() + self.review.delay
            self._expect_review(card.review_due)
        self.dirty = True

    def _expect_review(self, due: float) -> None:
        self._next_review = due if self._next_review is None else min(self._next_review, due)

    def settle(self) -> None:
        """Completes the timed reviews that are due by the emulator's clock."""
        now = self.now()
        if self._next_review is None or now < self._next_review:
            return
        self._next_review = None
        for account in self.accounts.values():
            for card in account.cards.values():
                if card.review_due is not None and now >= card.review_due:
                    card.review_due = None
                    if card.status == NOT_VERIFY:
                        card.status = VERIFY_OK
                    self.dirty = True
                elif card.review_due is not None:
                    self._expect_review(card.review_due)

    # ------------------------------------------------------------ persistence

    def to_json(self) -> JSON:
        return {
            "format": FORMAT,
            "clock_offset": self.clock.offset,
            "accounts": {
                appid: {"next_card": a.next_card, "test": a.test, "cards": [c.to_json() for c in a.cards.values()]}
                for appid, a in self.accounts.items()
            },
            "tokens": self.tokens.to_json(),
            "assets": self.assets.to_json(self.now()),
            "faults": {"spec": self.fault_spec, "usage": {k: list(v) for k, v in self.fault_usage.items()}},
            "calls": self.calls.to_json(),
        }

    def save(self, path: Path) -> None:
        """Atomically: a temporary file beside the target, then os.replace."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.to_json(), handle, ensure_ascii=False, indent=1)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self.dirty = False
        self.calls.unsaved = 0

    def reload(self, path: Path) -> None:
        """Takes the account as another process saved it in ``path``. This process's configuration (seed,
        review mode, time source) stays, and so do the calls it logged since its last save."""
        fresh = Store.load(path, seed=self.seed, review=self.review, clock=self.clock, call_limit=self.calls.limit)
        for entry in self.calls.unsaved_entries():
            fresh.calls.append(entry)
        fresh.calls.next_seq = max(fresh.calls.next_seq, self.calls.next_seq)
        # Every attribute but the process's own, so an account field added later is taken too.
        for name, value in vars(fresh).items():
            if name not in _PROCESS_OWN:
                setattr(self, name, value)

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        seed: int = 0,
        review: ReviewMode | None = None,
        clock: Clock | None = None,
        call_limit: int = DEFAULT_LIMIT,
    ) -> Store:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            store = cls._from_json(data, seed=seed, review=review, clock=clock)
            store.calls = CallLog.from_json(data.get("calls"), call_limit)
            return store
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreError(f"{path} is not a readable emulator data file: {exc}") from exc

    @classmethod
    def _from_json(cls, data: Any, *, seed: int, review: ReviewMode | None, clock: Clock | None) -> Store:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"expected format {FORMAT!r}")
        store = cls(seed=seed, review=review, clock=clock)
        store.clock.offset = float(data["clock_offset"])
        for appid, raw in data["accounts"].items():
            cards = (Card.from_json(c) for c in raw["cards"])
            cards_of = {c.card_id: c for c in cards}
            for card in cards_of.values():
                if card.review_due is not None:
                    store._expect_review(card.review_due)
            store.accounts[str(appid)] = Account(cards_of, int(raw["next_card"]), bool(raw.get("test", False)))
        store.tokens = TokenBook.from_json(seed, data["tokens"])
        store.assets = Assets.from_json(data.get("assets"))
        faults = data.get("faults") or {"spec": "", "usage": {}}
        store.fault_spec = str(parse_faults(str(faults["spec"])))
        store.fault_usage = {str(k): (str(v[0]), int(v[1])) for k, v in faults["usage"].items()}
        return store
