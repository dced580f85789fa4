"""What a WeChat endpoint is: the method it answers, the handler, and the call a handler gets.

Every route module (cards.py, token_routes.py, menu.py, qrcodes.py, landing.py, whitelist.py,
deposit.py) exports ``ROUTES`` built from these types; api.py assembles them into
``ENDPOINTS`` and dispatches each request. So a route module imports this module, never api.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import errors as e
from .model import JSON
from .service import Emulator


@dataclass
class Call:
    """One request as a handler sees it: method, token and body already checked."""

    emu: Emulator
    query: Mapping[str, str]
    body: JSON
    appid: str


Handler = Callable[[Call], JSON]
# A body that is not a JSON object (media/uploadimg's multipart form): raw bytes and Content-Type → the body.
BodyReader = Callable[[bytes, str], JSON]


@dataclass(frozen=True)
class Endpoint:
    method: str
    handler: Handler
    needs_token: bool = True
    reads: BodyReader | None = None  # None: a JSON object


# One route module's endpoints, by WeChat's path.
Routes = dict[str, Endpoint]


def ok(**fields: Any) -> JSON:
    return {"errcode": e.OK, "errmsg": "ok", **fields}
