"""State and its backends; `open_backend` picks one from a location (a path, or later a URL)."""

from __future__ import annotations

from reconciler.state.file import FileBackend, ensure_state_dir
from reconciler.state.model import HASH_BYTES, State, StateBackend, code_hash

__all__ = ["HASH_BYTES", "FileBackend", "State", "StateBackend", "code_hash", "ensure_state_dir"]
