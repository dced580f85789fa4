"""One budget for every call a run makes to WeChat: concurrency, calls per second, and a shared pause.

WeChat's per-minute limit (45011) is a property of the account, not of one call: when it answers 45011,
every call slows down, not just the one that was refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiolimiter import AsyncLimiter

FIRST_PAUSE = 1.0
LONGEST_PAUSE = 60.0  # the per-minute window: waiting longer never helps


class CallLimiter:
    def __init__(
        self, concurrency: int = 16, calls_per_second: float | None = None, first_pause: float | None = None
    ) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._rate = AsyncLimiter(calls_per_second, 1) if calls_per_second else None
        self._resume_at = 0.0
        self._first_pause = FIRST_PAUSE if first_pause is None else first_pause
        self._pause = self._first_pause
        self.concurrency = concurrency

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the concurrent slots, within the rate, after any shared pause."""
        async with self._slots:
            while (wait := self._resume_at - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            if self._rate is not None:
                await self._rate.acquire()
            yield

    def limited(self) -> None:
        """WeChat answered 45011: pause every call, doubling the pause while it keeps answering so."""
        self._resume_at = max(self._resume_at, time.monotonic() + self._pause)
        self._pause = min(self._pause * 2, LONGEST_PAUSE)

    def succeeded(self) -> None:
        self._pause = self._first_pause
