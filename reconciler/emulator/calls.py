"""The call log: every WeChat API call the emulator answered, for fault campaigns and ordering tests.

An entry: ``{"seq", "time", "appid", "path", "errcode", "fault"}`` plus, when they apply,
``card_id``, ``token``, ``force_refresh``, ``stock_delta``, ``http_status`` and ``latency_ms``
(see the README). ``seq`` is given when a call arrives and only grows (clearing the log keeps
it); the oldest entries go first once the log holds ``limit`` of them.
"""

from __future__ import annotations

import hashlib
from collections import deque
from typing import Any

from .model import JSON

DEFAULT_LIMIT = 100_000


def token_digest(token: str) -> str:
    """How the log names an access token: enough to tell which calls shared one, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


class CallLog:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 0:
            raise ValueError("the call log limit must be >= 0")
        self.limit = limit
        self.entries: deque[JSON] = deque(maxlen=limit)
        self.next_seq = 1
        # Entries appended since the data file was last saved or read: a reload keeps them (account_file.py).
        self.unsaved = 0

    def reserve(self) -> int:
        """The seq of a call that just arrived."""
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def append(self, entry: JSON) -> None:
        self.entries.append(entry)
        self.unsaved += 1

    def unsaved_entries(self) -> list[JSON]:
        kept = min(self.unsaved, len(self.entries))
        return list(self.entries)[len(self.entries) - kept :]

    def since(self, seq: int = 0, appid: str | None = None) -> list[JSON]:
        """Entries after ``seq`` (of ``appid`` when given), in seq order."""
        found = [c for c in self.entries if c["seq"] > seq and (appid is None or c.get("appid") == appid)]
        return sorted(found, key=lambda c: int(c["seq"]))

    def clear(self) -> int:
        count = len(self.entries)
        self.entries.clear()
        self.unsaved = 0
        return count

    def to_json(self) -> JSON:
        return {"next_seq": self.next_seq, "entries": list(self.entries)}

    @classmethod
    def from_json(cls, data: Any, limit: int = DEFAULT_LIMIT) -> CallLog:
        log = cls(limit)
        if data is None:  # a file written before the log existed
            return log
        log.next_seq = int(data["next_seq"])
        for entry in data["entries"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
                raise ValueError("a call log entry needs an integer seq")
            log.entries.append(entry)
        return log
