"""What a WeChat Pay call can end in besides its answer."""

from __future__ import annotations

from typing import Any

from reconciler.errors import WxrecError


class PayError(WxrecError):
    """WeChat Pay answered an error: its HTTP status, its `code` (PARAM_ERROR, SIGN_ERROR, …) and `message`;
    `detail` when the answer gives one (e.g. {"location": "body", "value": 0})."""

    def __init__(self, endpoint: str, status: int, code: str, message: str, detail: Any = None) -> None:
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        super().__init__(f"{endpoint}: WeChat Pay error {status} {code}: {message}")


class UnverifiedAnswer(WxrecError):
    """An answer whose Wechatpay-Signature is missing, wrong, made with another key or too old: it is not
    believed (the client reports the call as if its answer had been lost)."""
