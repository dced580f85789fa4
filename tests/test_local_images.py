"""Images from local files: a card's image field names a JPG or PNG beside the manifests; validate checks it
offline, apply uploads it through media/uploadimg once per content, and plans compare through state's
SHA-256 → URL."""

from __future__ import annotations

import base64
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET
from reconciler.resources.images import sha256_of
from reconciler.state import FileBackend
from tests.support import EXAMPLE, RUN_LEFTOVERS, apply_ok, served_emulator, wxrec
from tests.test_card_settings_e2e import SETTINGS, card_settings

MEMBER_CARD = """\
cards:
  member:
    card_type: MEMBER_CARD
    base_info:
      logo_url: {logo}
      brand_name: 山丘咖啡
      code_type: CODE_TYPE_QRCODE
      title: 山丘咖啡会员卡
      color: Color082
      notice: 买单时请出示会员卡
      description: 会员凭卡享专属优惠。
      date_info: {{type: DATE_TYPE_PERMANENT}}
      sku: {{quantity: 1000}}
    background_pic_url: {background}
    prerogative: 会员每月可领取一张免费升杯券。
    supply_bonus: false
    supply_balance: false
"""


def png(width: int, padding: int = 0) -> bytes:
    """A real PNG `width` pixels square, with `padding` bytes of text chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"".join(b"\0" + b"\x20\x60\xa0" * width for _ in range(width)))
    header = struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0)
    text = chunk(b"tEXt", b"c\0" + b"x" * padding) if padding else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def shop(directory: Path, logo: str = "./assets/logo.png", background: str = "./assets/bg.png") -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "assets").mkdir(exist_ok=True)
    (directory / "assets" / "logo.png").write_bytes(png(4))
    (directory / "assets" / "bg.png").write_bytes(png(8))
    (directory / "cards.yaml").write_text(MEMBER_CARD.format(logo=logo, background=background), encoding="utf-8")
    return directory


@pytest.fixture
def served() -> Iterator[str]:
    with served_emulator() as url:
        yield url


def card_get(url: str, card_id: str) -> dict[str, Any]:
    credentials = {"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET}
    token = httpx.post(f"{url}/cgi-bin/stable_token", json=credentials).json()["access_token"]
    answer = httpx.post(f"{url}/card/get", params={"access_token": token}, json={"card_id": card_id}).json()
    card: dict[str, Any] = answer["card"]
    return card


def uploads(url: str) -> int:
    calls = httpx.get(f"{url}/_emulator/calls").json()["calls"]
    return sum(1 for call in calls if call["path"] == "/cgi-bin/media/uploadimg" and call["errcode"] == 0)


def test_local_images_upload_once_and_converge_and_a_changed_one_uploads_once_more(served: str, tmp_path: Path) -> None:
    directory = shop(tmp_path / "shop")
    first = wxrec("plan", directory, "--api", served)
    assert first.exit_code == 0, first.output
    assert "base_info.logo_url: ./assets/logo.png (new image, uploaded at apply)" in first.output
    assert "background_pic_url: ./assets/bg.png (new image, uploaded at apply)" in first.output
    assert uploads(served) == 0  # a plan uploads nothing

    applied = wxrec("apply", directory, "--api", served, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert uploads(served) == 2
    state = FileBackend(directory / ".wxrec" / "state.json").load()
    assert state is not None and len(state.images) == 2
    card = card_get(served, state.resources["cards.member"]["id"])["member_card"]
    assert {card["base_info"]["logo_url"], card["background_pic_url"]} == set(state.images.values())
    assert all(url.startswith("http://mmbiz.qpic.cn/") for url in state.images.values())

    again = wxrec("plan", directory, "--api", served, "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output, again.output
    assert uploads(served) == 2  # an unchanged file costs no call

    (directory / "assets" / "logo.png").write_bytes(png(5))
    changed = wxrec("plan", directory, "--api", served, "--detailed-exitcode")
    assert changed.exit_code == 2, changed.output
    assert "base_info.logo_url: ./assets/logo.png (changed image, uploaded at apply)" in changed.output
    assert "background_pic_url" not in changed.output
    assert wxrec("apply", directory, "--api", served, "--auto-approve").exit_code == 0
    assert uploads(served) == 3
    converged = wxrec("plan", directory, "--api", served, "--detailed-exitcode")
    assert converged.exit_code == 0 and "No changes." in converged.output, converged.output


def test_one_file_named_by_two_fields_is_uploaded_once(served: str, tmp_path: Path) -> None:
    directory = shop(tmp_path / "shop", background="./assets/logo.png")
    assert wxrec("apply", directory, "--api", served, "--auto-approve").exit_code == 0
    assert uploads(served) == 1


def test_a_logo_changed_by_hand_is_put_back_without_an_upload(served: str, tmp_path: Path) -> None:
    directory = shop(tmp_path / "shop")
    assert wxrec("apply", directory, "--api", served, "--auto-approve").exit_code == 0
    state = FileBackend(directory / ".wxrec" / "state.json").load()
    assert state is not None
    card_id = state.resources["cards.member"]["id"]
    edit = {"card_id": card_id, "base_info": {"logo_url": "http://mmbiz.qpic.cn/mmbiz/by-hand/0"}}
    assert httpx.post(f"{served}/_emulator/edit", json=edit).status_code == 200
    plan = wxrec("plan", directory, "--api", served)
    assert "uploaded at apply" not in plan.output and "by-hand" in plan.output, plan.output
    assert wxrec("apply", directory, "--api", served, "--auto-approve").exit_code == 0
    assert uploads(served) == 2
    assert "No changes." in wxrec("plan", directory, "--api", served).output


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (png(4, padding=1_258_291), "is 1,258,3"),  # 1.2 MB
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "is not a JPG or PNG image"),
    ],
)
def test_validate_refuses_what_uploadimg_would_and_names_the_file(tmp_path: Path, content: bytes, said: str) -> None:
    directory = shop(tmp_path / "shop")
    (directory / "assets" / "logo.png").write_bytes(content)
    result = wxrec("validate", directory)
    assert result.exit_code == 1, result.output
    assert "cards.member.base_info.logo_url" in result.output
    assert str(directory / "assets" / "logo.png") in result.output and said in result.output
    assert "Traceback" not in result.output


def test_validate_refuses_a_missing_image(tmp_path: Path) -> None:
    directory = shop(tmp_path / "shop", logo="./assets/gone.png")
    result = wxrec("validate", directory)
    assert result.exit_code == 1 and "gone.png: no such image file" in result.output, result.output


def test_an_image_outside_the_manifest_directory_needs_the_switch(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "logo.png").write_bytes(png(4))
    directory = shop(tmp_path / "shop", logo="../shared/logo.png")
    refused = wxrec("validate", directory)
    assert refused.exit_code == 1, refused.output
    assert "'../shared/logo.png' leads outside the manifests' directory" in refused.output
    assert "WXREC_ALLOW_FILES_OUTSIDE=1" in refused.output
    allowed = wxrec("validate", directory, env={"WXREC_ALLOW_FILES_OUTSIDE": "1"})
    assert allowed.exit_code == 0, allowed.output


def test_a_url_is_not_a_local_image(tmp_path: Path) -> None:
    directory = shop(tmp_path / "shop", logo="http://mmbiz.qpic.cn/mmbiz/logo/0")
    result = wxrec("validate", directory)
    assert result.exit_code == 0, result.output


def test_the_html_report_draws_a_local_logo_without_fetching_anything(tmp_path: Path) -> None:
    directory = shop(tmp_path / "shop")
    result = wxrec("plan", directory, "--api", "emulator", "--format", "html")
    assert result.exit_code == 0, result.output
    logo = base64.b64encode((directory / "assets" / "logo.png").read_bytes()).decode()
    assert result.stdout.count(f'src="data:image/png;base64,{logo}"') == 1
    assert "could not fetch" not in result.stderr


def test_the_member_card_example_applies_its_local_images_and_settings_and_converges(tmp_path: Path) -> None:
    directory = tmp_path / "member-card"
    shutil.copytree(EXAMPLE.parent / "member-card", directory, ignore=RUN_LEFTOVERS)
    assert wxrec("validate", directory).exit_code == 0
    apply_ok(directory)
    state = FileBackend(directory / ".wxrec" / "state.json").load()
    assert state is not None and len(state.images) == 2
    assert card_settings(directory, state.resources["cards.member"]["id"]) == SETTINGS
    again = wxrec("plan", directory, "--api", "emulator", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output, again.output


SHELF = """\
landing_pages:
  shelf:
    banner: ./assets/banner.png
    page_title: 山丘咖啡会员专区
    can_share: true
    scene: SCENE_MENU
    card_list:
      - card: member
        thumb_url: ./assets/logo.png
"""


def landing_pages(url: str) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = httpx.get(f"{url}/_emulator/landing_pages", params={"appid": DEMO_APPID}).json()[
        "landing_pages"
    ]
    return pages


def test_a_landing_page_takes_local_images_and_a_changed_banner_makes_it_again_once(
    served: str, tmp_path: Path
) -> None:
    directory = shop(tmp_path / "shop")
    (directory / "assets" / "banner.png").write_bytes(png(6))
    (directory / "campaign.yaml").write_text(SHELF, encoding="utf-8")
    first = wxrec("plan", directory, "--api", served)
    assert first.exit_code == 0, first.output
    assert "banner: ./assets/banner.png (new image, uploaded at apply)" in first.output
    assert "card_list: ./assets/logo.png (new image, uploaded at apply)" in first.output

    assert wxrec("apply", directory, "--api", served, "--auto-approve").exit_code == 0
    assert uploads(served) == 3  # the logo the card and the page share goes up once
    state = FileBackend(directory / ".wxrec" / "state.json").load()
    assert state is not None
    [page] = landing_pages(served)
    assert page["banner"] == state.images[sha256_of(directory / "assets" / "banner.png")]
    assert page["card_list"][0]["thumb_url"] == state.images[sha256_of(directory / "assets" / "logo.png")]
    again = wxrec("plan", directory, "--api", served, "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output, again.output

    (directory / "assets" / "banner.png").write_bytes(png(7))
    changed = wxrec("plan", directory, "--api", served, "--detailed-exitcode")
    assert changed.exit_code == 2, changed.output
    assert "banner: ./assets/banner.png (changed image, uploaded at apply)" in changed.output
    assert "landing_pages.shelf" in changed.output and "thumb_url" not in changed.output
    assert wxrec("apply", directory, "--api", served, "--auto-approve").exit_code == 0
    assert uploads(served) == 4
    pages = landing_pages(served)
    assert len(pages) == 2 and pages[1]["banner"] not in (pages[0]["banner"], "./assets/banner.png")
    converged = wxrec("plan", directory, "--api", served, "--detailed-exitcode")
    assert converged.exit_code == 0 and "No changes." in converged.output, converged.output
    assert uploads(served) == 4


def test_validate_checks_a_landing_page_image_as_a_card_image(tmp_path: Path) -> None:
    directory = shop(tmp_path / "shop")
    (directory / "assets" / "banner.png").write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    (directory / "campaign.yaml").write_text(SHELF.replace("./assets/logo.png", "../outside.png"), encoding="utf-8")
    result = wxrec("validate", directory)
    assert result.exit_code == 1, result.output
    assert "landing_pages.shelf.banner" in result.output and "is not a JPG or PNG image" in result.output
    assert "landing_pages.shelf.card_list.0.thumb_url" in result.output
    assert "'../outside.png' leads outside the manifests' directory" in result.output
