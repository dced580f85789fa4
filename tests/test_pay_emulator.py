"""The emulated WeChat Pay busifavor API, through wxrec's signing client (tests/test_pay_signing.py checks the
signing against wechatpayv3): its documented rules and error codes, its state, its faults, and the client's
refusal to believe an answer it cannot verify."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.cli.embedded import DEMO_MCHID, demo_pay_credentials
from reconciler.emulator import EmulatorConfig, create_app
from reconciler.pay import BudgetChange, PayClient, PayCredentials, PayError
from reconciler.wechat.client import RetryPolicy
from reconciler.wechat.errors import NetworkError, UncertainOutcome
from tests.test_pay_signing import _stock

FAST = RetryPolicy(attempts=2, max_seconds=2, base_wait=0.001, max_wait=0.01)
CREDENTIALS = demo_pay_credentials(DEMO_MCHID)


class Emulated:
    def __init__(self, app: Any, credentials: PayCredentials = CREDENTIALS, transport: Any = None) -> None:
        self.app = app
        self.http = PayClient.connect("https://api.mch.weixin.qq.com", credentials, transport or _transport(app))
        self.client = PayClient(self.http, FAST)

    async def control(self, name: str, **body: object) -> httpx.Response:
        async with httpx.AsyncClient(transport=_transport(self.app), base_url="http://emulator") as plain:
            return await plain.post(f"/_emulator/pay/{name}", json=body)

    async def stocks(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(transport=_transport(self.app), base_url="http://emulator") as plain:
            return list((await plain.get("/_emulator/pay/stocks")).json()["stocks"])


def _transport(app: Any) -> httpx.AsyncBaseTransport:
    return httpx.ASGITransport(app, raise_app_exceptions=False)


@pytest.fixture
async def pay() -> AsyncIterator[Emulated]:
    emulated = Emulated(create_app(EmulatorConfig()))
    async with emulated.http:
        yield emulated


def stock(number: str, **changes: Any) -> dict[str, Any]:
    """A valid create body with `changes` written at their slash paths ("stock_send_rule/max_coupons")."""
    body = copy.deepcopy(_stock(number))
    for path, value in changes.items():
        *parents, name = path.split("__")
        target = body
        for parent in parents:
            target = target.setdefault(parent, {})
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return body


async def refused(call: Any, status: int = 400, code: str = "PARAM_ERROR") -> str:
    with pytest.raises(PayError) as caught:
        await call
    assert (caught.value.status, caught.value.code) == (status, code), caught.value
    return caught.value.message


# ---------------------------------------------------------------- create


async def test_lengths_count_characters_not_bytes(pay: Emulated) -> None:
    await pay.client.create_stock(stock("c1", stock_name="满" * 21, goods_name="券" * 15))
    message = await refused(pay.client.create_stock(stock("c2", stock_name="满" * 22)))
    assert "/body/stock_name" in message and "21" in message
    message = await refused(pay.client.create_stock(stock("c3", goods_name="g" * 16)))
    assert "/body/goods_name" in message
    assert len(await pay.stocks()) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stock_send_rule__max_coupons": "100"}, "stock_send_rule/max_coupons"),
        ({"stock_send_rule__max_coupons": 0}, "stock_send_rule/max_coupons"),
        ({"stock_send_rule__max_coupons_per_user": 101}, "stock_send_rule/max_coupons_per_user"),
        ({"coupon_use_rule__fixed_normal_coupon__discount_amount": 0}, "fixed_normal_coupon/discount_amount"),
        ({"stock_type": "DISCOUNT"}, "coupon_use_rule/discount_coupon"),
        ({"stock_type": "GIFT"}, "stock_type"),
        ({"coupon_code_mode": None}, "coupon_code_mode"),
        ({"belong_merchant": "1900000001"}, "belong_merchant"),
        ({"coupon_use_rule__use_method": "MINI_PROGRAMS"}, "coupon_use_rule/mini_programs_appid"),
        (
            {"coupon_use_rule__coupon_available_time__available_end_time": "2025-12-31T00:00:00+08:00"},
            "available_end_time",
        ),
        ({"coupon_use_rule__coupon_available_time__available_begin_time": "2026-01-01 00:00"}, "available_begin"),
    ],
)
async def test_a_create_that_breaks_a_rule_is_refused_naming_the_field(
    pay: Emulated, changes: dict[str, Any], field: str
) -> None:
    assert field in await refused(pay.client.create_stock(stock("c1", **changes)))
    assert await pay.stocks() == []


@pytest.mark.parametrize("same_body", [True, False])
async def test_an_out_request_no_is_never_taken_twice(pay: Emulated, same_body: bool) -> None:
    first = await pay.client.create_stock(stock("n-1"))
    again = stock("n-1") if same_body else stock("n-1", goods_name="另一个")
    assert "n-1" in await refused(pay.client.create_stock(again))
    assert [s["stock_id"] for s in await pay.stocks()] == [first.stock_id]


async def test_a_created_stock_reads_back_with_its_state_and_counts(pay: Emulated) -> None:
    created = await pay.client.create_stock(stock("n-1"))
    held = await pay.client.get_stock(created.stock_id)
    assert held["stock_state"] == "RUNNING" and held["stock_name"] == "春季满减券"
    assert held["send_count_information"]["total_send_num"] == 0
    assert "out_request_no" not in held
    await refused(pay.client.get_stock("999"), 404, "RESOURCE_NOT_EXISTS")


# ---------------------------------------------------------------- modify and budget


async def test_modify_changes_what_the_docs_allow_and_refuses_the_rest(pay: Emulated) -> None:
    stock_id = (await pay.client.create_stock(stock("n-1"))).stock_id
    await pay.client.modify_stock(stock_id, {"comment": "新备注", "goods_name": "部分商品", "out_request_no": "m-1"})
    held = await pay.client.get_stock(stock_id)
    assert (held["comment"], held["goods_name"]) == ("新备注", "部分商品")
    assert "stock_name" in await refused(
        pay.client.modify_stock(stock_id, {"stock_name": "x", "out_request_no": "m-2"})
    )
    rule = {"coupon_use_rule": {"fixed_normal_coupon": {"discount_amount": 1}}, "out_request_no": "m-3"}
    assert "fixed_normal_coupon" in await refused(pay.client.modify_stock(stock_id, rule))
    send = {"stock_send_rule": {"max_coupons": 5}, "out_request_no": "m-4"}
    assert "max_coupons" in await refused(pay.client.modify_stock(stock_id, send))
    assert (await pay.client.get_stock(stock_id))["stock_send_rule"]["max_coupons"] == 100


async def test_the_budget_is_a_compare_and_swap_on_the_current_maximum(pay: Emulated) -> None:
    stock_id = (await pay.client.create_stock(stock("n-1"))).stock_id
    budget = await pay.client.modify_budget(stock_id, BudgetChange("max_coupons", 100, 300, "b-1"))
    assert budget.max_coupons == 300
    # A plan made before that change still believes 100: it cannot overshoot.
    message = await refused(pay.client.modify_budget(stock_id, BudgetChange("max_coupons", 100, 400, "b-2")))
    assert "current_max_coupons" in message and "300" in message
    assert (await pay.client.get_stock(stock_id))["stock_send_rule"]["max_coupons"] == 300


async def test_one_budget_dimension_per_call_and_never_below_what_was_issued(pay: Emulated) -> None:
    stock_id = (await pay.client.create_stock(stock("n-1"))).stock_id
    both = {"target_max_coupons": 200, "current_max_coupons": 100, "target_max_coupons_by_day": 10}
    answer = await pay.http.patch(f"/v3/marketing/busifavor/stocks/{stock_id}/budget", json=both)
    assert (answer.status_code, answer.json()["code"]) == (400, "PARAM_ERROR")
    assert (await pay.control("issue", stock_id=stock_id, count=60)).status_code == 200
    assert (await pay.client.get_stock(stock_id))["send_count_information"]["total_send_num"] == 60
    message = await refused(pay.client.modify_budget(stock_id, BudgetChange("max_coupons", 100, 50, "b-1")))
    assert "60" in message
    assert (await pay.control("issue", stock_id=stock_id, count=41)).status_code == 400  # never past the maximum


async def test_a_budget_request_number_is_never_taken_twice(pay: Emulated) -> None:
    stock_id = (await pay.client.create_stock(stock("n-1"))).stock_id
    await pay.client.modify_budget(stock_id, BudgetChange("max_coupons", 100, 200, "b-1"))
    assert "b-1" in await refused(pay.client.modify_budget(stock_id, BudgetChange("max_coupons", 200, 300, "b-1")))


# ---------------------------------------------------------------- codes


async def test_uploaded_codes_are_sorted_by_fate_and_counted(pay: Emulated) -> None:
    stock_id = (await pay.client.create_stock(stock("n-1", coupon_code_mode="MERCHANT_UPLOAD"))).stock_id
    first = await pay.client.upload_codes(stock_id, ["A-1", "B/2"], "u-1")
    assert (first.success_count, first.success_codes) == (2, ("A-1", "B/2"))
    second = await pay.client.upload_codes(stock_id, ["A-1", "C3", "C3", "bad!"], "u-2")
    assert second.exist_codes == ("A-1",) and second.duplicate_codes == ("C3",) and second.success_codes == ("C3",)
    assert [f.coupon_code for f in second.failures] == ["bad!"]
    held = await pay.client.get_stock(stock_id)
    assert held["coupon_code_count"] == {"total_count": 3, "available_count": 3}
    await refused(pay.client.upload_codes(stock_id, [f"X{i}" for i in range(201)], "u-3"))
    plain = (await pay.client.create_stock(stock("n-2"))).stock_id
    assert "coupon_code_mode" in await refused(pay.client.upload_codes(plain, ["A"], "u-4"))


# ---------------------------------------------------------------- state, signatures, faults


async def test_stocks_and_issued_counts_are_kept_in_the_account_file(tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    first = Emulated(create_app(EmulatorConfig(data_file=data)))
    async with first.http:
        stock_id = (await first.client.create_stock(stock("n-1"))).stock_id
        await first.control("issue", stock_id=stock_id, count=3)
        await first.control("state", stock_id=stock_id, state="PAUSED")
    second = Emulated(create_app(EmulatorConfig(data_file=data)))
    async with second.http:
        held = await second.client.get_stock(stock_id)
        assert (held["stock_state"], held["send_count_information"]["total_send_num"]) == ("PAUSED", 3)
        assert "n-1" in await refused(second.client.create_stock(stock("n-1")))


async def test_a_request_signed_with_another_key_is_answered_401(pay: Emulated) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = PayCredentials(
        DEMO_MCHID, CREDENTIALS.cert_serial, other, CREDENTIALS.public_key, CREDENTIALS.public_key_id
    )
    emulated = Emulated(pay.app, forged)
    async with emulated.http:
        await refused(emulated.client.create_stock(stock("n-1")), 401, "SIGN_ERROR")
    assert await pay.stocks() == []


class Tampering(httpx.AsyncBaseTransport):
    """Between the client and the emulator: changes each answer's body after WeChat Pay signed it."""

    def __init__(self, inner: httpx.AsyncBaseTransport, change: Callable[[httpx.Response, bytes], httpx.Response]):
        self.inner = inner
        self.change = change

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        return self.change(response, await response.aread())


def _other_body(response: httpx.Response, body: bytes) -> httpx.Response:
    forged = json.dumps({**json.loads(body), "max_coupons": 999999}).encode() if body else b"{}"
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
    return httpx.Response(response.status_code, headers=headers, content=forged)


def _unsigned(response: httpx.Response, body: bytes) -> httpx.Response:
    headers = [(k, v) for k, v in response.headers.items() if not k.lower().startswith("wechatpay-")]
    return httpx.Response(response.status_code, headers=headers, content=body)


@pytest.mark.parametrize("change", [_other_body, _unsigned])
async def test_an_answer_that_fails_verification_is_not_believed(pay: Emulated, change: Any) -> None:
    stock_id = (await pay.client.create_stock(stock("n-1"))).stock_id
    emulated = Emulated(pay.app, transport=Tampering(_transport(pay.app), change))
    async with emulated.http:
        with pytest.raises(UncertainOutcome, match="not believed"):
            await emulated.client.modify_budget(stock_id, BudgetChange("max_coupons", 100, 200, "b-1"))
        with pytest.raises(NetworkError, match="not believed"):
            await emulated.client.get_stock(stock_id)


async def test_a_dropped_create_answer_is_uncertain_and_the_stock_exists_once(tmp_path: Path) -> None:
    emulated = Emulated(create_app(EmulatorConfig(faults="drop=1")))
    async with emulated.http:
        with pytest.raises(UncertainOutcome):
            await emulated.client.create_stock(stock("n-1"))
        assert len(await emulated.stocks()) == 1


async def test_an_injected_error_is_a_signed_500_system_error_and_changes_nothing() -> None:
    emulated = Emulated(create_app(EmulatorConfig(faults="error=-1:1")))
    async with emulated.http:
        with pytest.raises(UncertainOutcome, match="SYSTEM_ERROR"):
            await emulated.client.create_stock(stock("n-1"))
        assert await emulated.stocks() == []
