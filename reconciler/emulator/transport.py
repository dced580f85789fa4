"""An in-process transport that turns the emulator's connection resets into what a socket gives.

With plain ``httpx.ASGITransport``, an emulated reset or drop reaches the client as the app's
own exception, ``faults.SimulatedConnectionReset``. ``FaultTolerantASGITransport`` raises
``httpx.ReadError`` instead, as a real server closing the connection would: the request was
sent and the answer is lost, so the client cannot know whether the change happened.
"""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

from .faults import SimulatedConnectionReset

RESET_MESSAGE = "connection reset by peer (emulated)"


class FaultTolerantASGITransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` whose emulated resets and drops surface as ``httpx.ReadError``."""

    def __init__(self, app: ASGIApp, **options: object) -> None:
        self._inner = httpx.ASGITransport(app=app, **options)  # type: ignore[arg-type]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except SimulatedConnectionReset as exc:
            raise httpx.ReadError(RESET_MESSAGE, request=request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()
