"""Who holds a state lock, as both backends record it: lock id, host, pid and start time."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from typing import Any

from reconciler.errors import WxrecError


def describe_holder(holder: Mapping[str, Any] | None) -> str:
    if holder is None:
        return "holder unknown"
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(holder.get("started", 0)))
    return f"lock id {holder.get('id')}: host {holder.get('host')}, pid {holder.get('pid')}, since {started}"


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
