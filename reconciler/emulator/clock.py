"""The emulator's clock: a time source (the wall clock unless a test injects one) plus an offset.

The offset only grows (``/_emulator/clock``) and is persisted with the account, so tokens
expire and timed reviews complete across runs of the embedded emulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# WeChat's daily quotas reset at midnight Beijing time.
_UTC8 = 8 * 3600


class Clock:
    def __init__(self, time_source: Callable[[], float] = time.time, offset: float = 0.0) -> None:
        self._source = time_source
        self.offset = offset

    def now(self) -> float:
        return self._source() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0 or seconds != seconds:
            raise ValueError("the emulator clock only moves forward")
        self.offset += seconds


def beijing_day(moment: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(moment + _UTC8))
