"""State's format versions, and the chain that brings a document of an older format to the current one.

parse_state reads every state (both backends) through `upgraded`: a document of format N goes through the
migrations of N, N+1, … in memory, and the backend stores it in the current format at its next write. Nothing
is written on a read: plan never writes state. A document of a newer format is refused whole: this wxrec
would drop or misread what a newer one recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler.errors import NewerFormat
from reconciler.wechat.client import public_url

Document = dict[str, Any]
Migration = Callable[[Document], Document]

# MIGRATIONS[N - 1] turns a document of format N into one of format N + 1 (its "version" is set after the last
# step). A migration sees a document not yet checked against the schema: it changes only values of the shape it
# expects, and the schema check after it names anything else.


def endpoint_without_credentials(document: Document) -> Document:
    """Format 2: the endpoint as wxrec records it now, user:password@ shown as ***@. wxrec recorded an --api URL
    whole until it learnt to hide a proxy's credentials (docs/decisions.md, Tokens); a state written then kept
    the password at rest, in every later write of it and every backup."""
    endpoint = document.get("endpoint")
    if not isinstance(endpoint, str):
        return document
    try:
        return {**document, "endpoint": public_url(endpoint)}
    except ValueError:  # not a URL wxrec could have called (a hand edit): nothing to hide in it
        return document


MIGRATIONS: tuple[Migration, ...] = (endpoint_without_credentials,)
STATE_VERSION = 1 + len(MIGRATIONS)


def upgraded(document: Document, location: str, chain: Sequence[Migration] = MIGRATIONS) -> Document:
    """`document` in the format `chain` leads to; one that is not of an older format is left as it is (the schema
    check says whether it is the current one). Raises NewerFormat for a newer format."""
    current = 1 + len(chain)
    version = document.get("version")
    if type(version) is int and version > current:
        raise NewerFormat(f"state at {location}", version, current)
    if type(version) is not int or not 1 <= version < current:
        return document
    for migration in chain[version - 1 :]:
        document = migration(document)
    return {**document, "version": current}
