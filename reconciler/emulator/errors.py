"""WeChat's errcodes and errmsgs, as the emulator sends them.

Real errmsgs carry a request id after ``hint:`` and sometimes a detail after that, e.g.
``missing required fields! please check document and request json! hint: [DbUV3a0983ent1]
m_data.base_info().title``; today every error errmsg also ends with `` rid: `` and a request id of
three groups of 8 hex digits, the first the request's Unix time (``invalid credential, access_token
is invalid or not latest rid: 630ecbee-28894bea-0ee8d49c``, wangxinleo/wechat-public-account-push#66,
2022-08-31 = 0x630ecbee; ``invalid media_id hint: [ewMEwa07870022] rid: 6394275b-0a927d64-355f7cd0`` in
the developer community). Clients must match on errcode, never on the text.
"""

from __future__ import annotations

import hashlib
from typing import Any

SYSTEM_ERROR = -1
OK = 0
INVALID_CREDENTIAL = 40001
INVALID_GRANT_TYPE = 40002
INVALID_APPID = 40013
INVALID_FILE_TYPE = 40005
INVALID_IMAGE_SIZE = 40009
INVALID_CARD_TYPE = 40071
INVALID_CODE_TYPE = 40072
INVALID_CARD_ID = 40073
INVALID_CARD_STATUS = 40078
INVALID_TIME = 40079
INVALID_ARGS = 40097
INVALID_TIME_RANGE = 40100
INVALID_STOCK = 40122
INVALID_APPSECRET = 40125
IP_NOT_WHITELISTED = 40164
INVALID_IMAGE_URL = 40141
ACCESS_TOKEN_MISSING = 41001
APPID_MISSING = 41002
APPSECRET_MISSING = 41004
MEDIA_DATA_MISSING = 41005
MISSING_FIELDS = 41011
MISSING_CARD_ID = 41012
ACCESS_TOKEN_EXPIRED = 42001
REQUIRE_GET = 43001
REQUIRE_POST = 43002
REQUIRE_LOCATION = 43017
EMPTY_POST_DATA = 44002
DAILY_QUOTA = 45009
MINUTE_QUOTA = 45011
FIELD_TOO_LONG = 45021
DATA_FORMAT_ERROR = 47001
API_UNAUTHORIZED = 48001
WEB_LINK_REFUSED = 73211
IP_NEEDS_CONFIRMATION = 89503

ERRMSG: dict[int, str] = {
    SYSTEM_ERROR: "system error",
    OK: "ok",
    INVALID_CREDENTIAL: "invalid credential, access_token is invalid or not latest",
    INVALID_GRANT_TYPE: "invalid grant_type",
    INVALID_APPID: "invalid appid",
    # media/uploadimg (docs/wechat-today.md, images): 40009 is the document's own example of a refusal; 41005 a
    # real answer to an upload without a file (developer community); 40005 the global table's code for a file
    # type the API does not take (assumed for uploadimg: no source shows it answering a GIF).
    INVALID_FILE_TYPE: "invalid file type",
    INVALID_IMAGE_SIZE: "invalid image size",
    MEDIA_DATA_MISSING: "media data missing",
    # card/create given a background_pic_url hosted elsewhere than uploadimg's CDN: a real answer in the
    # developer community (developers.weixin.qq.com/community/minihome/doc/00004a733d0508e48d033b63e66400).
    INVALID_IMAGE_URL: "invalid image url",
    INVALID_CARD_TYPE: "invalid card type",
    INVALID_CODE_TYPE: "invalid code type",
    INVALID_CARD_ID: "invalid card id",
    INVALID_CARD_STATUS: "invalid card status",
    INVALID_TIME: "invalid time",
    INVALID_ARGS: "invalid args",
    INVALID_TIME_RANGE: "invalid time range",
    INVALID_STOCK: "invalid stock",
    # A wrong secret (older SDK notes say 40001; Senparc's SDK added 40125 in 2017, JeffreySu/WeiXinMPSDK#450):
    # real answers "invalid appsecret rid: …" in DokiYoloo/CareUEveryDay#15, n8n-nodes-wechat-offiaccount#2.
    INVALID_APPSECRET: "invalid appsecret",
    # The caller's IP is not in the account's IP whitelist. The real errmsg names the address ("invalid ip
    # 101.45.43.1 ipv6 ::ffff:101.45.43.1, not in whitelist", overtrue/laravel-wechat#367); WxJava's table omits it.
    IP_NOT_WHITELISTED: "invalid ip, not in whitelist",
    ACCESS_TOKEN_MISSING: "access_token missing",
    APPID_MISSING: "appid missing",
    APPSECRET_MISSING: "appsecret missing",
    MISSING_FIELDS: "missing required fields! please check document and request json!",
    MISSING_CARD_ID: "missing card id",
    ACCESS_TOKEN_EXPIRED: "access_token expired",
    REQUIRE_GET: "require GET method",
    REQUIRE_POST: "require POST method",
    # card/paycell/set on a card without stores: the real answer in tianye/WechatMpSDK's README.
    REQUIRE_LOCATION: "require location id!",
    EMPTY_POST_DATA: "empty post data",
    DAILY_QUOTA: "reach max api daily quota limit",
    MINUTE_QUOTA: "api minute-quota reach limit mustslower retry next minute",
    FIELD_TOO_LONG: "field length too long",
    DATA_FORMAT_ERROR: "data format error",
    API_UNAUTHORIZED: "api unauthorized",
    # card/create and card/update given center_url, custom_url or promotion_url since about 2019: the global
    # errcode table, and the real answer in blog.csdn.net/baidu_28068985/article/details/103452328.
    WEB_LINK_REFUSED: "不再支持配置网页链接跳转，请选择小程序替代",
    # An administrator must confirm calls from this IP: the English of the official errcode table.
    IP_NEEDS_CONFIRMATION: "this IP call requires administrator confirmation",
}

# Menus, QR codes, landing pages, the test whitelist, code deposit. Errmsgs: the English
# half of the official global errcode table (as WxJava's WxMpErrorMsgEnum copies it) and
# the real answers in tianye/WechatMpSDK's README (46003, 40053).
MENU_BUTTON_SIZE = 40016
MENU_BUTTON_TYPE = 40017
MENU_NAME_SIZE = 40018
MENU_KEY_SIZE = 40019
MENU_URL_SIZE = 40020
MENU_SUB_LEVEL = 40022
MENU_SUB_BUTTON_SIZE = 40023
MENU_SUB_TYPE = 40024
MENU_SUB_NAME_SIZE = 40025
MENU_SUB_KEY_SIZE = 40026
MENU_SUB_URL_SIZE = 40027
INVALID_ACTION_NAME = 40052
INVALID_ACTION_INFO = 40053
TOO_MANY_CODES = 40109
EMPTY_CODE = 40110
SAME_CODE = 40111
INVALID_CODE = 40116
MENU_MEDIA_ID_SIZE = 40117
MENU_SUB_MEDIA_ID_SIZE = 40118
INVALID_SCENE = 40129
DEPOSIT_STOCK = 40136
INVALID_WEAPP_PAGEPATH = 40165
INVALID_WEAPP_APPID = 40166
MISSING_OPENID = 41009
MISSING_CODE = 41013
QRCODE_COUNT_LIMIT = 45029
STOCK_OUT = 45031
CARD_LIST_SIZE = 45039
INVALID_TAG_ID = 45159
INVALID_OPENID = 40003
TAG_COUNT_LIMIT = 45056
TAG_TOO_MANY_FANS = 45057
RESERVED_TAG = 45058
FAN_TAG_LIMIT = 45059
INVALID_TAG_NAME = 45157
TAG_NAME_TOO_LONG = 45158
NO_SUCH_USER = 65302
CONDITIONAL_MENU_LIMIT = 65305
MENU_NOT_EXIST = 46003
NOT_CONDITIONAL_MENU = 65301
NO_DEFAULT_MENU = 65303
MATCHRULE_EMPTY = 65304
MENU_DOMAIN_LIMIT = 65316
MENU_INVALID_URL = 65317
MATCHRULE_UNSUPPORTED = 65320

ERRMSG.update(
    {
        MENU_BUTTON_SIZE: "invalid button size",
        MENU_BUTTON_TYPE: "invalid button type",
        MENU_NAME_SIZE: "invalid button name size",
        MENU_KEY_SIZE: "invalid button key size",
        MENU_URL_SIZE: "invalid button url size",
        MENU_SUB_LEVEL: "invalid sub_menu level",
        MENU_SUB_BUTTON_SIZE: "invalid sub button size",
        MENU_SUB_TYPE: "invalid sub button type",
        MENU_SUB_NAME_SIZE: "invalid sub button name size",
        MENU_SUB_KEY_SIZE: "invalid sub button key size",
        MENU_SUB_URL_SIZE: "invalid sub button url size",
        INVALID_ACTION_NAME: "invalid action name",
        INVALID_ACTION_INFO: "invalid action info, please check document",
        TOO_MANY_CODES: "too many code size, must <= 100",
        EMPTY_CODE: "have empty code",
        SAME_CODE: "have same code",
        INVALID_CODE: "invalid code",
        MENU_MEDIA_ID_SIZE: "invalid button media_id size",
        MENU_SUB_MEDIA_ID_SIZE: "invalid sub button media_id size",
        INVALID_SCENE: "invalid scene",
        DEPOSIT_STOCK: "invalid use DepositCodeMode, make sure sku.quantity>DepositCode.quantity",
        INVALID_WEAPP_PAGEPATH: "invalid weapp pagepath",
        INVALID_WEAPP_APPID: "invalid weapp appid",
        MISSING_OPENID: "missing openid",
        MISSING_CODE: "missing code",
        QRCODE_COUNT_LIMIT: "qrcode count out of limit",
        STOCK_OUT: "stock is out of limit",
        CARD_LIST_SIZE: "card_list_size out of limit",
        INVALID_TAG_ID: "invalid tag id",
        INVALID_OPENID: "invalid openid",
        INVALID_TAG_NAME: "invalid tag name",
        TAG_NAME_TOO_LONG: "tag name too long",
        # The next four: the Chinese of the tag document's errcode table (no English errmsg found); ours in English.
        TAG_COUNT_LIMIT: "too many tags, at most 100",
        TAG_TOO_MANY_FANS: "the tag has more than 100000 fans and cannot be deleted",
        RESERVED_TAG: "tags 0, 1 and 2 are reserved by the system",
        FAN_TAG_LIMIT: "a fan has more than 20 tags",
        NO_SUCH_USER: "no such user",
        CONDITIONAL_MENU_LIMIT: "conditional menu count limit",
        MENU_NOT_EXIST: "menu no exist",
        NOT_CONDITIONAL_MENU: "this menu is not conditionalmenu",
        NO_DEFAULT_MENU: "there is no selfmenu, please create selfmenu first",
        MATCHRULE_EMPTY: "match rule empty",
        MENU_DOMAIN_LIMIT: "domain count reach limit",
        MENU_INVALID_URL: "contain invalid url",
        # No source gives 65320's errmsg: our wording.
        MATCHRULE_UNSUPPORTED: "matchrule only supports tag_id and client_platform_type",
    }
)


class ApiError(Exception):
    """A WeChat error answer: errcode, WeChat's errmsg, and an optional detail (a field path)."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        super().__init__(f"{errcode} {ERRMSG[errcode]} {detail}".rstrip())
        self.errcode = errcode
        self.detail = detail

    def answer(self, hint: str, rid: str) -> dict[str, Any]:
        errmsg = f"{ERRMSG[self.errcode]} hint: [{hint}]"
        if self.detail:
            errmsg = f"{errmsg} {self.detail}"
        return {"errcode": self.errcode, "errmsg": f"{errmsg} rid: {rid}"}


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def make_hint(seed: int, number: int) -> str:
    """A request id shaped like WeChat's (``rScPNA0536ent2``), deterministic from seed and counter."""
    digest = hashlib.sha256(f"hint:{seed}:{number}".encode()).digest()
    letters = "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:6])
    digits = "".join(str(b % 10) for b in digest[6:10])
    return f"{letters}{digits}ent{digest[10] % 3 + 1}"


def make_rid(now: float, seed: int, number: int) -> str:
    """A request id shaped like WeChat's today (``630ecbee-28894bea-0ee8d49c``): the Unix time in hex, then
    8 + 8 hex digits, deterministic from seed and counter."""
    digest = hashlib.sha256(f"rid:{seed}:{number}".encode()).hexdigest()
    return f"{int(now) & 0xFFFFFFFF:08x}-{digest[:8]}-{digest[8:16]}"
