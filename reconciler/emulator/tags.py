"""User tags: cgi-bin/tags/create, get, update, delete, members/batchtagging, members/batchuntagging, getidlist.

Sources: WeChat's user-tag document (用户标签管理, developers.weixin.qq.com/doc/offiaccount/User_Management/
User_Tag_Management.html, and its errcode table as mirrored by w3cschool and CSDN), wechatpy's
``client/api/tag.py`` (the request and answer shapes) and WxJava's ``WxMpErrorMsgEnum`` (45157-45159).
The research, with every source: docs/wechat/tags-and-conditional-menus.md.

Rules (confirmed unless marked):
- A tag's id is WeChat's, an integer; names are unique (45157 "不能和其他标签重名").
- A name is at most 30 bytes (45158 "标签名长度超过30个字节"; the parameter table says 30 characters:
  the emulator takes the strictest). An empty name: 45157 (assumed).
- At most 100 tags per account (45056); the reserved ones are not counted (assumed).
- Tags 0, 1 and 2 are reserved: update and delete answer 45058. tags/get lists 2 "星标组" (the
  document's example).
- Delete untags every fan (assumed: implied) and is refused above 100 000 fans (45057).
- batchtagging takes at most 50 openids (40032, the global "invalid openid list size", assumed
  for more); a fan carries at most 20 tags (45059, the errcode table's copy); an openid the account
  does not know is 40003. The emulator's fans come from ``POST /_emulator/fans``.
- An unknown tag id: 45159 (WxJava "invalid tag id"; which calls answer it is assumed).
"""

from __future__ import annotations

from typing import Any, Final

from . import errors as e
from .assets import Tags
from .model import JSON
from .params import assets_of, size
from .routing import Call, Endpoint, Routes, ok

MAX_NAME_BYTES: Final = 30
MAX_TAGS: Final = 100
MAX_FANS_TO_DELETE: Final = 100_000
MAX_OPENIDS: Final = 50
MAX_TAGS_PER_FAN: Final = 20
RESERVED_IDS: Final = frozenset({0, 1, 2})


def _tags(call: Call) -> Tags:
    return assets_of(call).tags


def _tag_body(call: Call) -> JSON:
    tag = call.body.get("tag")
    if not isinstance(tag, dict):
        raise e.ApiError(e.MISSING_FIELDS if tag is None else e.DATA_FORMAT_ERROR, "tag")
    return tag


def tag_id_of(raw: Any, path: str) -> int:
    """A tag id as the calls send it: an integer or a digit string (wechatpy sends ints, the docs show both)."""
    text = str(raw) if isinstance(raw, (int, str)) and not isinstance(raw, bool) else ""
    if not text.isascii() or not text.isdigit():
        raise e.ApiError(e.INVALID_TAG_ID, path)
    return int(text)


def _existing(tags: Tags, raw: Any, path: str) -> int:
    tag_id = tag_id_of(raw, path)
    if tag_id not in tags.names:
        raise e.ApiError(e.INVALID_TAG_ID, path)
    return tag_id


def _name(tags: Tags, raw: Any, own_id: int | None) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise e.ApiError(e.INVALID_TAG_NAME, "tag.name")
    if size(raw) > MAX_NAME_BYTES:
        raise e.ApiError(e.TAG_NAME_TOO_LONG, "tag.name")
    if any(name == raw and tag_id != own_id for tag_id, name in tags.names.items()):
        raise e.ApiError(e.INVALID_TAG_NAME, "tag.name: a tag of that name exists")
    return raw


def create(call: Call) -> JSON:
    tags = _tags(call)
    name = _name(tags, _tag_body(call).get("name"), None)
    if sum(tag_id not in RESERVED_IDS for tag_id in tags.names) >= MAX_TAGS:
        raise e.ApiError(e.TAG_COUNT_LIMIT)
    tag_id = tags.next_id
    tags.next_id += 1
    tags.names[tag_id] = name
    call.emu.store.dirty = True
    # The documented answer: {"tag": {"id": 134, "name": "广东"}}, without errcode.
    return {"tag": {"id": tag_id, "name": name}}


def get(call: Call) -> JSON:
    tags = _tags(call)
    return {"tags": [{"id": k, "name": v, "count": tags.count(k)} for k, v in sorted(tags.names.items())]}


def _changeable(call: Call) -> tuple[Tags, int, JSON]:
    tags, body = _tags(call), _tag_body(call)
    tag_id = tag_id_of(body.get("id"), "tag.id")
    if tag_id in RESERVED_IDS:
        raise e.ApiError(e.RESERVED_TAG)
    return tags, _existing(tags, tag_id, "tag.id"), body


def update(call: Call) -> JSON:
    tags, tag_id, body = _changeable(call)
    tags.names[tag_id] = _name(tags, body.get("name"), tag_id)
    call.emu.store.dirty = True
    return ok()


def delete(call: Call) -> JSON:
    tags, tag_id, _ = _changeable(call)
    if tags.count(tag_id) > MAX_FANS_TO_DELETE:
        raise e.ApiError(e.TAG_TOO_MANY_FANS)
    del tags.names[tag_id]
    for fan in tags.fans.values():
        if tag_id in fan.tags:
            fan.tags.remove(tag_id)
    call.emu.store.dirty = True
    return ok()


def _members(call: Call) -> tuple[Tags, int, list[str]]:
    tags = _tags(call)
    tag_id = _existing(tags, call.body.get("tagid"), "tagid")
    openids = call.body.get("openid_list")
    if not isinstance(openids, list) or not openids or not all(isinstance(o, str) for o in openids):
        raise e.ApiError(e.MISSING_FIELDS if not openids else e.DATA_FORMAT_ERROR, "openid_list")
    if len(openids) > MAX_OPENIDS:
        raise e.ApiError(e.INVALID_ARGS, f"openid_list: at most {MAX_OPENIDS}")
    unknown = [o for o in openids if o not in tags.fans]
    if unknown:
        raise e.ApiError(e.INVALID_OPENID, unknown[0])
    return tags, tag_id, openids


def batch_tagging(call: Call) -> JSON:
    tags, tag_id, openids = _members(call)
    fans = [tags.fans[o] for o in openids if tag_id not in tags.fans[o].tags]
    if any(len(fan.tags) >= MAX_TAGS_PER_FAN for fan in fans):
        raise e.ApiError(e.FAN_TAG_LIMIT)
    for fan in fans:
        # Kept in the order put on: a conditional menu matches the last one (menu.py).
        fan.tags.append(tag_id)
    call.emu.store.dirty = True
    return ok()


def batch_untagging(call: Call) -> JSON:
    tags, tag_id, openids = _members(call)
    for openid in openids:
        fan = tags.fans[openid]
        if tag_id in fan.tags:
            fan.tags.remove(tag_id)
    call.emu.store.dirty = True
    return ok()


def id_list(call: Call) -> JSON:
    openid = call.body.get("openid")
    fan = _tags(call).fans.get(openid) if isinstance(openid, str) else None
    if fan is None:
        raise e.ApiError(e.INVALID_OPENID, "openid")
    return {"tagid_list": list(fan.tags)}


ROUTES: Routes = {
    "/cgi-bin/tags/create": Endpoint("POST", create),
    "/cgi-bin/tags/get": Endpoint("GET", get),
    "/cgi-bin/tags/update": Endpoint("POST", update),
    "/cgi-bin/tags/delete": Endpoint("POST", delete),
    "/cgi-bin/tags/members/batchtagging": Endpoint("POST", batch_tagging),
    "/cgi-bin/tags/members/batchuntagging": Endpoint("POST", batch_untagging),
    "/cgi-bin/tags/getidlist": Endpoint("POST", id_list),
}
