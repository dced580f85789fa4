"""One running emulator: its configuration, its store, its fault hooks, and its data file's transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import existing_cards
from .account_file import AccountFile
from .clock import Clock
from .config import EmulatorConfig
from .errors import make_hint, make_rid
from .fault_spec import parse_faults
from .faults import Faults
from .store import Store


def configure(store: Store, config: EmulatorConfig) -> None:
    """Registers every configured account (a test account marked as such), a new one with the configured existing
    cards, and puts the configured fault spec in force (when one is given)."""
    # An account an earlier run made on this data file keeps whatever cards it has now.
    new = [appid for appid in config.accounts if appid not in store.accounts]
    path = config.existing_cards
    existing = existing_cards.load(path, store.now()) if new and path is not None else []
    for appid in config.accounts:
        store.ensure_account(appid, test=appid in config.test_accounts)
    for appid in new:
        for card in existing:
            store.add_existing(appid, card)
    if config.faults:
        spec = str(parse_faults(config.faults))
        if spec != store.fault_spec:
            store.fault_spec = spec
            store.dirty = True


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        clock = Clock(config.time_source)
        self.store = Store(seed=config.seed, review=config.review_mode, clock=clock, call_limit=config.call_log_limit)
        self.faults = Faults(self.store)
        self._hints = 0
        self._file = None if config.data_file is None else AccountFile(config.data_file)
        self._version: str | None = None  # of the data file this process's store holds
        with self.transaction():
            configure(self.store, config)

    def next_ids(self) -> tuple[str, str]:
        """An error answer's hint and rid (errors.py)."""
        self._hints += 1
        return make_hint(self.config.seed, self._hints), make_rid(self.store.now(), self.config.seed, self._hints)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One request's turn at the account (account_file.py): with a data file, under its lock, the store
        first catches up with the file, and what the request changed is saved before the lock is released.
        The body must not await: the lock is held by this whole process, not by one request."""
        if self._file is None:
            yield self.store
            return
        path = self._file.path
        with self._file.locked() as lease:
            if not lease.version:  # the lock file is new (or was removed): name the file's content as it is
                lease.new_version()
                self._version = None
            if self._version != lease.version and path.exists():
                self.store.reload(path)
            self.store.calls.next_seq = max(self.store.calls.next_seq, lease.next_seq)
            try:
                yield self.store
            finally:
                if self.store.dirty:
                    lease.new_version()
                    self.store.save(path)
                self._version = lease.version
                lease.next_seq = self.store.calls.next_seq
