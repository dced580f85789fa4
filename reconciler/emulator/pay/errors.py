"""WeChat Pay v3's error answers: an HTTP status and a JSON body {"code", "message", "detail"?}.

Sources (docs/wechat-pay/busifavor.md §8): the body's shape and PARAM_ERROR's message naming the JSON path and the
rule, from an answer quoted in the developer community; SIGN_ERROR 401 and INVALID_REQUEST 400 from the v3 common
codes quoted on pay.weixin.qq.com's image-upload page. RESOURCE_NOT_EXISTS 404, FREQUENCY_LIMITED 429,
SYSTEM_ERROR 500 and NOT_FOUND for an unknown path are assumed (the v3 common codes; not found documented for
busifavor).
"""

from __future__ import annotations

from typing import Any

from ..model import JSON

PARAM_ERROR = (400, "PARAM_ERROR")
INVALID_REQUEST = (400, "INVALID_REQUEST")
SIGN_ERROR = (401, "SIGN_ERROR")
NO_AUTH = (403, "NO_AUTH")
RESOURCE_NOT_EXISTS = (404, "RESOURCE_NOT_EXISTS")
NOT_FOUND = (404, "NOT_FOUND")
FREQUENCY_LIMITED = (429, "FREQUENCY_LIMITED")
SYSTEM_ERROR = (500, "SYSTEM_ERROR")


class PayApiError(Exception):
    def __init__(self, kind: tuple[int, str], message: str, detail: JSON | None = None) -> None:
        super().__init__(message)
        self.status, self.code = kind
        self.message = message
        self.detail = detail

    def body(self) -> JSON:
        body: JSON = {"code": self.code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


def invalid(path: str, rule: str, value: Any = None) -> PayApiError:
    """PARAM_ERROR for the field at `path` ("coupon_use_rule/fixed_normal_coupon/discount_amount"), worded like
    WeChat Pay's: 输入源“/body/…”映射到字段“…”规则校验失败，<rule>."""
    message = f"输入源“/body/{path}”映射到字段“{path.rpartition('/')[2]}”规则校验失败，{rule}"
    return PayApiError(PARAM_ERROR, message, {"location": "body", "value": value})
