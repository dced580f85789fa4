"""The emulated WeChat Pay API v3 for merchant coupons (商家券, busifavor), served beside the card API.

Written from WeChat Pay's documents (docs/wechat-pay/busifavor.md has each rule's source); like the rest of the
emulator it imports nothing from ``reconciler`` outside the emulator, least of all ``reconciler.pay``.
"""

from __future__ import annotations

from .demo_keys import (
    DEMO_MCHID,
    DEMO_MERCHANT_CERT_SERIAL,
    DEMO_MERCHANT_PRIVATE_KEY,
    DEMO_PAY_PUBLIC_KEY_ID,
    DEMO_PLATFORM_PRIVATE_KEY,
)

__all__ = [
    "DEMO_MCHID",
    "DEMO_MERCHANT_CERT_SERIAL",
    "DEMO_MERCHANT_PRIVATE_KEY",
    "DEMO_PAY_PUBLIC_KEY_ID",
    "DEMO_PLATFORM_PRIVATE_KEY",
]
