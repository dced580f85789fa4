"""Loading and validating manifests: every error with file, line, column and field, all at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest import load_manifest
from reconciler.manifest.files import FileOutside, named_file
from reconciler.resources.cards.model import desired_card, to_epoch

CARD = """\
cards:
  latte:
    card_type: CASH
    base_info:
      logo_url: https://example.com/logo.png
      brand_name: 山丘咖啡
      code_type: CODE_TYPE_QRCODE
      title: {title}
      color: Color010
      notice: 请出示此券
      description: 不可与其他优惠同享
      date_info: {{type: DATE_TYPE_FIX_TERM, fixed_term: 30, fixed_begin_term: 0}}
      sku: {{quantity: 10}}
    least_cost: 3000
    reduce_cost: 800
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(target: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifest(target)
    return [str(p) for p in caught.value.problems]


def test_example_is_valid() -> None:
    manifest = load_manifest(Path(__file__).parent.parent / "examples" / "coffee-shop")
    assert sorted(manifest.cards) == [
        "breakfast-set",
        "farm-tour",
        "latte-art-class",
        "latte-voucher",
        "member",
        "weekday-discount",
    ]
    assert manifest.appid == "wx0123456789abcdef"


def test_typo_in_field_name_names_file_line_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "cards.yaml", CARD.format(title="拿铁立减").replace("title:", "titel:"))
    found = problems_of(tmp_path)
    assert found == [f"{path}:8:7: cards.latte.base_info.titel: unknown field; did you mean 'title'?"], "one mistake"


def test_title_over_27_bytes_is_reported_with_its_size(tmp_path: Path) -> None:
    path = write(tmp_path, "cards.yaml", CARD.format(title="拿铁满三十减八元再送"))  # 10 汉字 = 30 bytes
    found = problems_of(tmp_path)
    assert found == [
        f"{path}:8:7: cards.latte.base_info.title: is 30 bytes of UTF-8, WeChat allows 27 "
        "(a Chinese character takes 3 bytes)"
    ]


def test_nine_chinese_characters_fit_the_title(tmp_path: Path) -> None:
    write(tmp_path, "cards.yaml", CARD.format(title="拿铁满三十减八元送"))
    assert list(load_manifest(tmp_path).cards) == ["latte"]


def test_every_error_is_reported_at_once_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", CARD.format(title="这是一个超过九个字的标题啊"))
    bad = CARD.format(title="拿铁").replace("latte:", "mocha:").replace("least_cost: 3000", "discount: 3")
    write(tmp_path, "b.yaml", bad)
    found = problems_of(tmp_path)
    assert any("a.yaml:8:7: cards.latte.base_info.title" in p for p in found)
    assert any("b.yaml" in p and "cards.mocha: missing required field 'least_cost'" in p for p in found)
    assert len(found) >= 2


def test_a_key_defined_in_two_files_names_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", CARD.format(title="拿铁"))
    second = write(tmp_path, "b.yaml", CARD.format(title="拿铁"))
    found = problems_of(tmp_path)
    assert found == [f"{second}:2:3: cards.latte: defined twice (first at {first}:2:3)"]


def test_duplicate_key_inside_one_file_is_an_error(tmp_path: Path) -> None:
    text = CARD.format(title="拿铁").replace("      notice:", "      title: 再来\n      notice:")
    path = write(tmp_path, "cards.yaml", text)
    assert any(p.startswith(f"{path}:10:7: cards.latte.base_info.title: defined twice") for p in problems_of(tmp_path))


def test_yaml_syntax_error_has_a_position(tmp_path: Path) -> None:
    path = write(tmp_path, "cards.yaml", "cards:\n  latte: [unclosed\n")
    found = problems_of(tmp_path)
    assert len(found) == 1 and found[0].startswith(f"{path}:") and "YAML error" in found[0]


def test_a_tab_that_indents_is_named_where_yaml_stops(tmp_path: Path) -> None:
    path = write(tmp_path, "cards.yaml", "cards:\n\tlatte: {}\n")
    (found,) = problems_of(tmp_path)
    assert found.startswith(f"{path}:2:1: ") and found.endswith("(a tab: YAML indents with spaces only)")


def test_a_tab_is_found_on_its_line_whatever_breaks_the_lines_before(tmp_path: Path) -> None:
    path = write(tmp_path, "cards.yaml", "# note\r\n# more\rcards:\n\tlatte: {}\n")
    (found,) = problems_of(tmp_path)
    assert found.startswith(f"{path}:4:1: ") and found.endswith("(a tab: YAML indents with spaces only)")


def test_a_tab_inside_a_quoted_value_is_no_yaml_error(tmp_path: Path) -> None:
    write(tmp_path, "cards.yaml", 'cards:\n  latte: "a\tb"\n')
    assert not any("YAML error" in problem for problem in problems_of(tmp_path))


def test_bad_key_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "cards.yaml", CARD.format(title="拿铁").replace("latte:", "Latte.Voucher:"))
    assert any("key 'Latte.Voucher' must match" in p for p in problems_of(tmp_path))


def test_quantity_and_total_quantity_together_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        "c.yaml",
        CARD.format(title="拿铁").replace("{quantity: 10}", "{quantity: 10, total_quantity: 9}"),
    )
    assert any("give quantity or total_quantity, not both" in p for p in problems_of(tmp_path))


def test_iso_dates_without_zone_are_china_time() -> None:
    assert to_epoch("2026-12-31T23:59:59") == to_epoch("2026-12-31T23:59:59+08:00") == 1798732799
    assert to_epoch("1798732799") == 1798732799


def test_colour_hex_and_name_normalise_to_the_name(tmp_path: Path) -> None:
    from reconciler.resources.cards.model import Palette

    palette = Palette({"Color010": "#63b359", "Color102": "#5E6671"})
    write(tmp_path, "c.yaml", CARD.format(title="拿铁").replace("Color010", "'#5e6671'"))
    spec = load_manifest(tmp_path).cards["latte"]
    assert desired_card("latte", spec, palette).fields["base_info.color"] == "Color102"


def test_a_whole_number_written_as_a_float_is_refused_where_wechat_wants_an_integer(tmp_path: Path) -> None:
    """JSON Schema counts 3000.0 as an integer; WeChat answers 47001 to it, after earlier actions were applied."""
    text = CARD.format(title="拿铁").replace("least_cost: 3000", "least_cost: 3000.0")
    path = write(tmp_path, "cards.yaml", text.replace("fixed_term: 30,", "fixed_term: 30.0,"))
    assert problems_of(tmp_path) == [
        f"{path}:12:57: cards.latte.base_info.date_info.fixed_term: 30.0 is not an integer: write 30 "
        "(WeChat refuses 30.0)",
        f"{path}:14:17: cards.latte.least_cost: 3000.0 is not an integer: write 3000 (WeChat refuses 3000.0)",
    ]


@given(segments=st.lists(st.sampled_from(["..", ".", "a", "b", ""]), min_size=1, max_size=6))
def test_a_named_file_is_accepted_exactly_when_it_stays_in_the_manifests_directory(segments: list[str]) -> None:
    named = "/".join(segments)
    directory = Path("/srv/shop")
    inside = Path(os.path.normpath(directory / named)).is_relative_to(directory)
    try:
        assert named_file(named, directory / "m.yaml") == directory / named
        assert inside and not named.startswith("/")
    except FileOutside:
        assert not inside or named.startswith("/")


def test_every_missing_field_of_an_object_is_reported_at_once_each_located(tmp_path: Path) -> None:
    half_written = "cards:\n  latte:\n    card_type: CASH\n    base_info:\n      title: 拿铁\n"
    path = write(tmp_path, "cards.yaml", half_written)
    found = problems_of(tmp_path)
    base_info = ["logo_url", "brand_name", "code_type", "color", "notice", "description", "date_info", "sku"]
    for field in base_info:
        assert f"{path}:4:5: cards.latte.base_info: missing required field {field!r}" in found
    for field in ("least_cost", "reduce_cost"):
        assert f"{path}:2:3: cards.latte: missing required field {field!r}" in found
    assert len(found) == len(base_info) + 2


def test_every_unknown_field_of_an_object_is_reported_at_once(tmp_path: Path) -> None:
    text = CARD.format(title="拿铁").replace("    least_cost:", "    leest_cost: 1\n    colour: 2\n    least_cost:")
    path = write(tmp_path, "cards.yaml", text)
    found = problems_of(tmp_path)
    assert f"{path}:14:5: cards.latte.leest_cost: unknown field; did you mean 'least_cost'?" in found
    assert f"{path}:15:5: cards.latte.colour: unknown field" in found


def test_a_misspelt_type_key_is_one_error_with_the_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "cards.yaml", CARD.format(title="拿铁").replace("card_type:", "card_typo:"))
    assert problems_of(tmp_path) == [f"{path}:3:5: cards.latte.card_typo: unknown field; did you mean 'card_type'?"]
