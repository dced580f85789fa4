"""State and the interface every state backend offers.

State says which live id each address owns and what was last applied to it. The deposited custom codes
of a `codes` resource are kept beside it in a per-address ledger of code hashes (never the codes), which
grows by appends: a million codes must not be rewritten with every batch of a hundred.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import fastjsonschema

from reconciler.errors import FileError, WxrecError
from reconciler.state.migrations import STATE_VERSION, upgraded
from reconciler.wechat.client import split_userinfo

# 8 bytes of SHA-256 per code: a collision among a million codes has odds of about 1 in 3·10^7.
HASH_BYTES = 8


def code_hash(code: str) -> bytes:
    return hashlib.sha256(code.encode("utf-8")).digest()[:HASH_BYTES]


def new_plan_key() -> str:
    return secrets.token_hex(32)


@dataclass
class State:
    appid: str
    endpoint: str
    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    # card/getcolors as last read: --refresh=false and `wxrec diff` compare colours without the network.
    palette: dict[str, str] = field(default_factory=dict)
    # Keys the digest of the plans saved from this state (`plan -out`): whoever cannot read state cannot
    # recompute it. "" in a state written before there were keys, until apply next writes it.
    plan_key: str = field(default_factory=new_plan_key)
    # SHA-256 of a local image's bytes → the URL media/uploadimg gave for them (resources/images.py).
    images: dict[str, str] = field(default_factory=dict)

    @property
    def seal_key(self) -> bytes:
        """The key of a saved plan's digest: none before state is first stored (a plan made then saw no state)."""
        return self.plan_key.encode() if self.serial else b""

    def snapshot(self) -> State:
        """A copy that later changes do not reach: records are replaced or changed one key deep, never deeper."""
        return State(
            appid=self.appid,
            endpoint=self.endpoint,
            lineage=self.lineage,
            serial=self.serial,
            resources={address: dict(record) for address, record in self.resources.items()},
            intents={address: dict(intent) for address, intent in self.intents.items()},
            palette=dict(self.palette),
            plan_key=self.plan_key,
            images=dict(self.images),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "lineage": self.lineage,
            "serial": self.serial,
            "appid": self.appid,
            "endpoint": self.endpoint,
            "resources": dict(sorted(self.resources.items())),
            "intents": self.intents,
            "palette": self.palette,
            "plan_key": self.plan_key,
            **({"images": dict(sorted(self.images.items()))} if self.images else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        """From a document of the shape parse_state checks."""
        return cls(
            appid=data["appid"],
            endpoint=data["endpoint"],
            lineage=data["lineage"],
            serial=int(data["serial"]),
            resources=data.get("resources", {}),
            intents=data.get("intents", {}),
            palette=data.get("palette", {}),
            plan_key=data.get("plan_key", ""),
            images=dict(data.get("images", {})),
        )


class DamagedState(ValueError):
    """Why stored state cannot be read back; the backend says where it is and how to restore it."""


def parse_state(raw: str | bytes, location: str) -> State:
    """The one way every backend reads state back (stored at `location`): UTF-8 JSON, brought to the current
    format (migrations.py), of the shape schemas/state.schema.json describes, so that nothing later trips over
    a record of another shape. Anything else raises DamagedState; a newer format, NewerFormat."""
    try:
        data = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except RecursionError:
        raise DamagedState("nested too deeply") from None
    except ValueError as exc:  # not UTF-8, or not JSON
        raise DamagedState(str(exc)) from None
    if isinstance(data, dict):
        data = upgraded(data, location)
    try:
        _state_shape()(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        # "data.resources.cards.x.id must be string": named from the top of the document
        raise DamagedState(exc.message.replace("data.", "", 1).replace("data ", "the document ", 1)) from None
    try:
        split_userinfo(data["endpoint"])  # what check_state_binding takes apart: an endpoint wxrec could have called
    except ValueError:
        raise DamagedState(f"endpoint {data['endpoint']!r} is not a URL") from None
    return State.from_dict(data)


@cache
def _state_shape() -> Callable[[Any], Any]:
    text = resources.files("reconciler").joinpath("schemas/state.schema.json").read_text(encoding="utf-8")
    return fastjsonschema.compile(json.loads(text))


@dataclass(frozen=True)
class Revision:
    """One write of state: its serial, when, by whom, and the git commit of the manifests it was applied from."""

    serial: int
    lineage: str
    written_at: float
    author: str
    commit: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Provenance:
    """Who writes state and from which commit of the manifests; looked up once, at the first write."""

    def __init__(self, manifest_dir: Path) -> None:
        self.manifest_dir = manifest_dir

    @cached_property
    def author(self) -> str:
        return f"{getpass.getuser()}@{socket.gethostname()}"

    @cached_property
    def commit(self) -> str | None:
        """HEAD of the git repository holding the manifests; None outside git (or without git)."""
        try:
            done = subprocess.run(
                ["git", "-C", str(self.manifest_dir), "rev-parse", "--verify", "-q", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
        return done.stdout.strip() or None

    def revision(self, serial: int, lineage: str) -> Revision:
        return Revision(serial, lineage, time.time(), self.author, self.commit)


def conflict(location: str, expected: State, stored: Revision | None) -> WxrecError:
    """The error of a write whose compare-and-swap failed: someone else wrote state since this run read it."""
    if stored is None:
        now = "there is no state there any more"
    else:
        when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(stored.written_at))
        now = f"it is now serial {stored.serial} of lineage {stored.lineage}, written by {stored.author} at {when}"
    return WxrecError(
        f"state at {location} changed under this run: it read serial {expected.serial} of lineage "
        f"{expected.lineage}, {now}. Nothing was overwritten. Another run wrote it (did this run lose its lock?): "
        "run again to plan against the current state."
    )


class StateNotWritten(FileError):
    """State (or a ledger of deposited codes) could not be written: apply stops, since it can no longer record
    what it does."""

    def __init__(self, doing: str, path: object, error: OSError) -> None:
        # What WeChat did before is recorded; a create made but not recorded left its intent, which the next
        # apply settles by looking for the card.
        super().__init__(doing, path, error, ", then run apply again: it settles what this run could not record")


class StateBackend(Protocol):
    """Where state lives. Every backend keeps the same lock, serial and lineage semantics."""

    @property
    def location(self) -> str:
        """Where the state is, for messages (never with a password)."""
        ...

    def load(self) -> State | None: ...

    def write(self, state: State) -> None:
        """Store the whole state as serial `state.serial + 1`, then bump `state.serial`; a crash leaves the old or
        the new state, whole. A compare-and-swap: when the stored state is not `state`'s serial and lineage (someone
        else wrote in between), nothing is written and a WxrecError says so. Nothing stored counts as serial 0."""
        ...

    def write_with_backup(self, state: State) -> str:
        """For hand edits (state rm/mv): keep the previous state; says where it is kept."""
        ...

    def lock(self, timeout: float) -> AbstractContextManager[None]:
        """Hold the state lock for a run; waits up to `timeout` seconds, then names the holder."""
        ...

    def unlock(self, lock_id: str) -> None:
        """Break the lock of a run that died."""
        ...

    def code_hashes(self, address: str) -> set[bytes]:
        """The hashes of the codes already deposited for ADDRESS."""
        ...

    def add_code_hashes(self, address: str, hashes: Iterable[bytes]) -> None:
        """Record more deposited codes for ADDRESS, durably, before returning."""
        ...

    def drop_code_hashes(self, address: str) -> None:
        """Forget ADDRESS's ledger (its card was replaced or deleted, or state rm)."""
        ...

    def copy_code_hashes(self, source: str, target: str) -> None:
        """Make TARGET's ledger a copy of SOURCE's (state mv), replacing whatever TARGET had."""
        ...

    def history(self, limit: int) -> list[Revision]:
        """The last `limit` writes, newest first."""
        ...
