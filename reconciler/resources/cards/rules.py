"""What WeChat allows for cards, as the reconciler understands it from WeChat's card documents (card/create,
card/update, card/modifystock).

Paths are relative to the card's type body: `base_info.title`, `least_cost`, `base_info.date_info.end_timestamp`.
"""

from __future__ import annotations

CARD_TYPES = (
    "GROUPON",
    "CASH",
    "DISCOUNT",
    "GIFT",
    "GENERAL_COUPON",
    "MEMBER_CARD",
    "SCENIC_TICKET",
    "MOVIE_TICKET",
    "BOARDING_PASS",
    "MEETING_TICKET",
    "BUS_TICKET",
)

MEMBER_FIELDS = (
    "prerogative",
    "supply_bonus",
    "supply_balance",
    "background_pic_url",
    "bonus_cleared",
    "bonus_rules",
    "balance_rules",
    "activate_url",
    "wx_activate",
    "auto_activate",
    "need_push_on_view",
    "custom_field1",
    "custom_field2",
    "custom_field3",
    "custom_cell1",
)

# The fields beside base_info that each type may carry.
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "GROUPON": ("deal_detail",),
    "CASH": ("least_cost", "reduce_cost"),
    "DISCOUNT": ("discount",),
    "GIFT": ("gift",),
    "GENERAL_COUPON": ("default_detail",),
    "MEMBER_CARD": MEMBER_FIELDS,
    "SCENIC_TICKET": ("ticket_class", "guide_url"),
    "MOVIE_TICKET": ("detail",),
    "BOARDING_PASS": (
        "from",
        "to",
        "flight",
        "gate",
        "check_in_url",
        "air_model",
        "departure_time",
        "landing_time",
        "boarding_time",
    ),
    "MEETING_TICKET": ("meeting_detail", "map_url"),
    "BUS_TICKET": (),
}
ALL_TYPE_FIELDS = frozenset(f for fields in TYPE_FIELDS.values() for f in fields)
TIMESTAMP_FIELDS = frozenset({"departure_time", "landing_time", "boarding_time"})

# The web links WeChat refuses on card/create and card/update since about 2019, an empty value too (errcode 73211,
# "不再支持配置网页链接跳转，请选择小程序替代"), each with the mini-program pair that replaces it: docs/wechat-today.md.
WEB_LINKS: dict[str, tuple[str, str]] = {
    "center_url": ("center_app_brand_user_name", "center_app_brand_pass"),
    "custom_url": ("custom_app_brand_user_name", "custom_app_brand_pass"),
    "promotion_url": ("promotion_app_brand_user_name", "promotion_app_brand_pass"),
}
MINI_PROGRAM_FIELDS = tuple(f"base_info.{name}" for pair in WEB_LINKS.values() for name in pair)

# string(N) limits, in bytes of UTF-8 (a Chinese character is 3 bytes). code_type and color are enums:
# the docs call them string(16), yet CODE_TYPE_ONLY_QRCODE itself is 21 bytes, so no limit is applied.
BYTE_LIMITS: dict[str, int] = {
    "base_info.logo_url": 128,
    "base_info.brand_name": 36,
    "base_info.title": 27,
    "base_info.sub_title": 54,
    "base_info.notice": 48,
    "base_info.description": 3072,
    "base_info.service_phone": 24,
    "base_info.source": 36,
    "base_info.center_title": 18,
    "base_info.center_sub_title": 24,
    "base_info.custom_url_name": 15,
    "base_info.custom_url_sub_title": 18,
    "base_info.promotion_url_name": 15,
    "base_info.promotion_url_sub_title": 18,
    # The create-card table: string(128) each (assumed where it is silent: docs/wechat-today.md).
    **dict.fromkeys(MINI_PROGRAM_FIELDS, 128),
    "prerogative": 3072,
    "bonus_cleared": 3072,
    "bonus_rules": 3072,
    "balance_rules": 3072,
    "detail": 3072,
    "gate": 12,
    "guide_url": 128,
    "map_url": 128,
}

# card/update sends the card back to review when these change.
REVIEW_FIELDS = frozenset({"base_info.logo_url", "base_info.notice", "base_info.description", "base_info.color"})
TYPE_REVIEW_FIELDS: dict[str, frozenset[str]] = {
    "MEMBER_CARD": frozenset({"base_info.title", "bonus_cleared", "bonus_rules", "balance_rules", "prerogative"}),
    "MOVIE_TICKET": frozenset({"detail"}),
}

# card/update changes these without review. date_info only under the widening rule (see diff).
UPDATABLE_FIELDS = frozenset(
    {
        "base_info.service_phone",
        "base_info.location_id_list",
        "base_info.center_title",
        "base_info.center_sub_title",
        "base_info.custom_url_name",
        "base_info.custom_url_sub_title",
        "base_info.promotion_url_name",
        "base_info.promotion_url_sub_title",
        *MINI_PROGRAM_FIELDS,
        "base_info.code_type",
        "base_info.get_limit",
        "base_info.can_share",
        "base_info.can_give_friend",
        "base_info.date_info",
        # docs/wechat-today.md: the 2016-06-06 update log, and the seed's 4.1 非新创建卡券 (the switch to the deposit
        # mode needs the stock no higher than the codes deposited: see diff.emptied_stock).
        "base_info.use_all_locations",
        "base_info.get_custom_code_mode",
    }
)
TYPE_UPDATABLE_FIELDS: dict[str, frozenset[str]] = {
    "MEMBER_CARD": frozenset({"custom_field1", "custom_field2", "custom_field3", "custom_cell1"}),
    "BOARDING_PASS": frozenset({"departure_time", "landing_time", "gate", "boarding_time"}),
    "SCENIC_TICKET": frozenset({"guide_url"}),
    "MEETING_TICKET": frozenset({"map_url"}),
}

# Structured values that card/update takes whole: a change to one leaf sends the whole value.
ATOMIC_GROUPS = frozenset({"base_info.date_info", "custom_field1", "custom_field2", "custom_field3", "custom_cell1"})

# What a field returns to when the manifest stops setting it; a field not listed cannot be cleared. Never a web
# link (WeChat refuses even ""), nor a mini-program field (no source says "" clears one): docs/decisions.md.
RESET_VALUES: dict[str, object] = {
    "base_info.service_phone": "",
    "base_info.center_title": "",
    "base_info.center_sub_title": "",
    "base_info.custom_url_name": "",
    "base_info.custom_url_sub_title": "",
    "base_info.promotion_url_name": "",
    "base_info.promotion_url_sub_title": "",
    "base_info.get_limit": 50,
    "base_info.location_id_list": [],
    "base_info.use_all_locations": False,
}

FIX_TIME_RANGE = "DATE_TYPE_FIX_TIME_RANGE"
LEGACY_DATE_TYPES = {1: FIX_TIME_RANGE, 2: "DATE_TYPE_FIX_TERM"}

MAX_QUANTITY = 100_000_000


def group_of(path: str) -> str:
    """The unit card/update works on for a leaf path: its atomic group, or the path itself."""
    for group in ATOMIC_GROUPS:
        if path == group or path.startswith(group + "."):
            return group
    return path


def review_fields(card_type: str) -> frozenset[str]:
    return REVIEW_FIELDS | TYPE_REVIEW_FIELDS.get(card_type, frozenset())


def updatable_fields(card_type: str) -> frozenset[str]:
    return UPDATABLE_FIELDS | TYPE_UPDATABLE_FIELDS.get(card_type, frozenset()) | review_fields(card_type)
