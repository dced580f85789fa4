"""QR codes: card/qrcode/create, cgi-bin/qrcode/create and the images at /cgi-bin/showqrcode."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from reconciler.emulator import qrcodes

from .support import Api, FakeTime, MakeApi, ticket

PNG = b"\x89PNG\r\n\x1a\n"
URL = re.compile(r"http://weixin\.qq\.com/q/[A-Za-z0-9_-]{20}")
# A real ticket from the seed: well formed, but not this emulator's.
SEED_TICKET = "gQHB8DoAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL0JIV3lhX3psZmlvSDZmWGVMMTZvAAIEsNnKVQMEIAMAAA=="
DEPOSIT = {"use_custom_code": True, "get_custom_code_mode": "GET_CUSTOM_CODE_MODE_DEPOSIT", "sku": {"quantity": 0}}


def qr_card(card_id: str, expire: int | None = 1800, **card: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"action_name": "QR_CARD", "action_info": {"card": {"card_id": card_id, **card}}}
    if expire is not None:
        body["expire_seconds"] = expire
    return body


def multiple(*cards: dict[str, Any]) -> dict[str, Any]:
    return {"action_name": "QR_MULTIPLE_CARD", "action_info": {"multiple_card": {"card_list": list(cards)}}}


def scene(action: str, expire: int | None = None, **value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"action_name": action, "action_info": {"scene": value}}
    if expire is not None:
        body["expire_seconds"] = expire
    return body


def decode(ticket: str) -> tuple[str, int, int]:
    """(url, created, expire_seconds) from a ticket, read as the seed's real tickets read (SEED_TICKET too)."""
    raw = base64.b64decode(ticket, validate=True)
    assert raw[:2] == b"\x81\x01" and raw[4:13] == b":" + bytes(7) + b"\x01"
    length = raw[13]
    url = raw[14 : 14 + length - 1].decode()
    rest = raw[14 + length - 1 :]
    assert rest[:3] == b"\x00\x02\x04" and rest[7:9] == b"\x03\x04" and len(rest) == 13
    return url, int.from_bytes(rest[3:7], "little"), int.from_bytes(rest[9:13], "little")


async def image(api: Api, ticket: str) -> tuple[int, bytes, str]:
    response = await api.client.get("/cgi-bin/showqrcode", params={"ticket": ticket})
    return response.status_code, response.content, response.headers.get("content-type", "")


def test_the_ticket_reader_reads_the_seeds_real_ticket() -> None:
    assert decode(SEED_TICKET) == ("http://weixin.qq.com/q/BHWya_zlfioH6fXeL16o", 1439357360, 800)


async def test_card_code_answers_the_seeds_shape(api: Api, fake_time: FakeTime) -> None:
    card_id = await api.create()
    answer = await api.post("/card/qrcode/create", qr_card(card_id, is_unique_code=False, outer_str="12b"))
    assert set(answer) == {"errcode", "errmsg", "ticket", "expire_seconds", "url", "show_qrcode_url"}
    assert (answer["errcode"], answer["errmsg"], answer["expire_seconds"]) == (0, "ok", 1800)
    ticket = answer["ticket"]
    assert len(ticket) == 96 and ticket.endswith("==")
    assert URL.fullmatch(answer["url"])
    assert answer["show_qrcode_url"] == "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=" + quote(ticket, safe="")
    assert answer["show_qrcode_url"].endswith("%3D%3D")
    assert decode(ticket) == (answer["url"], int(fake_time.now), 1800)


async def test_the_seeds_multiple_card_code_lasts_90_days(api: Api) -> None:
    cards = [{"card_id": await api.create()} for _ in range(5)]
    answer = await api.post("/card/qrcode/create", multiple(*cards))
    assert answer["errcode"] == 0 and answer["expire_seconds"] == 7_776_000
    assert decode(answer["ticket"])[2] == 7_776_000


async def test_tickets_are_deterministic_from_the_seed(make_api: MakeApi) -> None:
    first, second = await make_api(), await make_api()
    answers = [await a.post("/card/qrcode/create", qr_card(await a.create())) for a in (first, second)]
    assert answers[0]["ticket"] == answers[1]["ticket"]
    other = await make_api(seed=7)
    assert (await other.post("/card/qrcode/create", qr_card(await other.create())))["ticket"] != answers[0]["ticket"]


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"action_name": "QR_CARD"}, 40053),
        ({"action_info": {"card": {}}}, 41011),
        ({"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 1}}}, 40052),
        (qr_card("pNOPE"), 40073),
        (qr_card(""), 41012),
        (multiple(), 45039),
        ({"action_name": "QR_MULTIPLE_CARD", "action_info": {"multiple_card": {}}}, 41011),
    ],
)
async def test_card_code_errors(api: Api, body: dict[str, Any], errcode: int) -> None:
    assert (await api.post("/card/qrcode/create", body))["errcode"] == errcode


async def test_card_code_limits(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    card_id = await api.create()
    await api.control("review", {"card_id": card_id, "result": "approve"})
    assert (await api.post("/card/qrcode/create", qr_card(card_id, expire=59)))["errcode"] == 40097
    assert (await api.post("/card/qrcode/create", qr_card(card_id, expire=1801)))["errcode"] == 40097
    assert (await api.post("/card/qrcode/create", qr_card(card_id, expire=60)))["errcode"] == 0
    six = [{"card_id": card_id}] * 6
    assert (await api.post("/card/qrcode/create", multiple(*six)))["errcode"] == 45039
    long_outer = qr_card(card_id, outer_str="x" * 129)
    assert (await api.post("/card/qrcode/create", long_outer))["errcode"] == 45021
    assert (await api.post("/card/qrcode/create", qr_card(card_id, outer_id=-1)))["errcode"] == 40097
    assert (await api.post("/card/qrcode/create", qr_card(card_id, outer_id="12")))["errcode"] == 0
    # A non-custom-code card's codes are WeChat's own.
    assert (await api.post("/card/qrcode/create", qr_card(card_id, code="198374613512")))["errcode"] == 40116
    await api.post("/card/delete", {"card_id": card_id})
    assert (await api.post("/card/qrcode/create", qr_card(card_id)))["errcode"] == 40073


async def test_code_openid_and_unique_code_rules(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    custom = await api.create(ticket(use_custom_code=True))
    assert (await api.post("/card/qrcode/create", qr_card(custom)))["errcode"] == 41013
    assert (await api.post("/card/qrcode/create", qr_card(custom, code="1" * 21)))["errcode"] == 45021
    assert (await api.post("/card/qrcode/create", qr_card(custom, code="198374613512")))["errcode"] == 0
    in_list = multiple({"card_id": custom, "code": "2392583481"}, {"card_id": custom})
    assert (await api.post("/card/qrcode/create", in_list))["errcode"] == 41013

    bound = await api.create(ticket(bind_openid=True))
    assert (await api.post("/card/qrcode/create", qr_card(bound)))["errcode"] == 41009
    openid = "oFS7Fjl0WsZ9AMZqrI80nbIq8xrA"
    assert (await api.post("/card/qrcode/create", qr_card(bound, openid=openid)))["errcode"] == 0

    waiting = await api.create()
    assert (await api.post("/card/qrcode/create", qr_card(waiting)))["errcode"] == 0, "review does not matter"
    assert (await api.post("/card/qrcode/create", qr_card(waiting, is_unique_code=True)))["errcode"] == 40078
    assert (await api.post("/card/qrcode/create", qr_card(waiting, is_unique_code="yes")))["errcode"] == 47001
    empty = await api.create(ticket(sku={"quantity": 1}))
    await api.post("/card/modifystock", {"card_id": empty, "reduce_stock_value": 1})
    for card_id in (waiting, empty):
        await api.control("review", {"card_id": card_id, "result": "approve"})
    assert (await api.post("/card/qrcode/create", qr_card(waiting, is_unique_code=True)))["errcode"] == 0
    assert (await api.post("/card/qrcode/create", qr_card(empty, is_unique_code=True)))["errcode"] == 45031


async def test_deposit_mode_cards_never_take_a_code(api: Api) -> None:
    """ "投放接口不可传code字段": WeChat picks one of the deposited codes, even when the named one was deposited."""
    card_id = await api.create(ticket(**DEPOSIT))
    assert (await api.post("/card/qrcode/create", qr_card(card_id)))["errcode"] == 0
    assert (await api.post("/card/qrcode/create", qr_card(card_id, code="11111")))["errcode"] == 40116
    assert (await api.post("/card/code/deposit", {"card_id": card_id, "code": ["11111"]}))["succ_code"] == ["11111"]
    assert (await api.post("/card/qrcode/create", qr_card(card_id, code="11111")))["errcode"] == 40116


async def test_scene_codes_answer_the_seeds_shapes(api: Api, fake_time: FakeTime) -> None:
    answer = await api.post("/cgi-bin/qrcode/create", scene("QR_SCENE", 604800, scene_id=123))
    assert set(answer) == {"ticket", "expire_seconds", "url"} and answer["expire_seconds"] == 604800
    assert decode(answer["ticket"]) == (answer["url"], int(fake_time.now), 604800)
    answer = await api.post("/cgi-bin/qrcode/create", scene("QR_STR_SCENE", 60, scene_str="abc"))
    assert answer["expire_seconds"] == 60
    permanent = await api.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_SCENE", scene_id=123))
    assert set(permanent) == {"ticket", "url"} and URL.fullmatch(permanent["url"])
    assert decode(permanent["ticket"])[2] == 0
    by_str = await api.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_STR_SCENE", scene_str="123"))
    assert by_str["ticket"] != permanent["ticket"]


async def test_temporary_scene_codes_last_at_least_60_seconds(api: Api) -> None:
    # The seed's real answer to a request for 30 s says 60; without expire_seconds (30 s documented), 60 too.
    for expire in (30, None, 1):
        answer = await api.post("/cgi-bin/qrcode/create", scene("QR_SCENE", expire, scene_id=1))
        assert answer["expire_seconds"] == 60
    assert (await api.post("/cgi-bin/qrcode/create", scene("QR_SCENE", 2_592_000, scene_id=1)))["expire_seconds"] == (
        2_592_000
    )
    assert (await api.post("/cgi-bin/qrcode/create", scene("QR_SCENE", 2_592_001, scene_id=1)))["errcode"] == 40097
    assert (await api.post("/cgi-bin/qrcode/create", scene("QR_SCENE", 0, scene_id=1)))["errcode"] == 40097


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        (scene("QR_SCENE", scene_id=0), 40053),
        (scene("QR_SCENE", scene_id=2**31), 40053),
        (scene("QR_SCENE", scene_str="abc"), 40053),
        (scene("QR_STR_SCENE", scene_str=""), 40053),
        (scene("QR_STR_SCENE", scene_str="a" * 65), 40053),
        (scene("QR_STR_SCENE", scene_str="场" * 22), 40053),
        (scene("QR_LIMIT_SCENE", scene_id=100_001), 40053),
        (scene("QR_LIMIT_SCENE", scene_id="abc"), 47001),
        (scene("QR_LIMIT_STR_SCENE", scene_str="a" * 65), 40053),
        ({"action_name": "QR_LIMIT_SCENE"}, 40053),
        ({"action_name": "QR_CARD", "action_info": {"scene": {"scene_id": 1}}}, 40052),
        ({"action_info": {"scene": {"scene_id": 1}}}, 41011),
    ],
)
async def test_scene_code_errors(api: Api, body: dict[str, Any], errcode: int) -> None:
    assert (await api.post("/cgi-bin/qrcode/create", body))["errcode"] == errcode


async def test_scene_limits_themselves_are_accepted(api: Api) -> None:
    for body in (
        scene("QR_SCENE", scene_id=2**31 - 1),
        scene("QR_SCENE", scene_id="42"),
        scene("QR_STR_SCENE", scene_str="a" * 64),
        scene("QR_LIMIT_SCENE", scene_id=100_000),
        scene("QR_LIMIT_STR_SCENE", scene_str="场" * 21),
    ):
        assert "ticket" in await api.post("/cgi-bin/qrcode/create", body), body


async def test_permanent_codes_are_reused_and_capped(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qrcodes, "MAX_PERMANENT", 2)
    first = await api.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_SCENE", scene_id=1))
    assert await api.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_SCENE", scene_id=1)) == first
    await api.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_STR_SCENE", scene_str="b"))
    assert (await api.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_SCENE", scene_id=3)))["errcode"] == 45029
    assert await api.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_SCENE", scene_id=1)) == first
    assert "ticket" in await api.post("/cgi-bin/qrcode/create", scene("QR_SCENE", scene_id=3)), "temporary: no cap"


async def test_showqrcode_serves_a_png_without_a_token(api: Api) -> None:
    ticket = (await api.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_SCENE", scene_id=9)))["ticket"]
    status, content, content_type = await image(api, ticket)
    assert (status, content[:8], content_type) == (200, PNG, "image/png")
    card = await api.post("/card/qrcode/create", qr_card(await api.create()))
    path = card["show_qrcode_url"].removeprefix("https://mp.weixin.qq.com")
    response = await api.client.get(path)
    assert response.status_code == 200 and response.content[:8] == PNG


async def test_showqrcode_404s(api: Api) -> None:
    assert (await image(api, ""))[0] == 404
    assert (await image(api, SEED_TICKET))[0] == 404
    temporary = (await api.post("/cgi-bin/qrcode/create", scene("QR_SCENE", 60, scene_id=5)))["ticket"]
    assert (await image(api, temporary))[0] == 200
    await api.control("clock", {"advance": 60})
    assert (await image(api, temporary))[0] == 404, "expired by the emulator's clock"
    card_id = await api.create()
    ticket = (await api.post("/card/qrcode/create", qr_card(card_id)))["ticket"]
    assert (await image(api, ticket))[0] == 200
    await api.post("/card/delete", {"card_id": card_id})
    assert (await image(api, ticket))[0] == 404, "card/delete invalidates the card's codes"


async def test_qrcodes_control_lists_codes(api: Api) -> None:
    card_id = await api.create()
    card = await api.post("/card/qrcode/create", qr_card(card_id, outer_str="12b"))
    await api.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_STR_SCENE", scene_str="spring"))
    listed = (await api.client.get("/_emulator/qrcodes")).json()["qrcodes"]
    assert [(q["action_name"], q["live"]) for q in listed] == [("QR_CARD", True), ("QR_LIMIT_STR_SCENE", True)]
    assert listed[0]["ticket"] == card["ticket"]
    assert listed[0]["cards"] == [{"card_id": card_id, "outer_str": "12b"}]
    assert listed[1]["scene"] == "spring" and listed[1]["expires_at"] is None


async def test_qr_codes_survive_a_restart(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    first = await make_api(data_file=data)
    permanent = await first.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_SCENE", scene_id=77))
    card = await first.post("/card/qrcode/create", qr_card(await first.create()))
    second = await make_api(data_file=data)
    assert await second.post("/cgi-bin/qrcode/create", scene("QR_LIMIT_SCENE", scene_id=77)) == permanent
    assert (await image(second, card["ticket"]))[0] == 200
    again = await second.post("/card/qrcode/create", qr_card(await second.create()))
    assert again["ticket"] != card["ticket"], "the ticket counter continues"
