"""What the emulator keeps besides cards and tokens: menus, user tags, the test whitelist, landing pages,
QR codes and deposited custom codes; and how they go to and from the data file.

The handlers live in their own modules (menu.py, whitelist.py, landing.py, qrcodes.py,
deposit.py); this one only holds their state. Everything here sits under the data file's
``"assets"`` key; a file without it (written before these endpoints existed) loads empty.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

from . import errors as e
from .clock import beijing_day
from .model import JSON

# Temporary QR codes this long past expiry are left out of the data file.
_FORGET_QR_AFTER = 86400


class CodeBox:
    """One card's deposited custom codes: a set for lookups, the deposits' text for the data file.

    A million codes must stay cheap: the set holds them once, and the data file gets one
    string per card (codes joined by newlines; a code with a newline is never accepted),
    built by joining the deposits' own joined text, never by re-encoding every code.
    """

    __slots__ = ("_chunks", "codes")

    def __init__(self, text: str = "") -> None:
        self.codes: set[str] = set(text.split("\n")) if text else set()
        self._chunks: list[str] = [text] if text else []

    def __len__(self) -> int:
        return len(self.codes)

    def add(self, new: list[str]) -> None:
        if new:
            self.codes.update(new)
            self._chunks.append("\n".join(new))

    def text(self) -> str:
        if len(self._chunks) > 1:
            self._chunks = ["\n".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""


@dataclass
class ConditionalMenu:
    menuid: int
    button: list[JSON]
    matchrule: JSON


@dataclass
class Menus:
    """The default menu made through the API, its conditional menus, and a menu made in the MP console."""

    default: list[JSON] | None = None
    default_id: int = 0
    conditional: list[ConditionalMenu] = field(default_factory=list)
    console: list[JSON] | None = None
    next_id: int = 0

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> Menus:
        data = copy.deepcopy(data)
        conditional = [ConditionalMenu(**c) for c in data.pop("conditional", [])]
        return cls(conditional=conditional, **data)


# The tag document's example lists 2 "星标组" (the star group), one of the reserved tags 0/1/2.
RESERVED_TAGS: dict[int, str] = {2: "星标组"}
# Created tags are numbered from 100 (assumed: the document's examples show 134; reserved ids stay below).
FIRST_TAG_ID = 100


@dataclass
class Fan:
    """A follower, as the controls make one: their tags in the order they were put on, and their phone."""

    tags: list[int] = field(default_factory=list)
    # client_platform_type: 1 iOS, 2 Android, 3 others; None: unknown (matches no platform rule).
    platform: int | None = None


@dataclass
class Tags:
    """User tags (cgi-bin/tags/*) and the fans who carry them."""

    names: dict[int, str] = field(default_factory=lambda: dict(RESERVED_TAGS))
    next_id: int = FIRST_TAG_ID
    fans: dict[str, Fan] = field(default_factory=dict)

    def count(self, tag_id: int) -> int:
        return sum(tag_id in fan.tags for fan in self.fans.values())

    def to_json(self) -> JSON:
        return {
            "names": {str(k): v for k, v in self.names.items()},
            "next_id": self.next_id,
            "fans": {openid: asdict(fan) for openid, fan in self.fans.items()},
        }

    @classmethod
    def from_json(cls, data: JSON) -> Tags:
        if not data:
            return cls()
        return cls(
            names={int(k): str(v) for k, v in data["names"].items()},
            next_id=int(data["next_id"]),
            fans={str(k): Fan(list(v["tags"]), v["platform"]) for k, v in data["fans"].items()},
        )


@dataclass
class LandingPage:
    page_id: int
    url: str
    banner: str
    page_title: str
    can_share: bool
    scene: str
    card_list: list[JSON]
    create_time: int


@dataclass
class Whitelist:
    openid: list[str] = field(default_factory=list)
    username: list[str] = field(default_factory=list)


@dataclass
class QrCode:
    """One ticket: a card code (card/qrcode/create) or an account scene code (cgi-bin/qrcode/create)."""

    appid: str
    action_name: str
    url: str
    create_time: int
    # None: a permanent code.
    expire_seconds: int | None
    # Card codes: each card's entry as sent (card_id, code, openid, outer_str …); scene codes: [].
    cards: list[JSON] = field(default_factory=list)
    # Scene codes: scene_id (int) or scene_str.
    scene: int | str | None = None

    def expired(self, now: float) -> bool:
        return self.expire_seconds is not None and now >= self.create_time + self.expire_seconds

    @property
    def card_ids(self) -> list[str]:
        return [str(c["card_id"]) for c in self.cards]


@dataclass
class AccountAssets:
    menus: Menus = field(default_factory=Menus)
    tags: Tags = field(default_factory=Tags)
    whitelist: Whitelist | None = None
    landing_pages: list[LandingPage] = field(default_factory=list)
    # Permanent scene codes: "QR_LIMIT_SCENE:123" / "QR_LIMIT_STR_SCENE:abc" -> ticket.
    permanent_qr: dict[str, str] = field(default_factory=dict)
    deposits: dict[str, CodeBox] = field(default_factory=dict)
    # Daily quotas: what -> (Beijing day, calls that day).
    usage: dict[str, tuple[str, int]] = field(default_factory=dict)

    def spend(self, what: str, limit: int, now: float) -> None:
        """One call against a daily quota (per account and Beijing day); past it, 45009."""
        day = beijing_day(now)
        used_day, used = self.usage.get(what, (day, 0))
        used = used if used_day == day else 0
        if used >= limit:
            raise e.ApiError(e.DAILY_QUOTA)
        self.usage[what] = (day, used + 1)

    def to_json(self) -> JSON:
        return {
            "menus": self.menus.to_json(),
            "tags": self.tags.to_json(),
            "whitelist": asdict(self.whitelist) if self.whitelist is not None else None,
            "landing_pages": [asdict(p) for p in self.landing_pages],
            "permanent_qr": dict(self.permanent_qr),
            "deposits": {card_id: box.text() for card_id, box in self.deposits.items()},
            "usage": {k: list(v) for k, v in self.usage.items()},
        }

    @classmethod
    def from_json(cls, data: JSON) -> AccountAssets:
        whitelist = data.get("whitelist")
        return cls(
            menus=Menus.from_json(data.get("menus") or {}),
            tags=Tags.from_json(data.get("tags") or {}),
            whitelist=Whitelist(**whitelist) if whitelist is not None else None,
            landing_pages=[LandingPage(**copy.deepcopy(p)) for p in data.get("landing_pages", [])],
            permanent_qr={str(k): str(v) for k, v in data.get("permanent_qr", {}).items()},
            deposits={str(k): CodeBox(str(v)) for k, v in data.get("deposits", {}).items()},
            usage={str(k): (str(v[0]), int(v[1])) for k, v in data.get("usage", {}).items()},
        )


class Assets:
    """Per-account resources, and the tickets of every account (showqrcode needs no token)."""

    def __init__(self) -> None:
        self.accounts: dict[str, AccountAssets] = {}
        self.qrcodes: dict[str, QrCode] = {}
        self.qr_counter = 0

    def account(self, appid: str) -> AccountAssets:
        if appid not in self.accounts:
            self.accounts[appid] = AccountAssets()
        return self.accounts[appid]

    def to_json(self, now: float) -> JSON:
        kept = {t: asdict(qr) for t, qr in self.qrcodes.items() if not qr.expired(now - _FORGET_QR_AFTER)}
        return {
            "accounts": {appid: a.to_json() for appid, a in self.accounts.items()},
            "qrcodes": kept,
            "qr_counter": self.qr_counter,
        }

    @classmethod
    def from_json(cls, data: Any) -> Assets:
        assets = cls()
        if not data:
            return assets
        assets.accounts = {str(k): AccountAssets.from_json(v) for k, v in data["accounts"].items()}
        assets.qrcodes = {str(k): QrCode(**copy.deepcopy(v)) for k, v in data["qrcodes"].items()}
        assets.qr_counter = int(data["qr_counter"])
        return assets
