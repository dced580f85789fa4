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
from pathlib import Path


class Lease:
    """The lock, held, and what the lock file says: the data file's version ("" when unknown) and the next
    call seq."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._written = os.pread(fd, 64, 0)
        self.version, self.next_seq = _parse(self._written)

    def new_version(self) -> None:
        """Called before the data file is replaced: a process killed between the two still has every other
        one read the file again, which then merely finds it unchanged."""
        self.version = secrets.token_hex(8)
        self.write()

    def write(self) -> None:
        data = f"{self.version} {self.next_seq}\n".encode()
        if data != self._written:
            os.pwrite(self._fd, data, 0)
            if len(data) < len(self._written):
                os.ftruncate(self._fd, len(data))
            self._written = data


class AccountFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def locked(self) -> Iterator[Lease]:
        """Holds the lock (waiting for it); what the lease says is written back on the way out."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # Blocking is fine: a holder keeps the lock for one request's synchronous work, never across an await.
            fcntl.flock(fd, fcntl.LOCK_EX)
            lease = Lease(fd)
            yield lease
            lease.write()
        finally:
            os.close(fd)  # releases the lock


def _parse(raw: bytes) -> tuple[str, int]:
    """``VERSION NEXT_SEQ``. A missing, empty or damaged lock file knows no version: every process then takes
    the data file as it is."""
    version, _, next_seq = raw.decode("ascii", "replace").strip().partition(" ")
    if not version or not next_seq.isdigit():
        return "", 1
    return version, int(next_seq)
