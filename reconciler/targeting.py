"""`--target` and `--exclude`: a plan scoped to some addresses, as Terraform's -target and OpenTofu's -exclude.

A target keeps its addresses and everything they refer to (a QR code's card comes along); an exclusion drops its
addresses and everything that refers to them (a card's QR codes stay out with it). Only the planned changes are
scoped: what is read, validated and refused stays whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import WxrecError
from reconciler.i18n import said

# Address → the addresses it refers to.
References = Mapping[str, Iterable[str]]


@dataclass(frozen=True)
class Targeting:
    target: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.target and self.exclude:
            # As OpenTofu: which one wins where they meet would be a rule to remember, for no case that needs it.
            raise WxrecError("--target and --exclude cannot be used together: give one or the other")

    @property
    def active(self) -> bool:
        return bool(self.target or self.exclude)

    def in_scope(self, references: References) -> Callable[[str], bool]:
        """Whether an address's changes belong to the plan."""
        if self.target:
            return closure(self.target, references).__contains__
        dropped = closure(self.exclude, dependants(references))
        return lambda address: address not in dropped

    def warning(self) -> str:
        option, addresses = ("--target", self.target) if self.target else ("--exclude", self.exclude)
        return said(
            "resource targeting is in effect ({option} {addresses}): this plan leaves out the rest of the manifests, "
            "so it may not show every change they ask for. Targeting is not for routine use: it is for exceptional "
            "situations, such as recovering from a mistake or a failed apply",
            option=option,
            addresses=", ".join(sorted(addresses)),
        )

    def to_dict(self) -> dict[str, list[str]]:
        return {"target": sorted(self.target), "exclude": sorted(self.exclude)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Targeting:
        data = data or {}
        return cls(frozenset(data.get("target", ())), frozenset(data.get("exclude", ())))


def closure(start: Iterable[str], edges: References) -> frozenset[str]:
    """`start` and everything reachable from it along `edges`."""
    found, pending = set(start), list(start)
    while pending:
        for neighbour in edges.get(pending.pop(), ()):
            if neighbour not in found:
                found.add(neighbour)
                pending.append(neighbour)
    return frozenset(found)


def dependants(references: References) -> dict[str, set[str]]:
    """The edges reversed: address → the addresses that refer to it."""
    reverse: dict[str, set[str]] = {}
    for address, targets in references.items():
        for target in targets:
            reverse.setdefault(target, set()).add(address)
    return reverse
