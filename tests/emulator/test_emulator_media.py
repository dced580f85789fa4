"""cgi-bin/media/uploadimg as an SDK sends it (a multipart form; wechatpy: files={"media": file}), and card/create
and card/update taking only images it gave (40141)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest

from .support import Api, base_info, card_body, without_rid

UPLOAD = "/cgi-bin/media/uploadimg"


def png(width: int = 2, padding: int = 0) -> bytes:
    """A real PNG, `padding` bytes of text chunk long beyond its pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(width)))
    header = struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0)
    text = chunk(b"tEXt", b"c\0" + b"x" * padding) if padding else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def png_of(size: int) -> bytes:
    """A real PNG of exactly `size` bytes (a text chunk is 14 bytes besides its padding)."""
    return png(padding=size - len(png()) - 14)


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


async def upload(api: Api, files: Any, data: Any = None) -> dict[str, Any]:
    response = await api.client.post(UPLOAD, params={"access_token": await api.token()}, files=files, data=data)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("field", ["media", "buffer"])
@pytest.mark.parametrize(("content", "kind"), [(png(), "png"), (JPEG, "jpg")])
async def test_uploadimg_takes_a_jpg_or_png_under_either_field_name(
    api: Api, field: str, content: bytes, kind: str
) -> None:
    answer = await upload(api, {field: ("logo", io.BytesIO(content), "application/octet-stream")})
    assert set(answer) == {"url"}, answer
    assert answer["url"].startswith(f"http://mmbiz.qpic.cn/mmbiz_{kind}/") and answer["url"].endswith("/0")


async def test_uploadimg_gives_one_url_per_image(api: Api) -> None:
    first = await upload(api, {"media": ("a.png", png(2))})
    again = await upload(api, {"media": ("b.png", png(2))})
    other = await upload(api, {"media": ("a.png", png(3))})
    assert first == again and first != other


@pytest.mark.parametrize(
    ("content", "errcode"),
    [
        (png(padding=1024 * 1024), 40009),  # "限制文件大小限制1MB"
        (png_of(1024 * 1024), 40009),  # exactly 1 MB is not "below 1MB"
        (GIF, 40005),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 40005),
    ],
)
async def test_uploadimg_refuses_what_is_not_a_jpg_or_png_below_1mb(api: Api, content: bytes, errcode: int) -> None:
    answer = await upload(api, {"media": ("logo.png", content, "image/png")})  # the name and type do not decide
    assert answer["errcode"] == errcode, answer


async def test_uploadimg_just_under_1mb_passes(api: Api) -> None:
    content = png_of(1024 * 1024 - 1)
    assert len(content) == 1024 * 1024 - 1
    assert "url" in await upload(api, {"media": ("logo.png", content)})


async def test_uploadimg_without_a_file_is_media_data_missing(api: Api) -> None:
    assert (await upload(api, {"other": ("logo.png", png())}))["errcode"] == 41005
    assert (await upload(api, None, data={"media": "not a file"}))["errcode"] == 41005
    assert (await api.post(UPLOAD, {"media": "x"}))["errcode"] == 41005  # JSON, not a form


def member_card(**fields: Any) -> dict[str, Any]:
    body = base_info()
    body["date_info"] = {"type": "DATE_TYPE_PERMANENT"}
    card = card_body("MEMBER_CARD", body)
    card["card"]["member_card"].update(fields)
    return card


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"background_pic_url": "https://example.com/bg.png"}, "background_pic_url"),
        # Another WeChat CDN is not uploadimg's: the real refusal was for mmecoa.qpic.cn.
        ({"background_pic_url": "http://mmecoa.qpic.cn/sz_mmecoa_jpg/x/0"}, "background_pic_url"),
        ({"advanced_info": {"abstract": {"abstract": "a", "icon_url_list": ["https://a.example/i.png"]}}}, "icon"),
        ({"advanced_info": {"text_image_list": [{"image_url": "https://a.example/i.png", "text": "t"}]}}, "image_url"),
    ],
)
async def test_create_refuses_a_card_image_uploadimg_did_not_give(api: Api, fields: dict[str, Any], where: str) -> None:
    answer = await api.post("/card/create", member_card(**fields))
    assert answer["errcode"] == 40141, answer
    assert without_rid(answer["errmsg"]).startswith("invalid image url hint: [") and where in answer["errmsg"]


async def test_create_refuses_a_foreign_logo_and_update_too(api: Api) -> None:
    created = await api.post("/card/create", member_card())
    assert created["errcode"] == 0  # base_info()'s logo is an uploadimg url
    body = member_card()
    body["card"]["member_card"]["base_info"]["logo_url"] = "https://example.com/logo.png"
    assert (await api.post("/card/create", body))["errcode"] == 40141
    card_id = str(created["card_id"])
    update = {"card_id": card_id, "member_card": {"base_info": {"logo_url": "https://example.com/logo.png"}}}
    assert (await api.post("/card/update", update))["errcode"] == 40141


async def test_a_card_takes_the_url_uploadimg_gave_and_card_get_returns_it(api: Api) -> None:
    url = (await upload(api, {"media": ("logo.png", png())}))["url"]
    background = (await upload(api, {"media": ("bg.jpg", JPEG)}))["url"]
    body = member_card(background_pic_url=background)
    body["card"]["member_card"]["base_info"]["logo_url"] = url
    card = await api.card(await api.create(body))
    assert card["member_card"]["base_info"]["logo_url"] == url
    assert card["member_card"]["background_pic_url"] == background
