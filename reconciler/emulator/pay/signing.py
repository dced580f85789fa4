"""The emulated WeChat Pay's side of WECHATPAY2-SHA256-RSA2048 (docs/wechat-pay/busifavor.md §9): it verifies
each request's Authorization with the merchant's public key and signs each answer with its own platform key.

Sources: wechatpay-go ``core/consts/const.go`` (the header names, ``SignatureMessageFormat``),
``core/auth/signers/sha256withrsa_signer.go`` (RSA PKCS#1 v1.5 over SHA-256, base64), ``core/auth/validators``
(the answer's message ``TIMESTAMP\\nNONCE\\nBODY\\n``, the 5-minute window); SIGN_ERROR 401 from the v3 common
codes. Assumed: a request whose timestamp is 5 minutes or more from WeChat Pay's clock is refused as a bad
signature too (what the SDKs do to answers), as is a missing or unreadable Authorization.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from .demo_keys import (
    DEMO_MERCHANT_CERT_SERIAL,
    DEMO_MERCHANT_PRIVATE_KEY,
    DEMO_PAY_PUBLIC_KEY_ID,
    DEMO_PLATFORM_PRIVATE_KEY,
)
from .errors import SIGN_ERROR, PayApiError

SCHEME = "WECHATPAY2-SHA256-RSA2048"
SKEW = 300
_PAIR = re.compile(r'\s*(\w+)="([^"]*)"\s*(?:,|$)')


@cache
def _key(pem: str) -> RSAPrivateKey:
    key = load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, RSAPrivateKey)  # the demo keys are RSA
    return key


def merchant_key(serial_no: str) -> RSAPublicKey | None:
    """The public key of the merchant certificate `serial_no`: every served merchant has the demo one."""
    return _key(DEMO_MERCHANT_PRIVATE_KEY).public_key() if serial_no.upper() == DEMO_MERCHANT_CERT_SERIAL else None


def authorize(header: str, method: str, url: str, body: bytes, now: float, merchants: tuple[str, ...]) -> str:
    """The merchant id the request is signed for; PayApiError 401 SIGN_ERROR when it is not."""
    scheme, _, rest = header.partition(" ")
    fields: dict[str, str] = dict(_PAIR.findall(rest))
    if scheme != SCHEME or not {"mchid", "nonce_str", "timestamp", "serial_no", "signature"} <= fields.keys():
        raise PayApiError(
            SIGN_ERROR, f"Authorization 不是 {SCHEME} 格式，或缺少 mchid、nonce_str、timestamp、serial_no、signature"
        )
    mchid = fields["mchid"]
    key = merchant_key(fields["serial_no"])
    if mchid not in merchants or key is None:
        raise PayApiError(SIGN_ERROR, f"商户号 {mchid} 的证书序列号 {fields['serial_no']} 不存在或已失效")
    timestamp = fields["timestamp"]
    if not timestamp.isdigit() or abs(now - int(timestamp)) >= SKEW:
        raise PayApiError(SIGN_ERROR, f"签名时间戳 {timestamp} 与当前时间相差超过5分钟")
    message = b"%s\n%s\n%s\n%s\n%s\n" % (
        method.encode(),
        url.encode(),
        timestamp.encode(),
        fields["nonce_str"].encode(),
        body,
    )
    try:
        key.verify(base64.b64decode(fields["signature"], validate=True), message, PKCS1v15(), SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        raise PayApiError(SIGN_ERROR, "签名错误，请检查后再试") from None
    return mchid


def answer_headers(body: bytes, now: float) -> dict[str, str]:
    """The headers that let a client believe `body`: signed with the platform key, named by its public key id."""
    timestamp, nonce = str(int(now)), secrets.token_hex(16).upper()
    message = b"%s\n%s\n%s\n" % (timestamp.encode(), nonce.encode(), body)
    signature = base64.b64encode(_key(DEMO_PLATFORM_PRIVATE_KEY).sign(message, PKCS1v15(), SHA256())).decode()
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": DEMO_PAY_PUBLIC_KEY_ID,
        "Wechatpay-Signature-Type": SCHEME,
    }
