"""QR codes: card codes (card/qrcode/create), account scene codes (cgi-bin/qrcode/create) and
their images (GET /cgi-bin/showqrcode, served by WeChat from mp.weixin.qq.com without a token).

Sources: WeChat's card delivery document, 投放卡券 (QR_CARD / QR_MULTIPLE_CARD, expire_seconds
60-1800, "领取多张的二维码一次最多填入5个card_id", code for custom-code cards, openid for
bind_openid cards, is_unique_code needs an approved card with stock); WeChat's account QR code
document, 生成带参数的二维码 (QR_SCENE with a 32-bit non-zero scene_id, expire_seconds ≤ 2592000
and 30 s when absent; QR_LIMIT_SCENE 1-100000, QR_LIMIT_STR_SCENE 1-64, at most 100,000
permanent codes; showqrcode answers 404 to a bad ticket); the real answers in
tianye/WechatMpSDK's README.

Tickets and urls look like the real ones, which decode to
``81 01 xx xx 3a 00*7 01 <len> "http://weixin.qq.com/q/<20 chars>" 00 02 04 <created, LE32>
03 04 <expire_seconds, LE32>`` in base64: so do ours (the 20 characters and the two bytes
after 81 01 come from the emulator's seed and a counter), 96 characters long.

Readings of undocumented corners:
- Card codes without expire_seconds: 7776000 s (90 days), what the real answer (tianye/WechatMpSDK's README) to a
  QR_MULTIPLE_CARD without it says (and its ticket encodes), though the table says 365 days.
- Scene codes: expire_seconds below 60 is raised to 60, as the real answer (tianye/WechatMpSDK's README) to a request
  for 30 s shows (so the documented 30 s default answers 60); above 2592000 or below 1: 40097.
- QR_SCENE's scene_id: 1..2147483647 (a "32-bit non-zero integer", read as signed: strictest).
  scene_str lengths are UTF-8 bytes. A bad scene value: 40053 (the errcode of a real answer for bad
  action info); an unknown action_name 40052; a card list of 0 or more than 5 cards 45039.
- A permanent scene code asked for again answers the same ticket and is not counted twice.
- A card code for a non-custom-code card must not name a code (40116), nor for a deposit-mode card
  ("投放接口不可传code字段"; 40116 assumed, as for the former); code is string(20), outer_str string(128).
- showqrcode: 404 once a temporary code expired (the emulator's clock) and once any of a card
  code's cards is deleted ("卡券删除后…二维码…失效"); the image is a PNG (segno) of the code's url.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import segno
from starlette.requests import Request
from starlette.responses import Response

from . import errors as e
from .assets import QrCode
from .model import DISPATCH, JSON, VERIFY_OK
from .params import assets_of, is_custom_code_card, is_deposit_card, live_card, optional_text, size
from .routing import Call, Endpoint, Routes, ok
from .rules import as_int

if TYPE_CHECKING:
    from .service import Emulator
    from .store import Store

QR_URL: Final = "http://weixin.qq.com/q/"
SHOW_URL: Final = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="

CARD_ACTIONS: Final = ("QR_CARD", "QR_MULTIPLE_CARD")
CARD_EXPIRE_MIN: Final = 60
CARD_EXPIRE_MAX: Final = 1800
CARD_EXPIRE_DEFAULT: Final = 7_776_000
MAX_CARDS: Final = 5
MAX_CODE_BYTES: Final = 20
MAX_OUTER_STR: Final = 128

TEMPORARY: Final = ("QR_SCENE", "QR_STR_SCENE")
PERMANENT: Final = ("QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE")
SCENE_EXPIRE_DEFAULT: Final = 30
SCENE_EXPIRE_FLOOR: Final = 60
SCENE_EXPIRE_MAX: Final = 2_592_000
MAX_TEMPORARY_SCENE_ID: Final = 2**31 - 1
MAX_PERMANENT_SCENE_ID: Final = 100_000
MAX_SCENE_STR: Final = 64
MAX_PERMANENT: Final = 100_000


# ---------------------------------------------------------------- tickets


def make_ticket(seed: int, appid: str, number: int, created: int, expire_seconds: int) -> tuple[str, str]:
    """(ticket, url) shaped like WeChat's; deterministic from seed, account, counter and clock."""
    digest = hashlib.sha256(f"qrcode:{seed}:{appid}:{number}".encode()).digest()
    url = QR_URL + base64.urlsafe_b64encode(digest).decode()[:20]
    raw = b"".join(
        [
            b"\x81\x01",
            digest[20:22],
            b":" + bytes(7) + b"\x01",
            bytes([len(url) + 1]),
            url.encode(),
            b"\x00\x02\x04",
            (created & 0xFFFFFFFF).to_bytes(4, "little"),
            b"\x03\x04",
            expire_seconds.to_bytes(4, "little"),
        ]
    )
    return base64.b64encode(raw).decode(), url


def issue(call: Call, action: str, expire_seconds: int | None, **details: Any) -> tuple[str, QrCode]:
    store = call.emu.store
    created = int(store.now())
    while True:
        store.assets.qr_counter += 1
        ticket, url = make_ticket(store.seed, call.appid, store.assets.qr_counter, created, expire_seconds or 0)
        if ticket not in store.assets.qrcodes:
            break
    qr = QrCode(call.appid, action, url, created, expire_seconds, **details)
    store.assets.qrcodes[ticket] = qr
    store.dirty = True
    return ticket, qr


def show_url(ticket: str) -> str:
    return SHOW_URL + quote(ticket, safe="")


# ---------------------------------------------------------------- card codes


def _action(body: JSON, allowed: tuple[str, ...]) -> str:
    action = body.get("action_name")
    if action is None or action == "":
        raise e.ApiError(e.MISSING_FIELDS, "action_name")
    if not isinstance(action, str):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "action_name")
    if action not in allowed:
        raise e.ApiError(e.INVALID_ACTION_NAME, action)
    return action


def _info(body: JSON, key: str) -> JSON:
    info = body.get("action_info")
    inner = info.get(key) if isinstance(info, dict) else None
    if not isinstance(inner, dict):
        raise e.ApiError(e.INVALID_ACTION_INFO, f"action_info.{key}")
    return inner


def _card_expire(body: JSON) -> int:
    raw = body.get("expire_seconds")
    if raw is None or raw == "":
        return CARD_EXPIRE_DEFAULT
    value = as_int(raw, "expire_seconds")
    if not CARD_EXPIRE_MIN <= value <= CARD_EXPIRE_MAX:
        raise e.ApiError(e.INVALID_ARGS, f"expire_seconds must be {CARD_EXPIRE_MIN}-{CARD_EXPIRE_MAX}")
    return value


def _card_entry(call: Call, item: Any, path: str) -> JSON:
    if not isinstance(item, dict):
        raise e.ApiError(e.INVALID_ACTION_INFO, path)
    card = live_card(call, item.get("card_id"))
    entry: JSON = {"card_id": card.card_id}
    code = optional_text(item.get("code") or None, f"{path}.code", MAX_CODE_BYTES)
    if is_deposit_card(card):
        if code is not None:
            # "卡券侧随机在导入的code中下发，不可指定，投放接口不可传code字段".
            raise e.ApiError(e.INVALID_CODE, f"{path}.code: a deposit-mode card hands out its deposited codes itself")
    elif is_custom_code_card(card):
        if code is None:
            raise e.ApiError(e.MISSING_CODE, f"{path}.code")
    elif code is not None:
        raise e.ApiError(e.INVALID_CODE, f"{path}.code: the card's codes are WeChat's")
    openid = optional_text(item.get("openid") or None, f"{path}.openid")
    if openid is None and card.base.get("bind_openid") is True:
        raise e.ApiError(e.MISSING_OPENID, f"{path}.openid")
    unique = item.get("is_unique_code")
    if unique is not None and not isinstance(unique, bool):
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{path}.is_unique_code")
    if unique:
        if card.status not in (VERIFY_OK, DISPATCH):
            raise e.ApiError(e.INVALID_CARD_STATUS, f"{path}.is_unique_code needs an approved card")
        if card.quantity <= 0:
            raise e.ApiError(e.STOCK_OUT, f"{path}.is_unique_code needs stock")
    outer_id = item.get("outer_id")
    if outer_id is not None:
        outer_id = as_int(outer_id, f"{path}.outer_id")
        if outer_id < 0:
            raise e.ApiError(e.INVALID_ARGS, f"{path}.outer_id")
    outer_str = optional_text(item.get("outer_str"), f"{path}.outer_str", MAX_OUTER_STR)
    for name, value in (
        ("code", code),
        ("openid", openid),
        ("is_unique_code", unique),
        ("outer_id", outer_id),
        ("outer_str", outer_str),
    ):
        if value is not None:
            entry[name] = value
    return entry


def card_qrcode_create(call: Call) -> JSON:
    body = call.body
    action = _action(body, CARD_ACTIONS)
    expire = _card_expire(body)
    if action == "QR_CARD":
        entries = [_card_entry(call, _info(body, "card"), "action_info.card")]
    else:
        card_list = _info(body, "multiple_card").get("card_list")
        if card_list is None:
            raise e.ApiError(e.MISSING_FIELDS, "action_info.multiple_card.card_list")
        if not isinstance(card_list, list):
            raise e.ApiError(e.DATA_FORMAT_ERROR, "action_info.multiple_card.card_list")
        if not 1 <= len(card_list) <= MAX_CARDS:
            raise e.ApiError(e.CARD_LIST_SIZE, f"1-{MAX_CARDS} cards")
        path = "action_info.multiple_card.card_list"
        entries = [_card_entry(call, item, f"{path}[{i}]") for i, item in enumerate(card_list)]
    ticket, qr = issue(call, action, expire, cards=entries)
    return ok(ticket=ticket, expire_seconds=expire, url=qr.url, show_qrcode_url=show_url(ticket))


# ---------------------------------------------------------------- account scene codes


def _scene(body: JSON, action: str) -> int | str:
    scene = _info(body, "scene")
    if action in ("QR_SCENE", "QR_LIMIT_SCENE"):
        raw = scene.get("scene_id")
        if raw is None or raw == "":
            raise e.ApiError(e.INVALID_ACTION_INFO, "action_info.scene.scene_id")
        scene_id = as_int(raw, "action_info.scene.scene_id")
        top = MAX_TEMPORARY_SCENE_ID if action == "QR_SCENE" else MAX_PERMANENT_SCENE_ID
        if not 1 <= scene_id <= top:
            raise e.ApiError(e.INVALID_ACTION_INFO, f"action_info.scene.scene_id must be 1-{top}")
        return scene_id
    raw = scene.get("scene_str")
    if raw is not None and not isinstance(raw, str):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "action_info.scene.scene_str")
    if not raw or size(raw) > MAX_SCENE_STR:
        raise e.ApiError(e.INVALID_ACTION_INFO, f"action_info.scene.scene_str must be 1-{MAX_SCENE_STR} bytes")
    return raw


def _scene_expire(body: JSON) -> int:
    raw = body.get("expire_seconds")
    value = SCENE_EXPIRE_DEFAULT if raw is None or raw == "" else as_int(raw, "expire_seconds")
    if not 1 <= value <= SCENE_EXPIRE_MAX:
        raise e.ApiError(e.INVALID_ARGS, f"expire_seconds must be 1-{SCENE_EXPIRE_MAX}")
    return max(value, SCENE_EXPIRE_FLOOR)


def qrcode_create(call: Call) -> JSON:
    body = call.body
    action = _action(body, TEMPORARY + PERMANENT)
    scene = _scene(body, action)
    if action in TEMPORARY:
        expire = _scene_expire(body)
        ticket, qr = issue(call, action, expire, scene=scene)
        # WeChat's success answer here carries no errcode (the real answers in tianye/WechatMpSDK's README).
        return {"ticket": ticket, "expire_seconds": expire, "url": qr.url}
    permanent = assets_of(call).permanent_qr
    key = f"{action}:{scene}"
    ticket = permanent.get(key, "")
    if not ticket:
        if len(permanent) >= MAX_PERMANENT:
            raise e.ApiError(e.QRCODE_COUNT_LIMIT)
        ticket, _ = issue(call, action, None, scene=scene)
        permanent[key] = ticket
    return {"ticket": ticket, "url": call.emu.store.assets.qrcodes[ticket].url}


# ---------------------------------------------------------------- images


@functools.lru_cache(maxsize=256)
def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=4)
    return out.getvalue()


def live_code(store: Store, ticket: str) -> QrCode | None:
    """The code behind a ticket while it shows an image: not expired, none of its cards deleted."""
    qr = store.assets.qrcodes.get(ticket)
    if qr is None or qr.expired(store.now()):
        return None
    for card_id in qr.card_ids:
        card = store.find_card(qr.appid, card_id)
        if card is None or card.deleted:
            return None
    return qr


async def showqrcode(request: Request) -> Response:
    """GET /cgi-bin/showqrcode?ticket=…: the code's image, or HTTP 404 (WeChat's answer to a bad ticket)."""
    emu: Emulator = request.app.state.emulator
    with emu.transaction() as store:
        qr = live_code(store, request.query_params.get("ticket", ""))
    if qr is None:
        return Response(status_code=404)
    return Response(qr_png(qr.url), media_type="image/png", headers={"Cache-Control": "max-age=604800"})


ROUTES: Routes = {
    "/card/qrcode/create": Endpoint("POST", card_qrcode_create),
    "/cgi-bin/qrcode/create": Endpoint("POST", qrcode_create),
}
