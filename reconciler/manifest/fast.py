"""A fast reader for the block YAML manifests are written in, building values only.

PyYAML builds a node (with two marks) for every scalar, then a Python object from each: on 10,000 cards that
is most of `wxrec validate`. This reader takes the plain shape most manifests have, line by line: block
mappings and sequences, one scalar per line (plain or quoted), one-line flow lists of such scalars, comments.
It says Unsupported the moment it meets anything else (flow mappings, block scalars, anchors, tags, multi-line
scalars, tabs, document markers, a key YAML reads as a number, a duplicate key, …), and the loader then reads
the file with PyYAML as before: whatever this reader takes it reads exactly as PyYAML does, and everything
else, errors included, is PyYAML's. Plain scalars are resolved by PyYAML's own YAML 1.1 resolver table and
constructor (`yes` is True, `010` is 8, `1_000` is 1000, `.inf` a float, a bare date stays text).

Positions are not kept here: they are computed by PyYAML when something asks for one (an error to locate).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from reconciler.manifest.variables import MARKER, VariableError, substitute


class Unsupported(Exception):
    """The text uses YAML this reader leaves to PyYAML."""


# Characters outside the set both PyYAML and libyaml read without remark (tabs, control characters, the BOM,
# and the line breaks other than \n: CR, NEL, and U+2028 and U+2029, which YAML 1.1 counts as line breaks and
# split("\n") does not), and lines that may be a document marker or a directive.
_LEFT_TO_PYYAML = re.compile(
    r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|^(?:---|\.\.\.|%)",
    re.M,
)
# `KEY:` or `KEY: VALUE`. A plain key starts with no indicator and holds no space, colon, comment or flow
# character; a single-quoted key may double its quote; a double-quoted one holds no escape.
_ENTRY = re.compile(
    r"(?P<key>[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\s:#,\[\]{}]*|'(?:[^']|'')*'|\"[^\"\\]*\")(?P<colon>:)(?: +(?P<rest>.*)|$)"
)
_SINGLE = re.compile(r"'((?:[^']|'')*)'(?: +#.*| *)")
_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*)"(?: +#.*| *)')
_EMPTY_MAPPING = re.compile(r"\{\}(?: +#.*| *)")
# One item of a flow sequence written on one line (`[a, 'b', "c"]`): a plain scalar without spaces or flow
# characters, or a quoted one; then the comma or the closing bracket.
_FLOW_ITEM = re.compile(
    r" *(?:(?P<plain>(?:[^\s,\[\]{}#&*!|>'\"%@`?:\-]|-[^\s,\[\]{}#:])[^\s,\[\]{}#:]*)"
    r"|'(?P<single>(?:[^']|'')*)'|\"(?P<double>(?:[^\"\\]|\\.)*)\") *(?P<end>[,\]])"
)
_FLOW_END = re.compile(r"(?: +#.*| *)")
# The escapes libyaml and PyYAML both read in a double-quoted scalar (`\x41`, `\u4e2d` and `\U…` by their code).
_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ESCAPED = {**yaml.scanner.Scanner.ESCAPE_REPLACEMENTS}
del _ESCAPED["\t"]  # a backslash before a tab: tabs are left to PyYAML anyway
# Numbers in YAML 1.2's core schema that YAML 1.1 reads as text (`1e3`, `0o17`).
YAML12_NUMBER = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+")
# What may not start a plain scalar here ("-" may, before a non-space: `-5`).
_INDICATORS = frozenset("?:,[]{}#&*!|>'\"%@`")
# libyaml and PyYAML forget a possible simple key after 1024 characters.
_LONGEST_KEY = 1000
_STR = "tag:yaml.org,2002:str"
_ALLOWED = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null"))
# PyYAML's implicit resolvers, keyed on a plain scalar's first character.
_Resolvers = dict[str | None, list[tuple[str, re.Pattern[str]]]]


class FastReader:
    """Reads one text; `read()` returns its data or raises Unsupported."""

    def __init__(
        self,
        text: str,
        resolvers: _Resolvers,
        construct: Callable[[yaml.ScalarNode], Any],
        max_depth: int,
        budget: int,
        values: Mapping[str, Any] | None,
        shape: Callable[[Any], tuple[int, int]],
    ) -> None:
        self.text = text
        self.resolvers = resolvers
        self.construct = construct
        self.max_depth = max_depth
        self.budget = budget
        self.values = values
        self.shape = shape
        self.used: set[str] = set()
        self.rows: list[tuple[int, str]] = []
        self.at = 0
        # Manifests repeat their keys and many values card after card: each distinct text is read once. What
        # is kept is text, or a number, boolean or null: nothing a caller could change.
        self.keys: dict[str, str] = {}
        self.plain: dict[str, Any] = {}

    def read(self) -> Any:
        """The text's data (None for a text with no content), the vars it used in `self.used`."""
        if _LEFT_TO_PYYAML.search(self.text):
            raise Unsupported
        for line in self.text.split("\n"):
            content = line.lstrip(" ")
            if content and content[0] != "#":
                self.rows.append((len(line) - len(content), content))
        if not self.rows:
            return None
        # Without aliases a row builds at most three values (`- key: value`), vars aside: below the budget, no
        # refusal is possible; above it, PyYAML counts exactly.
        self.budget -= 3 * len(self.rows) + 1
        if self.budget < 0:
            raise Unsupported
        indent, content = self.rows[0]
        data = self._sequence(indent, 1, False) if _is_item(content) else self._mapping(indent, 1, None)
        if self.at < len(self.rows):
            raise Unsupported
        return data

    def _mapping(self, indent: int, depth: int, first: re.Match[str] | None) -> dict[str, Any]:
        """The block mapping whose keys are at column `indent`; `first` is its entry written after `- `."""
        if depth > self.max_depth:
            raise Unsupported
        result: dict[str, Any] = {}
        if first is not None:
            self._entry(first, indent, depth, result)
        rows = self.rows
        while self.at < len(rows):
            row_indent, content = rows[self.at]
            if row_indent < indent:
                break
            entry = _ENTRY.fullmatch(content)
            if row_indent > indent or entry is None:
                raise Unsupported
            self.at += 1
            self._entry(entry, indent, depth, result)
        return result

    def _entry(self, entry: re.Match[str], indent: int, depth: int, result: dict[str, Any]) -> None:
        key = self._key(entry["key"])
        if key in result:
            raise Unsupported
        rest = entry["rest"]
        if rest and rest[0] != "#":
            result[key] = self._value(rest, depth)
        else:
            result[key] = self._nested(indent, depth, indentless=True)

    def _sequence(self, indent: int, depth: int, indentless: bool) -> list[Any]:
        """The block sequence whose dashes are at column `indent` (`indentless`: a mapping value at the key's
        column, which ends at the first row that is not an item)."""
        if depth > self.max_depth:
            raise Unsupported
        items: list[Any] = []
        rows = self.rows
        while self.at < len(rows):
            row_indent, content = rows[self.at]
            if row_indent < indent:
                break
            if row_indent > indent or not _is_item(content):
                if indentless and row_indent == indent:
                    break
                raise Unsupported
            self.at += 1
            rest = content[1:].lstrip(" ")
            if not rest or rest[0] == "#":
                items.append(self._nested(indent, depth, indentless=False))
            elif _is_item(rest):
                raise Unsupported
            elif entry := _ENTRY.fullmatch(rest):
                items.append(self._mapping(indent + len(content) - len(rest), depth + 1, entry))
            else:
                items.append(self._value(rest, depth))
        return items

    def _nested(self, indent: int, depth: int, *, indentless: bool) -> Any:
        """The value written on the rows below a `key:` or a `-` at column `indent`: a block, or null."""
        if self.at < len(self.rows):
            row_indent, content = self.rows[self.at]
            if row_indent > indent:
                if _is_item(content):
                    return self._sequence(row_indent, depth + 1, False)
                return self._mapping(row_indent, depth + 1, None)
            if indentless and row_indent == indent and _is_item(content):
                return self._sequence(row_indent, depth + 1, True)
        return None

    def _key(self, text: str) -> str:
        key = self.keys.get(text)
        if key is None:
            key = self.keys[text] = self._new_key(text)
        return key

    def _new_key(self, text: str) -> str:
        if len(text) > _LONGEST_KEY:
            raise Unsupported
        if text[0] == "'":
            return text[1:-1].replace("''", "'")
        if text[0] == '"':
            return text[1:-1]
        # A plain key must read as text, and not as a YAML 1.2 number: the loader refuses it, PyYAML locates it.
        if self._tag(text) != _STR or YAML12_NUMBER.fullmatch(text):
            raise Unsupported
        return text

    def _value(self, text: str, depth: int) -> Any:
        """A scalar written on one line (`text` starts where it does), or an empty flow collection."""
        first = text[0]
        if first == "'":
            quoted = _SINGLE.fullmatch(text)
            value: Any = quoted[1].replace("''", "'") if quoted else None
        elif first == '"':
            quoted = _DOUBLE.fullmatch(text)
            value = _unescape(quoted[1]) if quoted else None
        elif first == "[":
            return self._flow(text, depth)
        elif first == "{":
            if _EMPTY_MAPPING.fullmatch(text) is None:
                raise Unsupported
            return {}
        else:
            return self._plain(text, depth)
        if quoted is None:
            raise Unsupported
        return self._fill(value, depth)

    def _flow(self, text: str, depth: int) -> list[Any]:
        """A flow sequence of scalars on one line."""
        if depth + 1 > self.max_depth:
            raise Unsupported
        items: list[Any] = []
        at = 1
        if text[1:].lstrip(" ").startswith("]"):
            at = text.index("]") + 1
        else:
            while True:
                item = _FLOW_ITEM.match(text, at)
                if item is None:
                    raise Unsupported
                at = item.end()
                plain, single, double = item["plain"], item["single"], item["double"]
                if plain is not None:
                    items.append(self._plain(plain, depth + 1))
                else:
                    quoted = single.replace("''", "'") if single is not None else _unescape(double)
                    items.append(self._fill(quoted, depth + 1))
                if item["end"] == "]":
                    break
        self.budget -= len(items)
        if self.budget < 0 or not _FLOW_END.fullmatch(text, at):
            raise Unsupported
        return items

    def _plain(self, text: str, depth: int) -> Any:
        if text in self.plain:
            return self.plain[text]
        value = self._new_plain(text, depth)
        if MARKER not in text:
            self.plain[text] = value
        return value

    def _new_plain(self, text: str, depth: int) -> Any:
        first = text[0]
        if first in _INDICATORS or (first == "-" and text[1:2] in ("", " ")):
            raise Unsupported
        comment = text.find(" #")
        if comment >= 0:
            text = text[:comment]
        text = text.rstrip(" ")
        if ": " in text or text[-1] == ":":
            raise Unsupported
        tag = self._tag(text)
        if tag == _STR:
            return self._fill(text, depth)
        if tag not in _ALLOWED:  # `<<` (merge) and `=` (value): the loader refuses their tags
            raise Unsupported
        try:
            return self.construct(yaml.ScalarNode(tag, text))
        except ValueError:  # an integer longer than Python writes: refused where PyYAML's reading locates it
            raise Unsupported from None

    def _tag(self, text: str) -> str:
        """YAML 1.1's tag for a plain scalar, as PyYAML's Resolver.resolve finds it."""
        for tag, pattern in self.resolvers.get(text[0] if text else "", ()):
            if pattern.match(text):
                return tag
        return _STR

    def _fill(self, text: str, depth: int) -> Any:
        """`text` with its vars filled in; a var that cannot be, or whose value is too deep or too large, is
        left to PyYAML's reading, which locates the problem."""
        if self.values is None or MARKER not in text:
            return text
        try:
            filled = substitute(text, self.values, self.used)
        except VariableError:
            raise Unsupported from None
        levels, count = self.shape(filled)
        self.budget -= count - 1
        if depth + levels > self.max_depth or self.budget < 0:
            raise Unsupported
        return filled


def _unescape(text: str) -> str:
    return _ESCAPE.sub(_escaped, text) if "\\" in text else text


def _escaped(escape: re.Match[str]) -> str:
    code = escape[1] or escape[2] or escape[3]
    if code is None:
        if escape[4] not in _ESCAPED:
            raise Unsupported
        return _ESCAPED[escape[4]]
    point = int(code, 16)
    if 0xD800 <= point <= 0xDFFF or point > 0x10FFFF:
        raise Unsupported
    return chr(point)


def _is_item(content: str) -> bool:
    return content[0] == "-" and (len(content) == 1 or content[1] == " ")
