"""One running emulator: its configuration, its store, its fault hooks."""

from __future__ import annotations

from .clock import Clock
from .config import EmulatorConfig
from .errors import make_hint
from .faults import Faults, parse_faults
from .store import Store


def open_store(config: EmulatorConfig) -> Store:
    """The store in config.data_file when that exists, else a fresh one, with every configured account."""
    clock = Clock(config.time_source)
    path = config.data_file
    limit = config.call_log_limit
    if path is not None and path.exists():
        store = Store.load(path, seed=config.seed, review=config.review_mode, clock=clock, call_limit=limit)
    else:
        store = Store(seed=config.seed, review=config.review_mode, clock=clock, call_limit=limit)
    for appid in config.accounts:
        store.ensure_account(appid)
    if config.faults:
        spec = str(parse_faults(config.faults))
        if spec != store.fault_spec:
            store.fault_spec = spec
            store.dirty = True
    return store


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = open_store(config)
        self.faults = Faults(self.store)
        self._hints = 0

    def next_hint(self) -> str:
        self._hints += 1
        return make_hint(self.config.seed, self._hints)

    def persist(self) -> None:
        """Writes the store after a request that changed it (only when a data file is configured)."""
        if self.store.dirty and self.config.data_file is not None:
            self.store.save(self.config.data_file)
