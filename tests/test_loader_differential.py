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
from reconciler.manifest.loader import (
    _CONSTRUCTOR,
    _RESOLVERS,
    MAX_DEPTH,
    FastReader,
    _scalar,
    _shape,
    load_document,
    parse_file,
)
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


# What users write, picked by hand where a reader that goes line by line could go wrong.
WRITTEN_BY_USERS = [
    # Line breaks that Python's split("\n") does not see: YAML 1.1 ends a line at CR, NEL, U+2028 and U+2029.
    *("a: 1 # c\u2028b: 2\n", "a: x\u2028y\n", "a: x\u2029\n", "a: 1\u2029b: 2\n", "a: x\x85y\n", "a: x\ry\n"),
    # Saved on Windows or by another tool: a BOM, CRLF, tabs after values.
    *("\ufeffcards: {}\r\n", "cards:\r\n  x: 1\r\n", "cards: {}\t\n", "cards:\n  x: 1\t# c\n", "a:\t1\n"),
    # URLs, colours and times: `#` and `: ` inside values.
    "url: https://mp.weixin.qq.com/s?__biz=MzA#wechat_redirect\n",
    *("url: http://x.y/a #frag\n", "color: #509fc9\n", "color: '#509fc9' # hex\n", "a: 时间: 10:00\n"),
    *("a: 时间：10:00\n", "a: b:c\n", "a: b:\n", "a: [http://x.y]\n", "a: x#y #z\n", "a: x , y ]\n"),
    # Chinese and emoji, no-break and ideographic spaces.
    *("拿铁: ☕️ 咖啡 🎉\n", "'☕': 1\n", "a: x\u00a0\n", "a\u00a0: 1\n", "a: \u3000x\u3000\n"),
    # YAML 1.1's surprises, in lists written both ways.
    "v: [~, null, Null, NULL, +1, 0x1F, 0o17, 1_0, .5, -.5, -.inf, .NaN, y, n, Yes, OFF, 2026-11-25]\n",
    "v:\n- 1:30\n- 190:20:30.15\n- 2026-11-25T10:00:00\n- 0b1010\n- 010\n- 09\n- 1.5e+3\n- 1e3\n- 5.\n",
    # Keys: `? `, spaces, quotes, and keys YAML 1.1 reads as something other than text.
    *("? a\n: 1\n", "a b: 1\n", "'a b': 1\n", '"yes": 1\n', "yes: 1\n", "1:30: x\n", "2026-11-25: x\n"),
    *("'': 1\n", '"": 1\n', "a'b: 1\n", "'a': 1\na: 2\n", "<<: 1\n", "~: 1\n", "-1: x\n", "'a' : 1\n"),
    # Empty values.
    "a:\nb: ~\nc: ''\nd: []\ne: {}\nf:   # c\ng: [ ]\n",
    # Lists of mappings at odd indentations.
    "x:\n-   a: 1\n    b: 2\n-  c: 3\n   d:\n   - 4\n   e: 5\n",
    "x:\n    -  a: 1\n       b: [1]\n    -\n       c: 2\n    - - 3\n",
    "- a: 1\n  b:\n  - x\n  c:\n- d\n",
    # Trailing spaces and comments everywhere.
    "a:   \n  # c\n  b: 1   # c  \n    # c\n  c:  'x'  # c\n# c\n  \n",
    # Document markers and directives.
    *("--- \ncards: {}\n...\n", "---\n- a\n", "cards: {}\n...\n# after\n", "%YAML 1.1\n---\na: 1\n"),
    # Indentation that changes width from level to level, or goes wrong.
    *("a:\n b:\n    c:\n     - 1\n d: 2\n", "a:\n  b: 1\n c: 2\n", "a:\n  - x\n - y\n", "a: 1\n  b: 2\n"),
    *("# c\n   cards:\n     x: 1\n   b:\n   - x\n", "  a: 1\nb: 2\n", "  - a\n- b\n", "  - a\n  - b\n"),
    # A block scalar after a flow list; values over several lines.
    *("a: [x, y]\nb: |\n  text\n  more\nc: >-\n  folded\n", "a: x\n  y\n", "a: 'x\n  y'\n", "a: [x,\n  y]\n"),
    # Tabs, written or escaped.
    *('a: "x\\ty"\n', "a: 'x\ty'\n", "a: x\ty\n", 'a: "\\\ty"\n'),
    # Long lines, long keys, long numbers (Python converts no decimal integer of more than 4300 digits).
    *("a: " + "长" * 3000 + "\n", "长" * 990 + ": 1\n", "k" * 1030 + ": 1\n", "a: " + "9" * 5000 + "\n"),
    *("a: [" + "9" * 5000 + "]\n", "a: 0x" + "f" * 5000 + "\n", "? " + "1" * 5000 + "\n: x\n"),
]


@pytest.mark.parametrize("content", WRITTEN_BY_USERS)
def test_what_users_write_reads_the_same(tmp_path: Path, content: str) -> None:
    (tmp_path / "m.yaml").write_bytes(content.encode("utf-8"))
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


# Values the way manifests write them: copied from WeChat's documents and from the web, typed in Chinese, with the
# YAML 1.1 surprises a user meets (`NO` for Norway, `010` for a code, `1:30` for a time, `#fff` for a colour).
WRITTEN = [
    *("~", "null", "Null", "NULL", "nul", "None", "+1", "-1", "0x1F", "0X1F", "0o17", "0b11", "017", "09", "1_000"),
    *("1:30", "10:00:00", "-1:30", "1:60", "1:30.5", ".5", "-.5", "5.", "1.5e+3", "1e3", "1.0e3", "-.inf", ".Inf"),
    *(".NaN", ".nan", "nan", "inf", "2026-11-25", "2026-11-25T10:00:00", "2026-11-25 10:00:00 +8", "2026-11-25T10:00"),
    *("y", "n", "Y", "N", "yes", "Yes", "YES", "no", "No", "on", "ON", "OFF", "off", "True", "FALSE", "tRUE"),
    *("CASH", "Color010", "#509fc9", '"#509fc9"', "'#509fc9'", "400-820-8820", "+86 400 820 8820", "13800138000"),
    *("https://mp.weixin.qq.com/s?__biz=MzA&mid=1#wechat_redirect", "http://x.y/a #frag", "x#y", "a:b", "x ]", "a, b"),
    *("拿铁满30减8元", "限堂食与外带，外卖平台订单不适用。", "时间：10:00", "周一 ~ 周五", "☕️ 咖啡 🎉", "¥10", "100%"),
    *("a  b", "trailing   ", "x - y", "-x", "--", "---", "...", "a...", "x!y", "a&b*c", "x{y}", "50%", "@@x"[1:]),
    *("''", "'it''s'", "'a # b'", "'a: b'", "'  lead'", "'x' #c", '""', '"say \\"hi\\""', '"a\\\\"', '"x" # c'),
    *('"\\x41\\u4e2d\\U0001F600"', '"\\t\\n\\r\\0\\e\\/\\a\\b\\v\\f"', '"\\N\\_\\L\\P\\ "', '"\\u00e9"', "'\\n'"),
    *('"${var.name}"', "${var.name}", "${var.stock}", "${var.tags}", "x ${var.name}", "$${var.name}", "${var.deep}"),
    *("[]", "[ ]", "{}", "{ }", "[a, b]", "[ a,b ]", "[a , 'b', \"c\"]", "[1, 010, yes, ~, .5, -1]", "[a] # c", "[-1]"),
    *("x\u00a0", "\u200bx", "x" * 1100, "y " * 600),
]
# Values that are wrong, or that take YAML the fast reader leaves to PyYAML.
ODD_WRITTEN = [
    *("a: b", "a:", "x:", "x :y", "- x", "?", "? x", "?x", ":x", "@x", "`x", "%x", "!x", "!!str 1", "!!int '1'"),
    *("&a x", "*a", "<<", "=", "]a", "[a", "{a", "a}", "|a", "'x'#c", "'x' y", "'multi", '"x"#c', '"\\x4"', '"\\q"'),
    *('"\\\'"', '"\\ud83d"', "${var.missing}", "[a,]", "[a b]", "[a]#c", "[a] x", "[[a]]", "[{}]", "[a: b]"),
    *("[http://x]", "{a: 1}", "{a: [1, 2]}", "[-]", "|", "|-", ">", ">-", "|+", "|2", "| # c", ">-  # c", "a\tb"),
    *("x\t", "x \t# c", "\u3000x", "x\u2028y", "x\u2029", "x\x85y", "x\x7f", "\ufeffx", "k" * 1030 + ": v"),
]
# Keys the way manifests write them (card names, WeChat's field names, things pasted from elsewhere).
WRITTEN_KEYS = [
    *("cards", "base_info", "sku", "latte-voucher", "card_type", "date_info", "a", "b", "c", "coffee_2026", "x.y"),
    *("拿铁", "☕", "'quoted'", "'it''s'", '"double"', '"a b"', "''", '""', "'010'", '"yes"', "a'b", "a!b", "k?"),
    *("2026-11-25", "v1.2.3", "k" * 990),
]
ODD_KEYS = [
    *("yes", "No", "on", "~", "null", "010", "0x1F", "1e3", "1:30", ".5", "<<", "=", "a b", "k " * 10, "-k", "?k"),
    *(":k", "k:k", "a#b", "a #b", "[k]", "k[0]", "&k", "*k", "!k", "@k", "%k", "${var.name}", "k" * 1030),
    *("'" + "q" * 1030 + "'", '"\\u00e9"', '"a\\"b"', "k\u00a0", "\u3000k", "'a' ", '"a"x'),
]
# Values written over several lines: block scalars, plain and quoted scalars that go on, flow collections.
MULTI_LINE_STARTS = ["|", "|-", ">", ">-", "|+", "plain", '"two', "'two", "[a,", "{a: 1,"]
MULTI_LINE_REST = ["line", "第二行", "", "  more", "x: y", "- z", "# not a comment", 'end"', "end'", "b]", "b: 2}"]


# Characters that mean something to YAML: indicators, spaces and line breaks (YAML 1.1 counts CR, NEL, U+2028 and
# U+2029 as line breaks), the BOM, and characters it does not print.
SIGNIFICANT = st.sampled_from(list("-?:,[]{}#&*!|>'\"%@`\\ ~\t\r\x85\u2028\u2029\ufeff\x00\x7f\xa0\u3000\ufffe"))


class Writer:
    """Writes a manifest as users do: nested mappings and lists of mappings at whatever indentation each level
    takes, values of every kind, comments and blank lines anywhere, trailing spaces. An `odd` manifest also has
    what users should not write but do (wrong YAML, YAML the fast reader leaves to PyYAML: block scalars, `? `
    keys, tabs, stray lines); a plain one has only what the fast reader reads, so that it is tested too."""

    def __init__(self, draw: st.DrawFn, odd: bool) -> None:
        self.draw = draw
        self.odd = odd
        self.lines: list[str] = []

    def pick(self, usual: list[str], odd: list[str] = []) -> str:  # noqa: B006 (never mutated)
        if self.odd and odd and self.draw(st.integers(0, 5)) == 0:
            return self.draw(st.sampled_from(odd))
        return self.draw(st.sampled_from(usual))

    def text(self) -> str:
        """Now and then, any text at all (a value or comment pasted from somewhere), often what YAML reads as
        more than a character."""
        if not self.lucky(4):
            return ""
        return self.draw(
            st.text(SIGNIFICANT | SIGNIFICANT | st.characters(exclude_categories=["Cs"]), min_size=1, max_size=2)
        )

    def lucky(self, one_in: int) -> bool:
        return self.draw(st.integers(1, one_in)) == 1

    def chance(self, one_in: int) -> bool:
        return self.odd and self.lucky(one_in)

    def block(self, indent: int, depth: int, kind: str, *, inline: bool = False) -> None:
        """A block mapping (`kind` "map") or sequence ("seq") whose entries start at column `indent` (`inline`: the
        first is written on the line above, after a dash)."""
        for entry in range(self.draw(st.integers(1, 4 if depth < 3 else 2))):
            if entry or not inline:
                self.noise(indent)
            pad = " " * indent
            if kind == "seq":
                head = f"{pad}-{self.pick([' ', ' ', '  ', '   '], [''])}"
            elif self.chance(30):
                self.lines.append(f"{pad}? {self.pick(WRITTEN_KEYS, ODD_KEYS)}")
                head = f"{pad}: "
            else:
                head = f"{pad}{self.pick(WRITTEN_KEYS, ODD_KEYS)}:{self.pick([' ', ' ', '  '], [''])}"
            self.value(head, indent, depth, kind)
        if self.chance(30):
            self.lines.append(" " * self.draw(st.integers(0, indent + 3)) + self.pick(["x", "- x", "x: 1", "-"]))

    def value(self, head: str, indent: int, depth: int, kind: str) -> None:
        """Completes the line `head` (`key: ` or `- `) with a value: a scalar, a nested block, a mapping that
        starts on the dash's line (`- key: value`), or a value written over several lines."""
        shape = self.pick(["scalar"] * 4 + ["map", "map", "seq", "seq"] + ["inline"] * 3 * (kind == "seq"), ["multi"])
        if depth >= 5 and shape != "multi":
            shape = "scalar"
        if shape == "scalar":
            value = self.pick(WRITTEN, ODD_WRITTEN) + self.text()
            comment = self.pick(["", "", "", "", " # 备注", "  #c", " #", " # a: b", "   # - x"], [" #\t", "\t# c"])
            comment += self.text() if comment else ""
            self.lines.append(f"{head}{value}{comment}{self.pick(['', '', '', ' ', '   '], [chr(9)])}")
        elif shape == "inline":
            start = len(self.lines)
            self.block(len(head), depth + 1, "map", inline=True)
            self.lines[start] = head + self.lines[start].lstrip(" ")
        elif shape == "multi":
            self.lines.append(f"{head}{self.pick(MULTI_LINE_STARTS)}")
            pad = " " * max(0, indent + int(self.pick(["2", "2", "4", "1"], ["0", "-1"])))
            self.lines += [pad + self.pick(MULTI_LINE_REST) for _ in range(self.draw(st.integers(1, 3)))]
        else:
            self.lines.append(head.rstrip(" ") + self.pick(["", "", " # c", "  "], [" &anchor", " !!map"]))
            nested = indent + int(self.pick(["2", "2", "2", "4", "4", "1", "3", "8"]))
            if shape == "seq" and kind == "map" and self.draw(st.booleans()):
                nested = indent  # an indentless list, as PyYAML writes them
            self.block(nested, depth + 1, shape)

    def noise(self, indent: int) -> None:
        """Blank lines and comments at any indentation, now and then."""
        if self.lucky(5):
            comment = self.pick(["# note", "# 注释 with: colon", "#", "#- x", "#  key: value", "#\u00a0"]) + self.text()
            self.lines.append(" " * self.draw(st.integers(0, indent + 2)) + self.pick(["", "  ", comment], ["\t"]))


@st.composite
def manifests(draw: st.DrawFn) -> str:
    """A manifest as users write it (see Writer), the whole maybe with a BOM, document markers, directives or
    Windows line ends."""
    writer = Writer(draw, draw(st.booleans()))
    lines = writer.lines
    if draw(st.booleans()):
        lines.append(writer.pick(["# 山丘咖啡 manifest", "#!wxrec", ""], ["%YAML 1.1", "%TAG ! tag:x,2002:"]))
    lines.append(writer.pick(["", ""], ["---", "--- ", "--- # c", "--- !!map"]))
    writer.block(0, 0, "map")
    if writer.chance(5):
        lines.append(writer.pick(["...", "--- ", "---\nother: 1", "... # end", "- stray", "stray"]))
    end = writer.pick(["\n"], ["\r\n", "\r"])
    text = end.join(lines) + writer.pick([end, end, ""], [end * 2, " "])
    return ("\ufeff" if writer.chance(5) else "") + text


@settings(max_examples=600, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=manifests())
def test_manifests_as_users_write_them_read_the_same(tmp_path_factory: Any, text: str) -> None:
    directory = tmp_path_factory.mktemp("yaml")
    (directory / "m.yaml").write_bytes(text.encode("utf-8"))
    both(directory / "m.yaml")
    assert loaded(directory) == with_pyyaml(loaded, directory)


@given(
    text=st.sampled_from([*WRITTEN, *SCALARS])
    | st.text(st.sampled_from("0123456789_:.+-eExXoObB~nNuUlLyYsStTrRfF"), max_size=9)
)
def test_a_plain_scalar_gets_pyyamls_tag(text: str) -> None:
    """The fast reader resolves a plain scalar the way PyYAML's Resolver.resolve does with the loader's table (its
    wildcard resolvers included, should PyYAML ever add one)."""
    reader = FastReader(text, _RESOLVERS, _scalar, MAX_DEPTH, 0, None, _shape)
    assert reader._tag(text) == _CONSTRUCTOR.resolve(yaml.ScalarNode, text, (True, False))
