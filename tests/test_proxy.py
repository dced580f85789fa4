"""Calls to WeChat and WeChat Pay through the forward proxy HTTPS_PROXY / HTTP_PROXY / ALL_PROXY name, unless
NO_PROXY names the host: end to end through a small proxy in front of a served emulator, with both transports."""

from __future__ import annotations

import asyncio
import base64
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.emulator import EXISTING_CARDS_FILE
from reconciler.errors import WxrecError
from reconciler.manifest import load_manifest
from reconciler.proxy import Proxy, bypassed, environment_proxy
from reconciler.wechat.client import public_url
from tests.support import EXAMPLE, RUN_LEFTOVERS, served_emulator, wxrec

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
PASSWORD = "pr0xy-s3cret"
PAY_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pay-coupons"
TRANSPORTS = pytest.mark.parametrize("transport", ["httpx", "aiohttp"])


class ForwardProxy:
    """A forward proxy on localhost, in a thread of its own: CONNECT tunnels and absolute-form http:// requests,
    each forwarded one counted in `forwarded` ("METHOD /path", "CONNECT host:port"). `password`: it asks for Basic
    credentials (407 without them); `refuse_connect`: it answers CONNECT with that status; `drop`: it closes the
    connection once the far end has answered a request whose path starts so (the answer is lost)."""

    def __init__(self, password: str | None = None, refuse_connect: int | None = None, drop: str | None = None):
        self.forwarded: list[str] = []
        self.credentials = "Basic " + base64.b64encode(f"relay:{password}".encode()).decode() if password else None
        self.refuse_connect = refuse_connect
        self.drop = drop
        self.loop = asyncio.new_event_loop()

    @contextmanager
    def running(self, user_info: str = "") -> Iterator[str]:
        """The proxy's URL (`user_info` inserted: user:password@) while it runs."""
        started = threading.Event()
        server: list[asyncio.Server] = []

        async def start() -> None:
            server.append(await asyncio.start_server(self._serve, "127.0.0.1", 0))
            started.set()

        thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        port = server[0].sockets[0].getsockname()[1]
        try:
            yield f"http://{user_info}127.0.0.1:{port}"
        finally:
            server[0].close()
            self.loop.call_soon_threadsafe(self.loop.stop)
            thread.join(10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while head := await _head(reader):
                method, target, headers = _parse(head)
                if self.credentials and headers.get("proxy-authorization") != self.credentials:
                    writer.write(_answer(407, 'Proxy-Authenticate: Basic realm="test"\r\n'))
                    continue
                if method == "CONNECT":
                    await self._tunnel(target, reader, writer)
                    return
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                url = urlsplit(target)
                path = url.path + (f"?{url.query}" if url.query else "")
                self.forwarded.append(f"{method} {url.path}")
                upstream = upstream or await asyncio.open_connection(url.hostname, url.port)
                kept = [line for line in head.split(b"\r\n")[1:] if line and not line.lower().startswith(b"proxy-")]
                upstream[1].write(f"{method} {path} HTTP/1.1\r\n".encode() + b"\r\n".join(kept) + b"\r\n\r\n" + body)
                answer = await _head(upstream[0])
                if self.drop and url.path.startswith(self.drop):
                    return  # the far end answered (the change was made): only its answer is lost
                length = int(_parse(b"GET / HTTP/1.1\r\n" + answer.partition(b"\r\n")[2])[2]["content-length"])
                writer.write(answer + await upstream[0].readexactly(length))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for closing in (writer, upstream[1] if upstream else None):
                if closing is not None:
                    closing.close()

    async def _tunnel(self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse_connect:
            writer.write(_answer(self.refuse_connect))
            await writer.drain()
            return
        self.forwarded.append(f"CONNECT {target}")
        host, _, port = target.rpartition(":")
        far_reader, far_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(_pipe(reader, far_writer), _pipe(far_reader, writer))


async def _head(reader: asyncio.StreamReader) -> bytes:
    with suppress(asyncio.IncompleteReadError):
        return await reader.readuntil(b"\r\n\r\n")
    return b""


def _parse(head: bytes) -> tuple[str, str, dict[str, str]]:
    first, *lines = head.decode("latin-1").split("\r\n")
    method, target, _ = first.split(" ", 2)
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return method, target, headers


def _answer(status: int, headers: str = "") -> bytes:
    return f"HTTP/1.1 {status} Proxy Says No\r\n{headers}Content-Length: 0\r\n\r\n".encode()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.close()


@pytest.fixture(autouse=True)
def no_proxy_from_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever proxy the machine running the tests names, each test sets its own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def served() -> Iterator[str]:
    with served_emulator("--existing-cards", str(EXAMPLE / EXISTING_CARDS_FILE)) as url:  # the example's coupons
        yield url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- which proxy, if any, a URL goes through: pure ---


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "expected"),
    [
        ("api.weixin.qq.com", None, "weixin.qq.com", True),
        ("api.weixin.qq.com", None, ".qq.com", True),
        ("api.weixin.qq.com", None, "*.qq.com", True),
        ("api.weixin.qq.com", None, "eixin.qq.com", False),  # a name matches on a dot, never mid-label
        ("api.weixin.qq.com", None, "localhost, *", True),
        ("api.weixin.qq.com", 443, "api.weixin.qq.com:443", True),
        ("api.weixin.qq.com", 443, "api.weixin.qq.com:8443", False),
        ("10.1.2.3", 8080, "10.0.0.0/8", True),
        ("10.1.2.3", 8080, "10.1.2.4,192.168.0.0/16", False),
        ("::1", 8080, "[::1]:8080", True),
        ("::1", 8080, "::1", True),
        ("API.Weixin.QQ.com", None, "WEIXIN.qq.com", True),
        ("api.weixin.qq.com", None, ",,", False),
    ],
)
def test_no_proxy_names_hosts_as_curl_reads_it(host: str, port: int | None, no_proxy: str, expected: bool) -> None:
    assert bypassed(host, port, no_proxy) is expected


@given(labels=st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=4), cut=st.integers(0, 3))
def test_no_proxy_naming_a_domain_covers_each_host_under_it_and_no_sibling(labels: list[str], cut: int) -> None:
    host = ".".join(labels)
    domain = ".".join(labels[min(cut, len(labels) - 1) :])
    assert bypassed(host, None, domain) and bypassed(host, 443, f"other.example, .{domain}")
    assert not bypassed(f"x{host}", None, host)


def test_the_scheme_picks_the_variable_lower_case_first_and_all_proxy_stands_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://upper:3128")
    monkeypatch.setenv("https_proxy", "lower:3128")  # a bare host:port is an http:// proxy
    monkeypatch.setenv("ALL_PROXY", "http://all:3128")
    secure, plain = environment_proxy("https://api.weixin.qq.com"), environment_proxy("http://127.0.0.1:8080")
    assert secure and (secure.url, secure.variable) == ("http://lower:3128", "https_proxy")
    assert plain and (plain.url, plain.variable) == ("http://all:3128", "ALL_PROXY")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1, api.weixin.qq.com:443")
    assert environment_proxy("http://127.0.0.1:8080") is None
    assert environment_proxy("https://api.weixin.qq.com") is None, "the scheme's own port, unwritten, is 443"
    assert environment_proxy("https://api.weixin.qq.com:8443") is not None


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (f"socks5://relay:{PASSWORD}@10.0.0.1:1080", "socks5://***@10.0.0.1:1080: wxrec goes through http:// and "),
        (f"http://relay:{PASSWORD}@10.0.0.1:notaport", "http://***@10.0.0.1:notaport: not a proxy URL"),
    ],
)
def test_a_proxy_wxrec_cannot_use_is_refused_without_its_password(
    monkeypatch: pytest.MonkeyPatch, value: str, said: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", value)
    with pytest.raises(WxrecError) as refused:
        environment_proxy("https://api.weixin.qq.com")
    assert f"HTTPS_PROXY={said}" in str(refused.value) and PASSWORD not in str(refused.value)


# --- end to end: `wxrec` against a served emulator behind the proxy ---


@TRANSPORTS
def test_plan_reaches_the_served_emulator_through_the_proxy_unless_no_proxy_names_it(
    served: str, example_dir: Path, transport: str
) -> None:
    proxy = ForwardProxy(password=PASSWORD)
    with proxy.running(f"relay:{PASSWORD}@") as url:
        env = {"WXREC_HTTP_TRANSPORT": transport, "HTTP_PROXY": url}
        planned = wxrec("plan", example_dir, "--api", served, "-v", env=env)
        assert planned.exit_code == 0, planned.output
        assert "POST /cgi-bin/stable_token" in proxy.forwarded and "POST /card/batchget" in proxy.forwarded
        assert f"go through the proxy {url.replace(f'relay:{PASSWORD}', '***')} (HTTP_PROXY)" in planned.output
        assert PASSWORD not in planned.output
        seen = len(proxy.forwarded)
        direct = wxrec("plan", example_dir, "--api", served, env={**env, "NO_PROXY": "localhost,127.0.0.1"})
        assert direct.exit_code == 0, direct.output
        assert len(proxy.forwarded) == seen, "NO_PROXY names the emulator's host: nothing through the proxy"


def test_the_embedded_emulator_never_goes_through_a_proxy(example_dir: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = {name: nowhere for name in PROXY_VARIABLES[:3]}
    planned = wxrec("plan", example_dir, "--api", "emulator", env=env)
    assert planned.exit_code == 0, planned.output


@TRANSPORTS
def test_wechat_pay_calls_go_through_the_proxy_too(tmp_path: Path, transport: str) -> None:
    coupons = tmp_path / "pay-coupons"
    shutil.copytree(PAY_EXAMPLE, coupons, ignore=RUN_LEFTOVERS)
    appid = load_manifest(coupons).appid
    proxy = ForwardProxy()
    with served_emulator("--account", f"{appid}:secret") as served, proxy.running() as url:
        env = {"WXREC_HTTP_TRANSPORT": transport, "HTTP_PROXY": url, "WXREC_APPSECRET": "secret"}
        applied = wxrec("apply", coupons, "--api", served, "--pay-api", served, "--auto-approve", env=env)
        assert applied.exit_code == 0, applied.output
    assert "POST /v3/marketing/busifavor/stocks" in proxy.forwarded


@TRANSPORTS
def test_a_proxy_that_is_not_there_is_named_and_the_run_says_nothing_was_sent(
    served: str, example_dir: Path, transport: str
) -> None:
    dead = f"http://relay:{PASSWORD}@127.0.0.1:{free_port()}"
    env = {"WXREC_HTTP_TRANSPORT": transport, "HTTP_PROXY": dead}
    planned = wxrec("plan", example_dir, "--api", served, "-v", env=env)
    assert planned.exit_code == 1
    shown = dead.replace(f"relay:{PASSWORD}", "***")
    assert f"the proxy {shown} (HTTP_PROXY) refused the connection" in planned.output, planned.output
    assert "Is the emulator running?" not in planned.output and PASSWORD not in planned.output


@TRANSPORTS
@pytest.mark.parametrize(
    ("status", "said"),
    [
        (403, "(HTTP 403)"),
        (407, "(HTTP 407): it wants a user and password, given in HTTPS_PROXY as http://USER:PASSWORD@HOST:PORT"),
    ],
)
def test_a_proxy_refusing_the_tunnel_to_wechat_is_the_proxys_refusal(
    example_dir: Path, transport: str, status: int, said: str
) -> None:
    """An https API goes through CONNECT: a refused CONNECT opened no tunnel, so nothing reached WeChat."""
    proxy = ForwardProxy(refuse_connect=status)
    api = f"https://127.0.0.1:{free_port()}"
    with proxy.running(f"relay:{PASSWORD}@") as url:
        env = {"WXREC_HTTP_TRANSPORT": transport, "HTTPS_PROXY": url, "WXREC_APPSECRET": "s"}
        planned = wxrec("plan", example_dir, "--api", api, env=env)
    assert planned.exit_code == 1
    shown = url.replace(f"relay:{PASSWORD}", "***")
    assert f"the proxy {shown} (HTTPS_PROXY) would not carry the call to {api} {said}" in planned.output
    assert PASSWORD not in planned.output


def test_a_proxy_asking_for_credentials_on_a_plain_http_call_says_so(served: str, example_dir: Path) -> None:
    proxy = ForwardProxy(password=PASSWORD)
    with proxy.running() as url:
        planned = wxrec("plan", example_dir, "--api", served, env={"HTTP_PROXY": url})
    assert planned.exit_code == 1
    assert f"the proxy {url} (HTTP_PROXY) would not carry the call to {served} (HTTP 407): it wants a user" in (
        planned.output
    )
    assert proxy.forwarded == []


@TRANSPORTS
def test_a_create_whose_answer_the_proxy_loses_is_uncertain_and_found_made_rather_than_made_twice(
    served: str, example_dir: Path, transport: str
) -> None:
    """The call left the proxy: not "never sent", so apply looks for the card it may have made, and finds it."""
    proxy = ForwardProxy(drop="/card/create")
    with proxy.running() as url:
        env = {"WXREC_HTTP_TRANSPORT": transport, "HTTP_PROXY": url}
        applied = wxrec("apply", example_dir, "--api", served, "--auto-approve", "-v", env=env)
    assert applied.exit_code == 0, applied.output
    lost = "POST /card/create failed in"
    assert lost in applied.output and f"through the proxy {url} (HTTP_PROXY) (" in applied.output, applied.output
    assert proxy.forwarded.count("POST /card/create") == 3
    live = httpx.get(f"{served}/_emulator/cards").json()["cards"]
    assert len(live) == 6, "the three existing coupons, imported, and the three cards made once each"


@pytest.mark.parametrize("password", ["pr0/xy", "s3?cret", "s3#cret", "a/b?c#d@e"])
def test_a_password_that_breaks_the_url_is_never_shown(monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    """An unencoded / ? # ends a URL's authority early: the proxy is shown without all that precedes its last @."""
    value = f"http://relay:{password}@10.0.0.1:3128"
    assert public_url(value) == "http://***@10.0.0.1:3128"
    monkeypatch.setenv("HTTPS_PROXY", value)
    try:
        said = str(environment_proxy("https://api.weixin.qq.com"))
    except WxrecError as refused:
        said = str(refused)
    assert password not in said


def test_a_busy_proxy_is_tried_again_even_for_a_change_and_a_refusing_one_is_not() -> None:
    """A 5xx answer to CONNECT opened no tunnel: nothing was sent, so another try is safe whatever the call."""
    from reconciler.proxy import _failure
    from reconciler.wechat.client import _network_error, _retryable

    proxy = Proxy("http://10.0.0.1:3128", "HTTPS_PROXY")
    url = httpx.URL("https://api.weixin.qq.com/card/create")
    http = httpx.AsyncClient(base_url="https://api.weixin.qq.com")
    for status, retried in ((503, True), (502, True), (403, False), (407, False)):
        failure = _failure(httpx.ProxyError(f"{status} Refused"), proxy, url)
        error = _network_error("POST", "/card/create", failure, http, 0.0, idempotent=False)
        assert _retryable(error) is retried and error.maybe_applied is False, status
