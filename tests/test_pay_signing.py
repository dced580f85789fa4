"""The WeChat Pay v3 signature against a client nobody here wrote: wechatpayv3 (PyPI)."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import build_authorization

from reconciler.cli.embedded import DEMO_MCHID, demo_pay_credentials
from reconciler.connection import Credentials
from reconciler.errors import WxrecError
from reconciler.pay import WechatPayAuth, pay_credentials
from tests.support import served_emulator

CREDENTIALS = demo_pay_credentials(DEMO_MCHID)
PEM = serialization.Encoding.PEM


def _pem(private: bool) -> str:
    if private:
        return CREDENTIALS.private_key.private_bytes(
            PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    return CREDENTIALS.public_key.public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@given(
    method=st.sampled_from(["GET", "POST", "PATCH"]),
    path=st.from_regex(r"/v3/marketing/busifavor/stocks(/[0-9]{1,16})?(\?limit=[0-9]{1,3})?", fullmatch=True),
    body=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=12) | st.integers(), max_size=4),
    timestamp=st.integers(1_500_000_000, 2_500_000_000),
    nonce=st.text("0123456789ABCDEF", min_size=32, max_size=32),
)
def test_the_authorization_is_the_one_wechatpayv3_builds(
    method: str, path: str, body: dict[str, object], timestamp: int, nonce: str
) -> None:
    # wechatpayv3 signs json.dumps(data) and sends the same bytes; so does wxrec with its own bytes.
    content = json.dumps(body).encode() if body and method != "GET" else b""
    auth = WechatPayAuth(CREDENTIALS, clock=lambda: timestamp, nonce=lambda: nonce)
    ours = auth.signature(method, path, content).header()
    with mock.patch("wechatpayv3.utils.time.time", return_value=timestamp):
        theirs = build_authorization(
            path, method, DEMO_MCHID, CREDENTIALS.cert_serial, CREDENTIALS.private_key, content.decode() or None, nonce
        )
    assert _fields(ours) == _fields(theirs)


def _fields(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "WECHATPAY2-SHA256-RSA2048"
    return dict(pair.split("=", 1) for pair in rest.split(","))


def test_wechatpayv3_creates_reads_and_budgets_a_stock_at_the_served_emulator() -> None:
    with served_emulator() as url:
        pay = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=DEMO_MCHID,
            private_key=_pem(private=True),
            cert_serial_no=CREDENTIALS.cert_serial,
            appid="wx0123456789abcdef",
            apiv3_key="0" * 32,
            public_key=_pem(private=False),
            public_key_id=CREDENTIALS.public_key_id,
        )
        pay._core._gate_way = url  # the SDK has no setting for its host
        code, answer = pay.marketing_busifavor_stock_create(**_stock("sdk-1"))
        assert code == 200, answer
        stock_id = json.loads(answer)["stock_id"]
        code, answer = pay.marketing_busifavor_stock_query(stock_id)
        assert code == 200 and json.loads(answer)["stock_send_rule"]["max_coupons"] == 100
        code, answer = pay.marketing_busifavor_stock_budget(stock_id, "sdk-b1", 250, current_max_coupons=100)
        assert (code, json.loads(answer)["max_coupons"]) == (200, 250)
        code, answer = pay.marketing_busifavor_stock_budget(stock_id, "sdk-b2", 300, current_max_coupons=100)
        assert code == 400 and json.loads(answer)["code"] == "PARAM_ERROR"


def _stock(out_request_no: str) -> dict[str, object]:
    return {
        "stock_name": "春季满减券",
        "belong_merchant": DEMO_MCHID,
        "goods_name": "全场通用",
        "stock_type": "NORMAL",
        "coupon_use_rule": {
            "coupon_available_time": {
                "available_begin_time": "2026-01-01T00:00:00+08:00",
                "available_end_time": "2099-01-01T00:00:00+08:00",
            },
            "fixed_normal_coupon": {"discount_amount": 500, "transaction_minimum": 1000},
            "use_method": "OFF_LINE",
        },
        "stock_send_rule": {"max_coupons": 100, "max_coupons_per_user": 1},
        "coupon_code_mode": "WECHATPAY_MODE",
        "out_request_no": out_request_no,
    }


def test_credentials_come_from_the_account_s_own_variables_and_never_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "key.pem").write_text(_pem(private=True))
    (tmp_path / "pub.pem").write_text(_pem(private=False))
    monkeypatch.setenv("WXREC_PAY_CERT_SERIAL", "shared-serial")
    for name, value in (("CERT_SERIAL", "abc123"), ("PRIVATE_KEY_FILE", "key.pem"), ("PUBLIC_KEY_FILE", "pub.pem")):
        monkeypatch.setenv(f"WXREC_SHOP_PAY_{name}", str(tmp_path / value) if value.endswith(".pem") else value)
    monkeypatch.setenv("WXREC_SHOP_PAY_PUBLIC_KEY_ID", "PUB_KEY_ID_1")
    found = pay_credentials("1900000001", Credentials(("WXREC_SHOP_", "WXREC_")))
    assert (found.cert_serial, found.public_key_id) == ("ABC123", "PUB_KEY_ID_1")
    assert "PRIVATE" not in repr(found) and "abc" not in repr(found).lower().replace("abc123", "")
    monkeypatch.delenv("WXREC_SHOP_PAY_PUBLIC_KEY_ID")
    with pytest.raises(WxrecError, match="WXREC_SHOP_PAY_PUBLIC_KEY_ID is not set"):
        pay_credentials("1900000001", Credentials(("WXREC_SHOP_", "WXREC_")))


def test_an_unreadable_key_file_is_named_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "key.pem").write_text("not a key")
    monkeypatch.setenv("WXREC_PAY_CERT_SERIAL", "abc")
    monkeypatch.setenv("WXREC_PAY_PRIVATE_KEY_FILE", str(tmp_path / "key.pem"))
    monkeypatch.setenv("WXREC_PAY_PUBLIC_KEY_FILE", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("WXREC_PAY_PUBLIC_KEY_ID", "PUB_KEY_ID_1")
    with pytest.raises(WxrecError, match=r"WXREC_PAY_PRIVATE_KEY_FILE=.*key.pem: not an unencrypted PEM RSA"):
        pay_credentials("1900000001", Credentials())


def test_an_unsigned_request_is_answered_401_sign_error() -> None:
    with served_emulator() as url:
        answer = httpx.get(f"{url}/v3/marketing/busifavor/stocks/1")
    assert (answer.status_code, answer.json()["code"]) == (401, "SIGN_ERROR")
