"""One running emulator: its configuration, its store, its fault hooks."""

from __future__ import annotations

from .clock import Clock
from .config import EmulatorConfig
from .errors import make_hint
from .faults import Faults
from .store import Store


def open_store(config: EmulatorConfig) -> Store:
    """The store in config.data_file when that exists, else a fresh one, with every configured account."""
    clock = Clock(config.time_source)
    path = config.data_file
    if path is not None and path.exists():
        store = Store.load(path, seed=config.seed, review=config.review_mode, clock=clock)
    else:
        store = Store(seed=config.seed, review=config.review_mode, clock=clock)
    for appid in config.accounts:
        store.ensure_account(appid)
    return store


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = open_store(config)
        self.faults = Faults()
        self._hints = 0

    def next_hint(self) -> str:
        self._hints += 1
        return make_hint(self.config.seed, self._hints)

    def persist(self) -> None:
        """Writes the store after a request that changed it (only when a data file is configured)."""
        if self.store.dirty and self.config.data_file is not None:
            self.store.save(self.config.data_file)
