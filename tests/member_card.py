"""A member card with every field of the member-card API, as another client (wechatpy's `card.create`, which posts
the body as it is given) sends it to card/create: the create document's example, filled in
(docs/wechat/member-cards.md)."""

from __future__ import annotations

import copy
from typing import Any

LOGO = "http://mmbiz.qpic.cn/mmbiz/iaL1LJM1mF9aRKPZJkmG8xXhiaHqkKSVMMWeN3hLut7X7hicFNjakmxibMLGWpXrEXB33367o7zHN0CwngnQY7zb7g/0"
BACKGROUND = "http://mmbiz.qpic.cn/mmbiz_png/background/0"
MINI_PROGRAM = "gh_86a091e50ad4@app"

MEMBER_BODY: dict[str, Any] = {
    "background_pic_url": BACKGROUND,
    "base_info": {
        "logo_url": LOGO,
        "brand_name": "山丘咖啡",
        "code_type": "CODE_TYPE_QRCODE",
        "title": "山丘咖啡会员卡",
        "color": "Color082",
        "notice": "买单时请出示会员卡",
        "description": "会员凭卡享专属优惠",
        "date_info": {"type": "DATE_TYPE_PERMANENT"},
        "sku": {"quantity": 1000},
        "get_limit": 1,
        "use_custom_code": False,
        "can_give_friend": False,
        "need_push_on_view": True,
        "service_phone": "020-88888888",
    },
    "supply_bonus": True,
    "supply_balance": False,
    "prerogative": "会员每月可领取一张免费升杯券",
    "auto_activate": True,
    "bonus_cleared": "每年12月31日清零",
    "bonus_rules": "每消费1元积1分",
    "bonus_url": "https://example.com/bonus",
    "bonus_app_brand_user_name": MINI_PROGRAM,
    "bonus_app_brand_pass": "pages/bonus/index",
    "balance_url": "https://example.com/balance",
    "balance_app_brand_user_name": MINI_PROGRAM,
    "balance_app_brand_pass": "pages/balance/index",
    "activate_url": "https://example.com/activate",
    "activate_app_brand_user_name": MINI_PROGRAM,
    "activate_app_brand_pass": "pages/activate/index",
    "custom_field1": {"name_type": "FIELD_NAME_TYPE_LEVEL", "url": "https://example.com/level"},
    "custom_field2": {"name": "优惠券", "url": "https://example.com/coupons"},
    "custom_field3": {
        "name_type": "FIELD_NAME_TYPE_STAMP",
        "url": "https://example.com/stamps",
        "app_brand_user_name": MINI_PROGRAM,
        "app_brand_pass": "pages/stamps/index",
    },
    "custom_cell1": {
        "name": "使用入口2",
        "tips": "激活后显示",
        "url": "https://example.com/cell",
        "app_brand_user_name": MINI_PROGRAM,
        "app_brand_pass": "pages/cell/index",
    },
    "bonus_rule": {
        "cost_money_unit": 100,
        "increase_bonus": 1,
        "max_increase_bonus": 200,
        "init_increase_bonus": 10,
        "cost_bonus_unit": 5,
        "reduce_money": 100,
        "least_money_to_use_bonus": 1000,
        "max_reduce_bonus": 50,
    },
    "discount": 10,
}


def member_card(**fields: Any) -> dict[str, Any]:
    """card/create's body for the full member card, with `fields` beside base_info replaced (None: left out)."""
    body = copy.deepcopy(MEMBER_BODY) | fields
    return {"card": {"card_type": "MEMBER_CARD", "member_card": {k: v for k, v in body.items() if v is not None}}}
