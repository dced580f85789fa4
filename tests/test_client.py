"""The WeChat client against scripted answers: retries, token refresh, quota, redaction."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler import connection
from reconciler.connection import stable_token
from reconciler.emulator import DEMO_APPID
from reconciler.errors import WxrecError
from reconciler.manifest import Document, Manifest
from reconciler.safety import check_state_binding
from reconciler.state import State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import (
    FORCE_REFRESH_ENV,
    WECHAT_API,
    RetryPolicy,
    StableToken,
    StaticToken,
    WeChatClient,
    public_url,
)
from reconciler.wechat.errors import ConnectionRefused, DailyQuotaExhausted, UncertainOutcome, WeChatError
from reconciler.wechat.limiter import CallLimiter
from tests.support import EXAMPLE, RUN_LEFTOVERS, wxrec

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
    tokens = StableToken("wx0123456789abcdef", "secret", same_token_pause=0.001)
    return WeChatClient(http, tokens, FAST, CallLimiter(first_pause=0.001))


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
    # the renewal got the same token back first, so it asked once more after a pause, never forcing a refresh
    assert [r["force_refresh"] for r in script.token_requests] == [False, False, False]


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


class TokenServer:
    """WeChat's stable_token as the getStableAccessToken document describes it, and calls that answer 40001 for a
    revoked token. `same_token=True`: normal mode keeps handing back the current token even once it is revoked."""

    def __init__(self, same_token: bool = False, first_answer: dict[str, object] | None = None) -> None:
        self.same_token = same_token
        self.first_answer = first_answer
        self.issued = 1
        self.current = "T1"
        self.revoked: set[str] = set()
        self.modes: list[bool] = []  # force_refresh of each stable_token request
        self.sent: list[str] = []  # the token of each API call

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.001)  # let the calls interleave
        if request.url.path == "/cgi-bin/stable_token":
            force = bool(json.loads(request.content).get("force_refresh"))
            self.modes.append(force)
            if self.first_answer is not None:
                return httpx.Response(200, json=self.first_answer)
            if force or (self.current in self.revoked and not self.same_token):
                self.revoked.add(self.current)
                self.issued += 1
                self.current = f"T{self.issued}"
            return httpx.Response(200, json={"access_token": self.current, "expires_in": 7200})
        token = request.url.params["access_token"]
        self.sent.append(token)
        if token in self.revoked:
            return httpx.Response(200, json={"errcode": 40001, "errmsg": "invalid credential"})
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})


def token_client(server: TokenServer, **options: object) -> WeChatClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(server), base_url="https://api.weixin.qq.com")
    tokens = StableToken("wx0123456789abcdef", "secret", same_token_pause=0.001, **options)  # type: ignore[arg-type]
    return WeChatClient(http, tokens, FAST, CallLimiter(first_pause=0.001))


async def test_a_token_rejected_under_parallel_calls_is_renewed_once_in_normal_mode() -> None:
    server = TokenServer()
    client = token_client(server)
    await client.post("/card/get", {"card_id": "p0"})
    server.revoked.add("T1")  # revoked elsewhere while sixteen calls hold it
    await asyncio.gather(*(client.post("/card/get", {"card_id": f"p{n}"}) for n in range(1, 17)))
    assert server.modes == [False, False], "one fetch, then one renewal for all sixteen calls; never forced"
    assert server.sent.count("T1") == 1 + 16 and server.sent.count("T2") == 16, "each call retried once"


async def test_the_same_token_handed_back_is_asked_for_once_more_then_reported_as_revoked_elsewhere() -> None:
    server = TokenServer(same_token=True)
    client = token_client(server)
    await client.post("/card/get", {"card_id": "p0"})
    server.revoked.add("T1")
    results = await asyncio.gather(
        *(client.post("/card/get", {"card_id": f"p{n}"}) for n in range(8)), return_exceptions=True
    )
    assert all(isinstance(r, WxrecError) and "revoked elsewhere" in str(r) for r in results), results
    assert "WXREC_TOKEN_FORCE_REFRESH" in str(results[0])
    assert server.modes == [False, False, False], "one renewal and one more try, shared by every call; never forced"
    assert server.sent.count("T1") == 1 + 8, "no call sends a token it knows is rejected"
    with pytest.raises(WxrecError, match="revoked elsewhere"):
        await client.post("/card/get", {"card_id": "later"})
    assert server.sent.count("T1") == 1 + 8 and len(server.modes) == 3, "a later call is not sent at all"


async def test_a_forced_refresh_is_sent_only_when_the_user_opts_in() -> None:
    server = TokenServer(same_token=True)
    client = token_client(server, force_refresh=True)
    await client.post("/card/get", {"card_id": "p0"})
    server.revoked.add("T1")
    await asyncio.gather(*(client.post("/card/get", {"card_id": f"p{n}"}) for n in range(8)))
    assert server.modes == [False, False, False, True], "normal mode twice, then one forced refresh for all"
    assert server.sent.count("T2") == 8


async def test_a_call_whose_new_token_is_rejected_too_renews_again_but_never_resends_a_rejected_token() -> None:
    server = TokenServer()
    client = token_client(server)
    await client.post("/card/get", {"card_id": "p0"})
    server.revoked.update({"T1", "T2"})
    await client.post("/card/get", {"card_id": "p1"})
    assert server.sent == ["T1", "T1", "T2", "T3"] and server.modes == [False, False, False]


@pytest.mark.parametrize(
    ("errcode", "errmsg", "advice"),
    [
        (40164, "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 6a1b2c3d-0-0", "egress IP"),
        (89503, "this IP call requires administrator confirmation rid: 6a1b2c3d-0-0", "administrator must confirm"),
    ],
)
async def test_a_token_refused_for_the_callers_ip_says_what_to_do(errcode: int, errmsg: str, advice: str) -> None:
    server = TokenServer(first_answer={"errcode": errcode, "errmsg": errmsg})
    with pytest.raises(WxrecError) as caught:
        await token_client(server).post("/card/get", {"card_id": "p"})
    message = str(caught.value)
    assert advice in message and errmsg in message and "IP whitelist" in message, message
    assert server.modes == [False], "not retried: it cannot succeed until someone changes the account"


@pytest.mark.parametrize(("value", "allowed"), [("", False), ("0", False), ("1", True), ("yes", True)])
def test_forced_refreshes_are_allowed_only_by_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, allowed: bool
) -> None:
    monkeypatch.setenv(FORCE_REFRESH_ENV, value)
    assert stable_token("wx0123456789abcdef", "secret").force_refresh is allowed


def test_a_force_refresh_setting_that_is_not_yes_or_no_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FORCE_REFRESH_ENV, "always")
    with pytest.raises(WxrecError, match="WXREC_TOKEN_FORCE_REFRESH='always': give 1"):
        stable_token("wx0123456789abcdef", "secret")


@pytest.mark.usefixtures("emulator_provider")  # the demo account's secret, as for a served emulator
async def test_an_api_urls_credentials_go_as_basic_auth_and_never_into_a_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "T", "expires_in": 7200, "errcode": 0, "colors": []})

    monkeypatch.setattr(connection, "http_transport", lambda url: httpx.MockTransport(answer))
    api = "https://al%40ice:p%3Ass@proxy.example.com/wechat/"
    async with connection.connect(api, Manifest(tmp_path, Document()), DEMO_APPID) as (card_api, endpoint):
        await card_api.client.get("/card/getcolors")
    assert endpoint == "https://***@proxy.example.com/wechat"
    assert [str(r.url).split("?")[0] for r in seen] == [
        "https://proxy.example.com/wechat/cgi-bin/stable_token",
        "https://proxy.example.com/wechat/card/getcolors",
    ]
    basic = "Basic " + base64.b64encode(b"al@ice:p:ss").decode()
    assert all(r.headers["authorization"] == basic for r in seen)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.weixin.qq.com", "https://api.weixin.qq.com"),
        ("http://user@127.0.0.1:8080/x?y=1", "http://***@127.0.0.1:8080/x?y=1"),
        ("http://:secret@host", "http://***@host"),
        ("emulator", "emulator"),
        # Not URLs, but what a user may type: shown in the error that refuses them, never with the password.
        ("alice:s3cr3t@proxy.example.com/wechat", "***@proxy.example.com/wechat"),
        ("http://alice:s3cr3t@[::1", "http://***@[::1"),
        ("http://host/a@b?c=d@e", "http://host/a@b?c=d@e"),
        ("http://host:8080/a@b", "http://host:8080/a@b"),
        ("http://[::1]:8080/a@b", "http://[::1]:8080/a@b"),
        # A password holding / ? or # ends the authority early: what precedes the last @ is still hidden.
        ("http://user:pa/ss@proxy.example.com:8080/wechat", "http://***@proxy.example.com:8080/wechat"),
        ("https://user:s3?cret@proxy.example.com", "https://***@proxy.example.com"),
        ("https://user:s3#cret@proxy.example.com", "https://***@proxy.example.com"),
    ],
)
def test_public_url_hides_any_userinfo(url: str, shown: str) -> None:
    assert public_url(url) == shown


@pytest.mark.parametrize(
    "api",
    ["alice:s3cr3t@proxy.example.com", "http://alice:s3cr3t@[::1", "http://alice:s3cr3t@host:abc", "http://[::1"],
)
def test_an_api_url_that_is_not_one_is_a_one_line_error_without_its_password(api: str, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "m", ignore=RUN_LEFTOVERS)
    result = wxrec("plan", tmp_path / "m", "--api", api, env={"WXREC_APPSECRET": "x"})
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "s3cr3t" not in result.output and result.output.startswith("Error: --api (or WXREC_API) "), result.output


def test_a_state_that_recorded_an_api_urls_credentials_is_compared_and_shown_without_them() -> None:
    state = State(appid=DEMO_APPID, endpoint="http://alice:s3cr3t@127.0.0.1:9")
    assert check_state_binding(state, DEMO_APPID, "http://***@127.0.0.1:9") == []
    [warning] = check_state_binding(state, DEMO_APPID, "http://127.0.0.1:9")
    assert "s3cr3t" not in warning and "alice" not in warning and "http://***@127.0.0.1:9" in warning
    with pytest.raises(WxrecError) as refused:
        check_state_binding(State(appid=DEMO_APPID, endpoint="https://alice:s3cr3t@x"), DEMO_APPID, WECHAT_API)
    assert "s3cr3t" not in str(refused.value)


def test_the_real_api_reached_through_a_proxys_credentials_is_still_the_real_api() -> None:
    """An emulator's state is refused against WeChat even when the --api URL carries user:password@."""
    emulator_state = State(appid=DEMO_APPID, endpoint="emulator")
    with pytest.raises(WxrecError, match="must never be used against the real WeChat API"):
        check_state_binding(emulator_state, DEMO_APPID, public_url("https://alice:s3cr3t@api.weixin.qq.com"))


def refused() -> httpx.ConnectTimeout:
    """What the aiohttp transport raises when nothing listens: a ConnectTimeout caused by the OS's refusal."""
    try:
        raise httpx.ConnectTimeout("Cannot connect to host") from ConnectionRefusedError(111, "Connection refused")
    except httpx.ConnectTimeout as exc:
        return exc


async def test_a_refused_connection_is_reported_at_once_and_a_create_was_certainly_not_made() -> None:
    script = Script([refused(), {"errcode": 0, "errmsg": "ok"}])
    with pytest.raises(ConnectionRefused) as caught:
        await client_for(script).post("/card/create", {"card": {}}, idempotent=False)
    assert len(script.calls) == 1  # never retried
    assert not caught.value.maybe_applied and not isinstance(caught.value, UncertainOutcome)
    assert "connection refused by https://api.weixin.qq.com: check this machine's network" in str(caught.value)
    assert "ConnectTimeout" not in str(caught.value)


async def test_a_real_connect_timeout_is_a_timeout_and_retried() -> None:
    script = Script([httpx.ConnectTimeout("timed out"), {"errcode": 0, "errmsg": "ok", "x": 1}])
    assert (await client_for(script).post("/card/get", {"card_id": "p"}))["x"] == 1
    assert len(script.calls) == 2


async def test_each_logged_call_has_its_duration_and_a_failure_its_retry_and_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = Script([httpx.ReadTimeout(f"timed out ?access_token={SECRET_TOKEN}"), {"errcode": 0, "errmsg": "ok"}])
    with caplog.at_level(logging.DEBUG, logger="wxrec.api"):
        await client_for(script).post("/card/get", {"card_id": "p"})
    lines = [record.getMessage() for record in caplog.records]
    assert re.fullmatch(r"POST /cgi-bin/stable_token errcode 0 in \d+ ms", lines[0]), lines
    assert re.fullmatch(
        r"POST /card/get failed in \d+ ms: network error talking to https://api.weixin.qq.com \(ReadTimeout\)", lines[1]
    ), lines
    assert re.fullmatch(
        r"POST /card/get: retry 1 of 3 in \d+\.\d s after: /card/get: network error talking to "
        r"https://api.weixin.qq.com \(ReadTimeout\)",
        lines[2],
    ), lines
    assert re.fullmatch(r"POST /card/get errcode 0 in \d+ ms", lines[3]), lines
    assert SECRET_TOKEN not in caplog.text


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_nothing_listening_at_the_api_is_said_at_once_with_what_to_do(transport: str, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    directory = tmp_path / "shop"
    shutil.copytree(EXAMPLE, directory, ignore=RUN_LEFTOVERS)
    result = wxrec("plan", directory, "--api", f"http://127.0.0.1:{port}", env={"WXREC_HTTP_TRANSPORT": transport})
    assert result.exit_code == 1
    assert result.output == (
        f"Error: /cgi-bin/stable_token: connection refused by http://127.0.0.1:{port}: nothing is listening there. "
        f"Is the emulator running? `wxrec emulator serve --port {port}` serves one there; or give --api the right "
        "address\n"
    )


async def test_the_client_keeps_no_cookie_a_server_sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over real HTTP, as a run connects: WeChat's API needs no cookie, and reading them cost httpx a fifth of
    its CPU per call; a cookie an answer sets is never sent back."""
    from aiohttp import web

    sent: list[str | None] = []

    async def answer(request: web.Request) -> web.Response:
        sent.append(request.headers.get("Cookie"))
        response = web.json_response({"errcode": 0, "card": {"card_type": "GIFT", "gift": {"base_info": {}}}})
        response.set_cookie("session", "abc", path="/")
        return response

    app = web.Application()
    app.router.add_post("/card/get", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    monkeypatch.setenv("WXREC_ACCESS_TOKEN", SECRET_TOKEN)
    try:
        async with connection.connect(f"http://127.0.0.1:{port}", Manifest(tmp_path, Document()), DEMO_APPID) as (
            card_api,
            _,
        ):
            for _ in range(2):
                assert await card_api.get("p1") is not None
            assert not card_api.client.http.cookies
    finally:
        await runner.cleanup()
    assert sent == [None, None]
