"""cgi-bin/media/uploadimg, the card API's image upload, and the rule that a card shows only images it gave.

Sources (docs/wechat-today.md, images):
- The card-creation guide, 2.3.1 上传图片接口: ``POST /cgi-bin/media/uploadimg`` as a multipart form ("curl
  -Fbuffer=@test.jpg"), "上传的图片限制文件大小限制1MB，仅支持JPG、PNG格式", answer
  ``{"url": "http://mmbiz.qpic.cn/mmbiz/…/0"}``, refusal ``40009 invalid image size``. Today's material document
  and wechatpy (media.py) send the file as ``media``: both field names are taken.
- An upload without a file: ``41005 media data missing`` (a real answer in the developer community).
- A file that is neither JPG nor PNG: ``40005 invalid file type``, the global table's code for a file type the
  API does not take [assumed for uploadimg]. The type is told by the bytes, not the file name [assumed].
- "在1MB以下" (WxJava's WxMpMaterialService): 1 048 576 bytes or more is refused [assumed at the edge].
- The URL names the image's type (``mmbiz_png``/``mmbiz_jpg``, as in newer real answers) and is derived from its
  bytes, so that the same file gives the same URL [assumed: real uploads may give a new URL each time].
- Card images must come from this upload: the member-card document says of background_pic_url "须先调用上传
  图片接口将背景图上传至CDN，否则报错", the guide names logo_url, icon_url_list and image_url as what the
  upload is for, and a real card/create given an image of another WeChat CDN (mmecoa.qpic.cn) answered
  ``40141 invalid image url`` (developers.weixin.qq.com/community/minihome/doc/00004a733d0508e48d033b63e66400).
  The emulator takes any http(s) URL on mmbiz.qpic.cn, the host uploadimg answers with.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Any, Final
from urllib.parse import urlsplit

from . import errors as e
from .model import JSON
from .routing import Call, Endpoint, Routes

MAX_BYTES: Final = 1024 * 1024
FILE_FIELDS: Final = ("media", "buffer")
SIGNATURES: Final = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}
CDN_HOST: Final = "mmbiz.qpic.cn"


def read_form(raw: bytes, content_type: str) -> JSON:
    """A multipart form's files by field name: {"files": {name: bytes}}. Anything else carries no file."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    files: dict[str, bytes] = {}
    if header.get_content_type() == "multipart/form-data" and isinstance(boundary, str) and boundary:
        for name, content in _parts(raw, b"--" + boundary.encode("latin-1")):
            files.setdefault(name, content)
    return {"files": files}


def _parts(raw: bytes, delimiter: bytes) -> Iterator[tuple[str, bytes]]:
    for part in raw.split(delimiter)[1:]:
        if part.startswith(b"--"):
            return  # the closing delimiter
        head, found, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if found and isinstance(name, str) and headers.get_filename() is not None:
            yield name, content.removesuffix(b"\r\n")


def upload_image(call: Call) -> JSON:
    files: dict[str, bytes] = call.body.get("files", {})
    content = next((files[name] for name in FILE_FIELDS if name in files), b"")
    if not content:
        raise e.ApiError(e.MEDIA_DATA_MISSING)
    if len(content) >= MAX_BYTES:
        raise e.ApiError(e.INVALID_IMAGE_SIZE, f"{len(content)} bytes, at most 1MB")
    kind = next((kind for signature, kind in SIGNATURES.items() if content.startswith(signature)), None)
    if kind is None:
        raise e.ApiError(e.INVALID_FILE_TYPE, "only jpg and png")
    opaque = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode("ascii").rstrip("=")
    return {"url": f"http://{CDN_HOST}/mmbiz_{kind}/{opaque}/0"}


def check_hosted(body: Any) -> None:
    """40141 for a card image (in a create or update's type body) that uploadimg did not give."""
    if not isinstance(body, dict):
        return
    for path, url in _images(body):
        if isinstance(url, str) and not _hosted(url):
            raise e.ApiError(e.INVALID_IMAGE_URL, path)


def _images(body: JSON) -> Iterator[tuple[str, Any]]:
    base = body.get("base_info")
    if isinstance(base, dict):
        yield "base_info.logo_url", base.get("logo_url")
    yield "background_pic_url", body.get("background_pic_url")
    advanced = body.get("advanced_info")
    if not isinstance(advanced, dict):
        return
    abstract = advanced.get("abstract")
    icons = abstract.get("icon_url_list") if isinstance(abstract, dict) else None
    for index, icon in enumerate(icons if isinstance(icons, list) else ()):
        yield f"advanced_info.abstract.icon_url_list[{index}]", icon
    items = advanced.get("text_image_list")
    for index, item in enumerate(items if isinstance(items, list) else ()):
        if isinstance(item, dict):
            yield f"advanced_info.text_image_list[{index}].image_url", item.get("image_url")


def _hosted(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname == CDN_HOST


ROUTES: Routes = {
    "/cgi-bin/media/uploadimg": Endpoint("POST", upload_image, reads=read_form),
}
