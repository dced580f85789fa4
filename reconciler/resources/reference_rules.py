"""The manifests' references checked against the registered kinds: every reference names a declared resource and
an attribute its kind offers, and points back in apply's order (pages and QR codes to cards; the menu to cards,
pages and QR codes) — which also makes a cycle impossible."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import resources
from reconciler.address import Address, kind_of
from reconciler.errors import JsonPath, Locate, Problem
from reconciler.resources.references import references_in, value_at


def declared(data: Mapping[str, Any]) -> dict[str, JsonPath]:
    """Every address the manifests declare, with its path in the document."""
    found: dict[str, JsonPath] = {}
    for kind in resources.kinds():
        section = data.get(kind.name)
        if not kind.keyed and kind.name in data:
            found[kind.name] = (kind.name,)
        elif kind.keyed and isinstance(section, Mapping):
            found.update({str(Address(kind.name, key)): (kind.name, key) for key in section})
    return found


def references(data: Mapping[str, Any]) -> dict[str, set[str]]:
    """Every declared address with the addresses it refers to (`card: KEY` and `${kind.key.attr}`)."""
    return {
        address: {target for _, target, _ in references_in(value_at(data, where), where)}
        for address, where in declared(data).items()
    }


def validate_references(data: Mapping[str, Any], locate: Locate) -> list[Problem]:
    """References to nowhere, to unknown attributes, or against apply's order, each with file:line."""
    addresses = declared(data)
    attributes = {kind.name: kind.attributes for kind in resources.kinds()}
    may_refer_to = {kind.name: kind.may_refer_to for kind in resources.kinds()}
    problems: list[Problem] = []
    for address, where in addresses.items():
        for path, target, attribute in references_in(value_at(data, where), where):
            field = ".".join(map(str, path))
            kind, source = kind_of(target), kind_of(address)
            if target not in addresses:
                problems.append(Problem(locate(path), field, f"refers to {target}, which the manifests do not declare"))
            elif attribute not in attributes.get(kind, ()):
                known = ", ".join(attributes.get(kind, ())) or "none"
                problems.append(
                    Problem(locate(path), field, f"{target} has no attribute {attribute!r} (known: {known})")
                )
            elif kind not in may_refer_to.get(source, ()):
                allowed = ", ".join(may_refer_to.get(source, ())) or "nothing"
                problems.append(
                    Problem(locate(path), field, f"refers to {target}, but {source} may refer only to {allowed}")
                )
    return problems
