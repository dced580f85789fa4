"""State and its backends; `open_backend` picks one from a location: a path, or a `postgresql://` URL."""

from __future__ import annotations

from pathlib import Path

from reconciler.state.file import FileBackend, ensure_state_dir
from reconciler.state.model import (
    HASH_BYTES,
    Provenance,
    Revision,
    State,
    StateBackend,
    StateNotWritten,
    code_hash,
    new_plan_key,
)
from reconciler.state.writer import SaveState, StateWriter

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_backend(location: str | None, manifest_dir: Path, default_file: Path) -> StateBackend:
    """`location` as `--state` or WXREC_STATE gives it; None means `default_file`. Every write records who wrote
    and the git commit of `manifest_dir`."""
    provenance = Provenance(manifest_dir if manifest_dir.is_dir() else manifest_dir.parent)
    if location and location.startswith(POSTGRES_SCHEMES):
        from reconciler.state.postgres import PostgresBackend  # psycopg loads only for a PostgreSQL state

        return PostgresBackend(location, provenance)
    return FileBackend(Path(location) if location else default_file, provenance)


def shown_location(location: str) -> str:
    """`location` as a printed command gives it to --state: a PostgreSQL URL keeps its user but not its password
    (libpq finds that in PGPASSWORD or ~/.pgpass); a path is a path, whatever characters it holds."""
    if location.startswith(POSTGRES_SCHEMES):
        from reconciler.state.postgres import split_url

        return split_url(location)[2]
    return location


__all__ = [
    "HASH_BYTES",
    "FileBackend",
    "Provenance",
    "Revision",
    "SaveState",
    "State",
    "StateBackend",
    "StateNotWritten",
    "StateWriter",
    "code_hash",
    "ensure_state_dir",
    "new_plan_key",
    "open_backend",
    "shown_location",
]
