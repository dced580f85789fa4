"""A value of the wrong shape (a list or a scalar where a mapping is expected, a mapping where a list is) is
located where the value is written, not at its key or the file's start."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import wxrec


@pytest.mark.parametrize(
    ("text", "located"),
    [
        ("cards: ['a']\n", "1:8: cards: ['a'] is not of type 'object'"),
        ("cards:\n  - a\n", "2:3: cards: ['a'] is not of type 'object'"),
        ("cards: 5\n", "1:8: cards: 5 is not of type 'object'"),
        ("cards:\n  latte:   3\n", "2:12: cards.latte: 3 is not of type 'object'"),
        ("import:\n  to: cards.x\n", "2:3: import: {'to': 'cards.x'} is not of type 'array'"),
        ("import: {to: cards.x}\n", "1:9: import: {'to': 'cards.x'} is not of type 'array'"),
        ("import:\n  - to: [cards.x]\n    id: p1\n", "2:9: import.0.to: ['cards.x'] is not of type 'string'"),
    ],
)
def test_a_value_of_the_wrong_shape_is_located_where_it_is_written(tmp_path: Path, text: str, located: str) -> None:
    (tmp_path / "cards.yaml").write_text(text, encoding="utf-8")
    result = wxrec("validate", tmp_path)
    assert result.exit_code == 1
    assert f"  {tmp_path / 'cards.yaml'}:{located}\n" in result.output, result.output


def test_a_missing_field_is_still_located_at_the_key_of_its_mapping(tmp_path: Path) -> None:
    (tmp_path / "cards.yaml").write_text("import:\n  - id: p1\n", encoding="utf-8")
    result = wxrec("validate", tmp_path)
    assert f"{tmp_path / 'cards.yaml'}:2:5: import.0: missing required field 'to'" in result.output, result.output
