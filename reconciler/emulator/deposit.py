"""Custom code deposit: card/code/deposit, card/code/getdepositcount, card/code/checkcode,
and the cap that deposited codes put on card/modifystock.

Sources: WeChat's card delivery document (投放卡券) (4.1: "单次调用接口传入code的数量上限为100个", "每一个 code
均不能为空串", "重复导入的code会自动被过滤", the create → review → deposit → modifystock workflow,
"须令卡券库存小于或等于导入code的数目"), the real answers in tianye/WechatMpSDK's README (succ_code / duplicate_code /
fail_code as arrays, though the table says counts), and the official errcode table (40109 more
than 100 codes, 40110 an empty code, 40111 the same code twice, 40136 deposit mode and stock).

Readings (strictest):
- The three endpoints need a custom-code card (else 40097): in the deposit mode, or not yet, as 4.1
  非新创建卡券 deposits into an existing custom-code card first ("调用导入code接口导入一定量的自定义code"), then
  switches it with card/update ("填入get_custom_code_mode字段"), then sets the stock to the codes.
- card/update sending get_custom_code_mode checks the card's stock against its deposited codes:
  "创建/更新填入get_custom_code_mode时,须检查库存数与已经导入code数目的关系,当导入code的数目小于库存数时,会报错"
  (40136, the official code for the deposit mode and stock). The stock checked is ``quantity``, what
  is left to hand out.
- deposit needs an approved card ("在自定义code卡券成功创建并且通过审核后"): 40078 otherwise.
- A code sent twice in one call is 40111; an empty one 40110 (nothing is deposited).
- fail_code holds codes no card could use: longer than 20 bytes (codes are string(20) in every
  card API) or holding whitespace or control characters.
- modifystock may never make ``total_quantity`` exceed the deposited codes (40136): claims lower
  ``quantity`` only, so this is "quantity ≤ deposited codes not yet handed out".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from . import errors as e
from .assets import CodeBox
from .model import DISPATCH, JSON, VERIFY_OK, Card
from .params import assets_of, is_custom_code_card, is_deposit_card, live_card, size
from .routing import Call, Endpoint, Routes, ok

if TYPE_CHECKING:
    from .store import Store

MAX_CODES_PER_CALL: Final = 100
MAX_CODE_BYTES: Final = 20


def _deposit_card(call: Call) -> Card:
    card = live_card(call, call.body.get("card_id"))
    if not is_custom_code_card(card):
        raise e.ApiError(e.INVALID_ARGS, "card_id: not a custom code card (use_custom_code)")
    return card


def _codes(call: Call) -> list[str]:
    raw = call.body.get("code")
    if raw is None or raw == []:
        raise e.ApiError(e.MISSING_FIELDS, "code")
    if not isinstance(raw, list) or not all(isinstance(code, str) for code in raw):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "code")
    if len(raw) > MAX_CODES_PER_CALL:
        raise e.ApiError(e.TOO_MANY_CODES)
    if any(code == "" for code in raw):
        raise e.ApiError(e.EMPTY_CODE)
    return raw


def usable(code: str) -> bool:
    return size(code) <= MAX_CODE_BYTES and code.isprintable() and not any(c.isspace() for c in code)


def deposit(call: Call) -> JSON:
    card = _deposit_card(call)
    codes = _codes(call)
    if card.status not in (VERIFY_OK, DISPATCH):
        raise e.ApiError(e.INVALID_CARD_STATUS, f"{card.status}: codes are deposited once the card is approved")
    if len(set(codes)) != len(codes):
        raise e.ApiError(e.SAME_CODE)
    box = assets_of(call).deposits.setdefault(card.card_id, CodeBox())
    succ: list[str] = []
    duplicate: list[str] = []
    fail: list[str] = []
    for code in codes:
        if not usable(code):
            fail.append(code)
        elif code in box.codes:
            duplicate.append(code)
        else:
            succ.append(code)
    if succ:
        box.add(succ)
        call.emu.store.dirty = True
    return ok(succ_code=succ, duplicate_code=duplicate, fail_code=fail)


def get_deposit_count(call: Call) -> JSON:
    card = _deposit_card(call)
    box = assets_of(call).deposits.get(card.card_id)
    return ok(count=len(box) if box else 0)


def check_code(call: Call) -> JSON:
    card = _deposit_card(call)
    codes = _codes(call)
    box = assets_of(call).deposits.get(card.card_id)
    known = box.codes if box else set()
    return ok(exist_code=[c for c in codes if c in known], not_exist_code=[c for c in codes if c not in known])


def deposited(store: Store, appid: str, card: Card) -> int:
    box = store.assets.account(appid).deposits.get(card.card_id)
    return len(box) if box else 0


def check_stock(store: Store, appid: str, card: Card, delta: int) -> None:
    """card/modifystock on a deposit-mode card: total stock never above the deposited codes (40136)."""
    if delta > 0 and is_deposit_card(card) and card.total_quantity + delta > deposited(store, appid, card):
        raise e.ApiError(e.DEPOSIT_STOCK, f"{deposited(store, appid, card)} codes deposited")


def check_deposit_mode(store: Store, appid: str, card: Card) -> None:
    """card/update switching to (or restating) the deposit mode: the stock left must be codes deposited (40136)."""
    if card.quantity > deposited(store, appid, card):
        raise e.ApiError(e.DEPOSIT_STOCK, f"{deposited(store, appid, card)} codes deposited, stock {card.quantity}")


ROUTES: Routes = {
    "/card/code/deposit": Endpoint("POST", deposit),
    "/card/code/getdepositcount": Endpoint("POST", get_deposit_count),
    "/card/code/checkcode": Endpoint("POST", check_code),
}
