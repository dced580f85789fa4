"""The forward proxy the environment names for calls to WeChat and WeChat Pay (docs/decisions.md, "Behind a
proxy"), and the transport that says what fails at that proxy as the proxy's.

WeChat answers token calls only from addresses on the account's IP whitelist (errcode 40164), so teams send them
through a proxy with a fixed egress address. httpx reads no proxy variable once it is given a transport, and the
aiohttp one reads them only with trust_env, which also takes ~/.netrc credentials for WeChat itself: wxrec reads
the variables here, the same way for both transports, and hands the transport the one proxy a run needs."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from dataclasses import dataclass, field

import httpx

from reconciler.errors import WxrecError
from reconciler.wechat.client import _refused, public_url
from reconciler.wechat.errors import ProxyFailure

PROXY_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
PROXY_AUTHENTICATION_REQUIRED = 407
PROXY_AUTHORIZATION = "Proxy-Authorization"
STATUS = re.compile(r"\d{3}\b")  # httpcore's ProxyError says the CONNECT answer's status line, and nothing else


@dataclass(frozen=True)
class Proxy:
    url: str = field(repr=False)  # may hold user:password@: only the transport sees it
    variable: str

    def __str__(self) -> str:
        return f"the proxy {public_url(self.url)} ({self.variable})"

    @property
    def authorization(self) -> str | None:
        """The Proxy-Authorization header its URL's user and password make, if it has them."""
        url = httpx.URL(self.url)
        if not (url.username or url.password):
            return None
        return "Basic " + base64.b64encode(f"{url.username}:{url.password}".encode()).decode("ascii")

    def for_transport(self) -> httpx.Proxy:
        """The proxy as both transports take it: its credentials as a header, since aiohttp deprecates the
        proxy_auth the aiohttp transport would make of them (ProxiedTransport adds it to http:// calls)."""
        url = httpx.URL(self.url).copy_with(username=None, password=None)
        authorization = self.authorization
        return httpx.Proxy(url, headers={PROXY_AUTHORIZATION: authorization} if authorization else None)


def environment_proxy(url: str) -> Proxy | None:
    """The proxy for calls to `url`: HTTPS_PROXY for an https URL, HTTP_PROXY for an http one, else ALL_PROXY,
    each read lower-case first as curl does; none when NO_PROXY names the host."""
    target = httpx.URL(url)
    found = _variable(f"{target.scheme}_proxy") or _variable("all_proxy")
    if found is None:
        return None
    no_proxy = _variable("no_proxy")
    port = target.port or DEFAULT_PORTS.get(target.scheme)  # httpx says None for a scheme's own port
    if no_proxy and bypassed(target.host, port, no_proxy[1]):
        return None
    variable, value = found
    if "://" not in value:
        value = f"http://{value}"  # as curl and httpx take a bare host:port
    said = f"{variable}={public_url(value)}"
    if value.partition("://")[0].lower() not in PROXY_SCHEMES:
        raise WxrecError(f"{said}: wxrec goes through http:// and https:// proxies only")
    try:
        httpx.Proxy(value)
    except (ValueError, httpx.InvalidURL):  # their text may quote the password
        raise WxrecError(f"{said}: not a proxy URL") from None
    return Proxy(value, variable)


def bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether NO_PROXY's comma-separated entries name `host` as curl and Python's requests read them: `*` every
    host; a name itself and its subdomains (a leading `.` or `*.` changes nothing); an IP address or a CIDR
    range the addresses in it; any entry with `:PORT` only at that port."""
    host = host.lower().rstrip(".")
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        name, _, entry_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
        if entry_port and port != int(entry_port):
            continue
        name = name.strip("[]").removeprefix("*").lstrip(".").rstrip(".")
        if entry == "*" or (name and (host == name or host.endswith(f".{name}") or _in_range(host, name))):
            return True
    return False


def _has_port(entry: str) -> bool:
    """`host:443`, `[::1]:443`, not a bare IPv6 address."""
    head, colon, tail = entry.rpartition(":")
    return bool(colon) and tail.isdigit() and (":" not in head or head.endswith("]"))


def _in_range(host: str, entry: str) -> bool:
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:  # a name, not an address and a range
        return False


def _variable(name: str) -> tuple[str, str] | None:
    for variable in (name, name.upper()):
        value = os.environ.get(variable, "").strip()
        if value:
            return variable, value
    return None


class ProxiedTransport(httpx.AsyncBaseTransport):
    """`inner`, whose every connection goes to `proxy`: what fails there becomes a ProxyFailure naming the proxy,
    never_sent when the call provably never left it (wechat.client's _network_error reads it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, proxy: Proxy) -> None:
        self._inner = inner
        self._proxy = proxy
        self._authorization = proxy.authorization

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._authorization and request.url.scheme == "http":
            # A plain call goes to the proxy itself, so it carries the credentials: aiohttp sends the proxy's
            # headers with CONNECT only (httpx's transport merges them, without a second copy).
            request.headers[PROXY_AUTHORIZATION] = self._authorization
        try:
            response = await self._inner.handle_async_request(request)
        except Exception as exc:
            raise _failure(exc, self._proxy, request.url) from exc
        if response.status_code == PROXY_AUTHENTICATION_REQUIRED:  # an http:// call the proxy did not forward
            await response.aclose()
            raise ProxyFailure(_refused_call(self._proxy, request.url, f"HTTP {response.status_code}"), never_sent=True)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _failure(exc: Exception, proxy: Proxy, url: httpx.URL) -> ProxyFailure:
    """Every connection goes to the proxy, so a refused one is the proxy's, never WeChat's; a refused CONNECT
    (httpx.ProxyError, from either transport) opened no tunnel. Anything else may have happened after the call
    left the proxy."""
    if _refused(exc):
        return ProxyFailure(f"{proxy} refused the connection: is it running, and is that its address?", never_sent=True)
    if isinstance(exc, httpx.ProxyError):
        status = _status(exc)
        return ProxyFailure(_refused_call(proxy, url, status), never_sent=True, busy=status.startswith("HTTP 5"))
    target = f"{url.scheme}://{url.netloc.decode()}"
    return ProxyFailure(f"network error talking to {target} through {proxy} ({type(exc).__name__})", never_sent=False)


def _refused_call(proxy: Proxy, url: httpx.URL, status: str) -> str:
    said = f"{proxy} would not carry the call to {url.scheme}://{url.netloc.decode()} ({status})"
    if status == f"HTTP {PROXY_AUTHENTICATION_REQUIRED}":
        return f"{said}: it wants a user and password, given in {proxy.variable} as http://USER:PASSWORD@HOST:PORT"
    return said


def _status(exc: BaseException | None) -> str:
    """The proxy's answer to CONNECT as `HTTP nnn`: aiohttp's error keeps it as `status`, httpcore's in its text,
    which is the answer's status line."""
    while exc is not None:
        status = getattr(exc, "status", None)
        if isinstance(status, int):
            return f"HTTP {status}"
        if matched := STATUS.match(str(exc)):
            return f"HTTP {matched[0]}"
        exc = exc.__cause__ or exc.__context__
    return "no answer"
