"""Codes files: reading one (plain lines, or a CSV column) and checking it in the manifests (a deposit-mode card, one
entry per card, valid and distinct codes). Problems name lines, never the codes."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.address import Address
from reconciler.errors import JsonPath, Locate, Location, Problem, WxrecError
from reconciler.resources.cards.model import DEPOSIT_MODE
from reconciler.resources.codes.record import KIND
from reconciler.state import code_hash

MAX_CODE_BYTES = 20  # code is string(20) in every card API


@dataclass(frozen=True)
class CodeFile:
    """A codes file: one code per line, or the column `column` (a header name, or a number from 1) of a CSV whose
    first row is its header."""

    path: Path
    column: str | int | None = None

    def read(self) -> Iterator[tuple[int, str]]:
        """(line number, code) for every non-blank entry; raises WxrecError naming the file when unreadable.

        Lines end at \n (or \r\n) only, never where str.splitlines() would also break (\v, \f, \x1c–\x1e,
        \x85, U+2028, U+2029): such a character is part of its line's code, which validate refuses, instead of
        the line becoming several codes deposited for good. Only spaces around a code are dropped, so no other
        character is hidden from validate."""
        try:
            text = self.path.read_bytes().decode("utf-8-sig")  # not read_text: it would turn a lone \r into \n
        except (OSError, UnicodeDecodeError) as exc:
            raise WxrecError(f"{self.path}: cannot read codes ({exc.__class__.__name__})") from None
        return iter(_lines(text)) if self.column is None else self._column(text)

    def _column(self, text: str) -> Iterator[tuple[int, str]]:
        """A CSV always starts with its header row, even when the column is given by number: a header read as a
        code would be deposited for good. A row is numbered by the line it starts on (a quoted field may hold
        a line break, which validate then refuses)."""
        rows = csv.reader(io.StringIO(text, newline="\n"))
        try:
            header = next(rows, [])
            if isinstance(self.column, int):
                index = self.column - 1
            elif str(self.column) in header:
                index = header.index(str(self.column))
            else:
                raise WxrecError(f"{self.path}:1: the header has no column {self.column!r}")
            number = rows.line_num + 1
            for row in rows:
                code = row[index].strip(" ") if index < len(row) else ""
                if code:
                    yield number, code
                number = rows.line_num + 1
        except csv.Error as exc:
            raise WxrecError(f"{self.path}:{rows.line_num}: not a CSV row ({exc})") from None

    def digest(self) -> str:
        """SHA-256 of the file's bytes: a saved plan is stale once the file it counted changed."""
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError as exc:
            raise WxrecError(f"{self.path}: cannot read codes ({exc.__class__.__name__})") from None

    def hashes(self) -> set[bytes]:
        return {code_hash(code) for _, code in self.read()}


def code_files(
    data: Mapping[str, Any], named: Mapping[JsonPath, Path], root: Path
) -> dict[str, tuple[Mapping[str, Any], str]]:
    """key → (spec, its file relative to the manifest directory): plan documents stay valid on another checkout.
    `named`: the files the manifest layer resolved and its path policy accepted."""
    return {
        key: (spec, os.path.relpath(named[(KIND, key, "file")], root))
        for key, spec in (data.get(KIND) or {}).items()
        if (KIND, key, "file") in named
    }


def validate(data: Mapping[str, Any], locate: Locate, named: Mapping[JsonPath, Path]) -> list[Problem]:
    """Each entry points at a deposit-mode card no other entry uses, and its file holds valid, distinct codes.
    Problems name lines, never the codes. `named`: the files the manifest layer accepted (a refused one was
    reported there and is not read)."""
    section = data.get(KIND)
    if not isinstance(section, Mapping):
        return []
    cards = data.get("cards") or {}
    problems: list[Problem] = []
    users: dict[str, str] = {}
    for key, spec in section.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("card"), str):
            continue
        where = f"{KIND}.{key}"
        card = cards.get(spec["card"]) if isinstance(cards, Mapping) else None
        base_info = (card or {}).get("base_info") or {}
        if card is not None and base_info.get("get_custom_code_mode") != DEPOSIT_MODE:
            problems.append(
                Problem(
                    locate((KIND, key, "card")),
                    f"{where}.card",
                    f"{Address.card(spec['card'])} is not in {DEPOSIT_MODE}",
                )
            )
        if spec["card"] in users:
            problems.append(
                Problem(locate((KIND, key, "card")), f"{where}.card", f"{users[spec['card']]} already fills this card")
            )
        users.setdefault(spec["card"], where)
        location = locate((KIND, key, "file"))
        path = named.get((KIND, key, "file"))
        if location is not None and path is not None:
            problems += file_problems(
                CodeFile(path, spec.get("column")), location, f"{where}.file", _code_problem, _plainly_valid
            )
    return problems


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, code) of each non-blank line. A file of a million codes is read three times a run (validate,
    plan, apply): one without a space or CR, the usual, is split at C speed with nothing to trim."""
    lines = text.split("\n")
    if "\r" not in text and " " not in text:
        return [(number, line) for number, line in enumerate(lines, 1) if line]
    return [(number, code) for number, line in enumerate(lines, 1) if (code := line.removesuffix("\r").strip(" "))]


def file_problems(
    source: CodeFile,
    location: Location,
    field: str,
    code_problem: Callable[[str], str | None],
    plainly_valid: Callable[[list[str]], bool] = lambda codes: False,
) -> list[Problem]:
    """A codes file's problems, each located at its line: unreadable, empty, a code `code_problem` refuses, or a
    code that repeats an earlier one (at most 20). `plainly_valid` may clear the whole file at once."""
    try:
        entries = list(source.read())
    except WxrecError as exc:
        return [Problem(location, field, str(exc))]
    if not entries:
        return [Problem(location, field, f"{source.path} holds no codes")]
    if plainly_valid([code for _, code in entries]):
        return []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for number, code in entries:
        repeated = f"repeats the code on line {first_line[code]}" if code in first_line else None
        found = code_problem(code) or repeated
        if found:
            problems.append(Problem(Location(str(source.path), number, 1), "code", found))
        first_line.setdefault(code, number)
    return problems[:20]


def _code_problem(code: str) -> str | None:
    # isprintable: no character of Unicode's "Other" (controls, format characters) or "Separator" categories
    # (line, paragraph and no-break spaces) but " ", which is refused apart.
    if not code.isprintable() or " " in code:
        return "holds whitespace or a control character"
    if len(code.encode("utf-8")) > MAX_CODE_BYTES:
        return f"is longer than {MAX_CODE_BYTES} bytes"
    return None


PLAIN_ASCII = re.compile(r"[^\x21-\x7e]")


def _plainly_valid(codes: list[str]) -> bool:
    """The common case at C speed: printable ASCII without spaces, short enough, all distinct. Anything else
    goes through the line-by-line checks, which name each problem."""
    return (
        max(map(len, codes)) <= MAX_CODE_BYTES
        and PLAIN_ASCII.search("".join(codes)) is None
        and len(set(codes)) == len(codes)
    )
