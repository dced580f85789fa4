"""WeChat's errcodes as typed exceptions, each carrying errcode, errmsg and the endpoint (never the token)."""

from __future__ import annotations

import httpx

from reconciler.errors import WxrecError

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
TRANSIENT_ERRCODES = frozenset({-1, 45011})
QUOTA_ERRCODE = 45009
CARD_NOT_FOUND_ERRCODE = 40073
IP_NOT_WHITELISTED = 40164
IP_NEEDS_CONFIRMATION = 89503
WHITELIST_ADVICE = (
    "add this machine's egress IP (a CI runner's public address) to the account's IP whitelist in the MP console "
    "(mp.weixin.qq.com: 设置与开发 → 基本配置 → IP白名单)"
)
CALLER_ADVICE = {
    IP_NOT_WHITELISTED: f"WeChat does not take calls from this machine's address: {WHITELIST_ADVICE}",
    IP_NEEDS_CONFIRMATION: f"WeChat wants an administrator to confirm calls from this machine's address: an "
    f"administrator must confirm it in WeChat, or {WHITELIST_ADVICE}",
}


class WeChatError(WxrecError):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, endpoint: str, errcode: int, errmsg: str) -> None:
        self.endpoint = endpoint
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"{endpoint}: WeChat error {errcode}: {errmsg}")


class TokenRejected(WeChatError):
    """The access token was invalid or expired (40001, 40014, 42001)."""


class TransientError(WeChatError):
    """WeChat is busy (-1) or the per-minute limit was hit (45011): worth retrying later."""


class DailyQuotaExhausted(WeChatError):
    """45009: the daily quota is spent; retrying today cannot help."""

    def __init__(self, endpoint: str, errcode: int, errmsg: str) -> None:
        super().__init__(endpoint, errcode, errmsg)
        self.args = (
            f"{endpoint}: WeChat's daily API quota is spent (45009: {errmsg}). Nothing more can be done "
            "today; run again after midnight (UTC+8) or ask WeChat support to reset the quota.",
        )


class CallerRefused(WeChatError):
    """40164, 89503: WeChat refuses calls from this machine's IP address until someone changes the account."""

    def __init__(self, endpoint: str, errcode: int, errmsg: str) -> None:
        super().__init__(endpoint, errcode, errmsg)
        self.args = (f"{endpoint}: {CALLER_ADVICE[errcode]} ({errcode}: {errmsg})",)


class CardNotFound(WeChatError):
    """40073: the card id is unknown to WeChat (deleted, or never existed)."""


class NetworkError(WxrecError):
    """The request failed at the transport level, or WeChat answered with an HTTP error."""

    def __init__(self, endpoint: str, reason: str, *, maybe_applied: bool) -> None:
        self.endpoint = endpoint
        self.reason = reason
        self.maybe_applied = maybe_applied
        super().__init__(f"{endpoint}: {reason}")


class ConnectionRefused(NetworkError):
    """Nothing accepted the connection: the request was never sent."""


class ProxyFailure(httpx.TransportError):
    """A forward proxy did not carry a call (raised by reconciler.proxy's transport). `reason` names the proxy,
    never its password; `never_sent` when the call provably did not leave the proxy (it refused the connection,
    or would not open the tunnel), so a call that changes something is not uncertain; `busy` when it answered
    the tunnel with a 5xx, which another try may get past."""

    def __init__(self, reason: str, *, never_sent: bool, busy: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.never_sent = never_sent
        self.busy = busy


class UncertainOutcome(NetworkError):
    """A call that changes something lost its answer: WeChat may or may not have applied it."""


def error_for(endpoint: str, errcode: int, errmsg: str) -> WeChatError:
    """The exception type for an errcode, so callers can catch what they can handle."""
    if errcode in TOKEN_ERRCODES:
        return TokenRejected(endpoint, errcode, errmsg)
    if errcode in TRANSIENT_ERRCODES:
        return TransientError(endpoint, errcode, errmsg)
    if errcode == QUOTA_ERRCODE:
        return DailyQuotaExhausted(endpoint, errcode, errmsg)
    if errcode in CALLER_ADVICE:
        return CallerRefused(endpoint, errcode, errmsg)
    if errcode == CARD_NOT_FOUND_ERRCODE:
        return CardNotFound(endpoint, errcode, errmsg)
    return WeChatError(endpoint, errcode, errmsg)
