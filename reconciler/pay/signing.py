"""The WECHATPAY2-SHA256-RSA2048 scheme (docs/wechat-pay/busifavor.md §9), as pure functions.

A request is signed over ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`` with the merchant's private key; an
answer over ``TIMESTAMP\\nNONCE\\nBODY\\n`` with WeChat Pay's: RSA PKCS#1 v1.5, SHA-256, base64 (wechatpay-go
``core/auth/signers``, ``core/auth/validators``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256

SCHEME = "WECHATPAY2-SHA256-RSA2048"
# The SDKs refuse an answer whose Wechatpay-Timestamp is this far from their clock (wechatpay-go FiveMinute).
ANSWER_SKEW = 300


@dataclass(frozen=True)
class RequestSignature:
    """What the Authorization header carries besides the signature's own scheme."""

    mchid: str
    serial_no: str
    timestamp: int
    nonce: str
    signature: str

    def header(self) -> str:
        return (
            f'{SCHEME} mchid="{self.mchid}",nonce_str="{self.nonce}",timestamp="{self.timestamp}",'
            f'serial_no="{self.serial_no}",signature="{self.signature}"'
        )


def request_message(method: str, url: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    """`url` is the path with its query string, as sent; `body` the exact bytes sent (empty for a GET)."""
    return b"%s\n%s\n%d\n%s\n%s\n" % (method.encode(), url.encode(), timestamp, nonce.encode(), body)


def answer_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return b"%s\n%s\n%s\n" % (timestamp.encode(), nonce.encode(), body)


def sign(key: RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, PKCS1v15(), SHA256())).decode("ascii")


def verify(key: RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message, PKCS1v15(), SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
