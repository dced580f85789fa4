"""Addresses are taken apart and put together in one place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.address import Address, kind_of, referenced

KINDS = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)
KEYS = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)


@given(KINDS, KEYS)
def test_a_keyed_address_reads_back_as_written(kind: str, key: str) -> None:
    address = Address(kind, key)
    assert Address.parse(str(address)) == address == Address.keyed(str(address))
    assert kind_of(str(address)) == kind
    assert referenced(address.attribute("id")) == str(address)


@pytest.mark.parametrize("text", ["menu", "cards.", "cards.A", "cards.-x", "cards.a.b", "../cards.a", "cards .a", ""])
def test_only_kind_dot_key_is_a_keyed_address(text: str) -> None:
    assert Address.keyed(text) is None


def test_a_singleton_is_its_kind_alone() -> None:
    assert str(Address.parse("menu")) == "menu" and Address.parse("menu").key == ""


def test_no_address_is_taken_apart_outside_address_py() -> None:
    """Addresses are parsed by reconciler/address.py alone (the emulator, which knows no addresses, aside)."""
    root = Path(__file__).resolve().parent.parent / "reconciler"
    by_hand = re.compile(
        r'\.split\("\."\)\[0\]|startswith\(f?"(\{[A-Za-z_.]*KIND\}|cards|codes|qrcodes|landing_pages)\."'
    )
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if "emulator" not in path.parts and path.name != "address.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if by_hand.search(line)
    ]
    assert not found
