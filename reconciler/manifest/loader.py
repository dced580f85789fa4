"""Read manifest YAML files, keeping where every value came from.

Every later error names file, line and column, so loading keeps a map from
each JSON path (a tuple of keys and indexes) to its position in the source.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import JsonPath, Location, ManifestError, Problem
from reconciler.manifest.fast import YAML12_NUMBER, FastReader, Unsupported
from reconciler.manifest.variables import MARKER, VariableError, Variables, substitute, unused
from reconciler.resources import keyed_sections

# Blocks that may sit in any file, like Terraform's: each file's list is appended to the others'.
LIST_SECTIONS = frozenset({"import", "moved"})


MAX_FILE_BYTES = 8 * 2**20
# A file builds at most VALUES_FLOOR values plus VALUES_PER_CHARACTER per character of its text, and never more
# than MAX_VALUES. Written out, a value takes at least a character, so only aliases reach the limit: a 10×10 alias
# bomb of 479 bytes stops after some 11,000 values, while cards sharing a list through an alias load.
VALUES_FLOOR = 10_000
VALUES_PER_CHARACTER = 2
MAX_VALUES = 1_000_000
# A manifest's deepest path is about 8 levels (cards.KEY.advanced_info.time_limit.0.type). 32 keeps every
# recursive walk after loading (schema validation, normalisation, references, deepcopy) far from Python's
# recursion limit.
MAX_DEPTH = 32
TOO_DEEP = f"more than {MAX_DEPTH} levels deep (the limit for any document wxrec reads)"
# The last step of a path whose position is where a mapping entry's value is written (the entry's own is its key's).
VALUE = "<value>"
ALLOWED_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("map", "seq", "str", "int", "float", "bool", "null"))


# libyaml's parser where PyYAML was built with it: several times faster on manifests of thousands of cards.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StringDatesLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe loader that leaves ISO dates as strings: they are normalised later, with UTC+8 as default zone."""


_StringDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Document:
    """The manifests merged into one mapping, with the source position of every path.

    Positions are placed file by file when something first asks for one in that file: finding them takes
    PyYAML's reading of the file, and a manifest that is valid may never need them."""

    data: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    named: dict[JsonPath, Path] = field(default_factory=dict)  # file-naming fields → the files (see files.py)
    # Which file placed the positions under a section, or under a section's entry: the index of its pending
    # placement in `placements`.
    owners: dict[JsonPath, int] = field(default_factory=dict)
    placements: dict[int, Callable[[], None]] = field(default_factory=dict)
    placed: dict[JsonPath, Location] = field(default_factory=dict)

    @property
    def positions(self) -> dict[JsonPath, Location]:
        """The position of every path of every file (placing them all)."""
        for index in list(self.placements):
            self.placements.pop(index)()
        return self.placed

    def position(self, path: JsonPath) -> Location | None:
        """The position of `path` itself, placing the positions of the file it was written in."""
        for prefix in (path[:2], path[:1]):
            index = self.owners.get(prefix)
            if index is not None and index in self.placements:
                self.placements.pop(index)()
        return self.placed.get(path)

    def locate(self, path: JsonPath) -> Location | None:
        """The position of `path` (a mapping's entry: its key), or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.position(path[:end])
            if found:
                return found
        return None

    def locate_value(self, path: JsonPath) -> Location | None:
        """Where the value at `path` is written (a list item's is where the item is): for what is wrong with
        the value itself, such as its type."""
        return self.position((*path, VALUE)) or self.locate(path)


def manifest_files(target: Path) -> list[Path]:
    """The YAML files of a manifest: the file itself, or a directory's *.yaml/*.yml (not recursive)."""
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise ManifestError([Problem(None, "", f"{target}: no such file or directory")])
    files = sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise ManifestError([Problem(None, "", f"{target}: no *.yaml or *.yml files in this directory")])
    return files


def load_document(target: Path, variables: Variables | None = None) -> Document:
    """Parse and merge the manifest files under `target`, filling in `${var.NAME}`; a key defined twice names
    both places."""
    variables = variables or Variables()
    document = Document(files=manifest_files(target))
    problems: list[Problem] = []
    used: set[str] = set()
    for index, path in enumerate(document.files):
        parsed = parse_file(path, problems, variables.values, used)
        if parsed is not None:
            _merge_file(document, index, parsed, problems)
    if problems:
        raise ManifestError(problems)
    document.warnings = unused(variables, used)
    return document


class Parsed:
    """One YAML file as Python data, with the position of every path and of the whole. Read by the fast reader,
    the positions are found by PyYAML's reading of the same text when first asked for."""

    def __init__(self, data: Any, file: str, text: str, located: tuple[dict[JsonPath, Location], Location] | None):
        self.data = data
        self.file = file
        self.text = text
        self.located = located

    @property
    def positions(self) -> dict[JsonPath, Location]:
        return self._located()[0]

    @property
    def start(self) -> Location:
        return self._located()[1]

    def _located(self) -> tuple[dict[JsonPath, Location], Location]:
        if self.located is None:
            # The fast reader read this text, so PyYAML's reading of it refuses nothing and fills no var.
            located = _compose(self.file, self.text, [], None, set())
            assert located is not None
            self.located = located[1:]
        return self.located


def parse_file(
    path: Path, problems: list[Problem], values: Mapping[str, Any] | None = None, used: set[str] | None = None
) -> Parsed | None:
    """Read one YAML file safely; None (and a problem) when it cannot be. With `values`, vars are filled in."""
    start = Location(str(path), 1, 1)
    used = used if used is not None else set()
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(Problem(start, "", f"file is larger than {MAX_FILE_BYTES // 2**20} MiB: refused"))
            return None
        text = path.read_text(encoding="utf-8")
        reader = FastReader(text, _RESOLVERS, _scalar, MAX_DEPTH, _budget(text), values, _shape)
        try:
            data = reader.read()
        except Unsupported:
            composed = _compose(str(path), text, problems, values, used)
            return None if composed is None else Parsed(composed[0], str(path), text, composed[1:])
        used |= reader.used
        return None if data is None else Parsed(data, str(path), text, None)
    except UnicodeDecodeError as exc:
        problems.append(Problem(start, "", f"file is not UTF-8 text (bad byte at offset {exc.start})"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        location = Location(str(path), mark.line + 1, mark.column + 1) if mark else start
        problems.append(Problem(location, "", f"YAML error: {exc.problem}{_tab_hint(text, mark)}"))
    except yaml.YAMLError as exc:
        problems.append(Problem(start, "", f"YAML error: {exc}"))
    except _Refused as exc:
        problems.append(exc.problem)
    return None


# What YAML 1.1 (so PyYAML's marks) counts as a line break.
YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _tab_hint(text: str, mark: yaml.Mark | None) -> str:
    """PyYAML names a tab only as "a character that cannot start any token": say which, and what YAML wants."""
    lines = YAML_LINE_BREAK.split(text)
    if mark is None or mark.line >= len(lines) or lines[mark.line][mark.column : mark.column + 1] != "\t":
        return ""
    return " (a tab: YAML indents with spaces only)"


def _budget(text: str) -> int:
    return min(MAX_VALUES, VALUES_FLOOR + VALUES_PER_CHARACTER * len(text))


def _compose(
    file: str, text: str, problems: list[Problem], values: Mapping[str, Any] | None, used: set[str]
) -> tuple[Any, dict[JsonPath, Location], Location] | None:
    """PyYAML's reading of `text`: its data, the position of every path and of the whole; None for no document."""
    node = yaml.compose(text, Loader=_StringDatesLoader)
    if node is None:
        return None
    positions: dict[JsonPath, Location] = {}
    builder = _Builder(file, positions, problems, values, used, _budget(text))
    return builder.build(node, ()), positions, _mark(node, file)


def _merge_file(document: Document, index: int, parsed: Parsed, problems: list[Problem]) -> None:
    """Merge the data of the file `index` now; its positions when something asks for one (see Document)."""
    if not isinstance(parsed.data, dict):
        problems.append(Problem(parsed.start, "", "a manifest file must be a mapping of sections"))
        return
    placing = _Placing()
    for section, value in parsed.data.items():
        _merge_section(document, index, section, value, parsed, placing, problems)
    document.placements[index] = lambda: placing.place(document.placed, parsed.positions)


@dataclass
class _Placing:
    """Where one file's positions go in the document's."""

    owned: list[str] = field(default_factory=list)  # sections this file was the first to write
    lists: list[tuple[str, int]] = field(default_factory=list)  # list sections, and where its items start
    accepted: set[JsonPath] = field(default_factory=set)  # path prefixes whose positions are this file's

    def place(self, placed: dict[JsonPath, Location], positions: dict[JsonPath, Location]) -> None:
        for section in self.owned:
            placed[(section,)] = positions[(section,)]
        for section, offset in self.lists:
            placed.update(
                {
                    (section, offset + path[1], *path[2:]): location
                    for path, location in positions.items()
                    if len(path) > 1 and path[0] == section and isinstance(path[1], int)
                }
            )
        # One pass over the file's positions: per-key copies would make placing quadratic in the number of cards.
        accepted = self.accepted
        placed.update(
            {path: location for path, location in positions.items() if path[:1] in accepted or path[:2] in accepted}
        )


def _merge_section(
    document: Document,
    index: int,
    section: str,
    value: Any,
    parsed: Parsed,
    placing: _Placing,
    problems: list[Problem],
) -> None:
    """Merge one file's section into the document, noting in `placing` which positions now belong to it."""
    owners = document.owners
    if section in LIST_SECTIONS and isinstance(value, list) and isinstance(document.data.get(section, []), list):
        target = document.data.setdefault(section, [])
        placing.lists.append((section, len(target)))
        owners.update({(section, item): index for item in range(len(target), len(target) + len(value))})
        target.extend(value)
        _own(owners, placing, section, index)
        return
    if section in keyed_sections() and isinstance(value, dict):
        target = document.data.setdefault(section, {})
        if not isinstance(target, dict):
            return
        for key, item in value.items():
            if key in target:
                problems.append(_defined_twice(document, (section, key), parsed))
                continue
            target[key] = item
            placing.accepted.add((section, key))
            owners[(section, key)] = index
        _own(owners, placing, section, index)
        return
    if section in document.data:
        problems.append(_defined_twice(document, (section,), parsed))
        return
    document.data[section] = value
    placing.accepted.add((section,))
    owners[(section,)] = index


def _own(owners: dict[JsonPath, int], placing: _Placing, section: str, index: int) -> None:
    """The first file to write a keyed or list section gives the section's own position."""
    if (section,) not in owners:
        owners[(section,)] = index
        placing.owned.append(section)


def _defined_twice(document: Document, path: JsonPath, parsed: Parsed) -> Problem:
    first = document.position(path)
    return Problem(parsed.positions.get(path), ".".join(map(str, path)), f"defined twice (first at {first})")


def _mark(node: yaml.Node, file: str) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


class _Builder:
    """Builds Python data from YAML nodes, recording positions, refusing duplicate keys, unknown tags,
    cyclic aliases, alias bombs (anchors that expand without end) and nesting past MAX_DEPTH."""

    def __init__(
        self,
        file: str,
        positions: dict[JsonPath, Location],
        problems: list[Problem],
        values: Mapping[str, Any] | None,
        used: set[str],
        budget: int,
    ) -> None:
        self.file = file
        self.positions = positions
        self.problems = problems
        self.values = values
        self.used = used
        self.limit = budget
        self.budget = budget
        self.open: set[int] = set()
        # id of a var's value (kept alive by `values`) → its _shape.
        self.shapes: dict[int, tuple[int, int]] = {}

    def build(self, node: yaml.Node, path: JsonPath, *, is_key: bool = False) -> Any:
        location = _mark(node, self.file)
        field = ".".join(map(str, path))
        refusal = self._refusal(node, path)
        if refusal:
            raise _Refused(Problem(location, field, refusal))
        self.positions[path] = location
        if isinstance(node, yaml.MappingNode):
            return self._enter(node, lambda: self._mapping(node, path))
        if isinstance(node, yaml.SequenceNode):
            return self._enter(node, lambda: [self.build(item, (*path, i)) for i, item in enumerate(node.value)])
        try:
            value = _scalar(node)
        except ValueError:
            limit = sys.get_int_max_str_digits()
            raise _Refused(Problem(location, field, f"a number of more than {limit} digits: quote it")) from None
        if is_key or self.values is None or not isinstance(value, str) or MARKER not in value:
            return value
        try:
            filled = substitute(value, self.values, self.used)
        except VariableError as exc:
            self.problems.append(Problem(location, field, str(exc)))
            return value
        depth, values = self._shape(filled)
        if len(path) + depth > MAX_DEPTH:
            raise _Refused(Problem(location, field, f"the var's value nests it {TOO_DEEP}"))
        # A var filled in is an alias by another name: its values count each time, as an alias's do.
        self.budget -= values - 1
        if self.budget < 0:
            raise _Refused(Problem(location, field, f"expands to more than {self.limit:,} values (an alias bomb?)"))
        return filled

    def _shape(self, value: Any) -> tuple[int, int]:
        """A var's value's depth and number of values, measured once per value however often it is used."""
        if not isinstance(value, dict | list):
            return 0, 1
        shape = self.shapes.get(id(value))
        if shape is None:
            shape = self.shapes[id(value)] = _shape(value)
        return shape

    def _refusal(self, node: yaml.Node, path: JsonPath) -> str | None:
        """Why `node` is not built at all: checked before anything recurses through it, so no later walk
        (schema, normalisation, references, plan) meets a document deeper or larger than these limits."""
        self.budget -= 1
        if self.budget < 0:
            return f"expands to more than {self.limit:,} values (an alias bomb?)"
        if len(path) > MAX_DEPTH:
            return f"nested {TOO_DEEP}"
        if node.tag not in ALLOWED_TAGS:
            return f"YAML tag {node.tag} is not allowed in a manifest"
        if id(node) in self.open:
            return "an alias refers to itself"
        return None

    def _enter(self, node: yaml.Node, build: Callable[[], Any]) -> Any:
        self.open.add(id(node))
        try:
            return build()
        finally:
            self.open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            child = (*path, key)
            if key in result:
                first = self.positions[child]
                self.problems.append(
                    Problem(_mark(key_node, self.file), ".".join(map(str, child)), f"defined twice (first at {first})")
                )
                continue
            result[key] = self.build(value_node, child)
            self.positions[(*child, VALUE)] = self.positions[child]
            self.positions[child] = _mark(key_node, self.file)
        self.positions.pop((*path, "<key>"), None)
        return result

    def _key(self, node: yaml.Node, path: JsonPath) -> str:
        """A key is text as written: `010:` would otherwise become `8` and `yes:` `True`, renaming a card. Keys that
        YAML 1.1 reads as numbers, booleans or null are refused, and so are YAML 1.2's numbers (`1e3`), which
        another tool reading the same file would see."""
        key = self.build(node, (*path, "<key>"), is_key=True)
        plain = isinstance(node, yaml.ScalarNode) and not node.style
        if isinstance(key, str) and not (plain and YAML12_NUMBER.fullmatch(key)):
            return key
        text = str(node.value) if isinstance(node, yaml.ScalarNode) else str(key)
        kind = {bool: "a boolean", type(None): "null", list: "a list", dict: "a mapping"}.get(type(key), "a number")
        advice = f": quote it ('{text}')" if isinstance(node, yaml.ScalarNode) else ""
        field = ".".join(map(str, (*path, text)))
        self.problems.append(Problem(_mark(node, self.file), field, f"YAML reads this key as {kind}, not text{advice}"))
        return text


def _shape(value: Any) -> tuple[int, int]:
    """How many levels `value` adds below its own path (a var's value, itself built under MAX_DEPTH), and how
    many values it holds, itself included."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    if children is None:
        return 0, 1
    depth, values = 0, 1
    for child in children:
        child_depth, child_values = _shape(child)
        depth, values = max(depth, child_depth), values + child_values
    return 1 + depth, values


_CONSTRUCTOR = _StringDatesLoader("")
_RESOLVERS = _StringDatesLoader.yaml_implicit_resolvers


def _scalar(node: yaml.Node) -> Any:
    """The value of a scalar node; ValueError for an integer longer than Python writes in decimal."""
    value = _CONSTRUCTOR.construct_object(node, deep=True)
    _CONSTRUCTOR.constructed_objects.clear()
    # Python reads and writes no decimal integer of more than sys.get_int_max_str_digits() digits: PyYAML's
    # int() refuses one written in decimal, and one written in hex or octal would break every message showing it.
    if isinstance(value, int) and value.bit_length() > _UNCHECKED_BITS:
        str(value)
    return value


_UNCHECKED_BITS = 2000  # 603 decimal digits at most: below any limit Python takes (640 at least)
