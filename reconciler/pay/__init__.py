"""WeChat Pay API v3 for the merchant coupons (商家券, busifavor): credentials, request signing and answer
verification (an httpx.Auth), and a typed async client with one method per endpoint.

docs/wechat-pay/busifavor.md has the API's facts and their sources; docs/decisions.md why the signing is ours
(cryptography inside httpx.Auth) rather than an SDK's.
"""

from __future__ import annotations

from reconciler.endpoints import WECHAT_PAY_API
from reconciler.pay.auth import WechatPayAuth
from reconciler.pay.client import (
    Budget,
    BudgetChange,
    CodeFailure,
    CreatedStock,
    PayClient,
    UploadResult,
)
from reconciler.pay.credentials import PAY_CREDENTIAL_NAMES, PayCredentials, pay_credentials
from reconciler.pay.errors import PayError, UnverifiedAnswer

__all__ = [
    "PAY_CREDENTIAL_NAMES",
    "WECHAT_PAY_API",
    "Budget",
    "BudgetChange",
    "CodeFailure",
    "CreatedStock",
    "PayClient",
    "PayCredentials",
    "PayError",
    "UnverifiedAnswer",
    "UploadResult",
    "WechatPayAuth",
    "pay_credentials",
]
