"""Hostile and broken manifests: a located error and exit 1, never a traceback, nothing changed."""

from __future__ import annotations

import copy
import itertools
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import cli
from reconciler.errors import ManifestError
from reconciler.manifest import load_manifest
from reconciler.manifest.loader import MAX_DEPTH, MAX_FILE_BYTES
from tests.support import EXAMPLE, RUN_LEFTOVERS, wxrec

VALID_CARDS: dict[str, Any] = yaml.safe_load((EXAMPLE / "cards.yaml").read_text(encoding="utf-8"))


def bomb(width: int, levels: int) -> str:
    """A billion laughs: `levels` anchors, each a list of `width` aliases of the one before (width**levels)."""
    names = "abcdefghijklmnop"[:levels]
    first = f"a: &a [{', '.join(['lol'] * width)}]"
    return "\n".join([first] + [f"{b}: &{b} [{', '.join([f'*{a}'] * width)}]" for a, b in itertools.pairwise(names)])


BOMB = bomb(9, 8)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'cards: !!python/object/apply:os.system ["echo pwned"]\n', "1:8: cards: YAML tag"),
        (b"cards: &x\n  a: *x\n", "an alias refers to itself"),
        (BOMB.encode(), "an alias bomb?"),
        (bomb(10, 10).encode(), "values (an alias bomb?)"),
        (b"cards:\n  x: \xff\xfe\n", "1:1: file is not UTF-8 text"),
        (b"cards: [unclosed\n", "YAML error"),
        (b"- just\n- a list\n", "a manifest file must be a mapping of sections"),
        (
            b"cards:\n  x:\n    card_type: CASH\n    base_info: [1, 2]\n",
            "cards.x.base_info: [1, 2] is not of type 'object'",
        ),
        (b"cards:\n  x:\n    card: latte\n", "cards.x.card: unknown field"),
        (b"frobnicate: 1\n", "frobnicate: unknown field"),
        # Python converts no decimal integer of more than 4300 digits (sys.get_int_max_str_digits).
        (b"cards:\n  x:\n    sku:\n      quantity: " + b"9" * 5000 + b"\n", "4:17: cards.x.sku.quantity: a number of"),
        (b"cards:\n  x:\n    discount: 0x" + b"f" * 5000 + b"\n", "3:15: cards.x.discount: a number of"),
        (b"cards:\n  ? " + b"1" * 5000 + b"\n  : {}\n", "2:5: cards.<key>: a number of"),
    ],
)
def test_hostile_manifest_gets_a_located_error(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "m.yaml").write_bytes(content)
    result = CliRunner().invoke(cli, ["plan", str(tmp_path), "--api", "emulator"])
    assert result.exit_code == 1
    assert expected in result.output and f"{tmp_path / 'm.yaml'}:" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / ".wxrec").exists()


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_bytes(b"# " + b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ManifestError, match="larger than 8 MiB"):
        load_manifest(tmp_path)


yaml_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40), st.binary(max_size=8)
)
yaml_values = st.recursive(
    yaml_leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


def leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in leaf_paths(item, (*path, key))] or [path]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in leaf_paths(item, (*path, index))] or [path]
    return [path]


def replace_at(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return document


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_wrong_value_anywhere_is_located_or_valid(tmp_path_factory: Any, data: st.DataObject) -> None:
    """Replace one leaf of the valid example with anything: ManifestError with file:line, or a valid manifest."""
    document = copy.deepcopy(VALID_CARDS)
    path = data.draw(st.sampled_from(leaf_paths(document)))
    replace_at(document, path, data.draw(yaml_values))
    directory = tmp_path_factory.mktemp("fuzz")
    (directory / "m.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    try:
        load_manifest(directory)
    except ManifestError as error:
        assert error.problems
        assert all(p.location is not None and p.location.file.endswith("m.yaml") for p in error.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_never_crash_the_loader(tmp_path_factory: Any, content: bytes) -> None:
    directory = tmp_path_factory.mktemp("bytes")
    (directory / "m.yaml").write_bytes(content)
    try:
        load_manifest(directory)
    except ManifestError as error:
        assert error.problems


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_schema_check_agrees_with_jsonschema(data: st.DataObject) -> None:
    """The compiled fast path may only say "valid" where jsonschema finds no error at all; in both, an integer
    is an int (3000.0 is not)."""
    from reconciler.manifest import manifest_validator, schema_valid

    document = copy.deepcopy(VALID_CARDS)
    path = data.draw(st.sampled_from(leaf_paths(document)))
    whole_floats = st.integers(-(10**6), 10**6).map(float)
    replace_at(document, path, data.draw(yaml_leaves.filter(lambda v: not isinstance(v, bytes)) | whole_floats))
    errors = list(manifest_validator().iter_errors(document))
    assert schema_valid(document) == (not errors)
    if schema_valid(replace_at(document, path, 500)):  # an integer field
        assert not schema_valid(replace_at(document, path, 500.0))


# Plain scalars that YAML reads as something other than text: YAML 1.1 (PyYAML) booleans, nulls, integers in
# every base and with underscores, sexagesimals and floats; YAML 1.2 (other tools) adds exponents without a dot.
NON_TEXT_KEYS = st.one_of(
    st.sampled_from(["~", "null", "Null", "NULL", "yes", "No", "ON", "off", "True", "FALSE", "On"]),
    st.integers(-(10**6), 10**6).map(str),
    st.integers(0, 4095).map(lambda n: f"0{n:o}"),
    st.integers(0, 4095).map(hex),
    st.integers(0, 4095).map(bin),
    st.integers(1, 999).map(lambda n: f"{n}_0"),
    st.integers(1, 59).map(lambda n: f"1:{n:02d}"),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(1, 99).map(lambda n: f"{n}e3"),
    st.sampled_from([".inf", "-.Inf", ".NaN", "0o17"]),
)


@settings(max_examples=150, deadline=None)
@given(key=NON_TEXT_KEYS)
def test_a_key_yaml_reads_as_a_number_boolean_or_null_must_be_quoted(key: str) -> None:
    """`010:` was silently renamed `8`: such a key is refused at its line, and quoted it is the text written."""
    card = yaml.safe_dump({"cards": {"KEY": VALID_CARDS["cards"]["latte-voucher"]}}, allow_unicode=True)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "m.yaml"
        path.write_text(card.replace("KEY:", f"{key}:", 1), encoding="utf-8")
        with pytest.raises(ManifestError) as raised:
            load_manifest(path)
        keyed = [p for p in raised.value.problems if "quote it" in p.message]
        assert len(keyed) == 1 and keyed[0].location is not None
        assert (keyed[0].location.file, keyed[0].location.line) == (str(path), 2)
        assert keyed[0].field == f"cards.{key}"
        path.write_text(card.replace("KEY:", f"'{key}':", 1), encoding="utf-8")
        try:
            assert list(load_manifest(path).cards) == [key]
        except ManifestError as error:  # only a key the address rule refuses
            assert all("must match [a-z0-9]" in p.message for p in error.problems)


def nested(levels: int, style: str) -> str:
    """A value nested `levels` deep, as a flow list or as block mappings (indented under a key at column 4)."""
    if style == "flow":
        return " " + "[" * levels + "]" * levels + "\n"
    return "\n" + "".join(" " * (2 * i + 6) + f"k{i}:\n" for i in range(levels))


def git_commit(directory: Path) -> None:
    for args in (["init", "-q"], ["add", "."], ["-c", "user.email=ci@x", "-c", "user.name=ci", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True)


@pytest.mark.parametrize("style", ["flow", "block"])
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 300, 1500])
@pytest.mark.parametrize("where", ["manifest", "env file", "diff base"])
def test_deep_nesting_is_a_located_error_everywhere_a_document_enters(
    tmp_path: Path, where: str, levels: int, style: str
) -> None:
    """300 levels crashed with RecursionError in the manifests, in env/NAME.yaml and on the BASE side of diff."""
    shop = tmp_path / "shop"
    shop.mkdir()
    deep = f"cards:\n  x:\n    card_type:{nested(levels, style)}"
    (shop / "m.yaml").write_text(deep if where != "env file" else "cards: {}\n", encoding="utf-8")
    (shop / "env").mkdir()
    (shop / "env" / "test.yaml").write_text(
        f"vars:\n  x:\n    y:{nested(levels, style)}" if where == "env file" else "vars: {}\n", encoding="utf-8"
    )
    if where == "diff base":
        git_commit(tmp_path)
        (shop / "m.yaml").write_text("cards: {}\n", encoding="utf-8")
        result = wxrec("diff", "HEAD", shop, "--env", "test")
        named = "HEAD:shop/m.yaml:"
    else:
        result = wxrec("validate", shop, "--env", "test")
        named = f"{shop / ('m.yaml' if where == 'manifest' else 'env/test.yaml')}:"
    assert result.exit_code == 1, result.output
    assert named in result.output and "nest" in result.output
    assert "Traceback" not in result.output and "RecursionError" not in result.output


def test_aliases_may_share_a_long_list_among_many_cards(tmp_path: Path) -> None:
    """The value budget grows with the file: 300 cards sharing 100 store ids (30,000 copied values) load."""
    card = yaml.safe_dump(VALID_CARDS["cards"]["latte-voucher"], allow_unicode=True)
    indented = "".join(f"    {line}\n" for line in card.splitlines())
    stores = ", ".join(str(n) for n in range(1, 101))
    cards = [
        f"  c{n}:\n{indented}".replace("    base_info:\n", f"    base_info:\n      location_id_list: {ids}\n", 1)
        for n, ids in enumerate([f"&stores [{stores}]"] + ["*stores"] * 299)
    ]
    (tmp_path / "m.yaml").write_text("cards:\n" + "".join(cards), encoding="utf-8")
    loaded = load_manifest(tmp_path).cards
    assert len(loaded) == 300 and all(len(c["base_info"]["location_id_list"]) == 100 for c in loaded.values())


def test_a_var_cannot_nest_a_value_past_the_limit(tmp_path: Path) -> None:
    """Each file is within the limit, but the var's value puts the manifest's value past it."""
    (tmp_path / "m.yaml").write_text("cards:\n  x:\n    base_info:\n      title: ${var.deep}\n", encoding="utf-8")
    (tmp_path / "env").mkdir()
    levels = MAX_DEPTH - 2  # vars.deep is two levels: its leaves are at exactly MAX_DEPTH
    (tmp_path / "env" / "test.yaml").write_text(f"vars:\n  deep:{nested(levels, 'flow')}", encoding="utf-8")
    result = wxrec("validate", tmp_path, "--env", "test")
    assert result.exit_code == 1
    assert f"{tmp_path / 'm.yaml'}:4:14: cards.x.base_info.title: the var's value nests it" in result.output


def test_a_var_counts_against_the_value_budget_each_time_it_is_filled_in(tmp_path: Path) -> None:
    """A var is an alias by another name: a 20,000-value list filled in 2,000 times is 40 million values from
    80 KB of text. It is refused like an alias bomb, and its shape is measured once, not once per use (that walk
    alone took 10 s here)."""
    uses = "".join(f"  k{n}: ${{var.big}}\n" for n in range(2000))
    (tmp_path / "m.yaml").write_text(f"cards:\n{uses}", encoding="utf-8")
    (tmp_path / "env").mkdir()
    big = ", ".join(["x"] * 20_000)
    (tmp_path / "env" / "test.yaml").write_text(f"vars:\n  big: [{big}]\n", encoding="utf-8")
    started = time.monotonic()
    result = wxrec("validate", tmp_path, "--env", "test")
    assert result.exit_code == 1
    assert f"{tmp_path / 'm.yaml'}:" in result.output and "values (an alias bomb?)" in result.output
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("file", "before", "after", "message"),
    [
        ("cards.yaml", "least_cost: 3000", "least_cost: 3000.0", "least_cost: 3000.0 is not an integer: write 3000"),
        ("cards.yaml", "fixed_term: 30", "fixed_term: 30.0", "date_info.fixed_term: 30.0 is not an integer: write 30"),
        (
            "campaign.yaml",
            "url: https://hillcoffee.example.com/menu",
            "url: hillcoffee.example.com/menu",
            "menu.button.2.url: must be an http:// or https:// URL",
        ),
    ],
)
def test_values_wechat_would_refuse_half_way_are_refused_before_anything_is_applied(
    tmp_path: Path, file: str, before: str, after: str, message: str
) -> None:
    """These passed validate; apply then created some cards before WeChat answered 47001 or 65317."""
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=RUN_LEFTOVERS)
    path = shop / file
    path.write_text(path.read_text(encoding="utf-8").replace(before, after, 1), encoding="utf-8")
    result = wxrec("apply", shop, "--api", "emulator", "--auto-approve")
    assert result.exit_code == 1
    assert f"{path}:" in result.output and message in result.output
    assert not (shop / ".wxrec").exists(), "nothing was created, in WeChat or in state"
