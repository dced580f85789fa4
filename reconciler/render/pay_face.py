"""A WeChat Pay merchant coupon as the card pack shows it: the merchant, the rule in large type (满X减Y, a discount,
an exchange price), the stock and goods names, the validity, and the stock's budget and state. Drawn with the card
face (card_face.Face), so the report has one look for both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from reconciler.i18n import _
from reconciler.render.card_face import COLOUR_NAMES, Face, colour_hex, differing_parts, text_colour_on
from reconciler.resources.pay_coupons.model import STATES

STOCK_TYPES = {"NORMAL": "满减券", "DISCOUNT": "折扣券", "EXCHANGE": "换购券"}
# The coupon pack's green when the stock sets no background_color.
DEFAULT_COLOUR = "Color010"


def pay_faces(change: Mapping[str, Any]) -> tuple[Face | None, Face | None]:
    """The coupon before (as WeChat Pay holds it) and after (as create or modify sends it), each part that differs
    marked on both."""
    before, after = change.get("before") or {}, change.get("after") or {}
    old = pay_face(before["stock"], before.get("state"), before.get("issued")) if "stock" in before else None
    new = None
    if "stock" in after:
        stock = {**before.get("stock", {}), **after["stock"]} if old else after["stock"]
        new = pay_face(stock, before.get("state") if old else None, before.get("issued"))
    if old is None or new is None:
        return old, new
    changed = differing_parts(old, new)
    return replace(old, changed=changed), replace(new, changed=changed)


def pay_face(stock: Mapping[str, Any], state: str | None, issued: int | None) -> Face:
    display = stock.get("display_pattern_info") or {}
    colour = display.get("background_color") or DEFAULT_COLOUR
    background = colour_hex(colour, {})
    merchant = str(display.get("merchant_name") or stock.get("belong_merchant") or "")
    rules = stock.get("send_rule") or stock.get("stock_send_rule") or {}
    return Face(
        card_type=f"商家券 · {STOCK_TYPES.get(str(stock.get('stock_type')), str(stock.get('stock_type')))}",
        colour_name=_(COLOUR_NAMES[colour]) if colour in COLOUR_NAMES else str(colour),
        background=background,
        foreground=text_colour_on(background),
        logo=None,
        initial=merchant[:1] or "¥",
        brand=merchant,
        title=rule_text(stock.get("coupon_use_rule") or {}),
        sub_title=" · ".join(str(stock[k]) for k in ("stock_name", "goods_name") if stock.get(k)),
        validity=_validity(stock.get("coupon_use_rule") or {}),
        code=str(stock.get("coupon_code_mode") or ""),
        notice=_state(state),
        stock=_budget(rules.get("max_coupons"), issued),
        claimable=rules.get("max_coupons"),
    )


def _yuan(fen: Any) -> str:
    """Fen as yuan, without a trailing .00: 500 → 5, 1250 → 12.5."""
    return f"{int(fen) / 100:.2f}".rstrip("0").rstrip(".") if isinstance(fen, int) else "?"


def rule_text(rule: Mapping[str, Any]) -> str:
    """The rule as the coupon says it (in Chinese 满30减5, 满10享8.8折, 满20加9.9元换购): every language's wording has
    all the figures, so each picks the ones it says."""
    if fixed := rule.get("fixed_normal_coupon"):
        return _("¥{amount} off over ¥{minimum}").format(
            amount=_yuan(fixed.get("discount_amount")), minimum=_yuan(fixed.get("transaction_minimum"))
        )
    if discount := rule.get("discount_coupon"):
        percent = discount.get("discount_percent")
        paid = f"{percent / 10:g}" if isinstance(percent, int) else "?"  # 88 → 8.8 (折)
        return _("{off} percent off over ¥{minimum} ({paid}折)").format(
            off=100 - percent if isinstance(percent, int) else "?",
            paid=paid,
            minimum=_yuan(discount.get("transaction_minimum")),
        )
    if exchange := rule.get("exchange_coupon"):
        return _("buy for ¥{price} over ¥{minimum}").format(
            price=_yuan(exchange.get("exchange_price")), minimum=_yuan(exchange.get("transaction_minimum"))
        )
    return ""


def _validity(rule: Mapping[str, Any]) -> str:
    times = rule.get("coupon_available_time") or {}
    begin, end = str(times.get("available_begin_time", ""))[:10], str(times.get("available_end_time", ""))[:10]
    return _("valid {begin} – {end}").format(begin=begin, end=end) if begin and end else ""


def _state(state: str | None) -> str:
    if not state:
        return _("New stock")
    return _("Stock {state}").format(state=_(STATES[state]) if state in STATES else state)


def _budget(maximum: Any, issued: int | None) -> str:
    if issued is None:
        return _("up to {maximum} coupons").format(maximum=maximum)
    return _("{issued} of {maximum} coupons issued").format(issued=issued, maximum=maximum)
