"""How an emulator instance is set up: accounts, persistence, seed, review mode, token lifetimes, the cards an
account starts with, and whether coupons can still be created."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .calls import DEFAULT_LIMIT
from .fault_spec import parse_faults

FAULTS_ENV = "WXREC_EMULATOR_FAULTS"
LEGACY_COUPONS_ENV = "WXREC_EMULATOR_LEGACY_COUPONS"
DEMO_APPID = "wx0123456789abcdef"
DEMO_SECRET = "wxrec-demo-secret"


def default_accounts(environ: Mapping[str, str]) -> dict[str, str]:
    """The account in WXREC_APPID/WXREC_APPSECRET when both are set, else the demo account."""
    appid = environ.get("WXREC_APPID", "").strip()
    secret = environ.get("WXREC_APPSECRET", "").strip()
    if appid and secret:
        return {appid: secret}
    return {DEMO_APPID: DEMO_SECRET}


def faults_from_env(environ: Mapping[str, str]) -> str:
    """The fault spec in WXREC_EMULATOR_FAULTS ("" when unset: keep the data file's spec)."""
    return environ.get(FAULTS_ENV, "").strip()


def legacy_coupons_from_env(environ: Mapping[str, str]) -> bool:
    """Whether WXREC_EMULATOR_LEGACY_COUPONS asks for WeChat as it was before 2021-04-01 (any value but "", "0")."""
    return environ.get(LEGACY_COUPONS_ENV, "").strip() not in ("", "0")


# What the reviewer says in `reject` mode when the spec gives no reason (RefuseReason of card_not_pass_check;
# the event document's own example).
DEFAULT_REFUSE_REASON = "非法代制"
REVIEW_MODES = "instant, manual, after=SECONDS, reject[=REASON] or never"


@dataclass(frozen=True)
class ReviewMode:
    """What becomes of a card sent to review: approved at once, left to `wxrec emulator approve|reject`, approved
    after a delay, rejected at once (with the reviewer's reason), or never decided (as on a test account)."""

    kind: Literal["instant", "manual", "after", "reject", "never"]
    delay: float = 0.0
    reason: str = DEFAULT_REFUSE_REASON

    @classmethod
    def parse(cls, spec: str) -> ReviewMode:
        text = spec.strip()
        if text in ("instant", "manual", "reject", "never"):
            return cls(text)  # type: ignore[arg-type]
        if text.startswith("after="):
            return cls("after", _parse_delay(text.removeprefix("after=")))
        if text.startswith("reject=") and text.removeprefix("reject=").strip():
            return cls("reject", reason=text.removeprefix("reject=").strip())
        raise ValueError(f"review mode must be {REVIEW_MODES}, not {spec!r}")


def _parse_delay(text: str) -> float:
    try:
        delay = float(text)
    except ValueError:
        raise ValueError(f"after=SECONDS needs a number of seconds, not {text!r}") from None
    if delay < 0 or delay != delay:
        raise ValueError(f"after=SECONDS needs a number of seconds >= 0, not {text!r}")
    return delay


@dataclass
class EmulatorConfig:
    """Everything that shapes one emulator; all defaults are deterministic except the real clock."""

    accounts: dict[str, str] = field(default_factory=lambda: default_accounts(os.environ))
    data_file: Path | None = None
    seed: int = 0
    review: str = "instant"
    # Sandbox test accounts (接口测试号): their cards never pass review (the card documents' 申请沙箱测试账号).
    test_accounts: frozenset[str] = frozenset()
    token_ttl: int = 7200
    token_overlap: int = 300
    # A fault spec (see fault_spec.py); "" keeps the one saved in data_file, "none" clears it.
    faults: str = ""
    call_log_limit: int = DEFAULT_LIMIT
    # card/create of a coupon type as WeChat answered it before 2021-04-01 (accepted), instead of refused.
    legacy_coupons: bool = False
    # A JSON file of cards (existing_cards.py) each configured account starts with when it is first made.
    existing_cards: Path | None = None
    # Tests replace the wall clock; the emulator adds its own offset (moved by /_emulator/clock) on top.
    time_source: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    review_mode: ReviewMode = field(init=False)

    def __post_init__(self) -> None:
        self.review_mode = ReviewMode.parse(self.review)
        if not self.accounts:
            raise ValueError("the emulator needs at least one account")
        unknown = sorted(set(self.test_accounts) - set(self.accounts))
        if unknown:
            raise ValueError(f"test account {unknown[0]} is not one of the emulator's accounts")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be > 0 seconds")
        if self.token_overlap < 0:
            raise ValueError("token_overlap must be >= 0 seconds")
        if self.call_log_limit < 0:
            raise ValueError("call_log_limit must be >= 0")
        parse_faults(self.faults)  # a bad spec fails here, naming the bad item
        if self.data_file is not None:
            self.data_file = Path(self.data_file)
        if self.existing_cards is not None:
            self.existing_cards = Path(self.existing_cards)
