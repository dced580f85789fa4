"""The card settings WeChat sets by their own calls and never shows again: a member card's activation form
(card/membercard/activateuserform/set), the pay cell (card/paycell/set, 快速买单) and the self-consume cell
(card/selfconsumecell/set, 自助核销).

Sources (docs/wechat/member-cards.md §5–7 has them in full): the "创建会员卡" and "创建卡券" documents (§3 设置快速买单,
§4 设置自助核销) as WxJava (WxMpCardServiceImpl, MemberCardActivateUserFormRequest, MemberCardUserForm), wechatpy
(card.py, constants.UserFormInfoFlag) and tianye/WechatMpSDK's README send and quote them.

Readings:
- The activation form: `card_id` and the optional `service_statement`, `bind_old_card` ({name string(32), url
  string(128)}), `required_form` and `optional_form` ({can_modify, common_field_id_list, custom_field_list,
  rich_field_list}). A set replaces the whole form (assumed: no partial update is documented). A field id must be
  one the sources list; they disagree on two spellings, so both are taken (assumed: refusing either would refuse
  a value some SDK sends and WeChat takes). A key outside the document is 47001 (assumed, strictest), an unknown
  field id or rich field type 40097 (assumed: WeChat's generic parameter error), a card other than a member card
  40071 (assumed: the path is the member-card API's; no source gives the answer).
- The pay cell and the self-consume cell: "设置买单/自助核销的card_id必须已经配置了门店，否则会报错"; the pay cell's
  error is the real answer 43017 `require location id!` (WechatMpSDK), the self-consume cell's assumed the same.
  A card has stores when it names location ids or uses all of them; the emulator knows no verifiers, so every
  store is taken to have one. Closing a cell needs no store (assumed). No card-type restriction is documented.
- `is_open` defaults: true for the pay cell ("不填默认true"), false for the self-consume cell.
- A card with a center_url must clear it first, "or the pay cell has no effect": not an error, so not refused.
"""

from __future__ import annotations

from typing import Any, Final

from . import errors as e
from .model import JSON, Card
from .params import live_card, optional_text
from .routing import Call, Endpoint, Routes, ok

MEMBER_CARD: Final = "MEMBER_CARD"
# The union of WeChat's tables (WechatMpSDK's copy), WxJava's CardWechatFieldType and wechatpy's UserFormInfoFlag.
FIELD_IDS: Final = frozenset(
    "USER_FORM_INFO_FLAG_" + name
    for name in (
        "MOBILE",
        "SEX",
        "NAME",
        "BIRTHDAY",
        "IDCARD",
        "EMAIL",
        "LOCATION",
        "DETAIL_LOCATION",
        "EDUCATION_BACKGRO",
        "EDUCATION_BACKGROUND",
        "CAREER",
        "INDUSTRY",
        "INCOME",
        "HABIT",
    )
)
RICH_FIELD_TYPES: Final = frozenset({"FORM_FIELD_RADIO", "FORM_FIELD_SELECT", "FORM_FIELD_CHECK_BOX"})
FORM_KEYS: Final = frozenset({"can_modify", "common_field_id_list", "custom_field_list", "rich_field_list"})
FORMS: Final = frozenset({"required_form", "optional_form"})
LINK_KEYS: Final = frozenset({"name", "url"})
NAME_BYTES: Final = 32
URL_BYTES: Final = 128


def _object(value: Any, path: str, keys: frozenset[str]) -> JSON:
    if not isinstance(value, dict):
        raise e.ApiError(e.DATA_FORMAT_ERROR, path)
    unknown = sorted(set(value) - keys)
    if unknown:
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{path}.{unknown[0]}")
    return value


def _strings(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise e.ApiError(e.DATA_FORMAT_ERROR, path)
    return value


def _flag(body: JSON, name: str) -> None:
    if body.get(name) is not None and not isinstance(body[name], bool):
        raise e.ApiError(e.DATA_FORMAT_ERROR, name)


def _link(value: Any, path: str) -> None:
    link = _object(value, path, LINK_KEYS)
    optional_text(link.get("name"), f"{path}.name", NAME_BYTES)
    optional_text(link.get("url"), f"{path}.url", URL_BYTES)


def _rich_field(value: Any, path: str) -> None:
    field = _object(value, path, frozenset({"type", "name", "values"}))
    if field.get("type") not in RICH_FIELD_TYPES:
        raise e.ApiError(e.INVALID_ARGS, f"{path}.type")
    optional_text(field.get("name"), f"{path}.name", NAME_BYTES)
    _strings(field.get("values"), f"{path}.values")


def _form(value: Any, path: str) -> None:
    form = _object(value, path, FORM_KEYS)
    _flag(form, "can_modify")
    for index, flag in enumerate(_strings(form.get("common_field_id_list"), f"{path}.common_field_id_list")):
        if flag not in FIELD_IDS:
            raise e.ApiError(e.INVALID_ARGS, f"{path}.common_field_id_list[{index}]: {flag}")
    _strings(form.get("custom_field_list"), f"{path}.custom_field_list")
    rich = form.get("rich_field_list")
    if rich is not None and not isinstance(rich, list):
        raise e.ApiError(e.DATA_FORMAT_ERROR, f"{path}.rich_field_list")
    for index, item in enumerate(rich or []):
        _rich_field(item, f"{path}.rich_field_list[{index}]")


def _settle(call: Call, card: Card, name: str, value: JSON) -> JSON:
    card.settings[name] = value
    call.emu.store.dirty = True
    return ok()


def set_activate_user_form(call: Call) -> JSON:
    body = _object(call.body, "body", frozenset({"card_id", "service_statement", "bind_old_card"}) | FORMS)
    card = live_card(call, body.get("card_id"))
    if card.card_type != MEMBER_CARD:
        raise e.ApiError(e.INVALID_CARD_TYPE, f"{card.card_type}: the activation form is a member card's")
    for name in ("service_statement", "bind_old_card"):
        if body.get(name) is not None:
            _link(body[name], name)
    for name in FORMS:
        if body.get(name) is not None:
            _form(body[name], name)
    form = {key: value for key, value in body.items() if key != "card_id" and value is not None}
    return _settle(call, card, "activate_user_form", form)


def _has_stores(card: Card) -> bool:
    return bool(card.base.get("location_id_list")) or card.base.get("use_all_locations") is True


def _cell(call: Call, name: str, flags: tuple[str, ...], opens_by_default: bool) -> JSON:
    body = _object(call.body, "body", frozenset({"card_id", "is_open", *flags}))
    card = live_card(call, body.get("card_id"))
    for flag in ("is_open", *flags):
        _flag(body, flag)
    is_open = body.get("is_open")
    opening = opens_by_default if is_open is None else is_open
    if opening and not _has_stores(card):
        raise e.ApiError(e.REQUIRE_LOCATION, f"{card.card_id} has no store")
    return _settle(call, card, name, {"is_open": opening, **{flag: body.get(flag, False) for flag in flags}})


def set_pay_cell(call: Call) -> JSON:
    return _cell(call, "pay_cell", (), opens_by_default=True)


def set_self_consume_cell(call: Call) -> JSON:
    return _cell(call, "self_consume_cell", ("need_verify_cod", "need_remark_amount"), opens_by_default=False)


ROUTES: Routes = {
    "/card/membercard/activateuserform/set": Endpoint("POST", set_activate_user_form),
    "/card/paycell/set": Endpoint("POST", set_pay_cell),
    "/card/selfconsumecell/set": Endpoint("POST", set_self_consume_cell),
}
