"""Errors a user can act on: the CLI prints them without a traceback."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass


class WxrecError(Exception):
    """An error with a message meant for the user; the CLI exits 1 on it."""


# What to do about a file-system error, by its errno; anything else gets the generic advice.
_REMEDIES = {
    errno.ENOSPC: "free some space on that disk",
    errno.EDQUOT: "free some space (the disk quota is spent)",
    errno.EROFS: "that file system is read-only: choose a writable place",
    errno.EACCES: "this user may not write there: change the permissions or choose another place",
    errno.EPERM: "this user may not write there: change the permissions or choose another place",
    errno.ENOENT: "its directory does not exist: create it or choose another path",
    errno.ENOTDIR: "a part of the path is a file, not a directory: choose another path",
    errno.EISDIR: "that is a directory: name a file",
}


class FileError(WxrecError):
    """A file or directory could not be used: one line naming it, the reason and what to do."""

    def __init__(self, doing: str, path: object, error: OSError, then: str = "") -> None:
        self.path = path
        self.errno = error.errno
        reason = error.strerror or (os.strerror(error.errno) if error.errno else str(error))
        remedy = _REMEDIES.get(error.errno or 0, "fix that")
        super().__init__(f"cannot {doing} {path}: {reason}; {remedy}{then}")


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# A path into the manifests' data, as ("cards", "spring", "base_info", "title").
JsonPath = tuple[str | int, ...]
# Where a path of the manifests was written (None: nowhere known, or stand-in values not worth locating).
Locate = Callable[[JsonPath], Location | None]


@dataclass(frozen=True)
class Problem:
    """One finding of validation: where, which field, what is wrong."""

    location: Location | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class ManifestError(WxrecError):
    """The manifests are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem], hint: str = "") -> None:
        self.problems = sorted(problems, key=_problem_order)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        shown_hint = f"\n{hint}" if hint else ""
        super().__init__(f"{count} error{'s' if count != 1 else ''} in the manifests:\n{lines}{shown_hint}")


def _problem_order(problem: Problem) -> tuple[str, int, int, str]:
    loc = problem.location
    return (loc.file, loc.line, loc.column, problem.field) if loc else ("", 0, 0, problem.field)


class NewerFormat(WxrecError):
    """A document (state, a saved plan) of a format this wxrec does not know yet: it would lose what a newer
    wxrec recorded, so it reads nothing of it."""

    def __init__(self, what: str, found: int, newest: int) -> None:
        super().__init__(
            f"{what} was written by a newer wxrec (format {found}); this wxrec reads up to {newest}: upgrade wxrec"
        )
