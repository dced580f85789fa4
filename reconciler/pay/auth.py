"""Signs every request to WeChat Pay and verifies every answer before it is believed: an httpx.Auth, so the
signature covers the exact bytes httpx sends and the check the exact bytes it received."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Generator

import httpx

from reconciler.pay.credentials import PayCredentials
from reconciler.pay.errors import UnverifiedAnswer
from reconciler.pay.signing import ANSWER_SKEW, SCHEME, RequestSignature, answer_message, request_message, sign, verify


class WechatPayAuth(httpx.Auth):
    requires_request_body = True
    requires_response_body = True

    def __init__(
        self,
        credentials: PayCredentials,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16).upper(),
    ) -> None:
        self.credentials = credentials
        self._clock = clock
        self._nonce = nonce

    def signature(self, method: str, url: str, body: bytes) -> RequestSignature:
        """The signature of one request; `url` is its path and query as sent."""
        timestamp, nonce = int(self._clock()), self._nonce()
        message = request_message(method, url, timestamp, nonce, body)
        signed = sign(self.credentials.private_key, message)
        return RequestSignature(self.credentials.mchid, self.credentials.cert_serial, timestamp, nonce, signed)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url.raw_path.decode("ascii")
        request.headers["Authorization"] = self.signature(request.method, url, request.content).header()
        request.headers["Accept"] = "application/json"
        # Names the key WeChat Pay should sign with (and would encrypt with): its public key's id.
        request.headers["Wechatpay-Serial"] = self.credentials.public_key_id
        response = yield request
        if response.is_success:
            self.check(response)

    def check(self, response: httpx.Response) -> None:
        """Raises UnverifiedAnswer unless WeChat Pay's key signed this answer lately. Error answers are not
        checked (they are believed only as failures, as the official SDKs do)."""
        headers = response.headers
        serial = headers.get("Wechatpay-Serial", "")
        timestamp = headers.get("Wechatpay-Timestamp", "")
        nonce = headers.get("Wechatpay-Nonce", "")
        signature = headers.get("Wechatpay-Signature", "")
        if not (serial and timestamp and nonce and signature):
            raise UnverifiedAnswer("the answer is not signed (no Wechatpay-Signature): it is not believed")
        if serial != self.credentials.public_key_id:
            raise UnverifiedAnswer(
                f"the answer is signed with key {serial}, not WeChat Pay's key {self.credentials.public_key_id} "
                "(WXREC_PAY_PUBLIC_KEY_ID): it is not believed"
            )
        if headers.get("Wechatpay-Signature-Type", SCHEME) != SCHEME:
            raise UnverifiedAnswer(f"the answer is signed {headers['Wechatpay-Signature-Type']}, not {SCHEME}")
        if not timestamp.isdigit() or abs(self._clock() - int(timestamp)) >= ANSWER_SKEW:
            raise UnverifiedAnswer(
                f"the answer's Wechatpay-Timestamp {timestamp} is 5 minutes or more from this machine's clock: "
                "it is not believed (check the clock)"
            )
        if not verify(self.credentials.public_key, answer_message(timestamp, nonce, response.content), signature):
            raise UnverifiedAnswer("the answer's Wechatpay-Signature does not match it: it is not believed")
