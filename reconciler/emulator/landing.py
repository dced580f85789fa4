"""card/landingpage/create: a card shelf page (货架), write-only: no get, list or delete exists.

Sources: WeChat's card delivery document (投放卡券) (fields, all required; the scene list; "目前卡券货架仅支持
非自定义code的卡券，自定义code的卡券需先调用导入code接口将code导入") and the real answer in tianye/WechatMpSDK's README:

    {"url": "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx3be6367203f983ac&redirect_uri=
     https%3A%2F%2Fmp.weixin.qq.com%2Fbizmall%2Fcardlandingpage%3Fbiz%3DMzA5NTIxNjc1OA%3D%3D%26page_id%3D7
     %26scene%3D1&response_type=code&scope=snsapi_base#wechat_redirect", "page_id": 7}

So: page ids count up per account from 1; ``biz`` is the base64 of the account's number
(MzA5NTIxNjc1OA== is "3095216758"; the emulator derives a ten-digit number from seed and appid);
``scene`` is the scene's position in the documented list, from 1 (SCENE_NEAR_BY is 1).

Readings (strictest): an unknown scene is 40129 ``invalid scene``; an empty card_list is
41011; a custom-code card is refused (40097) unless it is in the deposit mode with at least one
deposited code; each call makes a new page, even for the same body. Cards in review may be
put on a page (nothing documents otherwise). GET /_emulator/landing_pages lists the pages.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final
from urllib.parse import quote

from . import errors as e
from .assets import LandingPage
from .model import JSON
from .params import assets_of, is_custom_code_card, is_deposit_card, live_card, text
from .routing import Call, Endpoint, Routes, ok

SCENES: Final = (
    "SCENE_NEAR_BY",
    "SCENE_MENU",
    "SCENE_QRCODE",
    "SCENE_ARTICLE",
    "SCENE_H5",
    "SCENE_IVR",
    "SCENE_CARD_CUSTOM_CELL",
)


def biz(seed: int, appid: str) -> str:
    """The account's ``__biz``: base64 of a ten-digit account number (like MzA5NTIxNjc1OA==)."""
    digest = hashlib.sha256(f"biz:{seed}:{appid}".encode()).digest()
    number = 3_000_000_000 + int.from_bytes(digest[:4], "big") % 1_000_000_000
    return base64.b64encode(str(number).encode()).decode()


def page_url(seed: int, appid: str, page_id: int, scene: str) -> str:
    inner = (
        f"https://mp.weixin.qq.com/bizmall/cardlandingpage?biz={biz(seed, appid)}"
        f"&page_id={page_id}&scene={SCENES.index(scene) + 1}"
    )
    return (
        f"https://open.weixin.qq.com/connect/oauth2/authorize?appid={appid}"
        f"&redirect_uri={quote(inner, safe='')}&response_type=code&scope=snsapi_base#wechat_redirect"
    )


def _card_list(call: Call) -> list[JSON]:
    raw = call.body.get("card_list")
    if raw is None or raw == []:
        raise e.ApiError(e.MISSING_FIELDS, "card_list")
    if not isinstance(raw, list):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "card_list")
    items: list[JSON] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise e.ApiError(e.DATA_FORMAT_ERROR, f"card_list[{i}]")
        card = live_card(call, item.get("card_id"))
        thumb_url = text(item.get("thumb_url"), f"card_list[{i}].thumb_url")
        if is_custom_code_card(card) and not (is_deposit_card(card) and assets_of(call).deposits.get(card.card_id)):
            raise e.ApiError(e.INVALID_ARGS, f"card_list[{i}]: a custom code card needs deposited codes")
        items.append({"card_id": card.card_id, "thumb_url": thumb_url})
    return items


def create_landing_page(call: Call) -> JSON:
    body = call.body
    banner = text(body.get("banner"), "banner")
    page_title = text(body.get("page_title"), "page_title")
    can_share = body.get("can_share")
    if can_share is None:
        raise e.ApiError(e.MISSING_FIELDS, "can_share")
    if not isinstance(can_share, bool):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "can_share")
    scene = text(body.get("scene"), "scene")
    if scene not in SCENES:
        raise e.ApiError(e.INVALID_SCENE, "scene")
    card_list = _card_list(call)
    account = assets_of(call)
    page_id = len(account.landing_pages) + 1
    url = page_url(call.emu.store.seed, call.appid, page_id, scene)
    now = int(call.emu.store.now())
    account.landing_pages.append(LandingPage(page_id, url, banner, page_title, can_share, scene, card_list, now))
    call.emu.store.dirty = True
    return ok(url=url, page_id=page_id)


ROUTES: Routes = {
    "/card/landingpage/create": Endpoint("POST", create_landing_page),
}
