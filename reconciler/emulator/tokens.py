"""Access tokens: /cgi-bin/token and /cgi-bin/stable_token, as the official docs describe them.

- /cgi-bin/token issues a new token on every call; the previous one keeps working for the
  overlap (5 minutes by default) and any older one stops at once.
- /cgi-bin/stable_token (getStableAccessToken) in normal mode returns the same token while it has
  more than 5 minutes left, then a new one, the old one staying valid until it expires ("在新旧
  access_token交接之际，平台会保证在5分钟内，新旧access_token都可用"); a revoked one is replaced at once.
- ``force_refresh`` "会导致上次获取的 access_token 失效": the previous token stops at once. Forced
  refreshes must be 30 s apart ("否则不会刷新"): a force sooner than that is answered as normal mode.
- The two kinds are independent: fetching one never invalidates the other.
- Daily quotas (official): 2000 /cgi-bin/token calls and 20 forced stable refreshes per
  appid and Beijing day (a force answered as normal mode counts too); past them, 45009.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from . import errors as e
from .clock import beijing_day

PLAIN = "token"
STABLE = "stable"
TOKEN_DAILY_LIMIT = 2000
FORCE_REFRESH_DAILY_LIMIT = 20
STABLE_EARLY_REFRESH = 300
FORCE_REFRESH_INTERVAL = 30
# Records this long past expiry are forgotten (they then answer 40001 instead of 42001).
_FORGET_AFTER = 86400


@dataclass
class TokenRecord:
    appid: str
    kind: str
    expires_at: float
    revoked_at: float | None = None

    def usable(self, now: float) -> bool:
        revoked = self.revoked_at is not None and now >= self.revoked_at
        return not revoked and now < self.expires_at


def make_token(seed: int, appid: str, kind: str, number: int) -> str:
    raw = b"".join(hashlib.sha512(f"token:{seed}:{appid}:{kind}:{number}:{i}".encode()).digest() for i in (0, 1))
    return "86_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")[:134]


class TokenBook:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.counter = 0
        self.records: dict[str, TokenRecord] = {}
        self.current: dict[str, str] = {}
        self.usage: dict[str, tuple[str, int]] = {}
        # When each appid's stable token was last force-refreshed.
        self.forced_at: dict[str, float] = {}

    def issue_plain(self, appid: str, now: float, ttl: int, overlap: int) -> str:
        self._spend(appid, PLAIN, TOKEN_DAILY_LIMIT, now)
        return self._issue(appid, PLAIN, now, ttl, overlap)

    def stable(self, appid: str, now: float, ttl: int, overlap: int, force: bool) -> tuple[str, int]:
        """The stable token and its remaining seconds."""
        if force:
            self._spend(appid, "force_refresh", FORCE_REFRESH_DAILY_LIMIT, now)
            last = self.forced_at.get(appid)
            force = last is None or now - last >= FORCE_REFRESH_INTERVAL
        if force:
            self.forced_at[appid] = now
            return self._issue(appid, STABLE, now, ttl, overlap=0), ttl
        token = self.current.get(f"{STABLE}:{appid}")
        record = self.records.get(token) if token else None
        # Documented margin is 5 minutes; a test-sized TTL would otherwise never reuse a token.
        margin = min(STABLE_EARLY_REFRESH, ttl // 2)
        if token and record and record.usable(now) and record.expires_at - now > margin:
            return token, int(record.expires_at - now)
        return self._issue(appid, STABLE, now, ttl, overlap), ttl

    def verify(self, token: str, now: float) -> str:
        """The appid a token belongs to, or the errcode WeChat gives for it."""
        record = self.records.get(token)
        if record is None:
            raise e.ApiError(e.INVALID_CREDENTIAL)
        if record.revoked_at is not None and now >= record.revoked_at:
            raise e.ApiError(e.INVALID_CREDENTIAL)
        if now >= record.expires_at:
            raise e.ApiError(e.ACCESS_TOKEN_EXPIRED)
        return record.appid

    def invalidate(self, token: str, now: float, expired: bool) -> None:
        """The token stops working at ``now``: expired (42001) or revoked (40001)."""
        record = self.records.get(token)
        if record is None:
            return
        if expired:
            record.expires_at = min(record.expires_at, now)
        else:
            record.revoked_at = now if record.revoked_at is None else min(record.revoked_at, now)

    def _issue(self, appid: str, kind: str, now: float, ttl: int, overlap: int) -> str:
        self._retire(appid, kind, now, overlap)
        self.counter += 1
        token = make_token(self.seed, appid, kind, self.counter)
        self.records[token] = TokenRecord(appid, kind, now + ttl)
        self.current[f"{kind}:{appid}"] = token
        self._forget(now)
        return token

    def _retire(self, appid: str, kind: str, now: float, overlap: int) -> None:
        previous = self.current.get(f"{kind}:{appid}")
        for token, record in self.records.items():
            if record.appid != appid or record.kind != kind:
                continue
            end = now + overlap if token == previous else now
            record.revoked_at = end if record.revoked_at is None else min(record.revoked_at, end)

    def _forget(self, now: float) -> None:
        stale = [t for t, r in self.records.items() if r.expires_at + _FORGET_AFTER < now]
        for token in stale:
            del self.records[token]

    def _spend(self, appid: str, what: str, limit: int, now: float) -> None:
        key = f"{appid}|{what}"
        day = beijing_day(now)
        used_day, used = self.usage.get(key, (day, 0))
        used = used if used_day == day else 0
        if used >= limit:
            raise e.ApiError(e.DAILY_QUOTA)
        self.usage[key] = (day, used + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "counter": self.counter,
            "current": dict(self.current),
            "records": [{"token": token, **asdict(record)} for token, record in self.records.items()],
            "usage": {key: list(value) for key, value in self.usage.items()},
            "forced_at": dict(self.forced_at),
        }

    @classmethod
    def from_json(cls, seed: int, data: dict[str, Any]) -> TokenBook:
        book = cls(seed)
        book.counter = int(data["counter"])
        book.current = {str(k): str(v) for k, v in data["current"].items()}
        for raw in data["records"]:
            fields = dict(raw)
            token = str(fields.pop("token"))
            book.records[token] = TokenRecord(**fields)
        book.usage = {str(k): (str(v[0]), int(v[1])) for k, v in data["usage"].items()}
        book.forced_at = {str(k): float(v) for k, v in data.get("forced_at", {}).items()}
        return book
