"""The busifavor paths of WeChat Pay API v3 (docs/wechat-pay/busifavor.md §1), served beside the card API.

Order on every call: the signature (401 SIGN_ERROR), the path and method (404 NOT_FOUND), the body (400
PARAM_ERROR), then the endpoint's rules. Every answer, errors included, is signed with the platform key. Faults are
the card API's (faults.py): latency, injected errors (here answered 500 SYSTEM_ERROR, or 429 FREQUENCY_LIMITED for
the rate and quota limits), HTTP 5xx pages, resets and dropped answers of committed changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from .. import errors as e
from ..faults import ApiCall
from ..model import JSON
from ..service import Emulator
from . import rules
from .book import Merchant, Stock, make_stock_id, rfc3339
from .errors import FREQUENCY_LIMITED, NOT_FOUND, PARAM_ERROR, SYSTEM_ERROR, PayApiError, invalid
from .signing import answer_headers, authorize

PREFIX = "/v3/"
STOCKS = "/v3/marketing/busifavor/stocks"
_STOCK_PATH = re.compile(r"/v3/marketing/busifavor/stocks/([^/]+)(/budget|/couponcodes)?")
# Shown in the query's display_pattern_info.merchant_name, which WeChat Pay fills from the merchant's short name.
MERCHANT_NAME = "wxrec演示商户"


@dataclass
class PayCall:
    emu: Emulator
    merchant: Merchant
    mchid: str
    body: JSON
    now: float


Handler = Callable[[PayCall, str], tuple[int, JSON | None]]


async def dispatch(request: Request) -> Response:
    emu: Emulator = request.app.state.emulator
    path = request.url.path
    with emu.transaction():
        call = emu.faults.begin(path, faultable=True)
    await emu.faults.delay(call)
    raw = await request.body()
    status, answer = 200, None
    with emu.transaction():
        try:
            url = path + (f"?{request.url.query}" if request.url.query else "")
            header = request.headers.get("Authorization", "")
            mchid = authorize(header, request.method, url, raw, _wall(emu), emu.config.merchants)
            call.appid = mchid
            handler, stock_id = _route(request.method, path)
            if _before_call(emu, call):
                call.body = _body(request.method, raw)
                revision = emu.store.revision
                merchant = emu.store.pay.merchant(mchid)
                status, answer = handler(PayCall(emu, merchant, mchid, call.body, emu.store.now()), stock_id)
                call.committed = emu.store.revision != revision
        except PayApiError as err:
            status, answer = err.status, err.body()
        finally:
            # The card API's log and drop decision: errcode 0 stands for a 2xx answer.
            emu.faults.after_call(call, {"errcode": e.OK if status < 300 else answer and answer.get("code")})
    if call.fault is not None and call.fault != "error":
        return emu.faults.response(call, None)
    return _signed(status, answer, _wall(emu))


def _before_call(emu: Emulator, call: ApiCall) -> bool:
    """The card API's fault draw, its errcodes said as WeChat Pay would say them."""
    try:
        return emu.faults.before_call(call)
    except e.ApiError as err:
        if err.errcode in (e.DAILY_QUOTA, e.MINUTE_QUOTA):
            raise PayApiError(FREQUENCY_LIMITED, "请求频率超过限制") from None
        raise PayApiError(SYSTEM_ERROR, "系统错误，请使用相同参数稍后重试") from None


def _wall(emu: Emulator) -> float:
    """The time signatures are checked and stamped with: the emulator's clock less its offset. The offset stands
    for days passing in business (validity, budgets per day); signatures compare two machines' real clocks."""
    return emu.store.now() - emu.store.clock.offset


def _signed(status: int, answer: JSON | None, now: float) -> Response:
    body = b"" if answer is None else json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {**answer_headers(body, now), "Request-ID": f"wxrec-{int(now)}"}
    media = None if answer is None else "application/json"
    return Response(body, status_code=status, headers=headers, media_type=media)


def _route(method: str, path: str) -> tuple[Handler, str]:
    if path == STOCKS:
        routes: Mapping[str, Handler] = {"POST": create}
        stock_id = ""
    else:
        match = _STOCK_PATH.fullmatch(path)
        if match is None:
            raise PayApiError(NOT_FOUND, f"请求的资源 {path} 不存在")
        stock_id, sub = match[1], match[2] or ""
        by_sub: dict[str, Mapping[str, Handler]] = {
            "": {"GET": query, "PATCH": modify},
            "/budget": {"PATCH": budget},
            "/couponcodes": {"POST": upload_codes},
        }
        routes = by_sub[sub]
    handler = routes.get(method)
    if handler is None:
        raise PayApiError(NOT_FOUND, f"请求的资源 {method} {path} 不存在")
    return handler, stock_id


def _body(method: str, raw: bytes) -> JSON:
    if method == "GET":
        return {}
    try:
        body = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError
        body = None
    if not isinstance(body, dict):
        raise PayApiError(PARAM_ERROR, "请求体不是合法的 JSON 对象")
    return body


# ---------------------------------------------------------------- the endpoints


def create(call: PayCall, _: str) -> tuple[int, JSON | None]:
    rules.check_create(call.body, call.mchid, call.now)
    merchant = call.merchant
    merchant.claim_request("stock", str(call.body["out_request_no"]), call.body)
    merchant.next_stock += 1
    stock_id = make_stock_id(call.mchid, merchant.next_stock)
    document = {k: v for k, v in call.body.items() if k != "out_request_no"}
    # Assumed: a stock runs at once (the UNAUDIT state exists, but no review rule for merchant coupons was found);
    # `/_emulator/pay/state` moves it to any state.
    merchant.stocks[stock_id] = Stock(stock_id, document, "RUNNING", rfc3339(call.now))
    call.emu.store.dirty = True
    return 200, {"stock_id": stock_id, "create_time": merchant.stocks[stock_id].create_time}


def query(call: PayCall, stock_id: str) -> tuple[int, JSON | None]:
    return 200, call.merchant.stock(stock_id).query(call.now, MERCHANT_NAME)


def modify(call: PayCall, stock_id: str) -> tuple[int, JSON | None]:
    stock = call.merchant.stock(stock_id)
    rules.check_modify(call.body, stock.document)
    call.merchant.claim_request("stock", str(call.body["out_request_no"]), call.body)
    stock.document = rules.merge(stock.document, call.body)
    call.emu.store.dirty = True
    return 204, None


def budget(call: PayCall, stock_id: str) -> tuple[int, JSON | None]:
    stock = call.merchant.stock(stock_id)
    dimension, target, current = rules.check_budget(call.body)
    send_rule = stock.document["stock_send_rule"]
    held = send_rule.get(dimension)
    if current is not None and current != held:
        # The compare-and-swap (§5: current_max_coupons is the stock's current maximum); the answer is assumed.
        raise invalid(f"current_{dimension}", f"与批次当前值 {held} 不一致", current)
    issued = stock.total_send if dimension == "max_coupons" else stock.today(call.now)
    if target < issued:  # assumed: a maximum below what was issued is refused
        raise invalid(f"target_{dimension}", f"不能低于已发放数量 {issued}", target)
    ceiling = send_rule["max_coupons"] if dimension == "max_coupons_by_day" else rules.MAX_COUPONS
    by_day = send_rule.get("max_coupons_by_day")
    if target > ceiling or (dimension == "max_coupons" and by_day is not None and target < by_day):  # assumed
        raise invalid(f"target_{dimension}", "单天发放上限不能超过批次最大发放个数", target)
    call.merchant.claim_request("budget", str(call.body["modify_budget_request_no"]), call.body)
    send_rule[dimension] = target
    call.emu.store.dirty = True
    return 200, {"max_coupons": send_rule["max_coupons"], "max_coupons_by_day": send_rule.get("max_coupons_by_day")}


def upload_codes(call: PayCall, stock_id: str) -> tuple[int, JSON | None]:
    stock = call.merchant.stock(stock_id)
    if stock.document.get("coupon_code_mode") != "MERCHANT_UPLOAD":  # §6: MERCHANT_UPLOAD stocks only
        raise invalid("coupon_code_mode", "仅 MERCHANT_UPLOAD 模式的批次可上传券code")
    codes = rules.check_codes(call.body)
    call.merchant.claim_request("codes", str(call.body["upload_request_no"]), call.body)
    held, seen = set(stock.codes), set[str]()
    success: list[str] = []
    exist: list[str] = []
    duplicate: list[str] = []
    failed: list[JSON] = []
    for code in codes:
        problem = rules.code_problem(code)
        if problem is not None:
            failed.append({"coupon_code": str(code), "code": "PARAM_ERROR", "message": problem})
        elif code in seen:
            duplicate.append(code)
        elif code in held:
            exist.append(code)
        else:
            success.append(code)
        seen.add(str(code))
    stock.codes.extend(success)
    call.emu.store.dirty = True
    answer: JSON = {
        "stock_id": stock_id,
        "total_count": len(seen),
        "success_count": len(success),
        "success_codes": success,
        "success_time": rfc3339(call.now),
        "fail_count": len(failed),
        "fail_codes": failed,
        "exist_codes": exist,
        "duplicate_codes": duplicate,
    }
    return 200, answer
