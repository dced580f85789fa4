"""The busifavor endpoints of WeChat Pay API v3, one typed async method each (docs/wechat-pay/busifavor.md).

The http client given must sign with WechatPayAuth (`PayClient.connect` builds one). An error answer raises
PayError; a transport failure or an answer that fails verification raises reconciler.wechat.errors' NetworkError,
for a call that changes something UncertainOutcome (it may have been made: its request number says which, never a
blind resend). GETs are retried on transport failures, 5xx, and FREQUENCY_LIMITED; nothing else is.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_random_exponential

from reconciler.pay.auth import WechatPayAuth
from reconciler.pay.credentials import PayCredentials
from reconciler.pay.errors import PayError, UnverifiedAnswer
from reconciler.wechat.client import RetryPolicy, _network_error
from reconciler.wechat.errors import ConnectionRefused, NetworkError, UncertainOutcome
from reconciler.wechat.limiter import CallLimiter

STOCKS = "/v3/marketing/busifavor/stocks"
# FREQUENCY_LIMITED: the call was refused before anything was done (docs/wechat-pay/busifavor.md §8).
FREQUENCY_LIMITED_STATUS = 429
log = logging.getLogger("wxrec.pay")


@dataclass(frozen=True)
class CreatedStock:
    stock_id: str
    create_time: str


@dataclass(frozen=True)
class BudgetChange:
    """One budget dimension per call (the API's rule): `current` must equal the stock's current maximum (a
    compare-and-swap, not an issued count); `request_no` is the modify_budget_request_no."""

    dimension: Literal["max_coupons", "max_coupons_by_day"]
    current: int
    target: int
    request_no: str

    def body(self) -> dict[str, Any]:
        return {
            f"target_{self.dimension}": self.target,
            f"current_{self.dimension}": self.current,
            "modify_budget_request_no": self.request_no,
        }


@dataclass(frozen=True)
class Budget:
    """The stock's maximums after a budget change."""

    max_coupons: int | None
    max_coupons_by_day: int | None


@dataclass(frozen=True)
class CodeFailure:
    coupon_code: str = field(repr=False)
    code: str
    message: str


@dataclass(frozen=True)
class UploadResult:
    """The answer to one upload: counts, and the codes by fate (never shown: codes are not logged)."""

    stock_id: str
    total_count: int
    success_count: int
    fail_count: int
    success_time: str
    success_codes: tuple[str, ...] = field(repr=False)
    exist_codes: tuple[str, ...] = field(repr=False)
    duplicate_codes: tuple[str, ...] = field(repr=False)
    failures: tuple[CodeFailure, ...] = field(repr=False)


class PayClient:
    def __init__(self, http: httpx.AsyncClient, retry: RetryPolicy | None = None, limiter: CallLimiter | None = None):
        self.http = http
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or CallLimiter()
        self.calls = 0

    @staticmethod
    def connect(
        base_url: str, credentials: PayCredentials, transport: httpx.AsyncBaseTransport | None = None
    ) -> httpx.AsyncClient:
        """An http client for PayClient: signing with `credentials`, at `base_url` (WECHAT_PAY_API or an
        emulator's address), over `transport` (the embedded emulator's, or the network's)."""
        timeout = httpx.Timeout(30.0, connect=10.0)
        return httpx.AsyncClient(
            base_url=base_url, auth=WechatPayAuth(credentials), timeout=timeout, transport=transport
        )

    async def create_stock(self, body: Mapping[str, Any]) -> CreatedStock:
        """`body` is the create document's, out_request_no included."""
        answer = await self._send("POST", STOCKS, body)
        return CreatedStock(str(answer["stock_id"]), str(answer.get("create_time", "")))

    async def get_stock(self, stock_id: str) -> dict[str, Any]:
        """The stock as WeChat Pay holds it (stock_state, send_count_information, …)."""
        return await self._read(_stock(stock_id))

    async def modify_stock(self, stock_id: str, body: Mapping[str, Any]) -> None:
        """`body` holds the fields to change and out_request_no; WeChat Pay answers 204 without a body."""
        await self._send("PATCH", _stock(stock_id), body)

    async def modify_budget(self, stock_id: str, change: BudgetChange) -> Budget:
        answer = await self._send("PATCH", _stock(stock_id) + "/budget", change.body())
        return Budget(_int(answer.get("max_coupons")), _int(answer.get("max_coupons_by_day")))

    async def upload_codes(self, stock_id: str, codes: Sequence[str], upload_request_no: str) -> UploadResult:
        """Up to 200 codes (the API's batch limit) for a MERCHANT_UPLOAD stock; codes uploaded before come back
        in exist_codes, so a retried upload is harmless."""
        body = {"coupon_code_list": list(codes), "upload_request_no": upload_request_no}
        answer = await self._send("POST", _stock(stock_id) + "/couponcodes", body)
        return UploadResult(
            stock_id=str(answer.get("stock_id", stock_id)),
            total_count=int(answer.get("total_count", 0)),
            success_count=int(answer.get("success_count", 0)),
            fail_count=int(answer.get("fail_count", 0)),
            success_time=str(answer.get("success_time", "")),
            success_codes=tuple(answer.get("success_codes") or ()),
            exist_codes=tuple(answer.get("exist_codes") or ()),
            duplicate_codes=tuple(answer.get("duplicate_codes") or ()),
            failures=tuple(
                CodeFailure(str(f.get("coupon_code", "")), str(f.get("code", "")), str(f.get("message", "")))
                for f in answer.get("fail_codes") or ()
            ),
        )

    async def _read(self, path: str) -> dict[str, Any]:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            wait=wait_random_exponential(multiplier=self.retry.base_wait, max=self.retry.max_wait),
            stop=stop_after_attempt(self.retry.attempts) | stop_after_delay(self.retry.max_seconds),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send("GET", path, None)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _send(self, method: str, path: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        self.calls += 1
        started = time.monotonic()
        changes = method != "GET"
        content = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {} if content is None else {"Content-Type": "application/json"}
        try:
            async with self.limiter.slot():
                response = await self.http.request(method, path, content=content, headers=headers)
        except UnverifiedAnswer as exc:
            raise _lost_answer(path, str(exc), changes) from exc
        except Exception as exc:  # any transport's error; never its text, which may carry the URL
            raise _network_error(method, path, exc, self.http, started, idempotent=not changes) from None
        log.debug("%s %s HTTP %s in %.0f ms", method, path, response.status_code, (time.monotonic() - started) * 1000)
        if response.status_code == FREQUENCY_LIMITED_STATUS:
            self.limiter.limited()
        elif response.is_success:
            self.limiter.succeeded()
        if response.is_success:
            return _decode(path, response)
        error = _error(path, response)
        if response.status_code >= 500:
            # WeChat Pay may have made the change before failing: only its request number can tell.
            raise _lost_answer(path, str(error), changes) from error
        raise error


def _stock(stock_id: str) -> str:
    return f"{STOCKS}/{quote(stock_id, safe='')}"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _retryable(exc: BaseException) -> bool:
    """What a GET may be retried after: a lost or unbelieved answer (never a refused connection) or a busy
    WeChat Pay."""
    if isinstance(exc, PayError):
        return exc.status == FREQUENCY_LIMITED_STATUS
    return isinstance(exc, NetworkError) and not isinstance(exc, UncertainOutcome | ConnectionRefused)


def _lost_answer(path: str, reason: str, changes: bool) -> NetworkError:
    if changes:
        return UncertainOutcome(path, f"{reason}; the change may or may not have been made", maybe_applied=True)
    return NetworkError(path, reason, maybe_applied=False)


def _decode(path: str, response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; {} for 204 (modify answers without a body)."""
    if not response.content:
        return {}
    try:
        answer = response.json()
    except ValueError:
        raise PayError(path, response.status_code, "", "the answer is not JSON: is the address right?") from None
    if not isinstance(answer, dict):
        raise PayError(path, response.status_code, "", "the answer is JSON but not an object")
    return answer


def _error(path: str, response: httpx.Response) -> PayError:
    """The error an answer states; one that is not WeChat Pay's JSON says so with the status alone."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("code"), str):
        return PayError(path, response.status_code, "", f"HTTP {response.status_code}: is the address right?")
    return PayError(path, response.status_code, answer["code"], str(answer.get("message", "")), answer.get("detail"))
