"""English for counts: "1 code", "2 codes", "0 codes"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and the noun in its number; `plural` where adding an s is wrong ("QR image" → "QR images" is not)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
