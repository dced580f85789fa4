"""`wxrec validate`'s summary counts what the manifests declare, every kind alike, from the registry."""

from __future__ import annotations

from pathlib import Path

from tests.support import EXAMPLE, wxrec

AUDIENCES = """\
tags:
  vip: {name: 高级会员}
  new: {name: 新客}
conditional_menus:
  vip-menu:
    matchrule: {tag: vip}
    button:
      - {type: view, name: 会员专区, url: "https://example.com/vip"}
menu:
  button:
    - {type: view, name: 官网, url: "https://example.com/"}
"""


def test_a_manifest_without_cards_is_counted_by_what_it_declares(tmp_path: Path) -> None:
    (tmp_path / "account.yaml").write_text((EXAMPLE / "account.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "audiences.yaml").write_text(AUDIENCES, encoding="utf-8")
    result = wxrec("validate", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Valid: 2 tags, 1 menu, 1 conditional menu in 2 files.\n"


def test_every_kind_of_the_coffee_shop_is_counted(tmp_path: Path) -> None:
    result = wxrec("validate", EXAMPLE)
    assert result.stdout == "Valid: 6 cards, 1 landing page, 4 QR codes, 1 menu, 1 whitelist in 3 files.\n"


def test_an_empty_manifest_says_it_declares_nothing(tmp_path: Path) -> None:
    (tmp_path / "account.yaml").write_text((EXAMPLE / "account.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = wxrec("validate", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Valid: nothing to manage in 1 file.\n"
