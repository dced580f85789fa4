"""A merchant's WeChat Pay credentials, from the environment and the files it names; never printed.

The merchant id is the manifest's ``account.mchid`` (not secret). The rest comes from WXREC_PAY_CERT_SERIAL (the
merchant API certificate's serial), WXREC_PAY_PRIVATE_KEY_FILE (its private key, PEM), WXREC_PAY_PUBLIC_KEY_FILE
(WeChat Pay's public key, PEM, or a platform certificate) and WXREC_PAY_PUBLIC_KEY_ID (the id WeChat Pay names that
key by in Wechatpay-Serial); WXREC_<NAME>_PAY_… per account, as for the app secret (connection.Credentials).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from reconciler.connection import Credentials
from reconciler.errors import WxrecError

PAY_CREDENTIAL_NAMES = ("PAY_CERT_SERIAL", "PAY_PRIVATE_KEY_FILE", "PAY_PUBLIC_KEY_FILE", "PAY_PUBLIC_KEY_ID")


@dataclass(frozen=True)
class PayCredentials:
    """What signs a merchant's requests and verifies WeChat Pay's answers. Its repr shows no key."""

    mchid: str
    cert_serial: str
    private_key: RSAPrivateKey = field(repr=False)
    public_key: RSAPublicKey = field(repr=False)
    public_key_id: str


def pay_credentials(
    mchid: str, credentials: Credentials, *, demo: PayCredentials | None = None, hint: str = ""
) -> PayCredentials:
    """The merchant's credentials from the first prefix that sets any WXREC_…PAY_ variable (an account's own are
    never mixed with the shared ones). `demo` stands in when none is set: the emulator's demo merchant keys (from
    the provider in reconciler.emulation), offered by the caller only for a run against an emulator. `hint` ends
    the error when none is set."""
    prefix = _source(credentials)
    if prefix is None:
        if demo is not None:
            return demo
        names = ", ".join(credentials.names(name) for name in PAY_CREDENTIAL_NAMES)
        raise WxrecError(f"no WeChat Pay credentials for merchant {mchid}: set {names}{hint}")
    values = {name: _required(prefix, name) for name in PAY_CREDENTIAL_NAMES}
    return PayCredentials(
        mchid=mchid,
        cert_serial=values["PAY_CERT_SERIAL"].upper(),
        private_key=_private_key(prefix + "PAY_PRIVATE_KEY_FILE", values["PAY_PRIVATE_KEY_FILE"]),
        public_key=_public_key(prefix + "PAY_PUBLIC_KEY_FILE", values["PAY_PUBLIC_KEY_FILE"]),
        public_key_id=values["PAY_PUBLIC_KEY_ID"],
    )


def _source(credentials: Credentials) -> str | None:
    for prefix in credentials.prefixes:
        if any(os.environ.get(prefix + name, "").strip() for name in PAY_CREDENTIAL_NAMES):
            return prefix
    return None


def _required(prefix: str, name: str) -> str:
    value = os.environ.get(prefix + name, "").strip()
    if not value:
        given = [prefix + n for n in PAY_CREDENTIAL_NAMES if os.environ.get(prefix + n, "").strip()]
        raise WxrecError(f"{prefix + name} is not set (but {', '.join(given)} is): WeChat Pay needs all four")
    return value


def _read(variable: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise WxrecError(f"{variable}={path}: cannot read it ({exc.strerror})") from None


def _private_key(variable: str, path: str) -> RSAPrivateKey:
    try:
        key = load_pem_private_key(_read(variable, path), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, RSAPrivateKey):
        raise WxrecError(f"{variable}={path}: not an unencrypted PEM RSA private key (apiclient_key.pem)")
    return key


def _public_key(variable: str, path: str) -> RSAPublicKey:
    data = _read(variable, path)
    key: object = None
    try:
        key = load_pem_public_key(data)
    except ValueError:
        try:  # a platform certificate (平台证书) instead of WeChat Pay's public key
            key = x509.load_pem_x509_certificate(data).public_key()
        except ValueError:
            key = None
    if not isinstance(key, RSAPublicKey):
        raise WxrecError(f"{variable}={path}: not a PEM RSA public key (pub_key.pem) or platform certificate")
    return key
