"""The WeChat client against scripted answers: retries, token refresh, quota, redaction."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import RetryPolicy, StableToken, StaticToken, WeChatClient
from reconciler.wechat.errors import DailyQuotaExhausted, UncertainOutcome, WeChatError
from reconciler.wechat.limiter import CallLimiter

SECRET_TOKEN = "TOKEN-abcdefghijklmnopqrstuvwxyz-0123456789"
FAST = RetryPolicy(attempts=4, max_seconds=5, base_wait=0.001, max_wait=0.01)

Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers /cgi-bin/stable_token itself and replays `answers` for every other call."""

    def __init__(self, answers: list[dict[str, object] | Exception | int]) -> None:
        self.answers = answers
        self.calls: list[str] = []
        self.token_requests: list[dict[str, object]] = []
        self.tokens = iter([SECRET_TOKEN, SECRET_TOKEN, SECRET_TOKEN + "-2", SECRET_TOKEN + "-3"])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/stable_token":
            self.token_requests.append(json.loads(request.content))
            return httpx.Response(200, json={"access_token": next(self.tokens), "expires_in": 7200})
        self.calls.append(request.url.params.get("access_token", ""))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return httpx.Response(answer, text="gateway error")
        return httpx.Response(200, json=answer)


def client_for(script: Script) -> WeChatClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(script), base_url="https://api.weixin.qq.com")
    return WeChatClient(http, StableToken("wx0123456789abcdef", "secret"), FAST, CallLimiter(first_pause=0.001))


async def test_system_busy_is_retried_until_it_succeeds() -> None:
    script = Script([{"errcode": -1, "errmsg": "system error"}, {"errcode": 0, "errmsg": "ok", "x": 1}])
    assert (await client_for(script).post("/card/get", {"card_id": "p"}))["x"] == 1
    assert len(script.calls) == 2


async def test_daily_quota_stops_at_once_with_a_clear_message() -> None:
    script = Script([{"errcode": 45009, "errmsg": "reach max api daily quota limit"}])
    with pytest.raises(DailyQuotaExhausted, match="daily API quota is spent"):
        await client_for(script).post("/card/get", {"card_id": "p"})
    assert len(script.calls) == 1


async def test_rejected_token_is_refreshed_and_the_call_retried_once() -> None:
    script = Script([{"errcode": 40001, "errmsg": "invalid credential"}, {"errcode": 0, "errmsg": "ok"}])
    await client_for(script).post("/card/get", {"card_id": "p"})
    assert script.calls == [SECRET_TOKEN, SECRET_TOKEN + "-2"]
    # the refresh got the same token back first, so it asked WeChat for a new one explicitly
    assert [r["force_refresh"] for r in script.token_requests] == [False, False, True]


async def test_other_errcodes_are_typed_and_not_retried() -> None:
    script = Script([{"errcode": 45021, "errmsg": "field length too long"}, {"errcode": 0, "errmsg": "ok"}])
    with pytest.raises(WeChatError) as caught:
        await client_for(script).post("/card/update", {"card_id": "p"})
    assert (caught.value.errcode, caught.value.errmsg, caught.value.endpoint) == (
        45021,
        "field length too long",
        "/card/update",
    )
    assert len(script.calls) == 1


async def test_lost_answer_of_a_create_is_uncertain_and_never_retried_blindly() -> None:
    request_error = httpx.ReadTimeout(
        f"timed out reading https://api.weixin.qq.com/card/create?access_token={SECRET_TOKEN}"
    )
    script = Script([request_error])
    with pytest.raises(UncertainOutcome) as caught:
        await client_for(script).post("/card/create", {"card": {}}, idempotent=False)
    assert len(script.calls) == 1
    assert SECRET_TOKEN not in str(caught.value)


async def test_lost_answer_of_a_read_is_retried() -> None:
    script = Script([httpx.ReadTimeout("timeout"), 502, {"errcode": 0, "errmsg": "ok"}])
    await client_for(script).post("/card/get", {"card_id": "p"})
    assert len(script.calls) == 3


async def test_retries_are_bounded() -> None:
    script = Script([{"errcode": 45011, "errmsg": "api minute-quota reach limit"}] * 10)
    with pytest.raises(WeChatError) as caught:
        await client_for(script).post("/card/get", {"card_id": "p"})
    assert caught.value.errcode == 45011 and len(script.calls) == FAST.attempts


@pytest.mark.parametrize(
    ("base", "expected"),
    [("http://proxy/wechat", "http://proxy/wechat/card/get"), ("http://127.0.0.1:9", "http://127.0.0.1:9/card/get")],
)
async def test_urls_are_built_as_httpx_would(base: str, expected: str) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"errcode": 0})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://proxy/wechat") as http:
        client = WeChatClient(http, StaticToken("T0KEN"))
        await client.post("/card/get", {"card_id": "p1"})
        await client.get("/card/getcolors")
    assert seen == [
        "http://proxy/wechat/card/get?access_token=T0KEN",
        "http://proxy/wechat/card/getcolors?access_token=T0KEN",
    ]


async def test_list_ids_reads_every_page_once_the_first_tells_the_total() -> None:
    ids = [f"p{n:04d}" for n in range(123)]
    offsets: list[int] = []

    def batchget(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        offsets.append(body["offset"])
        page = ids[body["offset"] : body["offset"] + body["count"]]
        return httpx.Response(200, json={"errcode": 0, "card_id_list": page, "total_num": len(ids)})

    async with httpx.AsyncClient(transport=httpx.MockTransport(batchget), base_url="http://wechat") as http:
        assert await CardApi(WeChatClient(http, StaticToken("T"))).list_ids() == ids
    assert sorted(offsets) == [0, 50, 100]
