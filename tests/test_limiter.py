"""The shared call budget: concurrency, calls per second, and a pause for everyone after 45011."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from reconciler.wechat import limiter as limiter_module
from reconciler.wechat.client import RetryPolicy, StableToken, WeChatClient
from reconciler.wechat.limiter import CallLimiter

FAST = RetryPolicy(attempts=3, max_seconds=10, base_wait=0.001, max_wait=0.002)


def client(handler: httpx.AsyncBaseTransport, limiter: CallLimiter) -> WeChatClient:
    http = httpx.AsyncClient(transport=handler, base_url="https://api.weixin.qq.com")
    return WeChatClient(http, StableToken("wx0123456789abcdef", "secret"), FAST, limiter)


class Slow(httpx.AsyncBaseTransport):
    """Answers after a delay, counting how many calls are in flight at once and when each started."""

    def __init__(self, delay: float, first_errcode: int = 0) -> None:
        self.delay = delay
        self.in_flight = 0
        self.most = 0
        self.starts: list[float] = []
        self.first_errcode = first_errcode

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/stable_token":
            return httpx.Response(200, json={"access_token": "t" * 32, "expires_in": 7200})
        self.starts.append(time.monotonic())
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        if self.first_errcode and len(self.starts) == 1:
            return httpx.Response(200, json={"errcode": self.first_errcode, "errmsg": "api minute-quota reach limit"})
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})


async def test_no_more_calls_in_flight_than_the_concurrency() -> None:
    transport = Slow(0.01)
    api = client(transport, CallLimiter(concurrency=4))
    await asyncio.gather(*(api.post("/card/get", {"card_id": str(i)}) for i in range(40)))
    assert transport.most == 4


async def test_calls_per_second_budget_is_kept() -> None:
    transport = Slow(0.0)
    api = client(transport, CallLimiter(concurrency=64, calls_per_second=100))
    started = time.monotonic()
    await asyncio.gather(*(api.post("/card/get", {"card_id": str(i)}) for i in range(150)))
    # a burst of 100 is allowed at once, then 100 a second
    assert time.monotonic() - started >= 0.4


async def test_per_minute_limit_pauses_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limiter_module, "FIRST_PAUSE", 0.3)
    transport = Slow(0.05, first_errcode=45011)
    api = client(transport, CallLimiter(concurrency=1))
    first = asyncio.create_task(api.post("/card/get", {"card_id": "a"}))
    await asyncio.sleep(0.01)
    others = [asyncio.create_task(api.post("/card/get", {"card_id": str(i)})) for i in range(3)]
    await asyncio.gather(first, *others)
    refused_at = transport.starts[0] + 0.05
    assert all(start >= refused_at + 0.25 for start in transport.starts[1:]), "everyone waited, not just the retry"
