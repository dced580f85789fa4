"""The PostgreSQL backend: state versioned by serial, an advisory lock tied to the holder's session, a ledger table.

One database can hold many states (one per account), told apart by `?state_name=NAME` in the URL (default
`default`). Tables are created on first use. Every write inserts the next serial with a compare-and-swap in
the same statement, so a run that lost its lock cannot overwrite a newer state.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.rows import TupleRow

from reconciler.errors import WxrecError
from reconciler.state.holder import StateLocked, check_breakable
from reconciler.state.model import HASH_BYTES, DamagedState, Provenance, Revision, State, conflict, parse_state

P = ParamSpec("P")
R = TypeVar("R")
DEFAULT_NAME = "default"
# State bodies kept whole besides the newest ones: the last state of every locked run (an apply, an import, a
# state rm/mv) and of the previous state of every hand edit. The others (one per action of an apply) lose
# their body, not their history row, when a run releases the lock.
KEEP_RECENT_BODIES = 100
LOCK_POLL_SECONDS = 0.2
# The lock's session is idle while the run works: the server's TCP keepalives find a vanished holder host
# (about a minute here) and end the session, which frees the lock.
KEEPALIVE_OPTIONS = "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS wxrec_states (
    name text NOT NULL,
    serial bigint NOT NULL,
    lineage text NOT NULL,
    body json,
    keep boolean NOT NULL DEFAULT false,
    written_at timestamptz NOT NULL DEFAULT now(),
    author text NOT NULL,
    git_commit text,
    PRIMARY KEY (name, serial)
);
CREATE TABLE IF NOT EXISTS wxrec_locks (
    name text PRIMARY KEY,
    lock_id text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    started timestamptz NOT NULL DEFAULT now(),
    session_pid integer NOT NULL
);
CREATE TABLE IF NOT EXISTS wxrec_code_hashes (
    name text NOT NULL,
    address text NOT NULL,
    batch bigserial,
    hashes bytea NOT NULL,
    PRIMARY KEY (name, address, batch)
);
"""
# Serialises the first-use CREATE TABLEs of concurrent runs (CREATE ... IF NOT EXISTS can still collide).
SCHEMA_LOCK_KEY = 0x77787265635F7363

WRITE = """
INSERT INTO wxrec_states (name, serial, lineage, body, author, git_commit, written_at)
SELECT %(name)s, %(serial)s + 1, %(lineage)s, %(body)s::json, %(author)s, %(commit)s, to_timestamp(%(at)s)
WHERE COALESCE(
    (SELECT serial = %(serial)s AND lineage = %(lineage)s FROM wxrec_states
     WHERE name = %(name)s ORDER BY serial DESC LIMIT 1),
    %(serial)s = 0)
"""
HISTORY = """
SELECT serial, lineage, extract(epoch FROM written_at)::float8, author, git_commit
FROM wxrec_states WHERE name = %s ORDER BY serial DESC LIMIT %s
"""


@contextmanager
def _reported(location: str) -> Iterator[None]:
    """A lost or refused database connection is the user's to fix: an error naming the state, not a traceback."""
    try:
        yield
    except psycopg.OperationalError as exc:
        raise WxrecError(f"state at {location}: PostgreSQL failed ({_reason(exc)})") from None


def _reason(exc: psycopg.Error) -> str:
    """libpq's first line says what went wrong; the rest is context that a one-line error does not need."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _reporting(method: Callable[Concatenate[PostgresBackend, P], R]) -> Callable[Concatenate[PostgresBackend, P], R]:
    @functools.wraps(method)
    def reported(backend: PostgresBackend, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with _reported(backend.location):
            return method(backend, *args, **kwargs)

    return reported


def split_url(url: str) -> tuple[str, str, str]:
    """(what libpq connects to, the state's name, the URL without its password for messages)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    name = next((value for key, value in query if key == "state_name"), DEFAULT_NAME)
    connect_query = [(key, value) for key, value in query if key != "state_name"]
    connect = urlunsplit(parts._replace(query=urlencode(connect_query)))
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    shown_netloc = f"{user}@{netloc[2]}" if netloc[1] else netloc[2]
    shown_query = urlencode([(key, value) for key, value in query if key != "password"], safe="/")
    return connect, name, urlunsplit(parts._replace(netloc=shown_netloc, query=shown_query))


class PostgresBackend:
    def __init__(self, url: str, provenance: Provenance) -> None:
        self._url, self.name, self._shown = split_url(url)
        self.provenance = provenance
        self._connection: psycopg.Connection[TupleRow] | None = None
        self._lock_key = int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:8], "big", signed=True)

    @property
    def location(self) -> str:
        return self._shown

    def _connect(self, **options: Any) -> psycopg.Connection[TupleRow]:
        try:
            return psycopg.connect(self._url, autocommit=True, connect_timeout=10, **options)
        except psycopg.Error as exc:
            raise WxrecError(f"state at {self.location}: cannot connect to PostgreSQL ({_reason(exc)})") from None

    @property
    def _db(self) -> psycopg.Connection[TupleRow]:
        """One connection for reads and writes, opened (and the tables created) on first use."""
        if self._connection is None or self._connection.closed:
            connection = self._connect()
            with _reported(self.location), connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
                connection.execute(SCHEMA)
            self._connection = connection
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @_reporting
    def load(self) -> State | None:
        # As text: parse_state reads it, as it does a file (psycopg's own json decoding would not be checked).
        row = self._db.execute(
            "SELECT body::text FROM wxrec_states WHERE name = %s ORDER BY serial DESC LIMIT 1", (self.name,)
        ).fetchone()
        if row is None:
            return None
        try:
            if row[0] is None:
                raise DamagedState("the newest serial has no body")
            return parse_state(row[0], self.location)
        except DamagedState as exc:
            raise WxrecError(
                f"state at {self.location} is damaged ({exc}); restore it from a backup (an earlier serial keeps "
                "its body: `wxrec state history` lists them)"
            ) from None

    @_reporting
    def write(self, state: State) -> None:
        """One round trip: the insert of the next serial happens only if the newest row is the one `state` was read
        from; two runs inserting the same serial collide on the primary key."""
        revision = self.provenance.revision(state.serial + 1, state.lineage)
        body = json.dumps({**state.to_dict(), "serial": revision.serial}, ensure_ascii=False)
        parameters = {
            "name": self.name,
            "serial": state.serial,
            "lineage": state.lineage,
            "body": body,
            "author": revision.author,
            "commit": revision.commit,
            "at": revision.written_at,
        }
        try:
            written = self._db.execute(WRITE, parameters).rowcount
        except psycopg.errors.UniqueViolation:
            written = 0
        if written != 1:
            raise conflict(self.location, state, next(iter(self.history(1)), None))
        state.serial += 1

    @_reporting
    def write_with_backup(self, state: State) -> str:
        """The previous serial's row is the backup: it keeps its body whatever the retention."""
        previous = state.serial
        self._db.execute("UPDATE wxrec_states SET keep = true WHERE name = %s AND serial = %s", (self.name, previous))
        self.write(state)
        return f"serial {previous} in {self.location} (see `wxrec state history`)"

    @_reporting
    def history(self, limit: int) -> list[Revision]:
        rows = self._db.execute(HISTORY, (self.name, limit)).fetchall()
        return [Revision(*row) for row in rows]

    @_reporting
    def code_hashes(self, address: str) -> set[bytes]:
        rows = self._db.execute(
            "SELECT hashes FROM wxrec_code_hashes WHERE name = %s AND address = %s", (self.name, address)
        ).fetchall()
        hashes: set[bytes] = set()
        for (batch,) in rows:
            hashes.update(batch[i : i + HASH_BYTES] for i in range(0, len(batch), HASH_BYTES))
        return hashes

    @_reporting
    def add_code_hashes(self, address: str, hashes: Iterable[bytes]) -> None:
        batch = b"".join(hashes)
        if batch:
            self._db.execute(
                "INSERT INTO wxrec_code_hashes (name, address, hashes) VALUES (%s, %s, %s)",
                (self.name, address, batch),
            )

    @_reporting
    def drop_code_hashes(self, address: str) -> None:
        self._db.execute("DELETE FROM wxrec_code_hashes WHERE name = %s AND address = %s", (self.name, address))

    @_reporting
    def copy_code_hashes(self, source: str, target: str) -> None:
        with self._db.transaction():
            self.drop_code_hashes(target)
            self._db.execute(
                "INSERT INTO wxrec_code_hashes (name, address, hashes) SELECT name, %s, hashes FROM wxrec_code_hashes "
                "WHERE name = %s AND address = %s ORDER BY batch",
                (target, self.name, source),
            )

    @contextmanager
    def lock(self, timeout: float) -> Iterator[None]:
        """A session-level advisory lock on a connection of its own: it dies with the holder's session, so a
        killed run cannot keep it. Polled (not waited on in the server) so the wait has a deadline."""
        with _reported(self.location):
            self._db.execute("SELECT 1")  # the tables exist before the lock's session writes its row
            session = self._connect(options=KEEPALIVE_OPTIONS)
            try:
                self._acquire(session, timeout)
                session.execute(
                    "INSERT INTO wxrec_locks (name, lock_id, host, pid, session_pid) VALUES (%s, %s, %s, %s, "
                    "pg_backend_pid()) ON CONFLICT (name) DO UPDATE SET lock_id = excluded.lock_id, "
                    "host = excluded.host, pid = excluded.pid, started = now(), session_pid = excluded.session_pid",
                    (self.name, str(uuid.uuid4()), socket.gethostname(), os.getpid()),
                )
            except BaseException:
                session.close()
                raise
        try:
            yield
        finally:
            self._release(session)

    def _release(self, session: psycopg.Connection[TupleRow]) -> None:
        try:
            self._retire_bodies(session)
            session.execute("DELETE FROM wxrec_locks WHERE name = %s AND session_pid = pg_backend_pid()", (self.name,))
        except psycopg.Error:
            pass  # the session is gone, and the lock with it: closing is all that is left to do
        finally:
            session.close()

    def _acquire(self, session: psycopg.Connection[TupleRow], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            row = session.execute("SELECT pg_try_advisory_lock(%s)", (self._lock_key,)).fetchone()
            if row is not None and row[0]:
                return
            if time.monotonic() >= deadline:
                raise StateLocked(
                    self._holder(),
                    timeout,
                    "The lock frees itself when that run's database session ends; `{command}` ends the session of a "
                    "run that hangs.",
                )
            time.sleep(LOCK_POLL_SECONDS)

    def _retire_bodies(self, session: psycopg.Connection[TupleRow]) -> None:
        """The run's last state keeps its body; older bodies beyond the recent ones go (their history rows stay)."""
        session.execute(
            "UPDATE wxrec_states SET keep = true WHERE name = %(name)s AND serial = "
            "(SELECT max(serial) FROM wxrec_states WHERE name = %(name)s)",
            {"name": self.name},
        )
        session.execute(
            "UPDATE wxrec_states SET body = NULL WHERE name = %(name)s AND NOT keep AND body IS NOT NULL AND serial <= "
            "(SELECT max(serial) FROM wxrec_states WHERE name = %(name)s) - %(recent)s",
            {"name": self.name, "recent": KEEP_RECENT_BODIES},
        )

    def _holder(self) -> dict[str, Any] | None:
        """The lock row, if the session that wrote it still holds the lock (a killed holder's row is stale)."""
        unsigned = self._lock_key & 0xFFFFFFFFFFFFFFFF
        row = self._db.execute(
            "SELECT lock_id, host, pid, extract(epoch FROM started)::float8, session_pid FROM wxrec_locks l "
            "WHERE name = %s AND EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = l.session_pid AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1)",
            (self.name, unsigned >> 32, unsigned & 0xFFFFFFFF),
        ).fetchone()
        if row is None:
            return None
        return dict(zip(("id", "host", "pid", "started", "session_pid"), row, strict=True))

    @_reporting
    def unlock(self, lock_id: str) -> None:
        """End the database session of a run that hangs or whose host vanished: that frees the lock at once.
        Refuses while the holder still runs on this host, like the file backend."""
        holder = self._holder()
        check_breakable(holder, lock_id)
        assert holder is not None
        try:
            self._db.execute("SELECT pg_terminate_backend(%s)", (holder["session_pid"],))
        except psycopg.Error as exc:
            raise WxrecError(
                f"cannot end the lock holder's database session ({exc}); the lock frees itself when that session "
                "ends (the server notices a vanished host within about a minute), or a database superuser can "
                f"run SELECT pg_terminate_backend({holder['session_pid']})"
            ) from None
        self._db.execute("DELETE FROM wxrec_locks WHERE name = %s AND lock_id = %s", (self.name, lock_id))
