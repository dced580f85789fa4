"""The local file backend: `.wxrec/state.json`, written atomically after every action, and a lock file."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import filelock

from reconciler.errors import FileError, WxrecError
from reconciler.state.holder import StateLocked, check_breakable
from reconciler.state.model import (
    HASH_BYTES,
    DamagedState,
    Provenance,
    Revision,
    State,
    StateNotWritten,
    conflict,
    parse_state,
)

# Every run that changes state (apply, import, state rm/mv) holds the lock: without it, none can run here.
LOCK_REMEDY = " (state and its lock live there: --state PATH or a PostgreSQL URL keeps them elsewhere)"


class FileBackend:
    def __init__(self, path: Path, provenance: Provenance | None = None) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        # Append-only, one JSON line per write: a crash between the state write and the append loses one line.
        self.history_path = path.with_name(path.stem + ".history.jsonl")
        self.provenance = provenance or Provenance(path.parent)

    @property
    def location(self) -> str:
        return str(self.path)

    def load(self) -> State | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise self._damaged("it is a directory") from None
        except OSError as exc:
            raise WxrecError(f"{self.path}: cannot read the state file ({exc.strerror})") from None
        try:
            return parse_state(raw, self.location)
        except DamagedState as exc:
            raise self._damaged(str(exc)) from None

    def _damaged(self, why: str) -> WxrecError:
        return WxrecError(
            f"{self.path}: state file is damaged ({why}); restore it from a backup ({self.path.name}.backup, "
            "or an earlier copy: `wxrec state history` lists every write and its commit)"
        )

    def write(self, state: State) -> None:
        """Replace the file atomically (a crash leaves the old or the new state, whole), unless another run wrote
        since `state` was read: the check and the rename are atomic for runs that hold the lock."""
        stored = self.load()
        expected = (stored.serial, stored.lineage) if stored else (0, state.lineage)
        if (state.serial, state.lineage) != expected:
            raise conflict(self.location, state, self._revision_of(stored))
        payload = json.dumps({**state.to_dict(), "serial": state.serial + 1}, ensure_ascii=False, indent=2) + "\n"
        try:
            ensure_state_dir(self.path.parent)
            _replace(self.path, payload.encode())
        except OSError as exc:
            raise StateNotWritten("write state", self.path, exc) from None
        state.serial += 1
        revision = self.provenance.revision(state.serial, state.lineage)
        # State is written: a history line that cannot be appended is lost, as when a crash falls in between.
        with contextlib.suppress(OSError), self.history_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(revision.to_dict(), ensure_ascii=False) + "\n")

    def _revision_of(self, stored: State | None) -> Revision | None:
        """Who wrote the state on disk, from the history when it has that serial."""
        if stored is None:
            return None
        latest = next(iter(self.history(1)), None)
        if latest is not None and (latest.serial, latest.lineage) == (stored.serial, stored.lineage):
            return latest
        return Revision(stored.serial, stored.lineage, self.path.stat().st_mtime, "unknown", None)

    def history(self, limit: int) -> list[Revision]:
        try:
            lines = self.history_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        revisions: list[Revision] = []
        for line in reversed(lines):
            if len(revisions) == limit:
                break
            try:
                revisions.append(Revision(**json.loads(line)))
            except (ValueError, TypeError):
                continue  # a line cut short by a crash names no write
        return revisions

    def write_with_backup(self, state: State) -> str:
        """For hand edits (state rm): keep the previous state beside the new one."""
        backup = self.path.with_name(self.path.name + ".backup")
        if self.path.exists():
            try:
                backup.write_bytes(self.path.read_bytes())
            except OSError as exc:
                raise FileError("back up state to", backup, exc, "; nothing was changed") from None
        self.write(state)
        return str(backup)

    def code_hashes(self, address: str) -> set[bytes]:
        try:
            data = self._ledger(address).read_bytes()
        except FileNotFoundError:
            return set()
        # A crash mid-append can leave a partial hash at the end: it names no code, so it is dropped.
        whole = len(data) - len(data) % HASH_BYTES
        return {data[i : i + HASH_BYTES] for i in range(0, whole, HASH_BYTES)}

    def add_code_hashes(self, address: str, hashes: Iterable[bytes]) -> None:
        ledger = self._ledger(address)
        try:
            ledger.parent.mkdir(parents=True, exist_ok=True)
            with ledger.open("ab") as out:
                size = out.tell()
                if size % HASH_BYTES:
                    out.truncate(size - size % HASH_BYTES)
                out.write(b"".join(hashes))
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise StateNotWritten("record deposited codes in", ledger, exc) from None

    def drop_code_hashes(self, address: str) -> None:
        self._ledger(address).unlink(missing_ok=True)

    def copy_code_hashes(self, source: str, target: str) -> None:
        try:
            data = self._ledger(source).read_bytes()
        except FileNotFoundError:
            self.drop_code_hashes(target)
            return
        self.drop_code_hashes(target)
        self.add_code_hashes(target, [data[: len(data) - len(data) % HASH_BYTES]])

    def _ledger(self, address: str) -> Path:
        return self.path.with_name(self.path.stem + ".codes") / f"{address}.sha256-64"

    @contextmanager
    def lock(self, timeout: float) -> Iterator[None]:
        """Hold the state lock; waits up to `timeout` seconds, then names the holder."""
        lock = filelock.FileLock(str(self.lock_path), timeout=timeout)
        try:
            ensure_state_dir(self.path.parent)
            lock.acquire()
        except filelock.Timeout:
            raise StateLocked(self._holder(), timeout, "If that run is dead, `{command}` breaks the lock.") from None
        except OSError as exc:
            raise FileError("lock state with", self.lock_path, exc, LOCK_REMEDY) from None
        holder = {
            "id": str(uuid.uuid4()),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": int(time.time()),
        }
        try:
            self._info.write_text(json.dumps(holder), encoding="utf-8")
        except OSError as exc:
            lock.release()
            raise FileError("lock state with", self._info, exc, LOCK_REMEDY) from None
        try:
            yield
        finally:
            self._info.unlink(missing_ok=True)
            lock.release()

    def unlock(self, lock_id: str) -> None:
        """Break a lock whose holder died; refuses while the holder still runs on this host."""
        check_breakable(self._holder(), lock_id)
        self._info.unlink(missing_ok=True)
        self.lock_path.unlink(missing_ok=True)

    @property
    def _info(self) -> Path:
        return self.lock_path.with_name(self.lock_path.name + ".info")

    def _holder(self) -> dict[str, Any] | None:
        try:
            holder: dict[str, Any] = json.loads(self._info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return holder


def _replace(path: Path, data: bytes) -> None:
    """Atomically: a temporary file beside `path`, flushed to disk, renamed over it (a crash leaves either)."""
    handle, temp = tempfile.mkstemp(prefix=".state-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def ensure_state_dir(directory: Path) -> None:
    """Create the state's directory. In `.wxrec/`, state and the emulator's account are local artefacts, kept out
    of commits by default; a directory named by --state is the user's, often committed on purpose (examples/ci)."""
    directory.mkdir(parents=True, exist_ok=True)
    ignore = directory / ".gitignore"
    if ".wxrec" in directory.parts and not ignore.exists():
        ignore.write_text("# written by wxrec: state and the embedded emulator's account\n*\n", encoding="utf-8")
