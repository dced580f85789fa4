"""`${var.NAME}`: substitution as a pure function, and its errors as the loader reports them (file:line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import ManifestError, WxrecError
from reconciler.manifest import load_manifest, load_variables
from reconciler.manifest.variables import VariableError, Variables, substitute

# Text full of the characters that make up placeholders, so near-misses (`${var`, `$${`, `{var.x}`) are common.
NOISE = st.text(alphabet=st.sampled_from(list("${}var.x_1 拿")), max_size=30)
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
SCALARS = st.one_of(st.text(max_size=10), st.integers(), st.booleans())


def escape(text: str) -> str:
    """What a user writes to get `text` literally: every `${var.` doubled to `$${var.`."""
    return text.replace("${var.", "$${var.")


def as_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@given(NOISE)
def test_escaped_text_comes_back_literally(text: str) -> None:
    used: set[str] = set()
    assert substitute(escape(text), {}, used) == text
    assert used == set()


@given(st.lists(st.tuples(NOISE, NAMES), min_size=1, max_size=4), NOISE, st.dictionaries(NAMES, SCALARS))
def test_each_var_is_replaced_by_its_value_as_text(
    pieces: list[tuple[str, str]], tail: str, values: dict[str, Any]
) -> None:
    # `$${var.` is the escape, so a literal `$` cannot stand right before a var (documented in the README).
    pieces = [(literal.rstrip("$"), name) for literal, name in pieces]
    values = {**values, **{name: f"<{name}>" for _, name in pieces if name not in values}}
    template = "".join(escape(literal) + f"${{var.{name}}}" for literal, name in pieces) + escape(tail)
    expected = "".join(literal + as_text(values[name]) for literal, name in pieces) + tail
    used: set[str] = set()
    result = substitute(template, values, used)
    if len(pieces) == 1 and not pieces[0][0] and not tail:
        assert result == values[pieces[0][1]]  # a whole-string var keeps its type
    else:
        assert result == expected
    assert used == {name for _, name in pieces}


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("${var.n}", {"n": 500}, 500),
        ("${var.flag}", {"flag": False}, False),
        ("${var.people}", {"people": ["a", "b"]}, ["a", "b"]),
        ("x${var.n}", {"n": 500}, "x500"),
        ("${var.flag}!", {"flag": True}, "true!"),
        ("$${var.n}", {}, "${var.n}"),
        ("$$${var.n}", {"n": 1}, "$${var.n}"),
        ("${cards.latte.id} ${var.n}", {"n": 1}, "${cards.latte.id} 1"),
        ("${var.a}${var.b}", {"a": "x", "b": "${var.a}"}, "x${var.a}"),  # a value is not scanned again
    ],
)
def test_substitution_examples(text: str, values: dict[str, Any], expected: Any) -> None:
    assert substitute(text, values, set()) == expected


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("${var.missing}", {"n": 1}, "undefined var 'missing' (defined: n)"),
        ("${var.1x}", {}, "${var.1x}: a var name is letters"),
        ("see ${var.people}", {"people": ["a"]}, "var 'people' is list: only text, numbers and booleans"),
        ("see ${var.nothing}", {"nothing": None}, "var 'nothing' is null"),
    ],
)
def test_substitution_errors(text: str, values: dict[str, Any], message: str) -> None:
    with pytest.raises(VariableError, match=message.replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")):
        substitute(text, values, set())


CARD = """\
cards:
  latte:
    card_type: CASH
    base_info:
      logo_url: https://mmbiz.qpic.cn/logo.png
      brand_name: 山丘咖啡
      code_type: CODE_TYPE_QRCODE
      title: ${var.title}
      color: Color010
      notice: 出示此券
      description: 每单限用一张
      date_info: {type: DATE_TYPE_FIX_TERM, fixed_begin_term: 0, fixed_term: 30}
      sku:
        total_quantity: ${var.budget}
    least_cost: 3000
    reduce_cost: 800
"""


def write(directory: Path, manifest: str = CARD, env: str | None = None) -> Path:
    (directory / "cards.yaml").write_text(manifest, encoding="utf-8")
    if env is not None:
        (directory / "env").mkdir(exist_ok=True)
        (directory / "env" / "test.yaml").write_text(env, encoding="utf-8")
    return directory


def test_vars_are_filled_in_before_the_schema_sees_them(tmp_path: Path) -> None:
    write(tmp_path, env="vars:\n  title: 测试拿铁\n  budget: 50\n")
    card = load_manifest(tmp_path, load_variables(tmp_path, "test", {})).cards["latte"]
    assert card["base_info"]["title"] == "测试拿铁"
    assert card["base_info"]["sku"]["total_quantity"] == 50


def test_a_substituted_value_is_validated_like_a_literal(tmp_path: Path) -> None:
    write(tmp_path, env='vars:\n  title: 测试拿铁\n  budget: "fifty"\n')
    with pytest.raises(ManifestError) as error:
        load_manifest(tmp_path, load_variables(tmp_path, "test", {}))
    assert f"{tmp_path / 'cards.yaml'}:14:25: cards.latte.base_info.sku.total_quantity: 'fifty' is not of type" in str(
        error.value
    )


def test_every_undefined_var_is_named_with_file_line_and_field(tmp_path: Path) -> None:
    write(tmp_path)
    with pytest.raises(ManifestError) as error:
        load_manifest(tmp_path)
    text = str(error.value)
    assert "2 errors" in text
    assert f"{tmp_path / 'cards.yaml'}:8:14: cards.latte.base_info.title: undefined var 'title'" in text
    assert f"{tmp_path / 'cards.yaml'}:14:25: cards.latte.base_info.sku.total_quantity: undefined var 'budget'" in text


def test_an_override_keeps_the_type_the_env_file_gives(tmp_path: Path) -> None:
    write(tmp_path, env="vars:\n  title: 测试拿铁\n  budget: 50\n")
    variables = load_variables(tmp_path, "test", {"budget": "70", "title": "0571"})
    assert variables.values == {"budget": 70, "title": "0571"}
    assert variables.origins["budget"] == "--var" and variables.origins["title"] == "--var"
    with pytest.raises(WxrecError, match=r"--var budget=many: .*env/test.yaml:3:3 sets budget to 50"):
        load_variables(tmp_path, "test", {"budget": "many"})


def test_unused_vars_are_warnings_naming_where_they_were_set(tmp_path: Path) -> None:
    write(tmp_path, env="vars:\n  title: 测试拿铁\n  budget: 50\n  typo_budget: 5\n")
    manifest = load_manifest(tmp_path, load_variables(tmp_path, "test", {"extra": "x"}))
    assert manifest.document.warnings == [
        "--var: var 'extra' is not used by the manifests",
        f"{tmp_path / 'env' / 'test.yaml'}:4:3: var 'typo_budget' is not used by the manifests",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ("title: x\n", "an env file is a mapping with one key, vars"),
        ("vars: [a]\n", "an env file is a mapping with one key, vars"),
        ("vars:\n  bad-name: 1\n", "vars.bad-name: a var name is letters"),
        ("vars: {a: !!python/object:os.system x}\n", "YAML tag tag:yaml.org,2002:python/object:os.system"),
    ],
)
def test_a_bad_env_file_is_a_located_error(tmp_path: Path, env: str, message: str) -> None:
    write(tmp_path, env=env)
    with pytest.raises(ManifestError, match=message) as error:
        load_variables(tmp_path, "test", {})
    assert str(tmp_path / "env" / "test.yaml") in str(error.value)


def test_keys_are_never_substituted(tmp_path: Path) -> None:
    write(tmp_path, CARD.replace("  latte:", "  ${var.key}:"), env="vars:\n  title: t\n  budget: 5\n  key: latte\n")
    with pytest.raises(ManifestError, match=r"key '\$\{var.key\}' must match"):
        load_manifest(tmp_path, load_variables(tmp_path, "test", {}))


def test_no_env_means_no_vars_and_no_environment() -> None:
    assert Variables() == Variables({}, {}, None)
