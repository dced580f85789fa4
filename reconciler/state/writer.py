"""Group commit for apply: every `save()` returns once a write holding the caller's change is durable.

Concurrent actions save often (an intent before each create, the id after). Writing the whole state for
each would cost O(N²) bytes over N actions; here the write runs in a thread while the other actions go on,
and the saves that arrive meanwhile share the next write. The thread writes a snapshot, never the live
state, which the event loop keeps changing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from reconciler.state.model import State, StateBackend

SaveState = Callable[[], Awaitable[None]]


class StateWriter:
    def __init__(self, backend: StateBackend, state: State) -> None:
        self.backend = backend
        self.state = state
        self._requested = 0
        self._written = 0
        self._lock = asyncio.Lock()

    async def save(self) -> None:
        self._requested += 1
        mine = self._requested
        async with self._lock:
            if self._written >= mine:
                return  # a write that started after our change already made it durable
            covered = self._requested
            snapshot = self.state.snapshot()
            write = asyncio.ensure_future(asyncio.to_thread(self.backend.write, snapshot))
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                await write  # a thread cannot be stopped: let the write end before giving up, so none outlives us
                raise
            self.state.serial = snapshot.serial
            self._written = covered
