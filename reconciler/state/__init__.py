"""State and its backends; `open_backend` picks one from a location (a path, or later a URL)."""

from __future__ import annotations

from reconciler.state.file import FileBackend, ensure_state_dir
from reconciler.state.model import HASH_BYTES, State, StateBackend, code_hash
from reconciler.state.writer import SaveState, StateWriter

__all__ = [
    "HASH_BYTES",
    "FileBackend",
    "SaveState",
    "State",
    "StateBackend",
    "StateWriter",
    "code_hash",
    "ensure_state_dir",
]
