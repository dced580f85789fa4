"""Addresses are taken apart and put together in one place."""

from __future__ import annotations

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
