"""How a run reaches an account: its credentials, the token source, the HTTP transport and the embedded emulator.

The CLI and the workflows ask `connect()` for a card API; nothing else here knows about flags or output. What a
run against an emulator needs of it comes from the provider installed in reconciler.emulation."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from reconciler import emulation
from reconciler.endpoints import WECHAT_API, WECHAT_PAY_API
from reconciler.errors import WxrecError
from reconciler.manifest import Manifest
from reconciler.proxy import ProxiedTransport, environment_proxy
from reconciler.state import ensure_state_dir
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import (
    FORCE_REFRESH_ENV,
    StableToken,
    StaticToken,
    TokenSource,
    WeChatClient,
    public_url,
    split_userinfo,
)
from reconciler.wechat.limiter import CallLimiter

if TYPE_CHECKING:
    from reconciler.pay import PayClient

EMULATOR = "emulator"
PAY_COUPONS = "pay_coupons"  # the section whose stocks need WeChat Pay
CREDENTIAL_NAMES = ("ACCESS_TOKEN", "APPSECRET", "APPSECRET_FILE")
log = logging.getLogger("wxrec.api")


@dataclass(frozen=True)
class Credentials:
    """Where an account's appid and secret come from in the environment: WXREC_APPSECRET for one manifest
    directory; WXREC_<NAME>_APPSECRET (NAME from the directory) first, and for several directories only."""

    prefixes: tuple[str, ...] = ("WXREC_",)

    def get(self, name: str) -> tuple[str, str] | None:
        """(variable, value) of the first of the prefixed variables that is set."""
        for prefix in self.prefixes:
            value = os.environ.get(prefix + name)
            if value:
                return prefix + name, value
        return None

    def value(self, name: str) -> str | None:
        found = self.get(name)
        return found[1] if found else None

    def names(self, name: str) -> str:
        return " or ".join(prefix + name for prefix in self.prefixes)

    def source(self) -> Credentials:
        """The first prefix that sets any credential. An account's own variables are never mixed with the shared
        ones: a shared WXREC_ACCESS_TOKEN must not win over WXREC_<NAME>_APPSECRET and change another account."""
        for prefix in self.prefixes:
            if any(os.environ.get(prefix + name) for name in CREDENTIAL_NAMES):
                return Credentials((prefix,))
        return self


def account_name(manifest: Path) -> str:
    """NAME in WXREC_<NAME>_APPSECRET: the directory's (or file's) name, upper-case, other characters as _."""
    resolved = manifest.resolve()
    return re.sub(r"[^A-Z0-9]", "_", (resolved.name if resolved.is_dir() else resolved.stem).upper())


def credentials_of_one(manifest: Path) -> Credentials:
    """A manifest directory run alone: its own variables first, then the plain WXREC_ ones."""
    return Credentials((f"WXREC_{account_name(manifest)}_", "WXREC_"))


def credentials_among_several(manifest: Path) -> Credentials:
    """A manifest directory run beside others: only its own variables, so no account runs with another's secret."""
    return Credentials((f"WXREC_{account_name(manifest)}_",))


def appid_of(manifest: Manifest, api: str, credentials: Credentials = Credentials()) -> str:
    appid = manifest.appid or credentials.value("APPID")
    if appid:
        return appid
    emulator = _emulator_at(api)
    if emulator is not None:
        return emulator.demo_appid
    raise WxrecError(f"no account: set account.appid in the manifest or {credentials.names('APPID')}")


def token_source(appid: str, api: str, credentials: Credentials) -> TokenSource:
    """WXREC_ACCESS_TOKEN, else WXREC_APPSECRET (or the file in WXREC_APPSECRET_FILE); the demo account's
    published secret serves emulators that run it."""
    credentials = credentials.source()
    token = credentials.value("ACCESS_TOKEN")
    if token:
        return StaticToken(token)
    secret = credentials.value("APPSECRET")
    secret_file = credentials.get("APPSECRET_FILE")
    if not secret and secret_file:
        try:
            secret = Path(secret_file[1]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise WxrecError(f"{secret_file[0]}={secret_file[1]}: cannot read it ({exc.strerror})") from None
    emulator = None if secret else _emulator_at(api)
    if emulator is not None and appid == emulator.demo_appid:
        secret = emulator.demo_secret
    if not secret:
        names = f"{credentials.names('APPSECRET')} (or {credentials.names('ACCESS_TOKEN')})"
        served = (
            f" (an emulator serves its demo account {emulator.demo_appid} without them; serve {appid} with "
            f"`wxrec emulator serve --account {appid}:SECRET` and set that SECRET)"
            if emulator is not None
            else ""
        )
        raise WxrecError(f"no credentials for {appid}: set {names}{served}")
    return stable_token(appid, secret)


def _emulator_at(api: str, wechat: str = WECHAT_API) -> emulation.Emulators | None:
    """The emulator whose demo account a run against `api` may use: the embedded one's always, the installed
    provider's at any address other than WeChat's (`wechat`; a served emulator runs the same account)."""
    if api == EMULATOR:
        return emulation.required()
    return emulation.current() if api != wechat else None


def stable_token(appid: str, secret: str) -> StableToken:
    """Normal-mode tokens; forced refreshes only when the user allows them in WXREC_TOKEN_FORCE_REFRESH."""
    allowed = os.environ.get(FORCE_REFRESH_ENV, "").strip().lower()
    if allowed not in ("", "0", "1", "false", "true", "no", "yes"):
        raise WxrecError(f"{FORCE_REFRESH_ENV}={allowed!r}: give 1 (allow forced token refreshes) or 0")
    return StableToken(appid, secret, force_refresh=allowed in ("1", "true", "yes"))


def http_transport(url: str) -> httpx.AsyncBaseTransport:
    """The HTTP transport under httpx's API for calls to `url`, through the proxy the environment names for it
    (reconciler.proxy). The transport is chosen by measurement (benchmarks/README.md): aiohttp's spends about
    half the client CPU per call of httpx's own at high parallelism. WXREC_HTTP_TRANSPORT=httpx selects httpx's
    own."""
    proxy = environment_proxy(url)
    proxied = proxy.for_transport() if proxy else None
    transport: httpx.AsyncBaseTransport
    if os.environ.get("WXREC_HTTP_TRANSPORT") == "httpx":
        transport = httpx.AsyncHTTPTransport(limits=HTTP_LIMITS, proxy=proxied)
    else:
        # aiohttp takes about 0.15 s to import: only a run that calls an HTTP endpoint pays for it.
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=HTTP_LIMITS, proxy=proxied)
    if proxy is None:
        return transport
    log.debug("calls to %s go through %s", public_url(url), proxy)
    return ProxiedTransport(transport, proxy)


HTTP_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=64)


class NoCookies(CookieJar):
    """A jar that keeps no cookie. WeChat's API takes the token in the query string and no cookie; httpx reads
    every answer's Set-Cookie into its jar through urllib's cookie code, a fifth of its CPU per call (about
    0.1 ms)."""

    def extract_cookies(self, response: object, request: object) -> None:
        return None


def endpoint_label(api: str) -> str:
    """How the API is shown and recorded: never with the credentials a URL may hold."""
    return EMULATOR if api == EMULATOR else public_url(api.rstrip("/"))


def embedded_account(manifest: Manifest) -> Path:
    """Where the embedded emulator keeps the account of `manifest`'s directory (and environment)."""
    return manifest.state_dir / "emulator.json"


@asynccontextmanager
async def connect(
    api: str,
    manifest: Manifest,
    appid: str,
    limiter: CallLimiter | None = None,
    credentials: Credentials = Credentials(),
    warn: Callable[[str], None] | None = None,
    pay_api: str = WECHAT_PAY_API,
) -> AsyncIterator[tuple[CardApi, str]]:
    """The card API for `api`: the embedded emulator in this process, or an HTTP endpoint; with WeChat Pay at
    `pay_api` as its `pay` when the manifests name a merchant (account.mchid). `warn` hears of the emulator's
    injected faults: they stay in force in its data file from one run to the next."""
    timeout = httpx.Timeout(30.0, connect=10.0)
    async with AsyncExitStack() as stack:
        if api == EMULATOR:
            emulator = emulation.required()
            secret = credentials.value("APPSECRET") or emulator.demo_secret
            mchid = manifest.mchid or emulator.demo_mchid
            transport = emulator.transport(embedded_account(manifest), manifest.directory, appid, secret, warn, mchid)
            ensure_state_dir(manifest.state_dir)
            http = httpx.AsyncClient(transport=transport, base_url=WECHAT_API, timeout=timeout, cookies=NoCookies())
            await stack.enter_async_context(http)
            api_ = CardApi(WeChatClient(http, stable_token(appid, secret), limiter=limiter))
            api_.pay = await _pay(stack, manifest, WECHAT_PAY_API, credentials, limiter, transport, EMULATOR)
            yield api_, EMULATOR
            return
        endpoint = endpoint_label(api)
        base, auth = checked_url(api, "--api (or WXREC_API)")
        tokens = token_source(appid, base, credentials)
        http = httpx.AsyncClient(
            base_url=base, auth=auth, timeout=timeout, transport=http_transport(base), cookies=NoCookies()
        )
        await stack.enter_async_context(http)
        api_ = CardApi(WeChatClient(http, tokens, limiter=limiter))
        api_.pay = await _pay(stack, manifest, pay_api, credentials, limiter, None, base)
        yield api_, endpoint


def _pay_api_hint(api: str, pay_api: str) -> str:
    """The usual slip against a served emulator: --api points at it, --pay-api still at WeChat Pay's own."""
    if api in (EMULATOR, WECHAT_API) or pay_api.rstrip("/") != WECHAT_PAY_API:
        return ""
    return (
        f"; or, if {api} is an emulator, give --pay-api {api} too (--pay-api is {WECHAT_PAY_API}, WeChat Pay's own, "
        "and `wxrec emulator serve` serves WeChat Pay at the address it serves WeChat at)"
    )


def checked_url(url: str, option: str) -> tuple[str, httpx.BasicAuth | None]:
    """An http(s) URL without its user info, and that user info; what httpx would refuse with a traceback (a
    bad port, an unclosed [) is said naming the option."""
    shown = public_url(url.rstrip("/"))
    if not shown.startswith(("http://", "https://")):
        raise WxrecError(f"{option} {shown!r}: give 'emulator' or an http(s) URL")
    try:
        base, auth = split_userinfo(url.rstrip("/"))
        httpx.URL(base)
    except (ValueError, httpx.InvalidURL) as exc:
        raise WxrecError(f"{option} {shown!r}: not a URL ({exc})") from None
    return base, auth


async def _pay(
    stack: AsyncExitStack,
    manifest: Manifest,
    pay_api: str,
    credentials: Credentials,
    limiter: CallLimiter | None,
    transport: httpx.AsyncBaseTransport | None,
    api: str,
) -> PayClient | None:
    """WeChat Pay for the manifests' merchant, when they have stocks (a `pay_coupons` section); None otherwise, so
    a merchant id alone asks for no WeChat Pay credentials. The emulator's demo merchant keys stand in only for the
    embedded emulator (`transport`), or for the demo merchant at an address other than WeChat Pay's. `api`: the
    card API's address, which a missing-credentials error may point --pay-api at."""
    mchid = manifest.mchid
    if not mchid or PAY_COUPONS not in manifest.document.data:
        return None
    from reconciler.pay import PayClient, pay_credentials  # only a run with a merchant loads the signing code

    # The embedded emulator serves the manifests' merchant; a served one only its demo merchant, as the card side
    # offers the demo secret to the demo account only: a proxy of WeChat Pay never gets the demo keys.
    emulator = emulation.required() if transport is not None else _emulator_at(pay_api, WECHAT_PAY_API)
    demo = None
    if emulator is not None and (transport is not None or mchid == emulator.demo_mchid):
        demo = emulator.demo_pay_credentials(mchid)
    base = WECHAT_PAY_API
    if transport is None:
        base, _ = checked_url(pay_api, "--pay-api (or WXREC_PAY_API)")
    keys = pay_credentials(mchid, credentials, demo=demo, hint=_pay_api_hint(api, pay_api))
    http = PayClient.connect(base, keys, transport or http_transport(base))
    await stack.enter_async_context(http)
    return PayClient(http, limiter=limiter)
