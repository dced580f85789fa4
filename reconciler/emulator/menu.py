"""Custom menus: cgi-bin/menu/create, menu/get, menu/delete, menu/addconditional,
menu/delconditional, menu/trymatch and cgi-bin/get_current_selfmenu_info.

Conditional menus (创建个性化菜单, 测试个性化菜单匹配结果, 获取自定义菜单配置; every fact and its
source in docs/wechat/tags-and-conditional-menus.md): a matchrule of tag_id and/or
client_platform_type (the privacy-withdrawn fields answer 65320); menu/get shows the rule with
``group_id`` and numbers; trymatch tries the newest menu first and matches a fan's last-put tag;
menu/create keeps the conditional menus (assumed: only menu/delete is documented to remove them).

Sources: WeChat's menu documents (custom menu, conditional menu, get_current_selfmenu_info),
the real answers in tianye/WechatMpSDK's README (menu/get's ``"sub_button": []`` on every leaf,
get_current_selfmenu_info's ``{"sub_button": {"list": [...]}}``, 46003 ``menu no exist``), and
the official errcode table.

Limits: 1-3 buttons, 1-5 sub-buttons; ``name`` ≤ 16 bytes (top) and ≤ 60 bytes (sub: the current
createCustomMenu document, "菜单标题，不超过16个字节，子菜单不超过60个字节", and a developer-community
measurement, "文档里…子菜单字节数不超过40个字节,实测结果是60字节"; older pages said 40); ``key`` ≤ 128 bytes;
``url`` ≤ 1024 bytes; media_id, appid, pagepath and article_id have no documented limit; each type's
own fields required. Errcodes: the top-level code, or its sub-button twin.

Readings of undocumented corners (strictest, each marked below):
- ``"sub_button": []`` counts as "no sub-buttons" (menu/get answers it on every leaf, so a
  menu read back must be accepted again); a non-empty ``sub_button`` and a ``type`` on the same
  button are refused (40017); a sub-button with sub-buttons is 40022.
- A missing or empty required field answers the field's size errcode (40019 key, 40020 url,
  40117 media_id, 40165 pagepath, 40166 appid); article_id, which has none, 41011.
- ``url`` must be an http(s) URL (65317); at most 3 distinct domains over a menu's urls (65316).
- Only the fields of the button's type are kept and answered; unknown fields are dropped.
- media_id, article_id and mini program appids are not checked against materials or links
  (the emulator has none).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from . import errors as e
from .assets import ConditionalMenu, Fan, Menus, Tags
from .model import JSON
from .params import assets_of, size
from .routing import Call, Endpoint, Routes, ok
from .tags import tag_id_of

KEY_TYPES: Final = frozenset(
    {
        "click",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)
MEDIA_TYPES: Final = frozenset({"media_id", "view_limited"})
ARTICLE_TYPES: Final = frozenset({"article_id", "article_view_limited"})
TYPES: Final = KEY_TYPES | MEDIA_TYPES | ARTICLE_TYPES | {"view", "miniprogram"}

MAX_BUTTONS: Final = 3
MAX_SUB_BUTTONS: Final = 5
MAX_KEY: Final = 128
MAX_URL: Final = 1024
MAX_DOMAINS: Final = 3
# Official daily quotas per account; past them, 45009 (conditional menus: the 个性化菜单 document).
DAILY_LIMITS: Final = {
    "menu/create": 1000,
    "menu/get": 10000,
    "menu/delete": 1000,
    "menu/addconditional": 2000,
    "menu/delconditional": 2000,
    "menu/trymatch": 20000,
}
# "为保护个人隐私…不再支持对性别、地区、语言…进行筛选": a rule with these answers 65320 (创建个性化菜单);
# tag_id and client_platform_type are left.
WITHDRAWN_RULES: Final = ("sex", "country", "province", "city", "language")
# client_platform_type: "1" iOS, "2" Android, "3" others.
PLATFORMS: Final = frozenset({"1", "2", "3"})
# 65305 "个性化菜单数量受限" exists (WxJava) but no number is documented: assumed 20.
MAX_CONDITIONAL: Final = 20


@dataclass(frozen=True)
class Level:
    where: str
    name_max: int
    type_err: int
    name_err: int
    key_err: int
    url_err: int
    media_err: int


TOP: Final = Level(
    "button", 16, e.MENU_BUTTON_TYPE, e.MENU_NAME_SIZE, e.MENU_KEY_SIZE, e.MENU_URL_SIZE, e.MENU_MEDIA_ID_SIZE
)
SUB: Final = Level(
    "sub_button",
    60,
    e.MENU_SUB_TYPE,
    e.MENU_SUB_NAME_SIZE,
    e.MENU_SUB_KEY_SIZE,
    e.MENU_SUB_URL_SIZE,
    e.MENU_SUB_MEDIA_ID_SIZE,
)


# ---------------------------------------------------------------- parsing


def parse_buttons(body: JSON) -> list[JSON]:
    """The buttons of menu/create or menu/addconditional, normalised; WeChat's errcode otherwise."""
    raw = body.get("button")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "button")
    if not 1 <= len(raw) <= MAX_BUTTONS:
        raise e.ApiError(e.MENU_BUTTON_SIZE)
    buttons = [_top(item, f"button[{i}]") for i, item in enumerate(raw)]
    _check_domains(buttons)
    return buttons


def _object(raw: Any, path: str) -> JSON:
    if not isinstance(raw, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, path)
    return raw


def _sub_buttons(raw: JSON, path: str) -> list[Any]:
    subs = raw.get("sub_button")
    if subs is None:
        return []
    if not isinstance(subs, list):
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{path}.sub_button")
    return subs


def _top(item: Any, path: str) -> JSON:
    raw = _object(item, path)
    name = _field(raw, "name", TOP.name_max, TOP.name_err, path)
    subs = _sub_buttons(raw, path)
    if not subs:
        return _leaf(raw, name, TOP, path)
    if raw.get("type") not in (None, ""):
        # strictest: documented as exclusive.
        raise e.ApiError(e.MENU_BUTTON_TYPE, f"{path}: type and sub_button are exclusive")
    if len(subs) > MAX_SUB_BUTTONS:
        raise e.ApiError(e.MENU_SUB_BUTTON_SIZE, path)
    return {"name": name, "sub_button": [_sub(s, f"{path}.sub_button[{i}]") for i, s in enumerate(subs)]}


def _sub(item: Any, path: str) -> JSON:
    raw = _object(item, path)
    name = _field(raw, "name", SUB.name_max, SUB.name_err, path)
    if raw.get("sub_button") not in (None, []):
        raise e.ApiError(e.MENU_SUB_LEVEL, path)
    return _leaf(raw, name, SUB, path)


def _field(raw: JSON, name: str, max_bytes: int | None, err: int, path: str) -> str:
    value = raw.get(name)
    if value is None or value == "":
        raise e.ApiError(err, f"{path}.{name}")
    if not isinstance(value, str):
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{path}.{name}")
    if max_bytes is not None and size(value) > max_bytes:
        raise e.ApiError(err, f"{path}.{name}")
    return value


def _url(raw: JSON, level: Level, path: str) -> str:
    # 65317 "不合法的 URL" (the official global errcode table, as WxJava's WxMpErrorMsgEnum carries it).
    url = _field(raw, "url", MAX_URL, level.url_err, path)
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # "http://[::1": not a URL at all
        valid = False
    if not valid:
        raise e.ApiError(e.MENU_INVALID_URL, f"{path}.url")
    return url


def _leaf(raw: JSON, name: str, level: Level, path: str) -> JSON:
    kind = raw.get("type")
    if kind is None or kind == "" or (isinstance(kind, str) and kind not in TYPES):
        raise e.ApiError(level.type_err, f"{path}.type")
    if not isinstance(kind, str):
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{path}.type")
    out: JSON = {"type": kind, "name": name}
    if kind in KEY_TYPES:
        out["key"] = _field(raw, "key", MAX_KEY, level.key_err, path)
    elif kind == "view":
        out["url"] = _url(raw, level, path)
    elif kind == "miniprogram":
        out["url"] = _url(raw, level, path)
        out["appid"] = _field(raw, "appid", None, e.INVALID_WEAPP_APPID, path)
        out["pagepath"] = _field(raw, "pagepath", None, e.INVALID_WEAPP_PAGEPATH, path)
    elif kind in MEDIA_TYPES:
        out["media_id"] = _field(raw, "media_id", None, level.media_err, path)
    else:
        out["article_id"] = _field(raw, "article_id", None, e.MISSING_FIELDS, path)
    return out


def _leaves(buttons: list[JSON]) -> list[JSON]:
    return [leaf for b in buttons for leaf in b.get("sub_button", [b])]


def _check_domains(buttons: list[JSON]) -> None:
    # "该公众号的菜单设置了过多的域名外跳（最多跳转到 3 个域名的链接）".
    hosts = {urlsplit(leaf["url"]).hostname for leaf in _leaves(buttons) if "url" in leaf}
    if len(hosts) > MAX_DOMAINS:
        raise e.ApiError(e.MENU_DOMAIN_LIMIT)


def parse_matchrule(body: JSON, tags: Tags) -> JSON:
    """The rule as stored: tag_id and client_platform_type as strings, as addconditional's docs send them."""
    rule = body.get("matchrule")
    if rule is None:
        raise e.ApiError(e.MATCHRULE_EMPTY)
    if not isinstance(rule, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, "matchrule")
    withdrawn = [name for name in WITHDRAWN_RULES if rule.get(name) not in (None, "")]
    if withdrawn:
        raise e.ApiError(e.MATCHRULE_UNSUPPORTED, f"matchrule.{withdrawn[0]}")
    out: JSON = {}
    if rule.get("tag_id") not in (None, ""):
        tag_id = tag_id_of(rule["tag_id"], "matchrule.tag_id")
        if tag_id not in tags.names:
            # Assumed: the strict answer for a tag the account does not have (WxJava's 45159).
            raise e.ApiError(e.INVALID_TAG_ID, "matchrule.tag_id")
        out["tag_id"] = str(tag_id)
    platform = rule.get("client_platform_type")
    if platform not in (None, ""):
        if str(platform) not in PLATFORMS or isinstance(platform, bool):
            # Assumed: no errcode is documented for a platform outside 1-3; the global "invalid args".
            raise e.ApiError(e.INVALID_ARGS, "matchrule.client_platform_type")
        out["client_platform_type"] = str(platform)
    if not out:
        # "matchrule 共…个字段，均可为空，但不能全部为空，至少要有一个匹配信息是不为空的": 65304.
        raise e.ApiError(e.MATCHRULE_EMPTY)
    return out


def get_rule(rule: JSON) -> JSON:
    """menu/get's matchrule: ``group_id`` for tag_id and numbers for strings (the docs' menu/get example;
    WxJava's WxMenuRule reads tag_id with ``alternate = "group_id"``; WeiXinMPSDK PR #201)."""
    names = {"tag_id": "group_id"}
    return {names.get(k, k): int(v) for k, v in rule.items()}


def parse_console(raw: Any) -> list[JSON] | None:
    """A menu as the MP console saves it (any button type, value/news_info …); ValueError if malformed.

    Takes menu/create's shape or get_current_selfmenu_info's (``"sub_button": {"list": [...]}``);
    null or [] removes it.
    """
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list) or len(raw) > MAX_BUTTONS:
        raise ValueError(f"button must be a list of at most {MAX_BUTTONS} buttons")
    buttons: list[JSON] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise ValueError("every button needs a name")
        subs = item.get("sub_button")
        if isinstance(subs, dict):
            subs = subs.get("list")
        if not subs:
            buttons.append({k: v for k, v in item.items() if k != "sub_button"})
            continue
        if not isinstance(subs, list) or len(subs) > MAX_SUB_BUTTONS:
            raise ValueError(f"sub_button must hold at most {MAX_SUB_BUTTONS} buttons")
        if not all(isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"] for s in subs):
            raise ValueError("every sub-button needs a name")
        buttons.append({"name": item["name"], "sub_button": [dict(s) for s in subs]})
    return buttons


# ---------------------------------------------------------------- answers


def get_shape(buttons: list[JSON]) -> list[JSON]:
    """menu/get's shape: every leaf carries "sub_button": [] (the real answer in tianye/WechatMpSDK's README)."""
    out = []
    for b in buttons:
        if "sub_button" in b:
            out.append({"name": b["name"], "sub_button": [{**s, "sub_button": []} for s in b["sub_button"]]})
        else:
            out.append({**b, "sub_button": []})
    return out


def selfmenu_shape(buttons: list[JSON]) -> list[JSON]:
    """get_current_selfmenu_info's shape: sub-buttons under {"list": [...]}, leaves without sub_button."""
    out = []
    for b in buttons:
        if "sub_button" in b:
            out.append({"name": b["name"], "sub_button": {"list": [dict(s) for s in b["sub_button"]]}})
        else:
            out.append(dict(b))
    return out


# ---------------------------------------------------------------- endpoints


def _new_menuid(call: Call, menus: Menus) -> int:
    """Nine digits like the docs' 208379533, counting up per account from a seeded base."""
    digest = hashlib.sha256(f"menu:{call.emu.store.seed}:{call.appid}".encode()).digest()
    menus.next_id += 1
    return 200_000_000 + int.from_bytes(digest[:4], "big") % 500_000_000 + menus.next_id


def _spend(call: Call, what: str) -> Menus:
    account = assets_of(call)
    account.spend(what, DAILY_LIMITS[what], call.emu.store.now())
    return account.menus


def menu_create(call: Call) -> JSON:
    menus = _spend(call, "menu/create")
    buttons = parse_buttons(call.body)
    menus.default = buttons
    menus.default_id = _new_menuid(call, menus)
    # The API menu replaces one made in the MP console (the account is in developer mode now).
    menus.console = None
    call.emu.store.dirty = True
    return ok()


def menu_get(call: Call) -> JSON:
    menus = _spend(call, "menu/get")
    if menus.default is None:
        # Also when a menu made in the MP console is live: menu/get sees only the API's menus.
        raise e.ApiError(e.MENU_NOT_EXIST)
    menu: JSON = {"button": get_shape(menus.default)}
    answer: JSON = {"menu": menu}
    if menus.conditional:
        # The docs' answer shows menuid and conditionalmenu once conditional menus exist.
        menu["menuid"] = menus.default_id
        answer["conditionalmenu"] = [
            {"button": get_shape(c.button), "matchrule": get_rule(c.matchrule), "menuid": c.menuid}
            for c in menus.conditional
        ]
    return answer


def menu_delete(call: Call) -> JSON:
    menus = _spend(call, "menu/delete")
    if menus.default is not None or menus.conditional or menus.console is not None:
        # "调用此接口会删除默认菜单及全部个性化菜单"; strictest: the current menu, console-made or not.
        menus.default, menus.default_id, menus.conditional, menus.console = None, 0, [], None
        call.emu.store.dirty = True
    return ok()


def current_selfmenu_info(call: Call) -> JSON:
    menus = assets_of(call).menus
    buttons = menus.default if menus.default is not None else menus.console
    if buttons is None:
        # Undocumented: no menu at all answers only is_menu_open 0.
        return {"is_menu_open": 0}
    return {"is_menu_open": 1, "selfmenu_info": {"button": selfmenu_shape(buttons)}}


def add_conditional(call: Call) -> JSON:
    menus = _spend(call, "menu/addconditional")
    if menus.default is None:
        raise e.ApiError(e.NO_DEFAULT_MENU)
    buttons = parse_buttons(call.body)
    matchrule = parse_matchrule(call.body, assets_of(call).tags)
    if len(menus.conditional) >= MAX_CONDITIONAL:
        raise e.ApiError(e.CONDITIONAL_MENU_LIMIT)
    menuid = _new_menuid(call, menus)
    menus.conditional.append(ConditionalMenu(menuid, buttons, matchrule))
    call.emu.store.dirty = True
    # The docs' answer: {"menuid": "208379533"}, a string, without errcode.
    return {"menuid": str(menuid)}


def del_conditional(call: Call) -> JSON:
    raw = call.body.get("menuid")
    if raw is None or raw == "":
        raise e.ApiError(e.MISSING_FIELDS, "menuid")
    text = str(raw) if isinstance(raw, (int, str)) and not isinstance(raw, bool) else None
    if text is None:
        raise e.ApiError(e.DATA_FORMAT_ERROR, "menuid")
    menus = _spend(call, "menu/delconditional")
    kept = [c for c in menus.conditional if str(c.menuid) != text.strip()]
    if len(kept) == len(menus.conditional):
        raise e.ApiError(e.NOT_CONDITIONAL_MENU)
    menus.conditional = kept
    call.emu.store.dirty = True
    return ok()


def _matches(rule: JSON, fan: Fan) -> bool:
    # "当用户身上的标签超过1个时，以最后打上的标签为匹配": only the tag put on last takes part.
    last = fan.tags[-1] if fan.tags else None
    if "tag_id" in rule and int(rule["tag_id"]) != last:
        return False
    return "client_platform_type" not in rule or int(rule["client_platform_type"]) == fan.platform


def try_match(call: Call) -> JSON:
    """The menu a fan sees: conditional menus newest first ("将从个性化菜单3开始匹配"), else the default."""
    account = assets_of(call)
    menus = account.menus
    _spend(call, "menu/trymatch")
    user = call.body.get("user_id")
    fan = account.tags.fans.get(user) if isinstance(user, str) else None
    if fan is None:
        raise e.ApiError(e.NO_SUCH_USER, "user_id")
    if menus.default is None:
        raise e.ApiError(e.MENU_NOT_EXIST)
    buttons = next((c.button for c in reversed(menus.conditional) if _matches(c.matchrule, fan)), menus.default)
    # The documented answer: {"button": [...]} in menu/get's shape, without menuid or matchrule.
    return {"button": get_shape(buttons)}


ROUTES: Routes = {
    "/cgi-bin/menu/create": Endpoint("POST", menu_create),
    "/cgi-bin/menu/get": Endpoint("GET", menu_get),
    "/cgi-bin/menu/delete": Endpoint("GET", menu_delete),
    "/cgi-bin/get_current_selfmenu_info": Endpoint("GET", current_selfmenu_info),
    "/cgi-bin/menu/addconditional": Endpoint("POST", add_conditional),
    "/cgi-bin/menu/delconditional": Endpoint("POST", del_conditional),
    "/cgi-bin/menu/trymatch": Endpoint("POST", try_match),
}
