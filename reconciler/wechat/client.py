"""The one place wxrec talks to WeChat: tokens, errcodes, retries, redaction."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from reconciler.endpoints import WECHAT_API
from reconciler.errors import WxrecError
from reconciler.wechat.errors import (
    ConnectionRefused,
    NetworkError,
    ProxyFailure,
    TokenRejected,
    TransientError,
    UncertainOutcome,
    error_for,
)
from reconciler.wechat.limiter import CallLimiter

PER_MINUTE_LIMIT = 45011
# A wrong secret or appid at the token endpoint (40125 is what WeChat now answers for a wrong secret).
CREDENTIAL_ERRCODES = frozenset({40001, 40013, 40125, 41002, 41004})
log = logging.getLogger("wxrec.api")
# Refresh a little before WeChat's expiry so a token never dies mid-run.
TOKEN_SAFETY_MARGIN = 300


# WeChat handed back the token it had just rejected: ask once more after this pause, then give up.
SAME_TOKEN_PAUSE = 2.0
# A call whose token is rejected goes on with a renewed one, once per rejected token, at most this many times.
# Each renewal means the token was revoked again meanwhile (normal mode hands back the same token otherwise, and
# WeChat forces a refresh at most once in 30 s), so the bound only stops an endpoint that rejects every token it
# issues. The fault campaign's token rounds, revoking the token of 1 create in 4 with 16 side by side, need 13.
TOKEN_RENEWALS = 20
FORCE_REFRESH_ENV = "WXREC_TOKEN_FORCE_REFRESH"
# What public_url takes for the authority (user:password@host:port) of a string urlsplit cannot read as a URL.
AUTHORITY = re.compile(r"[^/?#]*")
# An authority cut short by a / ? or # in a password: `name:` and no port, then an @ later on (a port is digits).
BROKEN_USERINFO = re.compile(r"[^/?#@:\[]*:(?![0-9]*(?:[/?#]|$))[^@]*@")


class TokenSource(Protocol):
    async def token(self, http: httpx.AsyncClient) -> str:
        """The token to call with."""
        ...

    async def renew(self, http: httpx.AsyncClient, rejected: str) -> str:
        """The token to call with once WeChat rejected `rejected`; never `rejected` itself."""
        ...


@dataclass
class StaticToken:
    """A token handed over by the merchant's own token service (WXREC_ACCESS_TOKEN)."""

    value: str = field(repr=False)

    async def token(self, http: httpx.AsyncClient) -> str:
        return self.value

    async def renew(self, http: httpx.AsyncClient, rejected: str) -> str:
        raise WxrecError(
            "WeChat rejected the access token from WXREC_ACCESS_TOKEN; fetch a fresh one from your token service"
        )


class StableToken:
    """Tokens from /cgi-bin/stable_token, which (unlike /cgi-bin/token) leaves other holders' tokens valid.

    Only normal mode is used unless `force_refresh` is set: getStableAccessToken's forced mode invalidates the
    token the merchant's own servers hold, at most 20 times a day and 30 s apart. A rejected token is renewed
    once, however many calls held it: they wait for that one renewal and go on with its token."""

    def __init__(
        self, appid: str, secret: str, *, force_refresh: bool = False, same_token_pause: float = SAME_TOKEN_PAUSE
    ) -> None:
        self.appid = appid
        self._secret = secret
        self.force_refresh = force_refresh
        self.same_token_pause = same_token_pause
        self._value: str | None = None
        self._expires_at = 0.0
        # A rejected token WeChat keeps handing back: no call is sent with it again.
        self._dead: str | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"StableToken(appid={self.appid!r})"

    async def token(self, http: httpx.AsyncClient) -> str:
        async with self._lock:
            return await self._current(http)

    async def renew(self, http: httpx.AsyncClient, rejected: str) -> str:
        async with self._lock:
            # Keyed by the rejected token, not the cached one: once renewed, the calls that held it go on at once.
            if rejected == self._value and rejected != self._dead:
                await self._replace(http, rejected)
            return await self._current(http)

    async def _current(self, http: httpx.AsyncClient) -> str:
        if self._value is None or time.monotonic() >= self._expires_at:
            await self._fetch(http, force=False)
        assert self._value is not None
        if self._value == self._dead:
            raise WxrecError(self._revoked_message())
        return self._value

    async def _replace(self, http: httpx.AsyncClient, rejected: str) -> None:
        await self._fetch(http, force=False)
        if self._value == rejected:
            await asyncio.sleep(self.same_token_pause)
            await self._fetch(http, force=False)
        if self._value == rejected and self.force_refresh:
            await self._fetch(http, force=True)
        if self._value == rejected:
            self._dead = rejected

    def _revoked_message(self) -> str:
        if self.force_refresh:
            tried = "even a forced refresh handed it back (WeChat forces one refresh in 30 s, 20 a day)"
        else:
            tried = (
                f"run again later, or set {FORCE_REFRESH_ENV}=1 to let wxrec force a new token, which invalidates "
                "the token your own servers hold (20 forced refreshes a day, 30 s apart)"
            )
        return (
            f"WeChat rejects the access token of {self.appid} and hands back the same one when asked for a new one: "
            f"it was revoked elsewhere (another holder of the AppSecret, or a reset AppSecret); {tried}"
        )

    async def _fetch(self, http: httpx.AsyncClient, *, force: bool) -> None:
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self._secret,
            "force_refresh": force,
        }
        started = time.monotonic()
        try:
            response = await http.post("/cgi-bin/stable_token", json=body)
        except Exception as exc:  # any transport error, reported without its text
            raise _network_error("POST", "/cgi-bin/stable_token", exc, http, started, idempotent=True) from None
        answer = _decode("/cgi-bin/stable_token", response)
        errcode = int(answer.get("errcode", 0) or 0)
        log.debug("POST /cgi-bin/stable_token errcode %s in %s", errcode, _since(started))
        if errcode in CREDENTIAL_ERRCODES:
            raise WxrecError(
                f"WeChat refused the credentials of {self.appid} (errcode {errcode}: {answer.get('errmsg', '')}): "
                "check the appid and WXREC_APPSECRET"
            )
        if errcode != 0:
            raise error_for("/cgi-bin/stable_token", errcode, str(answer.get("errmsg", "")))
        self._value = str(answer["access_token"])
        lifetime = int(answer.get("expires_in", 7200))
        self._expires_at = time.monotonic() + max(lifetime - TOKEN_SAFETY_MARGIN, lifetime // 2)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of transient failures: bounded in count and in time."""

    attempts: int = 6
    max_seconds: float = 120.0
    base_wait: float = 0.5
    max_wait: float = 30.0


@dataclass(frozen=True)
class Upload:
    """A file sent as a multipart form (media/uploadimg) instead of a JSON body."""

    field: str
    filename: str
    content: bytes


class WeChatClient:
    """Async JSON calls to WeChat with token handling and retries; errcodes become typed exceptions."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenSource,
        retry: RetryPolicy | None = None,
        limiter: CallLimiter | None = None,
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or CallLimiter()
        self.calls = 0
        self._urls: dict[str, httpx.URL] = {}
        self._urls_token = ""

    async def get(self, path: str) -> dict[str, Any]:
        return await self._call("GET", path, None, idempotent=True)

    async def post(self, path: str, body: dict[str, Any], *, idempotent: bool = True) -> dict[str, Any]:
        """POST `body`; `idempotent=False` for calls that must never be repeated blindly (create, modifystock)."""
        return await self._call("POST", path, body, idempotent=idempotent)

    async def upload(self, path: str, upload: Upload) -> dict[str, Any]:
        """POST a file as a multipart form. Repeating it stores the file again, which changes nothing that is
        in use: it is retried like a read."""
        return await self._call("POST", path, upload, idempotent=True)

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | Upload | None, *, idempotent: bool
    ) -> dict[str, Any]:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            wait=wait_random_exponential(multiplier=self.retry.base_wait, max=self.retry.max_wait),
            stop=stop_after_attempt(self.retry.attempts) | stop_after_delay(self.retry.max_seconds),
            before_sleep=_log_retry(method, path, self.retry.attempts),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call_with_token(method, path, body, idempotent=idempotent)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _call_with_token(
        self, method: str, path: str, body: dict[str, Any] | Upload | None, *, idempotent: bool
    ) -> dict[str, Any]:
        token = await self.tokens.token(self.http)
        for _ in range(TOKEN_RENEWALS):
            try:
                return await self._send(method, path, body, token, idempotent=idempotent)
            except TokenRejected:
                # A rejected call changed nothing: it goes on with the renewed token.
                token = await self.tokens.renew(self.http, token)
        return await self._send(method, path, body, token, idempotent=idempotent)

    def _url(self, path: str, token: str) -> httpx.URL:
        """Each path's URL with the token, parsed once per token: httpx spends about 0.05 ms parsing a URL,
        a second of CPU over a million deposited codes."""
        if token != self._urls_token:
            self._urls, self._urls_token = {}, token
        url = self._urls.get(path)
        if url is None:
            # As httpx merges them: a base URL's path (a proxy's prefix) is kept.
            full = f"{str(self.http.base_url).rstrip('/')}/{path.lstrip('/')}"
            url = self._urls[path] = httpx.URL(full, params={"access_token": token})
        return url

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | Upload | None, token: str, *, idempotent: bool
    ) -> dict[str, Any]:
        self.calls += 1
        started = time.monotonic()
        try:
            async with self.limiter.slot():
                if isinstance(body, Upload):
                    files = {body.field: (body.filename, body.content)}
                    response = await self.http.request(method, self._url(path, token), files=files)
                else:
                    response = await self.http.request(method, self._url(path, token), json=body)
        except Exception as exc:  # any transport's error; its text may hold the URL and token
            raise _network_error(method, path, exc, self.http, started, idempotent=idempotent) from None
        if response.status_code >= 500:
            raise _lost_answer(path, f"HTTP {response.status_code} from WeChat", idempotent)
        answer = _decode(path, response)
        errcode = int(answer.get("errcode", 0) or 0)
        # The path only, never the URL: the query string carries the token.
        log.debug("%s %s errcode %s in %s", method, path, errcode, _since(started))
        if errcode == PER_MINUTE_LIMIT:
            self.limiter.limited()
        elif errcode == 0:
            self.limiter.succeeded()
        if errcode != 0:
            raise error_for(path, errcode, str(answer.get("errmsg", "")))
        return answer


def _since(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"


def _network_error(
    method: str, path: str, exc: Exception, http: httpx.AsyncClient, started: float, *, idempotent: bool
) -> NetworkError:
    """A transport error as wxrec reports it, logged with how long the call took. A refused connection proves
    the request was never sent, as does a proxy's refusal to carry it; no other error does (the aiohttp transport
    reports a dropped connection as ConnectTimeout), so a call that changes something is otherwise uncertain."""
    if isinstance(exc, ProxyFailure):
        never_sent, reason = exc.never_sent, exc.reason
    else:
        never_sent = _refused(exc)
        reason = _refusal(http) if never_sent else _describe(exc, http)
    error: NetworkError
    if isinstance(exc, ProxyFailure) and exc.busy:
        error = NetworkError(path, reason, maybe_applied=False)  # never sent, and retried like a read, changes too
    elif never_sent:
        error = ConnectionRefused(path, reason, maybe_applied=False)
    else:
        error = _lost_answer(path, reason, idempotent)
    log.debug("%s %s failed in %s: %s", method, path, _since(started), error.reason)
    return error


def _refused(exc: BaseException | None) -> bool:
    """Whether the error comes of a refused connection: each transport wraps the OS's error its own way (the
    aiohttp one even as ConnectTimeout), but keeps it in the chain of causes."""
    while exc is not None:
        if isinstance(exc, ConnectionRefusedError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _refusal(http: httpx.AsyncClient) -> str:
    address = f"{http.base_url.scheme}://{http.base_url.netloc.decode()}"
    if address == WECHAT_API:
        return f"connection refused by {address}: check this machine's network, proxy and firewall"
    port = http.base_url.port or (443 if http.base_url.scheme == "https" else 80)
    return (
        f"connection refused by {address}: nothing is listening there. Is the emulator running? "
        f"`wxrec emulator serve --port {port}` serves one there; or give --api the right address"
    )


def _log_retry(method: str, path: str, attempts: int) -> Callable[[RetryCallState], None]:
    def logged(state: RetryCallState) -> None:
        wait = state.next_action.sleep if state.next_action else 0.0
        failure = state.outcome.exception() if state.outcome else None
        log.debug(
            "%s %s: retry %d of %d in %.1f s after: %s", method, path, state.attempt_number, attempts - 1, wait, failure
        )

    return logged


def _lost_answer(path: str, reason: str, idempotent: bool) -> NetworkError:
    if idempotent:
        return NetworkError(path, reason, maybe_applied=True)
    return UncertainOutcome(path, f"{reason}; the change may or may not have been made", maybe_applied=True)


def _retryable(exc: BaseException) -> bool:
    """Transient errcodes and lost answers of calls safe to repeat; never a refused connection (docs/decisions.md:
    nothing is listening, and waiting ~10 s to say so helps no one)."""
    if isinstance(exc, TransientError):
        return True
    return isinstance(exc, NetworkError) and not isinstance(exc, UncertainOutcome | ConnectionRefused)


def _decode(path: str, response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise WxrecError(f"{path}: HTTP {response.status_code}: is the API address right?")
    try:
        answer = response.json()
    except ValueError:
        raise WxrecError(f"{path}: the answer is not JSON: is the API address right?") from None
    if not isinstance(answer, dict):
        raise WxrecError(f"{path}: the answer is JSON but not an object")
    return answer


def split_userinfo(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """An API URL without its user:password@, and those as HTTP Basic auth (what httpx makes of them): the client
    never holds a URL with credentials, so no message, log or record can show them."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    auth = httpx.BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=host)), auth


def public_url(url: str) -> str:
    """An API URL as wxrec shows and records it (plan header, state's endpoint, saved plans): user:password@
    becomes ***@. So does whatever precedes an @ in the authority of a string that is no URL (no scheme, an
    unclosed [): it is shown in the error that refuses it."""
    try:
        bare, auth = split_userinfo(url)
    except ValueError:
        auth = None
    if auth is not None:
        parts = urlsplit(bare)
        return urlunsplit(parts._replace(netloc=f"***@{parts.netloc}"))
    scheme, separator, rest = url.partition("//")
    if not separator:
        scheme, rest = "", url
    if BROKEN_USERINFO.match(rest):  # user:pa/ss@host: the password's / ended the authority at "pa"
        return scheme + separator + "***@" + rest.rpartition("@")[2]
    authority = AUTHORITY.match(rest)
    assert authority is not None  # it matches the empty string
    if "@" not in authority[0]:
        return url
    return scheme + separator + "***@" + authority[0].rpartition("@")[2] + rest[authority.end() :]


def _describe(exc: Exception, http: httpx.AsyncClient) -> str:
    """A transport error's kind and the host, never the error's text: it can carry the URL and the token."""
    return f"network error talking to {http.base_url.scheme}://{http.base_url.netloc.decode()} ({type(exc).__name__})"
