"""Who holds a state lock, as both backends record it: lock id, host, pid and start time."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from typing import Any

from reconciler.errors import WxrecError
from reconciler.hints import state_command


def describe_holder(holder: Mapping[str, Any] | None) -> str:
    if holder is None:
        return "holder unknown"
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(holder.get("started", 0)))
    return f"lock id {holder.get('id')}: host {holder.get('host')}, pid {holder.get('pid')}, since {started}"


class StateLocked(WxrecError):
    """Another run holds the state lock. `told` says so with the `state unlock` command of the holder's lock id
    for the state as the refused run names it; the message itself names it as `.` (the manifest directory)."""

    def __init__(self, holder: Mapping[str, Any] | None, waited: float, remedy: str) -> None:
        """`remedy`: how the lock frees, with `{command}` where the unlock command goes."""
        self.holder, self.waited, self.remedy = holder, waited, remedy
        super().__init__(self.told("."))

    def told(self, state_invocation: str) -> str:
        told = f"state is locked by another run ({describe_holder(self.holder)}); waited {self.waited:g}s."
        lock_id = (self.holder or {}).get("id")
        if not lock_id:
            return told  # no id to name: nothing `state unlock` could break
        return f"{told} {self.remedy.format(command=state_command('unlock', state_invocation, str(lock_id)))}"


def check_breakable(holder: Mapping[str, Any] | None, lock_id: str) -> None:
    """`state unlock LOCK_ID` breaks only the lock named, and never while its holder still runs on this host."""
    if holder is None:
        raise WxrecError("state is not locked")
    if holder.get("id") != lock_id:
        raise WxrecError(f"the lock's id is {holder.get('id')}, not {lock_id}; nothing was changed")
    if holder.get("host") == socket.gethostname() and pid_alive(int(holder.get("pid", 0))):
        raise WxrecError(f"pid {holder['pid']} on this host still holds the lock; stop it first")


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
