"""The fast reader against PyYAML's reading (the loader as it was before it): identical values, identical
errors, identical locations, on the project's manifests, hostile input and generated YAML.

The PyYAML reading is the loader with the fast reader turned off: whatever the fast reader declines goes there
anyway, so a difference can only come from text the fast reader accepts."""

from __future__ import annotations

import contextlib
import glob
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.plan_bench import spec
from reconciler.errors import ManifestError
from reconciler.manifest.fast import Unsupported
from reconciler.manifest.loader import MAX_DEPTH, FastReader, load_document, parse_file
from reconciler.manifest.variables import Variables
from tests.test_hostile_input import BOMB, bomb, nested

ROOT = Path(__file__).parent.parent
MANIFESTS = sorted(
    Path(name)
    for pattern in ("examples/**/*.y*ml", "tests/fixtures/**/*.y*ml")
    for name in glob.glob(pattern, root_dir=ROOT, recursive=True)
)
VALUES = {"name": "咖啡", "stock": 5, "tags": ["a", "b"], "deep": {"x": [1, {"y": 2}]}}


@contextlib.contextmanager
def pyyaml_only() -> Iterator[None]:
    def decline(self: FastReader) -> Any:
        raise Unsupported

    with mock.patch.object(FastReader, "read", decline):
        yield


def typed(value: Any) -> Any:
    """`value` compared with its types and order (`True == 1`, `1.0 == 1` and `{a, b} == {b, a}` are not the same
    reading); floats by repr, so that NaN equals itself."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    return (type(value).__name__, repr(value))


def read(path: Path, values: dict[str, Any] | None) -> tuple[Any, ...]:
    problems: list[Any] = []
    used: set[str] = set()
    parsed = parse_file(path, problems, values, used)
    if parsed is None:
        return None, problems, used
    return typed(parsed.data), parsed.positions, parsed.start, problems, used


def both(path: Path, values: dict[str, Any] | None = VALUES) -> bool:
    """Asserts the two readings of `path` are the same; whether the fast reader read it."""
    fast = read(path, values)
    with pyyaml_only():
        assert read(path, values) == fast
    parsed = parse_file(path, [], values, set())
    return parsed is not None and parsed.located is None


def loaded(directory: Path) -> tuple[Any, ...]:
    try:
        document = load_document(directory, Variables(VALUES))
    except ManifestError as error:
        return ("refused", error.problems)
    return typed(document.data), document.positions, document.warnings


def test_the_projects_manifests_read_the_same_and_most_by_the_fast_reader(tmp_path: Path) -> None:
    fast = [path for path in MANIFESTS if both(ROOT / path, None)]
    assert len(fast) >= len(MANIFESTS) - 1, f"the fast reader declined {set(MANIFESTS) - set(fast)}"
    for directory in sorted({ROOT / path.parent for path in MANIFESTS}):
        assert loaded(directory) == with_pyyaml(loaded, directory)


def with_pyyaml(load: Any, *args: Any) -> Any:
    with pyyaml_only():
        return load(*args)


def test_a_benchmark_manifest_reads_the_same(tmp_path: Path) -> None:
    (tmp_path / "cards.yaml").write_text(
        yaml.safe_dump({"cards": {f"card-{n:05d}": spec(n) for n in range(50)}}, allow_unicode=True), encoding="utf-8"
    )
    assert both(tmp_path / "cards.yaml")
    assert loaded(tmp_path) == with_pyyaml(loaded, tmp_path)


def deep(levels: int, item: str, leaf: str) -> str:
    """Mappings (or lists of mappings) nested `levels` deep, around the loader's limit."""
    return (
        "".join(" " * (len(item) + 2) * i + f"{item}k{i}:\n" for i in range(levels))
        + " " * (len(item) + 2) * levels
        + leaf
    )


HOSTILE = [
    b'cards: !!python/object/apply:os.system ["echo pwned"]\n',
    b"cards: &x\n  a: *x\n",
    BOMB.encode(),
    bomb(10, 10).encode(),
    b"cards:\n  x: \xff\xfe\n",
    b"cards: [unclosed\n",
    b"- just\n- a list\n",
    b"\xef\xbb\xbfcards: {}\n",
    b"cards:\n\tx: 1\n",
    b"cards:\r\n  x: 1\r\n",
    b"cards:\n  x: 1\n  x: 2\n",
    b"cards:\n  yes: 1\n  010: 2\n  1e3: 3\n",
    b"cards:\n  x: a: b\n",
    b"cards:\n  x: 1\n   y: 2\n",
    b"cards:\n    x: 1\n  y: 2\n",
    b"a: &a {b: 1}\nc:\n  <<: *a\n",
    b"--- \ncards: {}\n...\n",
    b"cards: {}\n---\ncards: {}\n",
    b"cards:\n  x: ${var.missing}\n",
    b"cards:\n  x: ${var.deep}\n",
    b"cards:\n  x: '${var.name}'\n  y: \"${var.stock}\"\n  z: [${var.tags}]\n",
    nested(40, "block").encode(),
    *(
        deep(levels, item, leaf).encode()
        for levels in (15, 16, 17, MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1)
        for item in ("", "- ")
        for leaf in ("", "x: [1]\n")
    ),
    nested(40, "flow").encode(),
    ("k" * 1100 + ": 1\n").encode(),
    b"",
    b"# only a comment\n",
]


@pytest.mark.parametrize("content", HOSTILE)
def test_hostile_input_reads_the_same(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "m.yaml").write_bytes(content)
    both(tmp_path / "m.yaml")
    assert loaded(tmp_path) == with_pyyaml(loaded, tmp_path)


# Scalars YAML 1.1 reads in surprising ways, and text that is no scalar at all.
SCALARS = [
    *[
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Yes",
        "NO",
        "On",
        "OFF",
        "true",
        "False",
        "TRUE",
        "null",
        "Null",
        "NULL",
        "~",
    ],
    *[
        "010",
        "0x1F",
        "0o17",
        "0b101",
        "1_000",
        "1e3",
        "1.0e3",
        "-1.5",
        "+12",
        ".5",
        "5.",
        ".inf",
        "-.Inf",
        ".NaN",
        "190:20:30",
        "1:20.5",
        "0",
        "-0",
        "00",
    ],
    "2026-01-01",
    "2026-01-01 10:00:00",
    "2026-1-1T10:00:00Z",
    "''",
    "'it''s'",
    "'a: b'",
    "'#'",
    '"a\\"b"',
    '"\\x41\\u4e2d\\U0001F600"',
    '"\\n\\t\\/\\0\\N\\_"',
    '"\\q"',
    '"\\ud800"',
    "'unclosed",
    '"unclosed',
    "a #c",
    "a#b",
    "a: b",
    "a:",
    "a :b",
    "-5",
    "-x",
    "- x",
    "-",
    "--",
    "!!str x",
    "!x y",
    "&anchor 1",
    "*anchor",
    "${var.name}",
    "${var.stock}",
    "${var.missing}",
    "${var.}",
    "x ${var.name} y",
    "$${var.name}",
    "[]",
    "{}",
    "[ ]",
    "[a, 'b', \"c\", 010, yes, -1]",
    "[a, [b]]",
    "[a,]",
    "[a b]",
    "[a]#c",
    "[a] # c",
    "{a: 1}",
    "|",
    ">-",
    "中文 文本",
    "http://x.y/z?a=1#f",
    "@x",
    "`x",
    "%x",
    "?x",
    ":x",
    "a  b",
    "a\tb",
    "<<",
    "=",
    "x   ",
    "é\u00a0",
    "\u2028",
    "\x85",
    "\x7f",
    "\ufeff",
]
KEYS = ["a", "b", "card", "k-1", "yes", "010", "1e3", "'q'", "'y''s'", '"d"', '"\\n"', "<<", "~", "a b", "-k", "?k"]


def lines(draw: st.DrawFn, depth: int) -> list[str]:
    """A block of YAML lines with random content at random indentation: mostly errors and odd shapes."""
    line = st.one_of(
        st.builds("{}: {}".format, st.sampled_from(KEYS), st.sampled_from(SCALARS)),
        st.builds("{}:".format, st.sampled_from(KEYS)),
        st.builds("- {}".format, st.sampled_from(SCALARS)),
        st.builds("- {}: {}".format, st.sampled_from(KEYS), st.sampled_from(SCALARS)),
        st.sampled_from(["-", "- ", "# comment", "", "  ", "---", "...", "%YAML 1.1", "? a", "- - a", "a:  # c"]),
    )
    indent = st.sampled_from(["", "", "  ", "  ", "    ", " ", "   ", "\t", "      "])
    return [draw(indent) + draw(line) for _ in range(draw(st.integers(1, 12)))]


@st.composite
def soup(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["\n", "\n", "\r\n"])).join(lines(draw, 0)) + draw(st.sampled_from(["", "\n"]))


@st.composite
def blocks(draw: st.DrawFn) -> str:
    """Well-formed block YAML (mostly) with every kind of scalar written as is, in the shapes manifests take."""
    tree = draw(
        st.recursive(
            st.sampled_from(SCALARS[:-4]),
            lambda inner: (
                st.lists(inner, min_size=1, max_size=4)
                | st.dictionaries(st.sampled_from([*KEYS[:4], "c", "d", "'a'"]), inner, min_size=1, max_size=4)
            ),
            max_leaves=20,
        )
    )
    step = draw(st.sampled_from([2, 4]))
    indentless = draw(st.booleans())
    return "\n".join(render(tree if isinstance(tree, dict) else {"root": tree}, 0, step, indentless)) + "\n"


def render(value: Any, indent: int, step: int, indentless: bool) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                out.append(f"{pad}{key}: {item}")
            else:
                out.append(f"{pad}{key}:")
                inner = indent if indentless and isinstance(item, list) else indent + step
                out += render(item, inner, step, indentless)
    else:
        for item in value:
            if isinstance(item, str):
                out.append(f"{pad}- {item}")
            else:
                rendered = render(item, indent + 2, step, indentless)
                out += (
                    [f"{pad}- {rendered[0].lstrip(' ')}", *rendered[1:]]
                    if isinstance(item, dict)
                    else [f"{pad}-", *rendered]
                )
    return out


DIFFERENTIAL = settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])


@DIFFERENTIAL
@given(text=soup() | blocks())
def test_generated_yaml_reads_the_same(tmp_path_factory: Any, text: str) -> None:
    directory = tmp_path_factory.mktemp("yaml")
    (directory / "m.yaml").write_bytes(text.encode("utf-8"))
    both(directory / "m.yaml")
    assert loaded(directory) == with_pyyaml(loaded, directory)


@DIFFERENTIAL
@given(text=blocks(), data=st.data())
def test_positions_placed_in_any_order_are_those_placed_at_once(tmp_path_factory: Any, text: str, data: Any) -> None:
    directory = tmp_path_factory.mktemp("yaml")
    (directory / "a.yaml").write_text("cards:\n  first: {}\nmoved:\n- a\n", encoding="utf-8")
    (directory / "b.yaml").write_bytes(text.encode("utf-8"))
    try:
        everything = load_document(directory).positions
    except ManifestError:
        return
    document = load_document(directory)
    for path in data.draw(st.permutations(list(everything))):
        assert document.locate(path) == everything[path]
    assert document.positions == everything
