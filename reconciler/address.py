"""Addresses: `cards.spring`, `qrcodes.door`, `menu`. The one place that takes them apart and puts them together.

A plan document, state and the CLI keep addresses as text; code that asks for an address's kind or key parses it
into an `Address`. A reference's text adds an attribute: `cards.spring.id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A kind is a manifest section; a key is the user's name for an entry (a dot would break addresses and `${…}`).
KIND_PATTERN = r"[a-z_]+"
KEY_PATTERN = r"[a-z0-9][a-z0-9_-]*"
KEYED = re.compile(rf"^({KIND_PATTERN})\.({KEY_PATTERN})$")


@dataclass(frozen=True, order=True)
class Address:
    kind: str  # the manifest section: "cards", "menu"
    key: str = ""  # the entry's key in a keyed section; "" for a singleton (menu, whitelist)

    @classmethod
    def parse(cls, text: str) -> Address:
        kind, _, key = text.partition(".")
        return cls(kind, key)

    @classmethod
    def keyed(cls, text: str) -> Address | None:
        """`KIND.KEY` with a key the manifests allow; None for anything else (a singleton, a typo, a path)."""
        match = KEYED.match(text)
        return cls(match[1], match[2]) if match else None

    @classmethod
    def card(cls, key: str) -> Address:
        return cls("cards", key)

    def __str__(self) -> str:
        return f"{self.kind}.{self.key}" if self.key else self.kind

    def attribute(self, name: str) -> str:
        """The text of a reference to one of its attributes: `cards.spring.id`."""
        return f"{self}.{name}"


def kind_of(text: str) -> str:
    """The kind of an address written as text (cheaper than parsing it where only the kind matters)."""
    return text.partition(".")[0]


def referenced(reference: str) -> str:
    """The address a reference's text names: `cards.spring.id` → `cards.spring`."""
    return reference.rpartition(".")[0]
