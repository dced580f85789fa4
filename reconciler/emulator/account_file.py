"""The data file as a database that several processes use at once.

`wxrec plan` and `wxrec apply` each run an embedded emulator on `.wxrec/emulator.json`, and a plan may run
while an apply does (a pull request's plan beside the main branch's apply); `wxrec emulator claim --data`
and a served emulator with `--data` may join them. They are clients of one WeChat account, and what any of
them does (cards made, tokens issued, quota spent, calls logged) is the account's. So each request is a
transaction: under the file's lock the store catches up with the file, the request runs, and what it
changed is saved before the lock is released. No process writes back a copy another one has outdated.

Beside the file, ``NAME.lock`` is the lock (flock) and holds two things: the version of the data file, a
random token each save replaces, so a process knows without reading the file whether its copy is current;
and the call log's next seq, so calls that arrive in two processes at once get different numbers (and so
different fates).
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Shared:
    """What the lock file holds: the data file's version ("" when unknown) and the next call seq."""

    version: str = ""
    next_seq: int = 1


class AccountFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def locked(self) -> Iterator[Shared]:
        """Holds the lock (waiting for it) and yields the shared figures, written back on the way out."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # Blocking is fine: a holder keeps the lock for one request's synchronous work, never across an await.
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 64, 0)
            shared = _parse(raw)
            yield shared
            data = f"{shared.version} {shared.next_seq}\n".encode()
            if data != raw:
                os.pwrite(fd, data, 0)
                if len(data) < len(raw):
                    os.ftruncate(fd, len(data))
        finally:
            os.close(fd)  # releases the lock

    @staticmethod
    def new_version() -> str:
        return secrets.token_hex(8)


def _parse(raw: bytes) -> Shared:
    """``VERSION NEXT_SEQ``. A missing, empty or damaged lock file knows no version: every process then takes
    the data file as it is."""
    version, _, next_seq = raw.decode("ascii", "replace").strip().partition(" ")
    if not version or not next_seq.isdigit():
        return Shared()
    return Shared(version, int(next_seq))
